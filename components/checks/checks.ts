// The HOWTO's checklist for a whole site, from the gateway, each client and
// an outside vantage point, as one SiteProbe.

import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { interfaceAddress } from "../net/ipv6";
import { parseArgs } from "../problems";
import { host, httpUrl, ifname, inputOf, port, processName, slug, strictObject } from "../schema-kit";
import { Probe, unitActive, forwardingOn, hasAddress, httpGet, interfaceUp, noPing, ping, running, tcpAdmProhibited, wireguardHandshake } from "./probes";
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
  lanPrefix: inputOf<string>("the LAN /64"),
  tunnel: strictObject({
    kind: z.enum(["wireguard", "gw6c", "sit6in4"]),
    interface: ifname,
    running: z.union([strictObject({ process: processName }), strictObject({ unit: processName })]),
  }),
  radvdProcess: processName.default("radvd").describe("the process advertising the LAN prefix: radvd, started by us or by gw6c"),
  clients: z
    .array(strictObject({ name: slug, connection: inputOf<ConnectionArgs>("the client's connection"), interface: ifname, expectedAddress: inputOf<string>("its expected SLAAC address") }))
    .default([]),
  outside: strictObject({ connection: inputOf<ConnectionArgs>("the outside box's connection"), port: port.default(80) })
    .optional()
    .describe("an SSH host outside the site for step 25; default none (those checks are skipped)"),
  outsidePingAllowed: z.boolean().describe("whether outsiders may ping LAN hosts (the firewall's ICMPv6 option)"),
  triggers: inputOf<unknown[]>("what the probes test: they run again when any of these changes"),
});

export type ChecksArgs = z.input<typeof checksArgsSchema>;
type ParsedChecks = z.output<typeof checksArgsSchema>;

/** The probes for a site. Pure. */
export function siteProbes(
  a: Pick<ParsedChecks, "pingTarget" | "httpUrl" | "lanInterface" | "tunnel" | "radvdProcess" | "outsidePingAllowed"> & {
    lanPrefix: string;
    clients: readonly { name: string; interface: string; expectedAddress: string }[];
    outsidePort?: number;
  },
): Probe[] {
  const gwAddress = `${interfaceAddress(a.lanPrefix, 1n)}/64`;
  const probes: Probe[] = [
    { name: "gateway: IPv6 forwarding on", on: "gateway", script: forwardingOn, retrySeconds: 0 },
    { name: `gateway: tunnel ${a.tunnel.interface} up`, on: "gateway", script: interfaceUp(a.tunnel.interface), retrySeconds: 30 },
    "process" in a.tunnel.running
      ? { name: `gateway: ${a.tunnel.running.process} running`, on: "gateway", script: running(a.tunnel.running.process), retrySeconds: 30 }
      : { name: `gateway: ${a.tunnel.running.unit} active`, on: "gateway", script: unitActive(a.tunnel.running.unit), retrySeconds: 30 },
  ];
  if (a.tunnel.kind === "wireguard") probes.push({ name: "gateway: WireGuard handshake with the far end", on: "gateway", script: wireguardHandshake(a.tunnel.interface), retrySeconds: 30 });
  probes.push(
    { name: `gateway: ${a.radvdProcess} running`, on: "gateway", script: running(a.radvdProcess), retrySeconds: 10 },
    { name: `gateway: ${gwAddress} on ${a.lanInterface}`, on: "gateway", script: hasAddress(a.lanInterface, gwAddress), retrySeconds: 30 },
    { name: `gateway: ping6 ${a.pingTarget}`, on: "gateway", script: ping(a.pingTarget), retrySeconds: 30 },
  );
  for (const c of a.clients) {
    probes.push(
      { name: `${c.name}: has ${c.expectedAddress}/64`, on: c.name, script: hasAddress(c.interface, `${c.expectedAddress}/64`), retrySeconds: 90 },
      { name: `${c.name}: ping6 ${a.pingTarget}`, on: c.name, script: ping(a.pingTarget), retrySeconds: 30 },
    );
    if (a.httpUrl) probes.push({ name: `${c.name}: fetches ${a.httpUrl}`, on: c.name, script: httpGet(a.httpUrl), retrySeconds: 30 });
  }
  if (a.outsidePort !== undefined) {
    for (const c of a.clients) {
      probes.push({ name: `outside: TCP ${a.outsidePort} to ${c.name} refused (adm-prohibited)`, on: "outside", script: tcpAdmProhibited(c.expectedAddress, a.outsidePort), retrySeconds: 10 });
      probes.push(
        a.outsidePingAllowed
          ? { name: `outside: ${c.name} answers ping6 (ICMPv6 allowed)`, on: "outside", script: ping(c.expectedAddress), retrySeconds: 10 }
          : { name: `outside: ${c.name} does not answer ping6 (ICMPv6 not allowed)`, on: "outside", script: noPing(c.expectedAddress), retrySeconds: 0 },
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
    const args = parseArgs(`Checks "${name}"`, checksArgsSchema, rawArgs);
    super("ipv6gw:checks:Checks", name, {}, opts);
    const probes = pulumi
      .all([args.lanPrefix, pulumi.all(args.clients.map((c) => c.expectedAddress))])
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
