// The HOWTO's checklist for a whole site, from the gateway, each client and
// an outside vantage point, as one SiteProbe.

import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { interfaceAddress } from "../net/ipv6";
import { Problem, parseArgs, problem } from "../problems";
import { host, httpUrl, ifname, inputOf, port, processName, slug, strictObject } from "../schema-kit";
import { eui64InterfaceId } from "../net/eui64";
import {
  Probe,
  delegatedLanPrefix,
  forwardingOn,
  hasAddress,
  holdsEui64In,
  httpGet,
  interfaceUp,
  noPing,
  noPingStdin,
  ping,
  pingStdin,
  running,
  tcpAdmProhibited,
  tcpAdmProhibitedStdin,
  unitActive,
  wireguardHandshake,
} from "./probes";
import { ProbeResult, SiteProbe } from "./site-probe";

/** What a site's owner says about the checklist (the stack file's `checks`, less the outside box's connection). */
export const checksSettingsShape = {
  pingTarget: host.describe("an outside address or name that must answer ping6 (HOWTO steps 14, 23)"),
  httpUrl: httpUrl.optional().describe("fetched from every client; default none"),
};

export const checksArgsSchema = strictObject({
  ...checksSettingsShape,
  gateway: inputOf<ConnectionArgs>("the gateway's connection"),
  lanInterface: ifname,
  lanPrefix: inputOf<string>("the LAN /64").optional().describe("required unless delegatedLans"),
  delegatedLans: z
    .array(ifname)
    .min(1)
    .optional()
    .describe("a native uplink's LAN interfaces: each probe finds the delegated /64 on the boxes at run time, so no probe names a prefix; excludes lanPrefix"),
  tunnel: strictObject({
    kind: z.enum(["wireguard", "gw6c", "sit6in4", "dhcpv6-pd"]),
    interface: ifname,
    running: z.union([strictObject({ process: processName }), strictObject({ unit: processName })]),
  }),
  radvdProcess: processName.default("radvd").describe("the process advertising the LAN prefix: radvd, started by us or by gw6c"),
  clients: z
    .array(
      strictObject({
        name: slug,
        connection: inputOf<ConnectionArgs>("the client's connection"),
        interface: ifname,
        expectedAddress: inputOf<string>("its expected SLAAC address").optional().describe("required unless delegatedLans"),
        lan: ifname.optional().describe("with delegatedLans: the gateway's interface of its LAN; default the first"),
        mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, "must be a MAC address like 00:00:5e:00:53:11").optional().describe("with delegatedLans: its MAC, whose EUI-64 it must hold in its LAN's /64"),
      }),
    )
    .default([]),
  outside: strictObject({ connection: inputOf<ConnectionArgs>("the outside box's connection"), port: port.default(80) })
    .optional()
    .describe("an SSH host outside the site for step 25; default none (those checks are skipped)"),
  outsidePingAllowed: z.boolean().describe("whether outsiders may ping LAN hosts (the firewall's ICMPv6 option)"),
  triggers: inputOf<unknown[]>("what the probes test: they run again when any of these changes"),
});

export type ChecksArgs = z.input<typeof checksArgsSchema>;
type ParsedChecks = z.output<typeof checksArgsSchema>;

/** What is wrong with the two ways of finding the LAN prefix. Pure. */
export function checksProblems(a: Pick<ParsedChecks, "lanPrefix" | "delegatedLans" | "clients">): Problem[] {
  const problems: Problem[] = [];
  if (a.delegatedLans) {
    if (a.lanPrefix !== undefined) problems.push(problem(["lanPrefix"], "excludes delegatedLans: the probes find delegated prefixes on the boxes"));
    a.clients.forEach((c, i) => {
      if (!c.mac) problems.push(problem(["clients", i, "mac"], "is required with delegatedLans: the probe looks for the client's EUI-64 address"));
      if (c.lan !== undefined && !a.delegatedLans!.includes(c.lan)) problems.push(problem(["clients", i, "lan"], `is '${c.lan}', not one of delegatedLans (${a.delegatedLans!.join(", ")})`));
    });
  } else {
    if (a.lanPrefix === undefined) problems.push(problem(["lanPrefix"], "is required: the LAN /64 (or delegatedLans for a native uplink)"));
    a.clients.forEach((c, i) => {
      if (c.expectedAddress === undefined) problems.push(problem(["clients", i, "expectedAddress"], "is required: the client's SLAAC address"));
    });
  }
  return problems;
}

/** The probes for a site. Pure. */
export function siteProbes(
  a: Pick<ParsedChecks, "pingTarget" | "httpUrl" | "lanInterface" | "tunnel" | "radvdProcess" | "outsidePingAllowed"> & {
    lanPrefix: string;
    clients: readonly { name: string; interface: string; expectedAddress: string }[];
    outsidePort?: number;
  },
): Probe[] {
  const gwAddress = `${interfaceAddress(a.lanPrefix, 1n)}/64`;
  const probes: Probe[] = gatewayProbes(a);
  probes.push(
    { name: `gateway: ${gwAddress} on ${a.lanInterface}`, on: "gateway", script: hasAddress(a.lanInterface, gwAddress), retrySeconds: 30 },
    { name: `gateway: ping6 ${a.pingTarget}`, on: "gateway", script: ping(a.pingTarget), retrySeconds: 30 },
  );
  // What needs a client's address runs once it holds it: without it, the client's own checks and
  // the outside's would only wait out their timeouts (or, for "does not answer", pass for nothing).
  const addressProbe = (c: { name: string; expectedAddress: string }) => `${c.name}: has ${c.expectedAddress}/64`;
  for (const c of a.clients) {
    const after = addressProbe(c);
    probes.push(
      { name: after, on: c.name, script: hasAddress(c.interface, `${c.expectedAddress}/64`), retrySeconds: 90 },
      { name: `${c.name}: ping6 ${a.pingTarget}`, on: c.name, script: ping(a.pingTarget), retrySeconds: 30, after },
    );
    if (a.httpUrl) probes.push({ name: `${c.name}: fetches ${a.httpUrl}`, on: c.name, script: httpGet(a.httpUrl), retrySeconds: 30, after });
  }
  if (a.outsidePort !== undefined) {
    for (const c of a.clients) {
      const after = addressProbe(c);
      probes.push({ name: `outside: TCP ${a.outsidePort} to ${c.name} refused (adm-prohibited)`, on: "outside", script: tcpAdmProhibited(c.expectedAddress, a.outsidePort), retrySeconds: 10, after });
      probes.push(
        a.outsidePingAllowed
          ? { name: `outside: ${c.name} answers ping6 (ICMPv6 allowed)`, on: "outside", script: ping(c.expectedAddress), retrySeconds: 10, after }
          : { name: `outside: ${c.name} does not answer ping6 (ICMPv6 not allowed)`, on: "outside", script: noPing(c.expectedAddress), retrySeconds: 0, after },
      );
    }
  }
  return probes;
}

/** The gateway's probes that do not depend on the LAN prefix: forwarding, the uplink, radvd. */
function gatewayProbes(a: Pick<ParsedChecks, "tunnel" | "radvdProcess">): Probe[] {
  const probes: Probe[] = [
    { name: "gateway: IPv6 forwarding on", on: "gateway", script: forwardingOn, retrySeconds: 0 },
    { name: `gateway: ${a.tunnel.kind === "dhcpv6-pd" ? "WAN" : "tunnel"} ${a.tunnel.interface} up`, on: "gateway", script: interfaceUp(a.tunnel.interface), retrySeconds: 30 },
    "process" in a.tunnel.running
      ? { name: `gateway: ${a.tunnel.running.process} running`, on: "gateway", script: running(a.tunnel.running.process), retrySeconds: 30 }
      : { name: `gateway: ${a.tunnel.running.unit} active`, on: "gateway", script: unitActive(a.tunnel.running.unit), retrySeconds: 30 },
  ];
  if (a.tunnel.kind === "wireguard") probes.push({ name: "gateway: WireGuard handshake with the far end", on: "gateway", script: wireguardHandshake(a.tunnel.interface), retrySeconds: 30 });
  probes.push({ name: `gateway: ${a.radvdProcess} running`, on: "gateway", script: running(a.radvdProcess), retrySeconds: 10 });
  return probes;
}

/** "0200:5eff:fe00:5311": a MAC's EUI-64 interface identifier as four full groups (what the probes' awk compares). */
export function eui64Groups(mac: string): string {
  const hex = eui64InterfaceId(mac).toString(16).padStart(16, "0");
  return [0, 4, 8, 12].map((i) => hex.slice(i, i + 4)).join(":");
}

/**
 * The probes for a native site, which name no prefix: the gateway prints
 * each LAN's delegated /64, each client must hold its EUI-64 address in its
 * LAN's /64 (preferred), and the outside probes take the address the client
 * printed. A renumbering changes none of them. Pure.
 */
export function nativeSiteProbes(
  a: Pick<ParsedChecks, "pingTarget" | "httpUrl" | "tunnel" | "radvdProcess" | "outsidePingAllowed"> & {
    delegatedLans: readonly string[];
    clients: readonly { name: string; interface: string; lan: string; mac: string }[];
    outsidePort?: number;
  },
): Probe[] {
  const lanProbe = (lan: string) => `gateway: ${lan} holds a delegated /64 (::1)`;
  const clientProbe = (c: { name: string; lan: string }) => `${c.name}: holds its EUI-64 address in ${c.lan}'s /64, preferred`;
  const probes: Probe[] = [
    ...gatewayProbes(a),
    ...a.delegatedLans.map((lan) => ({ name: lanProbe(lan), on: "gateway", script: delegatedLanPrefix(lan), retrySeconds: 30 })),
    { name: `gateway: ping6 ${a.pingTarget}`, on: "gateway", script: ping(a.pingTarget), retrySeconds: 30 },
  ];
  for (const c of a.clients) {
    probes.push(
      { name: clientProbe(c), on: c.name, script: holdsEui64In(c.interface, eui64Groups(c.mac)), retrySeconds: 90, stdinFrom: lanProbe(c.lan) },
      { name: `${c.name}: ping6 ${a.pingTarget}`, on: c.name, script: ping(a.pingTarget), retrySeconds: 30, after: clientProbe(c) },
    );
    if (a.httpUrl) probes.push({ name: `${c.name}: fetches ${a.httpUrl}`, on: c.name, script: httpGet(a.httpUrl), retrySeconds: 30, after: clientProbe(c) });
  }
  if (a.outsidePort !== undefined) {
    for (const c of a.clients) {
      probes.push({ name: `outside: TCP ${a.outsidePort} to ${c.name} refused (adm-prohibited)`, on: "outside", script: tcpAdmProhibitedStdin(a.outsidePort), retrySeconds: 10, stdinFrom: clientProbe(c) });
      probes.push(
        a.outsidePingAllowed
          ? { name: `outside: ${c.name} answers ping6 (ICMPv6 allowed)`, on: "outside", script: pingStdin, retrySeconds: 10, stdinFrom: clientProbe(c) }
          : { name: `outside: ${c.name} does not answer ping6 (ICMPv6 not allowed)`, on: "outside", script: noPingStdin, retrySeconds: 0, stdinFrom: clientProbe(c) },
      );
    }
  }
  return probes;
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

export class Checks extends pulumi.ComponentResource {
  readonly results: pulumi.Output<ProbeResult[]>;
  readonly passed: pulumi.Output<boolean>;

  constructor(name: string, rawArgs: ChecksArgs, opts?: pulumi.ComponentResourceOptions) {
    const args = parseArgs(`Checks "${name}"`, checksArgsSchema, rawArgs, checksProblems);
    super("ipv6gw:checks:Checks", name, {}, opts);
    const delegatedLans = args.delegatedLans;
    const probes = delegatedLans
      ? pulumi.output(nativeSiteProbes({ ...args, delegatedLans, clients: args.clients.map((c) => ({ name: c.name, interface: c.interface, lan: c.lan ?? delegatedLans[0], mac: c.mac! })), outsidePort: args.outside?.port }))
      : pulumi
          .all([args.lanPrefix!, pulumi.all(args.clients.map((c) => c.expectedAddress!))])
          .apply(([lanPrefix, addresses]) =>
            siteProbes({ ...args, lanPrefix, clients: args.clients.map((c, i) => ({ ...c, expectedAddress: addresses[i] })), outsidePort: args.outside?.port }),
          );
    const connections: Record<string, pulumi.Input<ConnectionArgs>> = { gateway: args.gateway };
    for (const c of args.clients) connections[c.name] = c.connection;
    if (args.outside) connections.outside = args.outside.connection;
    // Long texts (a ruleset, radvd.conf) go in as hashes: a preview shows "the checks run again", not the text twice.
    const triggers = pulumi.output(args.triggers).apply((ts) => (ts as unknown[]).map((t) => (typeof t === "string" && t.length > 64 ? sha256(t) : t)));
    const probe = new SiteProbe(`${name}-probe`, { connections, probes, triggers }, childOf(this, opts));
    this.results = probe.results;
    this.passed = probe.passed;
    this.registerOutputs({ results: this.results, passed: this.passed });
  }
}
