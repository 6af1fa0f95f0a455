// A WireGuard tunnel to a far end that routes a prefix to us (a VPS with a
// routed /48 or /56, or the lab's isp): the modern replacement for a tunnel
// broker, and it crosses NAT. Runs under systemd's wg-quick@; on kernels
// without the wireguard module, wireguard-go over /dev/net/tun.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { Problem, attempt, parseArgs } from "../problems";
import { factsValue, hostPort, ifname, inputOf, interfaceAddress, ipv6Prefix, strictObject, wireguardKey } from "../schema-kit";
import { WG_QUICK_USERSPACE_DROPIN_PATH, renderWgQuickConf, renderWgQuickUserspaceDropIn, validateWgQuickConf } from "../render/wireguard";
import { Tunnel, TunnelOutputs, routedPrefixTunnel, systemdProblems } from "./tunnel";

/** What a site's owner says about a WireGuard tunnel (the stack file's `tunnel`, less the private key). */
export const wireguardSettingsShape = {
  kind: z.literal("wireguard"),
  interface: ifname.default("wg0"),
  endpoint: hostPort.describe("the far end, host:port"),
  peerPublicKey: wireguardKey.describe("the far end's public key"),
  address: interfaceAddress.describe("the gateway's address on the tunnel, with length"),
  routedPrefix: ipv6Prefix.describe("the prefix the far end routes to us; the LAN gets its first /64"),
  persistentKeepalive: z.number().int().min(0).max(65535).default(25).describe("seconds; keeps NAT mappings open"),
  mtu: z.number().int().min(1280).max(65535).optional(),
};

export const wireguardTunnelArgsSchema = strictObject({
  ...wireguardSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue,
  privateKey: inputOf<string>("the gateway's WireGuard private key (a secret)"),
  lanPrefix: ipv6Prefix.optional().describe("the /64 for the LAN; default the first /64 of routedPrefix"),
});

export type WireguardTunnelArgs = z.input<typeof wireguardTunnelArgsSchema>;

type ParsedArgs = z.output<typeof wireguardTunnelArgsSchema>;

/** Everything wrong with a WireGuard tunnel's args for this box. Pure. */
export function wireguardTunnelProblems(a: Omit<ParsedArgs, "connection" | "privateKey">): Problem[] {
  return [
    ...systemdProblems(a.facts as HostFactsData, "wg-quick@"),
    // A well-formed stand-in key: the real one is secret and checked where it is rendered.
    ...attempt(() => validateWgQuickConf(wgQuickModel(a, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))),
  ];
}

function wgQuickModel(a: Pick<ParsedArgs, "address" | "mtu" | "peerPublicKey" | "endpoint" | "persistentKeepalive">, privateKey: string) {
  return {
    privateKey,
    addresses: [a.address],
    mtu: a.mtu,
    routes: ["::/0"],
    peers: [{ publicKey: a.peerPublicKey, endpoint: a.endpoint, allowedIps: ["::/0"], persistentKeepalive: a.persistentKeepalive }],
  };
}

/** What the tunnel installs: wireguard-go too where the kernel has no WireGuard. */
export function wireguardPackages(facts: Pick<HostFactsData, "features">): string[] {
  return facts.features.wireguard ? ["wireguard-tools"] : ["wireguard-tools", "wireguard-go"];
}

/** The tunnel's children, under `parent`. */
function buildWireguardTunnel(parent: pulumi.ComponentResource, name: string, a: ParsedArgs, opts?: pulumi.ComponentResourceOptions): TunnelOutputs {
  const ifname = a.interface;
  const userspace = !a.facts.features.wireguard;
  const conn = a.connection;
  const packages = new Packages(`${name}-packages`, { connection: conn, names: wireguardPackages(a.facts) }, childOf(parent, opts));
  const content = pulumi.secret(pulumi.output(a.privateKey).apply((privateKey) => renderWgQuickConf(wgQuickModel(a, privateKey))));
  const files = [new RemoteFile(`${name}-conf`, { connection: conn, path: `/etc/wireguard/${ifname}.conf`, content, mode: "0600" }, childOf(parent, opts, packages))];
  if (userspace) {
    files.push(new RemoteFile(`${name}-userspace`, { connection: conn, path: WG_QUICK_USERSPACE_DROPIN_PATH, content: renderWgQuickUserspaceDropIn() }, childOf(parent, opts, packages)));
  }
  const service = new Service(
    `${name}-service`,
    { connection: conn, name: `wg-quick@${ifname}`, restartTrigger: pulumi.all(files.map((f) => f.sha256)).apply((h) => h.join(",")) },
    childOf(parent, opts, ...files),
  );
  return routedPrefixTunnel({ interface: ifname, routedPrefix: a.routedPrefix, lanPrefix: a.lanPrefix, running: userspace ? { process: "wireguard-go" } : { unit: `wg-quick@${ifname}` }, service });

}

export class WireguardTunnel extends Tunnel {
  constructor(name: string, args: WireguardTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`WireguardTunnel "${name}"`, wireguardTunnelArgsSchema, args, wireguardTunnelProblems);
    super("ipv6gw:tunnel:WireguardTunnel", name, opts, (self) => buildWireguardTunnel(self, name, a, opts));
  }
}
