// Network primitives: pure functions over IPv6 text, MACs, EUI-64 and ULAs.
export * from "./ipv6";
export * from "./mac";
export * from "./eui64";
export * from "./ula";
export * from "./values";
