// A LAN host that autoconfigures from the gateway's router advertisements
// (HOWTO steps 21-22): SLAAC on, EUI-64 interface identifiers (RFC 4291
// App. A) so its address is predictable, privacy addresses (RFC 4941) as an
// option. Configured the way its own network stack expects: CentOS/Fedora
// ifcfg keys, NetworkManager, systemd-networkd, Debian's ifupdown, or plain
// kernel settings.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFacts, HostFactsData, stableFacts } from "../host/host-facts";
import { KeyValueFile } from "../host/key-value-file";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { shq } from "../host/remote";
import { Sysctl } from "../host/sysctl";
import { slaacAddress } from "../net/eui64";
import { Problem, parseArgs, problem } from "../problems";
import { checkedString, factsValue, ifname, inputOf, strictObject } from "../schema-kit";
import { networkFileProblem, renderIfcfgKeys, renderIfupdownStanza, renderNetworkManagerConf, renderNetworkdDropIn } from "../render/client-ipv6";

/** What a site's owner says about a LAN client (the stack file's `clients[i]`, less name and connection). */
export const clientSettingsShape = {
  interface: ifname.default("eth0").describe("the client's interface on the LAN"),
  privacy: z.boolean().default(false).describe("RFC 4941 temporary addresses for outgoing connections"),
  networkFile: checkedString(networkFileProblem, "a .network file name").optional().describe("systemd-networkd only: the .network file matching the interface"),
};

export const ipv6ClientArgsSchema = strictObject({
  ...clientSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue.describe("the client's facts, for its MAC and network stack"),
  lanPrefix: inputOf<string>("the LAN's /64, for the expected address (\"\" for none yet)"),
});

export type Ipv6ClientArgs = z.input<typeof ipv6ClientArgsSchema>;

/** Everything wrong with a client's args for this box. Pure. */
export function ipv6ClientProblems(a: Pick<z.output<typeof ipv6ClientArgsSchema>, "interface" | "networkFile" | "facts">): Problem[] {
  const f = a.facts as HostFactsData;
  const problems: Problem[] = [];
  const iface = f.interfaces.find((i) => i.name === a.interface);
  if (!iface || !iface.mac) {
    problems.push(problem(["interface"], `is '${a.interface}', which ${iface ? "has no MAC address" : "does not exist"} on the box (it has ${f.interfaces.map((i) => i.name).join(", ")})`));
  }
  if (!f.ipv6Enabled) problems.push(problem([], "IPv6 is disabled on this host: enable it first"));
  if (f.networkStack === "networkd" && !a.networkFile) {
    problems.push(problem(["networkFile"], `is required: the host uses systemd-networkd; name the .network file matching ${a.interface} (networkctl status ${a.interface} shows it)`));
  }
  return problems;
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
  /** The host's stable facts, as recorded in state (refresh reads them again). */
  readonly recordedFacts: pulumi.Output<HostFactsData>;

  constructor(name: string, rawArgs: Ipv6ClientArgs, opts?: pulumi.ComponentResourceOptions) {
    const args = parseArgs(`Ipv6Client "${name}"`, ipv6ClientArgsSchema, rawArgs, ipv6ClientProblems);
    super("ipv6gw:lan:Ipv6Client", name, {}, opts);
    const ifname = args.interface;
    const privacy = args.privacy;
    const conn = args.connection;
    const iface = args.facts.interfaces.find((i) => i.name === ifname)!;
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
        const f = renderNetworkdDropIn({ networkFile: args.networkFile!, privacy, eui64: true });
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
    // Recorded as the program read them; a refresh reads them again, for the program after it too
    // (up --refresh then reaches the host over one connection).
    this.recordedFacts = new HostFacts(`${name}-facts`, { connection: conn, observed: stableFacts(args.facts) }, childOf(this, opts)).facts;
    // "" while its LAN holds no prefix (a native uplink whose lease ran out).
    this.expectedAddress = pulumi.output(args.lanPrefix).apply((p) => (p ? slaacAddress(p, iface.mac) : ""));
    this.registerOutputs({ expectedAddress: this.expectedAddress, mac: this.mac, method: this.method, facts: this.recordedFacts });
  }
}
