// A WireGuard tunnel to a far end that routes a prefix to us (a VPS with a
// routed /48 or /56, or the lab's isp): the modern replacement for a tunnel
// broker, and it crosses NAT. Runs under systemd's wg-quick@; on kernels
// without the wireguard module, wireguard-go over /dev/net/tun.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { subnet } from "../net/ipv6";
import { WG_QUICK_USERSPACE_DROPIN_PATH, renderWgQuickConf, renderWgQuickUserspaceDropIn } from "../render/wireguard";
import { TunnelOutputs } from "./tunnel";
import { resourceError } from "../user-error";

export interface WireguardTunnelArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  readonly facts: HostFactsData;
  /** Interface name. Defaults to "wg0". */
  readonly interface?: string;
  /** The gateway's private key (secret). */
  readonly privateKey: pulumi.Input<string>;
  /** The far end, host:port. */
  readonly endpoint: string;
  readonly peerPublicKey: string;
  /** The gateway's tunnel address with length ("2001:db8:ffff:100::2/64"). */
  readonly address: string;
  /** The prefix the far end routes to us. */
  readonly routedPrefix: string;
  /** The /64 for the LAN. Defaults to the first /64 of routedPrefix. */
  readonly lanPrefix?: string;
  /** Defaults to 25 (keeps NAT mappings open). */
  readonly persistentKeepalive?: number;
  readonly mtu?: number;
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
    super("ipv6gw:tunnel:WireguardTunnel", name, {}, opts);
    const ifname = args.interface ?? "wg0";
    if (args.facts.serviceManager !== "systemd") {
      throw resourceError(`WireguardTunnel "${name}": needs systemd (wg-quick@) on the gateway, which runs ${args.facts.serviceManager || "no known init"}`, this);
    }
    const userspace = !args.facts.features.wireguard;
    const lanPrefix = args.lanPrefix ?? subnet(args.routedPrefix, 0, 64);
    const conn = args.connection;

    const packages = new Packages(`${name}-packages`, { connection: conn, names: userspace ? ["wireguard-tools", "wireguard-go"] : ["wireguard-tools"] }, childOf(this, opts));
    const content = pulumi.secret(
      pulumi.output(args.privateKey).apply((privateKey) =>
        renderWgQuickConf({
          privateKey,
          addresses: [args.address],
          mtu: args.mtu,
          routes: ["::/0"],
          peers: [{ publicKey: args.peerPublicKey, endpoint: args.endpoint, allowedIps: ["::/0"], persistentKeepalive: args.persistentKeepalive ?? 25 }],
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
    this.prefix = pulumi.output(args.routedPrefix);
    this.lanPrefix = pulumi.output(lanPrefix);
    this.process = userspace ? "wireguard-go" : `wg-quick@${ifname}`;
    this.registerOutputs({ interface: ifname, prefix: this.prefix, lanPrefix: this.lanPrefix });
  }
}
