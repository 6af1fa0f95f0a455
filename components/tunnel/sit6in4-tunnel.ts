// Static 6in4 over sit, the Hurricane Electric tunnelbroker.net way, with
// HE's endpoint update when the gateway's IPv4 address changes. Needs the
// kernel's sit module, and protocol 41 through any NAT on the way.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { subnet } from "../net/ipv6";
import { heUpdateUrl, renderSit6in4Script, renderSit6in4Unit } from "../render/sit6in4";
import { TunnelOutputs } from "./tunnel";
import { resourceError } from "../user-error";

export interface Sit6in4TunnelArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  readonly facts: HostFactsData;
  /** Defaults to "he-ipv6". */
  readonly interface?: string;
  /** The broker's IPv4 endpoint ("Server IPv4 Address"). */
  readonly serverIpv4: string;
  /** Our IPv4 source ("Client IPv4 Address"; behind NAT the private one). Defaults to the kernel's choice. */
  readonly clientIpv4?: string;
  /** Our tunnel address with length ("Client IPv6 Address"). */
  readonly clientIpv6: string;
  /** The routed /48 or /64. */
  readonly routedPrefix: string;
  readonly lanPrefix?: string;
  readonly mtu?: number;
  readonly ttl?: number;
  /** Keep HE's idea of our IPv4 address current. Defaults to none. */
  readonly heUpdate?: { readonly tunnelId: string; readonly username: string; readonly updateKey: pulumi.Input<string> };
}

export class Sit6in4Tunnel extends pulumi.ComponentResource implements TunnelOutputs {
  readonly interface: string;
  readonly prefix: pulumi.Output<string>;
  readonly lanPrefix: pulumi.Output<string>;
  readonly ownsRadvd = false;
  readonly ownsLanAddress = false;
  readonly process: string;
  readonly service: Service;

  constructor(name: string, args: Sit6in4TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:tunnel:Sit6in4Tunnel", name, {}, opts);
    const ifname = args.interface ?? "he-ipv6";
    if (args.facts.serviceManager !== "systemd") {
      throw resourceError(`Sit6in4Tunnel "${name}": needs systemd on the gateway (it runs ${args.facts.serviceManager || "no known init"})`, this);
    }
    const conn = args.connection;
    const scriptPath = `/usr/local/sbin/ipv6gw-${ifname}`;
    let script: string;
    let unitText: string;
    try {
      script = renderSit6in4Script({ name: ifname, remoteV4: args.serverIpv4, localV4: args.clientIpv4, clientV6: args.clientIpv6, mtu: args.mtu, ttl: args.ttl });
      unitText = renderSit6in4Unit({ name: ifname, scriptPath });
    } catch (e) {
      throw resourceError(`Sit6in4Tunnel "${name}": ${(e as Error).message}`, this);
    }
    const packages = new Packages(`${name}-packages`, { connection: conn, names: args.heUpdate ? ["iproute2", "curl"] : ["iproute2"] }, childOf(this, opts));
    const file = new RemoteFile(`${name}-script`, { connection: conn, path: scriptPath, content: script, mode: "0755" }, childOf(this, opts, packages));
    const unit = new RemoteFile(`${name}-unit`, { connection: conn, path: `/etc/systemd/system/ipv6gw-${ifname}.service`, content: unitText }, childOf(this, opts));
    const deps: pulumi.Resource[] = [file, unit];
    if (args.heUpdate) {
      const url = heUpdateUrl({ tunnelId: args.heUpdate.tunnelId });
      // Credentials go to curl on stdin (-K -), never on its command line.
      deps.push(
        new RemoteCommand(
          `${name}-he-update`,
          {
            connection: conn,
            create: `curl -fsS -K - ${JSON.stringify(url)}`,
            stdin: pulumi.secret(pulumi.output(args.heUpdate.updateKey).apply((k) => `user = "${args.heUpdate!.username}:${k}"\n`)),
            triggers: [args.clientIpv4 ?? "auto"],
          },
          childOf(this, opts, packages),
        ),
      );
    }
    this.service = new Service(
      `${name}-service`,
      { connection: conn, name: `ipv6gw-${ifname}`, restartTrigger: pulumi.all([file.sha256, unit.sha256]).apply((h) => h.join(",")) },
      childOf(this, opts, ...deps),
    );
    this.interface = ifname;
    this.process = `ipv6gw-${ifname}`;
    this.prefix = pulumi.output(args.routedPrefix);
    this.lanPrefix = pulumi.output(args.lanPrefix ?? subnet(args.routedPrefix, 0, 64));
    this.registerOutputs({ interface: ifname, prefix: this.prefix, lanPrefix: this.lanPrefix });
  }
}
