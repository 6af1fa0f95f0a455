// The gateway's own address on the LAN (<prefix>::1/64, the convention gw6c
// follows, HOWTO step 12d), held by a small boot-time unit so it survives a
// reboot whatever manages the rest of the network.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { ServiceManager } from "../host/platform";
import { shq } from "../host/remote";
import { MANAGED_HEADER } from "../render/kit";
import { interfaceAddressProblem, ifnameProblem } from "../net/values";

export interface LanAddressArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  readonly serviceManager: ServiceManager;
  readonly interface: string;
  /** With length: "2001:db8:8888::1/64". */
  readonly address: pulumi.Input<string>;
  /**
   * What putting the address up waits for, beyond what the component waits
   * for (a site's firewall): the file that will do it is written before.
   * Default none.
   */
  readonly startAfter?: pulumi.Input<pulumi.Resource>[];
}

export const LAN_ADDRESS_SERVICE = "ipv6gw-lan-address";

/** Throws unless the values are what they claim: they go into a unit file unquoted. */
function checkValues(ifname: string, address: string): void {
  const why = ifnameProblem(ifname) ?? interfaceAddressProblem(address);
  if (why) throw new Error(`LanAddress: '${ifnameProblem(ifname) ? ifname : address}' ${why}`);
}

export function renderLanAddressUnit(ifname: string, address: string): string {
  checkValues(ifname, address);
  return [
    MANAGED_HEADER,
    "[Unit]",
    `Description=ipv6gw: ${address} on ${ifname}`,
    "After=network-pre.target",
    "Before=radvd.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    // No shell: ip gets the two typed values as its own arguments; '-' ignores a failed delete.
    `ExecStart=/sbin/ip -6 addr replace ${address} dev ${ifname}`,
    `ExecStop=-/sbin/ip -6 addr del ${address} dev ${ifname}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export function renderLanAddressInitScript(ifname: string, address: string): string {
  checkValues(ifname, address);
  return [
    "#!/bin/sh",
    MANAGED_HEADER,
    `# chkconfig: 2345 09 91`,
    `# description: ipv6gw: ${address} on ${ifname}`,
    "### BEGIN INIT INFO",
    `# Provides: ${LAN_ADDRESS_SERVICE}`,
    "# Required-Start: $network",
    "# Required-Stop: $network",
    "# Default-Start: 2 3 4 5",
    "# Default-Stop: 0 1 6",
    "### END INIT INFO",
    `has() { ip -6 addr show dev ${shq(ifname)} | grep -q -- ${shq(` ${address} `)}; }`,
    'case "$1" in',
    `  start) ip -6 addr replace ${shq(address)} dev ${shq(ifname)} ;;`,
    `  stop) ip -6 addr del ${shq(address)} dev ${shq(ifname)} 2>/dev/null || true ;;`,
    "  restart) $0 stop; $0 start ;;",
    "  status) has ;;",
    '  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}

export class LanAddress extends pulumi.ComponentResource {
  readonly service: Service;

  constructor(name: string, args: LanAddressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:lan:LanAddress", name, {}, opts);
    const conn = args.connection;
    const file =
      args.serviceManager === "systemd"
        ? new RemoteFile(
            `${name}-unit`,
            { connection: conn, path: `/etc/systemd/system/${LAN_ADDRESS_SERVICE}.service`, content: pulumi.output(args.address).apply((a) => renderLanAddressUnit(args.interface, a)) },
            childOf(this, opts),
          )
        : new RemoteFile(
            `${name}-initscript`,
            { connection: conn, path: `/etc/init.d/${LAN_ADDRESS_SERVICE}`, mode: "0755", content: pulumi.output(args.address).apply((a) => renderLanAddressInitScript(args.interface, a)) },
            childOf(this, opts),
          );
    this.service = new Service(`${name}-service`, { connection: conn, name: LAN_ADDRESS_SERVICE, restartTrigger: file.sha256 }, childOf(this, opts, file, ...(args.startAfter ?? [])));
    this.registerOutputs({});
  }
}
