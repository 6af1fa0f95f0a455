// The library: components for a firewalled IPv6 gateway, applied over SSH.
// Each component exports its args schema (zod, defaults and descriptions in
// it) beside the class; `...Problems` functions are the pure checks.
export { Ipv6Site, Ipv6SiteArgs, TunnelSpec, ClientSpec, ipv6SiteArgsSchema, planSite, siteProblems, parseSiteArgs } from "./site";
export { GatewayHost, GatewayHostArgs, gatewayHostArgsSchema } from "./gateway/gateway-host";
export { Firewall, FirewallArgs, UserRule, firewallArgsSchema, firewallTable } from "./firewall/firewall";
export { Ip6tablesRuleset, NftRuleset } from "./firewall/ruleset";
export { FirewallRule } from "./firewall/rule";
export { renderFilterTable } from "./firewall/render-ruleset";
export { renderNftTable } from "./firewall/render-nft";
export { RulesetBackend } from "./firewall/ruleset-scripts";
export { WireguardTunnel, WireguardTunnelArgs, wireguardTunnelArgsSchema } from "./tunnel/wireguard-tunnel";
export { Gw6cTunnel, Gw6cTunnelArgs, gw6cTunnelArgsSchema } from "./tunnel/gw6c-tunnel";
export { Sit6in4Tunnel, Sit6in4TunnelArgs, sit6in4TunnelArgsSchema } from "./tunnel/sit6in4-tunnel";
export { Dhcpv6PdUplink, Dhcpv6PdUplinkArgs, dhcpv6PdUplinkArgsSchema } from "./tunnel/dhcpv6-pd-uplink";
export { DelegatedPrefix } from "./tunnel/delegated-prefix";
export { Radvd, RadvdArgs, radvdArgsSchema } from "./lan/radvd";
export { LanAddress } from "./lan/lan-address";
export { Ipv6Client, Ipv6ClientArgs, ipv6ClientArgsSchema } from "./lan/ipv6-client";
export { UlaPrefix } from "./lan/ula-prefix";
export { Checks, ChecksArgs, checksArgsSchema } from "./checks/checks";
export { parseSiteConfig, siteConfigSchema, SECRET_KEYS } from "./config";
export { Problem } from "./problems";
export { loadSiteArgs } from "./stack-config";
export * as host from "./host";
export * as net from "./net";
export * as render from "./render";
