// Pure renderers: typed models to configuration text (no I/O, no Outputs).
export * from "./radvd-conf";
export * from "./gw6c-conf";
export * from "./gw6c-service";
export * from "./wireguard";
export * from "./sit6in4";
export * from "./client-ipv6";
export * from "./gw6c-runtime";
export * from "./dhcpcd-conf";
export * from "./pd-hook";
