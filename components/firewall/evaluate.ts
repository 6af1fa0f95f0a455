// A packet through a filter table, the way netfilter walks it: the built-in
// chain of its path, jumps into our chains and back, the first terminal
// target, or the chain's policy. Pure: the rule model in, every possible
// verdict out.
//
// Matches the model cannot decide for a packet are never guessed: a rate
// limit, raw extraMatches (except the hop-limit test, which is exact), an
// interface or address the packet is only known to lie within, a source port
// the client picks. Each one forks the walk (the match holds / does not), and
// every verdict carries the assumptions it rests on, so a policy can tell
// "always dropped" from "dropped if the packet arrives on wg0".

import { canonicalIpv6, isIpv6Address, parsePrefix, prefixContains, prefixCovers } from "../net/ipv6";
import { CONN_STATES, FilterTable, FirewallRule, icmpv6TypeNumber } from "./rule";

export type Path = "input" | "forward" | "output";
export type ConnState = (typeof CONN_STATES)[number];
export type Protocol = NonNullable<FirewallRule["protocol"]>;
export type TcpFlag = "SYN" | "ACK" | "FIN" | "RST" | "URG" | "PSH";

/** Addresses a packet may carry: one address, or any inside `within` but outside every `except`. */
export type AddressSpec = string | { readonly within: string; readonly except?: readonly string[] };

/** The interface a packet crosses: a name, or any interface but the named ones. */
export type InterfaceSpec = string | { readonly anyBut: readonly string[] };

export interface Packet {
  /** Which built-in chain sees it: INPUT (to the box), FORWARD (through it), OUTPUT (from it). */
  readonly path: Path;
  /** Arriving on (input, forward); absent on output. */
  readonly inInterface?: InterfaceSpec;
  /** Leaving on (forward, output); absent on input. */
  readonly outInterface?: InterfaceSpec;
  readonly source: AddressSpec;
  readonly destination: AddressSpec;
  readonly protocol: Protocol;
  /** tcp/udp; absent when the client picks it (a fork where a rule tests it). */
  readonly sourcePort?: number;
  readonly port?: number;
  /** tcp: the flags set. */
  readonly tcpFlags?: readonly TcpFlag[];
  readonly icmpv6Type?: number;
  readonly icmpv6Code?: number;
  /** Connection-tracking state: ND and MLD are "untracked" in Linux, ICMPv6 errors about a flow "related". */
  readonly state: ConnState;
  readonly hopLimit?: number;
}

export type Action = "accept" | "drop" | "reject";

/** A match the evaluator could not decide, and which way this verdict assumed it went. */
export interface Assumption {
  readonly rule: string;
  readonly matched: boolean;
  /** What the match depends on, e.g. "rate limit 10/sec" or "the packet arrives on wg0". */
  readonly why: string;
  /** What kind of uncertainty: the traffic's rate, raw matches, or what the packet is. */
  readonly kind: "limit" | "extra" | "packet";
}

export interface Verdict {
  readonly action: Action;
  /** The deciding rule's name; undefined when a built-in chain's policy decided. */
  readonly rule?: string;
  /** The chain of the deciding rule, or the built-in chain whose policy decided. */
  readonly chain: string;
  /** The undecidable matches this verdict rests on, in the order met. */
  readonly assumptions: readonly Assumption[];
}

/** Every verdict the packet can get; one when nothing was undecidable. */
export interface Evaluation {
  readonly packet: Packet;
  readonly verdicts: readonly Verdict[];
}

type Match = { readonly kind: "yes" } | { readonly kind: "no" } | { readonly kind: "unknown"; readonly why: string; readonly uncertainty: Assumption["kind"] };
const YES: Match = { kind: "yes" };
const NO: Match = { kind: "no" };
const unknown = (why: string, uncertainty: Assumption["kind"] = "packet"): Match => ({ kind: "unknown", why, uncertainty });

function negate(m: Match, negated: boolean, notWhy: string): Match {
  if (!negated) return m;
  if (m.kind === "unknown") return unknown(notWhy, m.uncertainty);
  return m.kind === "yes" ? NO : YES;
}

const bare = (address: string) => address.replace(/%.*$/, "");
const asPrefix = (text: string) => (text.includes("/") ? text : `${canonicalIpv6(text)}/128`);

/** Whether an address or prefix from a rule ("[!]2001:db8::/48") matches the packet's addresses. */
export function matchAddress(rule: string, packet: AddressSpec, what: "source" | "destination"): Match {
  const negated = rule.startsWith("!");
  const prefix = parsePrefix(asPrefix(negated ? rule.slice(1) : rule), { normalize: true });
  const text = `${prefix.address}/${prefix.length}`;
  let m: Match;
  if (typeof packet === "string") {
    m = prefixContains(prefix, bare(packet)) ? YES : NO;
  } else {
    const within = parsePrefix(packet.within, { normalize: true });
    const except = (packet.except ?? []).map((e) => parsePrefix(e, { normalize: true }));
    if (prefixCovers(prefix, within)) m = YES;
    else if (!prefixCovers(within, prefix) || except.some((e) => prefixCovers(e, prefix))) m = NO;
    else m = unknown(`the ${what} is in ${text}`);
  }
  return negate(m, negated, `the ${what} is not in ${text}`);
}

/** Whether an interface match from a rule ("[!]eth0", "ppp+") matches the interface the packet crosses. */
export function matchInterface(rule: string, packet: InterfaceSpec | undefined, what: "arrives on" | "leaves on"): Match {
  const negated = rule.startsWith("!");
  const name = negated ? rule.slice(1) : rule;
  const wildcard = name.endsWith("+");
  const stem = wildcard ? name.slice(0, -1) : name;
  const fits = (iface: string) => (wildcard ? iface.startsWith(stem) : iface === name);
  let m: Match;
  if (packet === undefined) {
    // INPUT has no output interface, OUTPUT no input one: netfilter compares an empty name.
    m = fits("") ? YES : NO;
  } else if (typeof packet === "string") {
    m = fits(packet) ? YES : NO;
  } else if (wildcard && stem === "") {
    m = YES;
  } else if (!wildcard && packet.anyBut.includes(name)) {
    m = NO;
  } else {
    m = unknown(`the packet ${what} ${name}`);
  }
  return negate(m, negated, `the packet does not ${what === "arrives on" ? "arrive on" : "leave on"} ${name}`);
}

/** "22", "1024:65535", ":1023", "1024:" against a port. */
export function matchPort(rule: number | string, port: number | undefined, what: string): Match {
  if (port === undefined) return unknown(`the ${what} is ${rule}`);
  const text = String(rule);
  if (!text.includes(":")) return Number(text) === port ? YES : NO;
  const [lo, hi] = text.split(":");
  return port >= (lo === "" ? 0 : Number(lo)) && port <= (hi === "" ? 65535 : Number(hi)) ? YES : NO;
}

const ALL_FLAGS: readonly TcpFlag[] = ["SYN", "ACK", "FIN", "RST", "URG", "PSH"];

function flagList(text: string): TcpFlag[] {
  if (text === "ALL") return [...ALL_FLAGS];
  if (text === "NONE") return [];
  return text.split(",") as TcpFlag[];
}

/** "--tcp-flags SYN,RST SYN": of the flags in the mask, exactly the listed ones are set. */
export function matchTcpFlags(rule: string, flags: readonly TcpFlag[] | undefined): Match {
  if (flags === undefined) return unknown(`the TCP flags are ${rule}`);
  const [mask, comp] = rule.trim().split(/\s+/);
  const set = flagList(comp ?? "");
  return flagList(mask).every((f) => flags.includes(f) === set.includes(f)) ? YES : NO;
}

export function matchIcmpv6Type(rule: NonNullable<FirewallRule["icmpv6Type"]>, type: number | undefined, code: number | undefined): Match {
  const [t, c] = icmpv6TypeNumber(rule).split("/");
  if (!/^\d+$/.test(t) || (c !== undefined && !/^\d+$/.test(c))) return unknown(`ICMPv6 type '${String(rule)}' is not one the rule model knows`, "extra");
  if (type === undefined) return unknown(`the ICMPv6 type is ${t}`);
  if (Number(t) !== type) return NO;
  if (c === undefined) return YES;
  if (code === undefined) return unknown(`the ICMPv6 code is ${c}`);
  return Number(c) === code ? YES : NO;
}

/**
 * Raw matches are judged only when they are exactly a hop-limit test
 * ("-m hl --hl-eq 255", as the rfc4890 preset's ND rules): anything else
 * would be a guess.
 */
export function matchExtra(text: string, hopLimit: number | undefined): Match {
  const hl = /^-m hl (!\s+)?--hl-(eq|lt|gt) (\d{1,3})$/.exec(text.trim().replace(/\s+/g, " "));
  if (!hl) return unknown(`its raw matches '${text.trim()}' hold (they cannot be judged at preview)`, "extra");
  if (hopLimit === undefined) return unknown(`the hop limit passes '${text.trim()}'`);
  const n = Number(hl[3]);
  const holds = hl[2] === "eq" ? hopLimit === n : hl[2] === "lt" ? hopLimit < n : hopLimit > n;
  return (hl[1] ? !holds : holds) ? YES : NO;
}

/** How a rule's matches fare against a packet: all of them must hold. */
export function matchRule(rule: FirewallRule, p: Packet): Match {
  const checks: (() => Match)[] = [
    () => (rule.source === undefined ? YES : matchAddress(rule.source, p.source, "source")),
    () => (rule.destination === undefined ? YES : matchAddress(rule.destination, p.destination, "destination")),
    () => (rule.inInterface === undefined ? YES : matchInterface(rule.inInterface, p.inInterface, "arrives on")),
    () => (rule.outInterface === undefined ? YES : matchInterface(rule.outInterface, p.outInterface, "leaves on")),
    () => (rule.protocol === undefined || rule.protocol === p.protocol ? YES : NO),
    () => (rule.port === undefined ? YES : matchPort(rule.port, p.port, "destination port")),
    () => (rule.sourcePort === undefined ? YES : matchPort(rule.sourcePort, p.sourcePort, "source port")),
    () => (rule.tcpFlags === undefined ? YES : matchTcpFlags(rule.tcpFlags, p.tcpFlags)),
    () => (rule.icmpv6Type === undefined ? YES : matchIcmpv6Type(rule.icmpv6Type, p.icmpv6Type, p.icmpv6Code)),
    () => (rule.state === undefined || rule.state.length === 0 || rule.state.includes(p.state) ? YES : NO),
    () => (rule.hopLimit === undefined ? YES : p.hopLimit === undefined ? unknown(`the hop limit is ${rule.hopLimit}`) : p.hopLimit === rule.hopLimit ? YES : NO),
    () => (rule.extraMatches === undefined ? YES : matchExtra(rule.extraMatches, p.hopLimit)),
    () => (rule.limit === undefined ? YES : unknown(`the traffic stays under its rate limit ${rule.limit}${rule.limitBurst ? ` (burst ${rule.limitBurst})` : ""}`, "limit")),
  ];
  const unknowns: Extract<Match, { kind: "unknown" }>[] = [];
  for (const check of checks) {
    const m = check();
    if (m.kind === "no") return NO;
    if (m.kind === "unknown") unknowns.push(m);
  }
  if (unknowns.length === 0) return YES;
  // One fork per rule: it matches only if all of its undecidable matches hold.
  const kind = unknowns.some((u) => u.uncertainty === "limit") ? "limit" : unknowns.some((u) => u.uncertainty === "extra") ? "extra" : "packet";
  return unknown(unknowns.map((u) => u.why).join(" and "), kind);
}

/** A table netfilter would refuse, or one too undecidable to follow. */
export class TableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableError";
  }
}

const BUILTIN = { input: "INPUT", forward: "FORWARD", output: "OUTPUT" } as const;
const MAX_DEPTH = 16;
const MAX_VERDICTS = 512;

/** A walk that has not reached a verdict yet: where it returns to, and what it assumed. */
interface Walk {
  readonly assumptions: readonly Assumption[];
}

type Step = { readonly verdict: Verdict } | { readonly fallThrough: Walk };

/**
 * Every verdict the table can give the packet. Throws on a table netfilter
 * would refuse (a jump to a chain that is not declared, a jump loop).
 */
export function evaluate(table: FilterTable, packet: Packet): Evaluation {
  const builtin = BUILTIN[packet.path];
  const chains = new Map<string, readonly FirewallRule[]>(table.chains.map((c) => [c.name, c.rules]));
  chains.set(builtin, table.builtin[builtin]);

  const walkChain = (name: string, walk: Walk, depth: number): Step[] => {
    if (depth > MAX_DEPTH) throw new TableError(`chain ${name}: jumps nest deeper than ${MAX_DEPTH} (a jump loop?)`);
    const rules = chains.get(name);
    if (!rules) throw new TableError(`a rule jumps to chain '${name}', which the table does not declare`);
    let open: Walk[] = [walk];
    const done: Step[] = [];
    for (const rule of rules) {
      const m = matchRule(rule, packet);
      if (m.kind === "no") continue;
      const next: Walk[] = [];
      for (const w of open) {
        const matched = m.kind === "yes" ? w : { assumptions: [...w.assumptions, { rule: rule.name, matched: true, why: m.why, kind: m.uncertainty }] };
        if (m.kind === "unknown") next.push({ assumptions: [...w.assumptions, { rule: rule.name, matched: false, why: m.why, kind: m.uncertainty }] });
        switch (rule.action) {
          case "accept":
          case "drop":
          case "reject":
            done.push({ verdict: { action: rule.action, rule: rule.name, chain: name, assumptions: matched.assumptions } });
            break;
          case "clamp-mss":
            next.push(matched);
            break;
          case "jump": {
            if (!rule.jumpTo) throw new TableError(`rule '${rule.name}' jumps but names no chain`);
            if (rule.jumpTo in { INPUT: 1, FORWARD: 1, OUTPUT: 1 }) throw new TableError(`rule '${rule.name}' jumps to built-in chain ${rule.jumpTo}`);
            for (const s of walkChain(rule.jumpTo, matched, depth + 1)) {
              if ("verdict" in s) done.push(s);
              else next.push(s.fallThrough);
            }
            break;
          }
        }
      }
      open = next;
      if (open.length + done.length > MAX_VERDICTS) throw new TableError(`more than ${MAX_VERDICTS} possible paths through the table: too many undecidable matches to follow`);
      if (open.length === 0) break;
    }
    return [...done, ...open.map((w) => ({ fallThrough: w }))];
  };

  const verdicts = walkChain(builtin, { assumptions: [] }, 0).map((s) =>
    "verdict" in s ? s.verdict : { action: table.policies[builtin] === "ACCEPT" ? "accept" : "drop", chain: builtin, assumptions: s.fallThrough.assumptions } as Verdict,
  );
  return { packet, verdicts };
}

/** The verdicts that do not let the packet through. */
export function refusals(e: Evaluation): Verdict[] {
  return e.verdicts.filter((v) => v.action !== "accept");
}

/** "rule 'x' (reject)" or "the INPUT policy (drop)", and what it rests on. */
export function describeVerdict(v: Verdict): string {
  const who = v.rule ? `rule '${v.rule}'` : `the ${v.chain} chain's policy`;
  const ifs = v.assumptions.map((a) => (a.matched ? a.why : `not (${a.why})`));
  return `${who} (${v.action})${ifs.length ? ` if ${ifs.join(", and ")}` : ""}`;
}

/** True when the address is IPv6 (an IPv4 or IPv4-mapped address never meets ip6tables). */
export function isIpv6Path(address: string): boolean {
  const a = bare(address);
  return isIpv6Address(a) && !/^::ffff:[0-9.]+$/i.test(a);
}
