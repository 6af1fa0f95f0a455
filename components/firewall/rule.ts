// The firewall's rule model: named rules with typed matches, rendered into
// the exact form `ip6tables-save` prints, so the live ruleset read back from
// a box compares line for line with what the stack declares.

/** Named ICMPv6 types (RFC 4443, RFC 4861, RFC 3810) and their numbers. */
export const ICMPV6_TYPES = {
  "destination-unreachable": 1,
  "packet-too-big": 2,
  "time-exceeded": 3,
  "parameter-problem": 4,
  "echo-request": 128,
  "echo-reply": 129,
  "mld-query": 130,
  "mld-report": 131,
  "mld-done": 132,
  "router-solicitation": 133,
  "router-advertisement": 134,
  "neighbour-solicitation": 135,
  "neighbour-advertisement": 136,
  redirect: 137,
  "router-renumbering": 138,
  "inverse-nd-solicitation": 141,
  "inverse-nd-advertisement": 142,
  "mldv2-report": 143,
  "certification-path-solicitation": 148,
  "certification-path-advertisement": 149,
  "multicast-router-advertisement": 151,
  "multicast-router-solicitation": 152,
  "multicast-router-termination": 153,
} as const;

export type Icmpv6TypeName = keyof typeof ICMPV6_TYPES;

export const REJECT_WITH = ["icmp6-adm-prohibited", "icmp6-port-unreachable", "icmp6-no-route", "icmp6-addr-unreachable", "tcp-reset"] as const;

export const CONN_STATES = ["new", "established", "related", "invalid", "untracked"] as const;

/**
 * One rule. Everything but `name` and `action` is optional; an absent match
 * matches everything.
 */
export interface FirewallRule {
  /** Stable name, lower-case letters, digits and '-': shown in previews and as the rule's comment on the box. */
  readonly name: string;
  /** What to do with a matching packet. "clamp-mss" sets TCP MSS to the path MTU and goes on. */
  readonly action: "accept" | "drop" | "reject" | "jump" | "clamp-mss";
  /** For action "jump": the chain to jump to. */
  readonly jumpTo?: string;
  /** For action "reject": the ICMPv6 error to answer with. Defaults to "icmp6-adm-prohibited" (what the HOWTO uses). */
  readonly rejectWith?: (typeof REJECT_WITH)[number];
  /** Source prefix or address; prefix with "!" to negate. */
  readonly source?: string;
  /** Destination prefix or address; prefix with "!" to negate. */
  readonly destination?: string;
  /** Arriving on this interface; prefix with "!" to negate. */
  readonly inInterface?: string;
  /** Leaving on this interface; prefix with "!" to negate. */
  readonly outInterface?: string;
  /** Transport protocol. "ah" is matched as the extension header it is in IPv6. */
  readonly protocol?: "tcp" | "udp" | "icmpv6" | "esp" | "ah";
  /** tcp/udp destination port or "low:high" range. */
  readonly port?: number | string;
  /** tcp/udp source port or range. */
  readonly sourcePort?: number | string;
  /** tcp: flags to examine and flags that must be set, "SYN,RST SYN". */
  readonly tcpFlags?: string;
  /** icmpv6: the type (name or number), optionally "/code". */
  readonly icmpv6Type?: Icmpv6TypeName | number | string;
  /** Connection-tracking states. */
  readonly state?: readonly (typeof CONN_STATES)[number][];
  /** Match the old `state` module (the HOWTO's) instead of `conntrack`. Defaults to false. */
  readonly legacyStateMatch?: boolean;
  /** Rate limit, "10/sec" etc.; with an optional burst. */
  readonly limit?: string;
  readonly limitBurst?: number;
  /** IPv6 hop limit equal to this (255: sent on-link only, as neighbour discovery must be). */
  readonly hopLimit?: number;
  /** Raw ip6tables match arguments ("-m hl --hl-eq 255"): the escape hatch, checked by the box's kernel at preview. */
  readonly extraMatches?: string;
}

/** A chain we own and what is in it. */
export interface Chain {
  readonly name: string;
  readonly rules: readonly FirewallRule[];
}

/** The whole filter table as we declare it. */
export interface FilterTable {
  /** Policies of the built-in chains. */
  readonly policies: { readonly INPUT: Policy; readonly FORWARD: Policy; readonly OUTPUT: Policy };
  /** Rules in the built-in chains (usually jumps into ours). */
  readonly builtin: { readonly INPUT: readonly FirewallRule[]; readonly FORWARD: readonly FirewallRule[]; readonly OUTPUT: readonly FirewallRule[] };
  /** Our chains, declared in this order. */
  readonly chains: readonly Chain[];
}

export type Policy = "ACCEPT" | "DROP";

/** Our chains in the order both renderers print them: by name, byte order (as ip6tables-save sorts them). */
export function chainsByName(table: FilterTable): Chain[] {
  return [...table.chains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The names of a table's rules, in the order they are rendered (built-in chains, then ours by name). */
export function tableRuleNames(table: FilterTable): string[] {
  const ours = chainsByName(table);
  return [...table.builtin.INPUT, ...table.builtin.FORWARD, ...table.builtin.OUTPUT, ...ours.flatMap((c) => c.rules)].map((r) => r.name);
}

/** The comment that ties a live rule back to its name. */
export function commentOf(rule: Pick<FirewallRule, "name">): string {
  return `ipv6gw:${rule.name}`;
}

function neg(flag: string, value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.startsWith("!") ? ["!", flag, value.slice(1)] : [flag, value];
}

/** ip6tables-save prints host routes with /128 and prefixes with their length. */
export function canonicalAddress(value: string): string {
  return value.includes("/") ? value : `${value}/128`;
}

export function icmpv6TypeNumber(t: FirewallRule["icmpv6Type"]): string {
  if (t === undefined) return "";
  if (typeof t === "number") return String(t);
  const [name, code] = t.split("/");
  const num = name in ICMPV6_TYPES ? String(ICMPV6_TYPES[name as Icmpv6TypeName]) : name;
  return code === undefined ? num : `${num}/${code}`;
}

/**
 * The arguments of one rule after `-A <chain>`, in the order ip6tables-save
 * prints them: addresses, interfaces and protocol first, then matches in the
 * order they were given (protocol, state, limit, extra, comment), then the target.
 */
export function ruleArguments(rule: FirewallRule): string {
  const args: string[] = [];
  const addr = (flag: string, v?: string) =>
    v === undefined ? [] : neg(flag, v.startsWith("!") ? "!" + canonicalAddress(v.slice(1)) : canonicalAddress(v));
  args.push(...addr("-s", rule.source), ...addr("-d", rule.destination));
  args.push(...neg("-i", rule.inInterface), ...neg("-o", rule.outInterface));
  if (rule.protocol === "icmpv6") args.push("-p", "ipv6-icmp");
  else if (rule.protocol && rule.protocol !== "ah") args.push("-p", rule.protocol);
  if (rule.protocol === "tcp" || rule.protocol === "udp") {
    if (rule.sourcePort !== undefined || rule.port !== undefined || rule.tcpFlags) args.push("-m", rule.protocol);
    if (rule.sourcePort !== undefined) args.push("--sport", String(rule.sourcePort));
    if (rule.port !== undefined) args.push("--dport", String(rule.port));
    if (rule.tcpFlags) args.push("--tcp-flags", rule.tcpFlags);
  }
  if (rule.protocol === "icmpv6" && rule.icmpv6Type !== undefined) args.push("-m", "icmp6", "--icmpv6-type", icmpv6TypeNumber(rule.icmpv6Type));
  if (rule.protocol === "ah") args.push("-m", "ah");
  if (rule.state?.length) {
    const states = rule.state.map((s) => s.toUpperCase()).join(",");
    args.push(...(rule.legacyStateMatch ? ["-m", "state", "--state", states] : ["-m", "conntrack", "--ctstate", states]));
  }
  if (rule.limit) {
    args.push("-m", "limit", "--limit", rule.limit);
    if (rule.limitBurst !== undefined) args.push("--limit-burst", String(rule.limitBurst));
  }
  if (rule.hopLimit !== undefined) args.push("-m", "hl", "--hl-eq", String(rule.hopLimit));
  if (rule.extraMatches) args.push(rule.extraMatches.trim().replace(/\s+/g, " "));
  args.push("-m", "comment", "--comment", `"${commentOf(rule)}"`);
  switch (rule.action) {
    case "accept":
      args.push("-j", "ACCEPT");
      break;
    case "drop":
      args.push("-j", "DROP");
      break;
    case "reject":
      args.push("-j", "REJECT", "--reject-with", rule.rejectWith ?? "icmp6-adm-prohibited");
      break;
    case "jump":
      args.push("-j", rule.jumpTo ?? "");
      break;
    case "clamp-mss":
      args.push("-j", "TCPMSS", "--clamp-mss-to-pmtu");
      break;
  }
  return args.join(" ");
}

/** Options that would change what a rule is (its chain, table, target) rather than what it matches. */
const NOT_A_MATCH = new Set(["-A", "--append", "-I", "--insert", "-D", "--delete", "-R", "--replace", "-N", "--new-chain", "-X", "--delete-chain",
  "-F", "--flush", "-P", "--policy", "-Z", "--zero", "-E", "--rename-chain", "-t", "--table", "-j", "--jump", "-g", "--goto", "-S", "-L", "--list"]);

/**
 * Why raw ip6tables match arguments are unusable, or undefined: one line of
 * printable tokens of inert characters (no quotes, '$', '`', ';', '|', '&',
 * '<', '>', '\\', '#', '*'), starting with an option, and no option that
 * changes the chain, table or target (those belong to the rule model), nor a
 * comment (the rule's name is its comment). The box's kernel checks the rest
 * at preview.
 */
export function extraMatchesProblem(text: string): string | undefined {
  if (typeof text !== "string" || text.trim() === "") return "is empty: give ip6tables match arguments, e.g. '-m hl --hl-eq 255'";
  if (text.length > 512) return "is longer than 512 characters";
  if (!/^[\x20-\x7e]+$/.test(text)) return "must be one line of printable ASCII (no newline, tab or other control characters)";
  const tokens = text.trim().split(/ +/);
  const bad = tokens.find((t) => !/^[A-Za-z0-9_.:,/!+=@%-]+$/.test(t));
  if (bad) return `has '${bad}': match arguments are letters, digits and _ . : , / ! + = @ % - only (no quotes or shell characters)`;
  if (!/^(-|!$)/.test(tokens[0])) return `must start with an option such as -m, got '${tokens[0]}'`;
  const forbidden = tokens.find((t) => NOT_A_MATCH.has(t));
  if (forbidden) return `has '${forbidden}', which is not a match: chains, tables and targets come from the rule's other fields`;
  if (tokens.some((t, i) => t === "comment" && tokens[i - 1] === "-m")) return "must not add a comment: the rule's name is its comment";
  return undefined;
}
