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
import { subnet } from "../net/ipv6";
import { Problem, parseArgs, problem } from "../problems";
import { factsValue, hostPort, ifname, inputOf, interfaceAddress, ipv6Prefix, strictObject, wireguardKey } from "../schema-kit";
import { WG_QUICK_USERSPACE_DROPIN_PATH, renderWgQuickConf, renderWgQuickUserspaceDropIn, validateWgQuickConf } from "../render/wireguard";
import { TunnelOutputs } from "./tunnel";

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

/** Everything wrong with a WireGuard tunnel's args for this box. Pure. */
export function wireguardTunnelProblems(a: z.output<typeof wireguardTunnelArgsSchema> | (Omit<z.output<typeof wireguardTunnelArgsSchema>, "connection" | "privateKey">)): Problem[] {
  const problems: Problem[] = [];
  if ((a.facts as HostFactsData).serviceManager !== "systemd") {
    problems.push(problem([], `needs systemd (wg-quick@) on the gateway, which runs ${(a.facts as HostFactsData).serviceManager || "no known init"}`));
  }
  try {
    // A well-formed stand-in key: the real one is secret and checked where it is rendered.
    validateWgQuickConf({
      privateKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      addresses: [a.address],
      mtu: a.mtu,
      peers: [{ publicKey: a.peerPublicKey, endpoint: a.endpoint, allowedIps: ["::/0"], persistentKeepalive: a.persistentKeepalive }],
    });
  } catch (e) {
    problems.push(problem([], (e as Error).message));
  }
  return problems;
}

export class WireguardTunnel extends pulumi.ComponentResource implements TunnelOutputs {
  readonly interface: string;
  readonly prefix: pulumi.Output<string>;
  readonly lanPrefix: pulumi.Output<string>;
  readonly ownsRadvd = false;
  readonly ownsLanAddress = false;
  readonly process: string;
  /** The running tunnel; what depends on the tunnel depends on this. */
  readonly service: Service;

  constructor(name: string, args: WireguardTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`WireguardTunnel "${name}"`, wireguardTunnelArgsSchema, args, wireguardTunnelProblems);
    super("ipv6gw:tunnel:WireguardTunnel", name, {}, opts);
    const ifname = a.interface;
    const userspace = !a.facts.features.wireguard;
    const lanPrefix = a.lanPrefix ?? subnet(a.routedPrefix, 0, 64);
    const conn = a.connection;

    const packages = new Packages(`${name}-packages`, { connection: conn, names: userspace ? ["wireguard-tools", "wireguard-go"] : ["wireguard-tools"] }, childOf(this, opts));
    const content = pulumi.secret(
      pulumi.output(a.privateKey).apply((privateKey) =>
        renderWgQuickConf({
          privateKey,
          addresses: [a.address],
          mtu: a.mtu,
          routes: ["::/0"],
          peers: [{ publicKey: a.peerPublicKey, endpoint: a.endpoint, allowedIps: ["::/0"], persistentKeepalive: a.persistentKeepalive }],
        }),
      ),
    );
    const conf = new RemoteFile(`${name}-conf`, { connection: conn, path: `/etc/wireguard/${ifname}.conf`, content, mode: "0600" }, childOf(this, opts, packages));
    const files: RemoteFile[] = [conf];
    if (userspace) {
      files.push(new RemoteFile(`${name}-userspace`, { connection: conn, path: WG_QUICK_USERSPACE_DROPIN_PATH, content: renderWgQuickUserspaceDropIn() }, childOf(this, opts, packages)));
    }
    this.service = new Service(
      `${name}-service`,
      { connection: conn, name: `wg-quick@${ifname}`, restartTrigger: pulumi.all(files.map((f) => f.sha256)).apply((h) => h.join(",")) },
      childOf(this, opts, ...files),
    );
    this.interface = ifname;
    this.prefix = pulumi.output(a.routedPrefix);
    this.lanPrefix = pulumi.output(lanPrefix);
    this.process = userspace ? "wireguard-go" : `wg-quick@${ifname}`;
    this.registerOutputs({ interface: ifname, prefix: this.prefix, lanPrefix: this.lanPrefix });
  }
}
