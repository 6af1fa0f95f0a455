// What the ISP delegated, as read from the gateway: the prefix and each LAN's
// /64. A read-only resource: create waits (a bounded time) for the first
// delegation and fails saying what was asked, on which interface and what
// came back; a refresh reads the box again and updates the outputs. Its
// inputs are only what was asked (interfaces, subnet ids, length), never the
// prefix, so a renumbering is never a diff: the outputs follow the box.

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "../host/connection";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "../host/provider-kit";
import { namedError, remoteCommandError, shq } from "../host/remote";
import { canonicalPrefix, prefixCovers, subnet } from "../net/ipv6";
import { ReferencedResource, providerReference } from "../host/provider-reference";

export function delegatedPrefixSchema() {
  const { z } = require("zod") as typeof import("zod");
  const ifname = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/, "must be an interface name");
  return z.object({
    wanInterface: ifname,
    prefixLength: z.number().int().min(48).max(64),
    lans: z.array(z.object({ interface: ifname, subnetId: z.number().int().min(0) })).min(1),
    unit: z.string().regex(/^[A-Za-z0-9_.@-]+\.service$/, "must be a systemd service unit"),
    waitSeconds: z.number().int().min(1).max(3600).default(60),
  });
}

export interface DelegatedPrefixArgs extends HostResourceArgs {
  /** Where the DHCPv6 client asks. */
  readonly wanInterface: pulumi.Input<string>;
  /** The length asked for (the hint), for messages. */
  readonly prefixLength: pulumi.Input<number>;
  /** Each LAN and the subnet id it asked for. */
  readonly lans: pulumi.Input<{ interface: string; subnetId: number }[]>;
  /** The DHCPv6 client's systemd unit: its journal says what came back. */
  readonly unit: pulumi.Input<string>;
  /** Seconds create waits for every LAN to hold its /64. Defaults to 60. */
  readonly waitSeconds?: pulumi.Input<number>;
}

interface DelegatedState {
  connection: Connection;
  wanInterface: string;
  prefixLength: number;
  lans: { interface: string; subnetId: number }[];
  unit: string;
  waitSeconds: number;
  /** The delegated prefix ("" when none is held now). */
  prefix?: string;
  /** Each LAN's /64, by interface (LANs without one are absent). */
  lanPrefixes?: Record<string, string>;
}

const ASKED = ["wanInterface", "prefixLength", "lans", "unit", "waitSeconds"] as const;

/** Exit codes of the scripts. */
export const DELEGATION_EXIT = { notDeployed: 3, timedOut: 4 } as const;

/**
 * Prints what the box holds: "lan <if> <ip -o addr line>" for each LAN's
 * delegated (dynamic, preferred) addresses, and "route <line>" for the
 * unreachable route dhcpcd installs for the whole delegated prefix (RFC
 * 7084 WPD-5). Exits 3 when the DHCPv6 client's unit is not on the box.
 */
export function readScript(unit: string, lans: readonly string[]): string {
  return [`systemctl cat ${shq(unit)} >/dev/null 2>&1 || exit ${DELEGATION_EXIT.notDeployed}`, heldScript(lans)].join("\n");
}

function heldScript(lans: readonly string[]): string {
  return [
    `for lan in ${lans.map(shq).join(" ")}; do ip -6 -o addr show dev "$lan" scope global dynamic -deprecated -tentative 2>/dev/null | sed "s/^/lan $lan /"; done`,
    "ip -6 route show type unreachable proto dhcp 2>/dev/null | sed 's/^/route /'",
  ].join("; ");
}

/**
 * Waits up to `seconds` for every LAN to hold a /64; then prints what it
 * holds, or the client's journal and exits 4. After 10 s without, it has
 * dhcpcd ask again at once (`dhcpcd -n`): a client that has been soliciting
 * for a while (a server back after an outage) may otherwise wait minutes
 * for its next try.
 */
export function waitScript(unit: string, wanInterface: string, lans: readonly string[], seconds: number): string {
  const count = `[ "$(printf '%s\\n' "$out" | grep -c '^lan ')" -ge ${lans.length} ] && [ "$(printf '%s\\n' "$out" | grep '^lan ' | cut -d' ' -f2 | sort -u | wc -l)" -ge ${lans.length} ]`;
  return [
    `systemctl cat ${shq(unit)} >/dev/null 2>&1 || exit ${DELEGATION_EXIT.notDeployed}`,
    "i=0",
    "while :; do",
    `  out=$(${heldScript(lans)})`,
    `  if ${count}; then printf '%s\\n' "$out"; exit 0; fi`,
    `  [ $i -ge ${seconds} ] && break`,
    `  [ $i -eq 10 ] && systemctl -q is-active ${shq(unit)} && dhcpcd -n ${shq(wanInterface)} >/dev/null 2>&1`,
    "  i=$((i + 1)); sleep 1",
    "done",
    `printf '%s\\n' "$out"`,
    `journalctl -u ${shq(unit)} -b -o cat --no-pager 2>/dev/null | tail -n 40 | sed 's/^/log /'`,
    `exit ${DELEGATION_EXIT.timedOut}`,
  ].join("\n");
}

/** What a read found. */
export interface Held {
  readonly prefix: string;
  readonly lanPrefixes: Record<string, string>;
  /** The DHCPv6 client's log lines, when the wait timed out. */
  readonly log: string[];
}

/** Parses readScript's (or waitScript's) output. Pure. */
export function parseHeld(stdout: string): Held {
  const lanPrefixes: Record<string, string> = {};
  const routes: string[] = [];
  const log: string[] = [];
  for (const line of stdout.split("\n")) {
    const [kind, ...rest] = line.split(" ");
    if (kind === "lan") {
      const m = /\binet6 ([0-9a-fA-F:]+)\/64\b/.exec(rest.slice(1).join(" "));
      if (m && !(rest[0] in lanPrefixes)) lanPrefixes[rest[0]] = canonicalPrefix(`${m[1]}/64`, { normalize: true });
    } else if (kind === "route") {
      const m = /^unreachable ([0-9a-fA-F:]+\/\d+)\b/.exec(rest.join(" "));
      if (m) routes.push(canonicalPrefix(m[1], { normalize: true }));
    } else if (kind === "log") {
      log.push(rest.join(" "));
    }
  }
  // The delegation holding the LANs' /64s; with none, the newest unreachable route.
  const lans = Object.values(lanPrefixes);
  const prefix = routes.find((r) => lans.length > 0 && lans.every((l) => prefixCovers(r, l))) ?? routes[routes.length - 1] ?? "";
  return { prefix, lanPrefixes, log };
}

/**
 * Why the wait failed, for the person running `up`: what was asked, on which
 * interface, what came back (from the client's own log), and what to check.
 */
export function delegationTimeoutMessage(s: Pick<DelegatedState, "wanInterface" | "prefixLength" | "lans" | "waitSeconds">, held: Held, where: string): string {
  const asked = `a /${s.prefixLength} (DHCPv6 IA_PD, RFC 8415) from the DHCPv6 servers on ${s.wanInterface}, for ${s.lans.map((l) => `${l.interface} (subnet id ${l.subnetId})`).join(", ")}`;
  const got = Object.keys(held.lanPrefixes);
  const missing = s.lans.filter((l) => !got.includes(l.interface)).map((l) => l.interface);
  // dhcpcd logs to stderr and syslog, both in the journal: each line once, and not the IAID chatter.
  const said = held.log
    .filter((l) => (l.startsWith(`${s.wanInterface}:`) || s.lans.some((lan) => l.startsWith(`${lan.interface}:`))) && !/: (IAID|IA type) /.test(l))
    .filter((l, i, all) => l !== all[i - 1]);
  // A DHCPv6 server's answer ("wan0: ADV <prefix> from ...", "wan0: REPLY6 received from ..."); not the ISP's router advertisements.
  const replied = said.some((l) => /^\S+: (ADV|REPLY6?) .*\bfrom /.test(l));
  const came = held.prefix
    ? `${held.prefix} was delegated, but ${missing.join(", ")} got no /64 of it${got.length ? ` (${got.map((g) => `${g} has ${held.lanPrefixes[g]}`).join(", ")})` : ""}: the ISP may have delegated a longer prefix than asked, in which those subnet ids do not fit`
    : replied
      ? "a server answered, but delegated no prefix"
      : "nothing: no DHCPv6 server answered";
  return [
    `no prefix was delegated within ${s.waitSeconds} s on ${where}: dhcpcd asked for ${asked}; what came back: ${came}.`,
    ...(said.length ? ["dhcpcd's last words:", ...said.slice(-8).map((l) => `  ${l}`)] : []),
    `Check that the ISP delegates prefixes on ${s.wanInterface} (DHCPv6-PD) and that the prefix length fits; the firewall lets DHCPv6 replies in. Then run up again.`,
  ].join("\n");
}

export class DelegatedPrefixProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new DelegatedPrefixProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, DelegatedPrefixProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, delegatedPrefixSchema());
  }

  /** Only what was asked counts: the prefix the box holds is an output, never a change. */
  async diff(_id: string, olds: DelegatedState, news: DelegatedState) {
    return diffManaged(olds as never, news as never, ASKED);
  }

  private async wait(s: DelegatedState): Promise<Held> {
    const remote = await this.open(s.connection);
    const lans = s.lans.map((l) => l.interface);
    const r = await remote.run(waitScript(s.unit, s.wanInterface, lans, s.waitSeconds), { timeoutSeconds: s.waitSeconds + 60 });
    if (r.code === 0) return parseHeld(r.stdout);
    if (r.code === DELEGATION_EXIT.timedOut) throw namedError("DelegationError", delegationTimeoutMessage(s, parseHeld(r.stdout), remote.where));
    if (r.code === DELEGATION_EXIT.notDeployed) throw namedError("DelegationError", `${s.unit} is not on ${remote.where}: the DHCPv6 client must be deployed before its delegation is read`);
    throw remoteCommandError(remote.where, `waiting for the delegation on ${s.wanInterface}`, r);
  }

  async create(inputs: DelegatedState) {
    const held = await this.wait(inputs);
    return { id: `delegation-${inputs.wanInterface}`, outs: { ...inputs, prefix: held.prefix, lanPrefixes: held.lanPrefixes } };
  }

  async update(_id: string, olds: DelegatedState, news: DelegatedState) {
    if (!managedChanged(olds as never, news as never, ASKED)) return { outs: { ...news, prefix: olds.prefix, lanPrefixes: olds.lanPrefixes } };
    const held = await this.wait(news);
    return { outs: { ...news, prefix: held.prefix, lanPrefixes: held.lanPrefixes } };
  }

  /** What the box holds now (a renumbering shows here); gone when the client was never deployed there. */
  async read(id: string, props: DelegatedState) {
    const remote = await this.open(props.connection);
    const r = await remote.run(readScript(props.unit, props.lans.map((l) => l.interface)));
    if (r.code === DELEGATION_EXIT.notDeployed) return {};
    if (r.code !== 0) throw remoteCommandError(remote.where, "reading the delegation", r);
    const held = parseHeld(r.stdout);
    const state: DelegatedState = withConnection(props, { ...props, prefix: held.prefix, lanPrefixes: held.lanPrefixes });
    const { prefix: _p, lanPrefixes: _l, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete() {
    // Reading changes nothing on the box.
  }
}

/** The delegation as the gateway holds it; see the file comment. */
export class DelegatedPrefix extends ReferencedResource {
  /** The delegated prefix, "" when none is held. */
  declare readonly prefix: pulumi.Output<string>;
  /** Each LAN's /64, by interface. */
  declare readonly lanPrefixes: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: DelegatedPrefixArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      DelegatedPrefixProvider.reference,
      name,
      { ...args, prefix: undefined, lanPrefixes: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:tunnel",
      "DelegatedPrefix",
    );
  }
}

/** The /64 a subnet id gets in a delegated prefix (what dhcpcd puts on the LAN). Pure. */
export function lanPrefixFor(delegated: string, subnetId: number): string {
  return subnet(delegated, subnetId, 64);
}
