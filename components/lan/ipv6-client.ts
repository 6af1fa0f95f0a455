// A LAN host that autoconfigures from the gateway's router advertisements
// (HOWTO steps 21-22): SLAAC on, EUI-64 interface identifiers (RFC 4291
// App. A) so its address is predictable, privacy addresses (RFC 4941) as an
// option. Configured the way its own network stack expects: CentOS/Fedora
// ifcfg keys, NetworkManager, systemd-networkd, Debian's ifupdown, or plain
// kernel settings.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { KeyValueFile } from "../host/key-value-file";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { shq } from "../host/remote";
import { Sysctl } from "../host/sysctl";
import { slaacAddress } from "../net/eui64";
import { renderIfcfgKeys, renderIfupdownStanza, renderNetworkManagerConf, renderNetworkdDropIn } from "../render/client-ipv6";
import { resourceError } from "../user-error";

export interface Ipv6ClientArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  readonly facts: HostFactsData;
  /** The interface on the LAN. Defaults to "eth0". */
  readonly interface?: string;
  /** Use temporary addresses for outgoing connections. Defaults to false. */
  readonly privacy?: boolean;
  /** The LAN's /64, for the expected address. */
  readonly lanPrefix: pulumi.Input<string>;
  /** systemd-networkd only: the .network file that matches the interface ("10-eth0.network"). */
  readonly networkFile?: string;
}

/** The kernel's SLAAC settings for an interface; `persist` also writes them to /etc/sysctl.d. */
export function slaacSysctls(ifname: string, privacy: boolean): Record<string, string> {
  return {
    [`net.ipv6.conf.${ifname}.disable_ipv6`]: "0",
    [`net.ipv6.conf.${ifname}.accept_ra`]: "1",
    [`net.ipv6.conf.${ifname}.autoconf`]: "1",
    [`net.ipv6.conf.${ifname}.use_tempaddr`]: privacy ? "2" : "0",
    [`net.ipv6.conf.${ifname}.addr_gen_mode`]: "0",
  };
}

export class Ipv6Client extends pulumi.ComponentResource {
  /** The address SLAAC gives this host: the LAN prefix and the EUI-64 of its MAC. */
  readonly expectedAddress: pulumi.Output<string>;
  readonly mac: string;
  /** How the host was configured: "sysctl", "ifcfg", "ifupdown", "networkmanager" or "networkd". */
  readonly method: string;

  constructor(name: string, args: Ipv6ClientArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:lan:Ipv6Client", name, {}, opts);
    const ifname = args.interface ?? "eth0";
    const privacy = args.privacy ?? false;
    const conn = args.connection;
    const iface = args.facts.interfaces.find((i) => i.name === ifname);
    if (!iface || !iface.mac) {
      throw resourceError(
        `Ipv6Client "${name}": interface '${ifname}' ${iface ? "has no MAC address" : "does not exist"} (the host has ${args.facts.interfaces.map((i) => i.name).join(", ")}); set its interface`,
        this,
      );
    }
    if (!args.facts.ipv6Enabled) throw resourceError(`Ipv6Client "${name}": IPv6 is disabled on this host; enable it first`, this);
    this.mac = iface.mac;
    const stack = args.facts.networkStack;
    const sysctls = (persist: boolean) =>
      Object.entries(slaacSysctls(ifname, privacy)).map(
        ([key, value]) => new Sysctl(`${name}-${key.split(".").slice(-1)[0].replace(/_/g, "-")}`, { connection: conn, key, value, persist }, childOf(this, opts)),
      );
    switch (stack) {
      case "networkmanager": {
        const f = renderNetworkManagerConf({ privacy, eui64: true });
        const file = new RemoteFile(`${name}-nm-conf`, { connection: conn, path: f.path, content: f.content }, childOf(this, opts));
        new RemoteCommand(
          `${name}-nm-reapply`,
          { connection: conn, create: `nmcli general reload conf && nmcli device reapply ${shq(ifname)}`, triggers: [file.sha256] },
          childOf(this, opts, file),
        );
        this.method = "networkmanager";
        break;
      }
      case "networkd": {
        if (!args.networkFile) {
          throw resourceError(`Ipv6Client "${name}": the host uses systemd-networkd; set networkFile to the .network file matching ${ifname} (networkctl status ${ifname} shows it)`, this);
        }
        const f = renderNetworkdDropIn({ networkFile: args.networkFile, privacy, eui64: true });
        const file = new RemoteFile(`${name}-networkd-dropin`, { connection: conn, path: f.path, content: f.content }, childOf(this, opts));
        new RemoteCommand(
          `${name}-networkd-reload`,
          { connection: conn, create: `networkctl reload && networkctl reconfigure ${shq(ifname)}`, triggers: [file.sha256] },
          childOf(this, opts, file),
        );
        this.method = "networkd";
        break;
      }
      case "ifcfg": {
        // The distribution's keys for the next boot (HOWTO step 21), the kernel's settings for now.
        for (const edit of renderIfcfgKeys({ interface: ifname, privacy })) {
          const base = edit.path.split("/").slice(-1)[0];
          new KeyValueFile(`${name}-${base}`, { connection: conn, path: edit.path, set: { ...edit.set }, remove: [...edit.remove] }, childOf(this, opts));
        }
        sysctls(false);
        this.method = "ifcfg";
        break;
      }
      case "ifupdown": {
        // Debian's own stanza for the next boot, the kernel's settings for now.
        const f = renderIfupdownStanza({ interface: ifname, privacy });
        new RemoteFile(`${name}-ifupdown`, { connection: conn, path: f.path, content: f.content }, childOf(this, opts));
        sysctls(false);
        this.method = "ifupdown";
        break;
      }
      default:
        sysctls(true);
        this.method = "sysctl";
    }
    this.expectedAddress = pulumi.output(args.lanPrefix).apply((p) => slaacAddress(p, iface.mac));
    this.registerOutputs({ expectedAddress: this.expectedAddress, mac: this.mac, method: this.method });
  }
}
