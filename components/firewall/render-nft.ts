// Filter table -> our nftables table (`table ip6 ipv6gw`), in the exact form
// `nft -s list table ip6 ipv6gw` prints it (nft 1.0.x: tabs, one rule a line,
// counters without their values, dependencies such as `meta l4proto ipv6-icmp`
// left out where nft leaves them out), so the live table read back from a box
// compares line for line with what the stack declares, and adding a rule
// previews as one added line.
//
// `ip6`, not `inet`: the firewall is the HOWTO's IPv6 firewall, and an ip6
// table never sees IPv4, so nothing here can drop a v4 packet.
//
// Every rule has a counter (hits show with `nft list table ip6 ipv6gw`; read
// uses -s, so they never show as drift) and its stable name as its comment.

import { canonicalIpv6, parsePrefix } from "../net/ipv6";
import { CONN_STATES, FilterTable, FirewallRule, ICMPV6_TYPES, Icmpv6TypeName, chainsByName, commentOf } from "./rule";

export const NFT_FAMILY = "ip6";
export const NFT_TABLE = "ipv6gw";
/** `table ip6 ipv6gw`, as nft commands name it. */
export const NFT_TABLE_REF = `table ${NFT_FAMILY} ${NFT_TABLE}`;

/**
 * The line put before the table when it is loaded: creates the table if it
 * is missing and deletes it, so the one `nft -f` transaction replaces our
 * table whole and touches no other (nft before 1.0.8 has no `destroy`).
 */
export const NFT_REPLACE_HEADER = `${NFT_TABLE_REF}; delete ${NFT_TABLE_REF}`;

/** nft's names of ICMPv6 types (`nft describe icmpv6 type`); the rest print as numbers. */
const NFT_ICMPV6_NAMES: Record<number, string> = {
  1: "destination-unreachable",
  2: "packet-too-big",
  3: "time-exceeded",
  4: "parameter-problem",
  128: "echo-request",
  129: "echo-reply",
  130: "mld-listener-query",
  131: "mld-listener-report",
  132: "mld-listener-done",
  133: "nd-router-solicit",
  134: "nd-router-advert",
  135: "nd-neighbor-solicit",
  136: "nd-neighbor-advert",
  137: "nd-redirect",
  138: "router-renumbering",
  141: "ind-neighbor-solicit",
  142: "ind-neighbor-advert",
  143: "mld2-listener-report",
};

/** nft's names of ICMPv6 codes (`nft describe icmpv6 code`). */
const NFT_ICMPV6_CODES: Record<number, string> = { 0: "no-route", 1: "admin-prohibited", 3: "addr-unreachable", 4: "port-unreachable", 5: "policy-fail", 6: "reject-route" };

/** The order nft prints conntrack states in: by bit value. */
const CT_STATE_ORDER: readonly (typeof CONN_STATES)[number][] = ["invalid", "established", "related", "new", "untracked"];

const REJECT: Record<NonNullable<FirewallRule["rejectWith"]>, string> = {
  "icmp6-adm-prohibited": "reject with icmpv6 admin-prohibited",
  // port-unreachable is nft's default for ip6, and it prints the bare verb.
  "icmp6-port-unreachable": "reject",
  "icmp6-no-route": "reject with icmpv6 no-route",
  "icmp6-addr-unreachable": "reject with icmpv6 addr-unreachable",
  "tcp-reset": "reject with tcp reset",
};

const LIMIT_UNITS: Record<string, string> = { sec: "second", second: "second", min: "minute", minute: "minute", hour: "hour", day: "day" };

/** nft's default burst for `limit rate`: not printed. */
const NFT_DEFAULT_BURST = 5;

const quote = (s: string) => `"${s}"`;

function negatable(value: string): { not: boolean; bare: string } {
  return value.startsWith("!") ? { not: true, bare: value.slice(1) } : { not: false, bare: value };
}

/** `iifname "eth0"`, `iifname != "wg*"`: ip6tables' trailing '+' is nft's '*'. */
function ifMatch(key: "iifname" | "oifname", value: string | undefined): string[] {
  if (value === undefined) return [];
  const { not, bare } = negatable(value);
  const name = bare.endsWith("+") ? `${bare.slice(0, -1)}*` : bare;
  return [key, ...(not ? ["!="] : []), quote(name)];
}

/** nft prints a host without /128 and every address in RFC 5952 form. */
export function nftAddress(text: string): string {
  if (!text.includes("/")) return canonicalIpv6(text);
  const p = parsePrefix(text);
  return p.length === 128 ? canonicalIpv6(p.address) : `${canonicalIpv6(p.address)}/${p.length}`;
}

function addrMatch(key: "saddr" | "daddr", value: string | undefined): string[] {
  if (value === undefined) return [];
  const { not, bare } = negatable(value);
  return ["ip6", key, ...(not ? ["!="] : []), nftAddress(bare)];
}

const portText = (p: number | string) => String(p).replace(":", "-");

function icmpv6Match(t: NonNullable<FirewallRule["icmpv6Type"]>): string[] {
  const [name, code] = typeof t === "number" ? [String(t), undefined] : t.split("/");
  const num = name in ICMPV6_TYPES ? ICMPV6_TYPES[name as Icmpv6TypeName] : Number(name);
  const out = ["icmpv6", "type", NFT_ICMPV6_NAMES[num] ?? String(num)];
  if (code !== undefined) out.push("icmpv6", "code", NFT_ICMPV6_CODES[Number(code)] ?? String(Number(code)));
  return out;
}

/** ip6tables' "SYN,RST SYN" (mask, then flags set) as nft prints it: "syn / syn,rst". */
export function nftTcpFlags(flags: string): string {
  const order = ["fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"];
  const list = (s: string) => {
    const set = new Set(s.toLowerCase().split(",").filter(Boolean));
    if (set.has("all")) return order.join(",");
    return order.filter((f) => set.has(f)).join(",") || "0x0";
  };
  const [mask, set = ""] = flags.trim().split(/\s+/);
  return `${list(set)} / ${list(mask)}`;
}

function protocolMatches(rule: FirewallRule): string[] {
  const p = rule.protocol;
  if (p === undefined) return [];
  if (p === "tcp" || p === "udp") {
    const out: string[] = [];
    if (rule.sourcePort !== undefined) out.push(p, "sport", portText(rule.sourcePort));
    if (rule.port !== undefined) out.push(p, "dport", portText(rule.port));
    if (p === "tcp" && rule.tcpFlags) out.push("tcp", "flags", nftTcpFlags(rule.tcpFlags));
    // nft leaves the protocol out where a port or flag match implies it. (It would also leave it out
    // right before `reject with tcp reset`, but the counter always stands between them.)
    return out.length > 0 ? out : ["meta", "l4proto", p];
  }
  if (p === "icmpv6") return rule.icmpv6Type !== undefined ? icmpv6Match(rule.icmpv6Type) : ["meta", "l4proto", "ipv6-icmp"];
  return ["meta", "l4proto", p];
}

function limitMatch(rule: FirewallRule): string[] {
  if (!rule.limit) return [];
  const [rate, unit] = rule.limit.split("/");
  const out = ["limit", "rate", `${Number(rate)}/${LIMIT_UNITS[unit] ?? unit}`];
  if (rule.limitBurst !== undefined && rule.limitBurst !== NFT_DEFAULT_BURST) out.push("burst", String(rule.limitBurst), "packets");
  return out;
}

function verdict(rule: FirewallRule): string {
  switch (rule.action) {
    case "accept":
      return "accept";
    case "drop":
      return "drop";
    case "reject":
      return REJECT[rule.rejectWith ?? "icmp6-adm-prohibited"];
    case "jump":
      return `jump ${rule.jumpTo ?? ""}`;
    case "clamp-mss":
      return "tcp option maxseg size set rt mtu";
  }
}

/**
 * Why a rule cannot be expressed on nftables, or undefined. `extraMatches`
 * is ip6tables syntax: nft cannot read it, and it is never passed to nft.
 */
export function nftRuleProblem(rule: FirewallRule): string | undefined {
  if (rule.extraMatches !== undefined) {
    return "extraMatches is ip6tables syntax, which the nftables backend does not pass to nft: use the typed fields (hopLimit, state, limit ...) or firewall.backend iptables";
  }
  return undefined;
}

/** One rule, as `nft -s list` prints it. */
export function nftRule(rule: FirewallRule): string {
  const why = nftRuleProblem(rule);
  if (why) throw new Error(`firewall rule '${rule.name}': ${why}`);
  const states = rule.state?.length ? ["ct", "state", CT_STATE_ORDER.filter((s) => rule.state!.includes(s)).join(",")] : [];
  return [
    ...ifMatch("iifname", rule.inInterface),
    ...ifMatch("oifname", rule.outInterface),
    ...addrMatch("saddr", rule.source),
    ...addrMatch("daddr", rule.destination),
    ...protocolMatches(rule),
    ...(rule.hopLimit !== undefined ? ["ip6", "hoplimit", String(rule.hopLimit)] : []),
    ...states,
    ...limitMatch(rule),
    "counter",
    verdict(rule),
    "comment",
    quote(commentOf(rule)),
  ].join(" ");
}

const HOOKS = [
  ["INPUT", "input"],
  ["FORWARD", "forward"],
  ["OUTPUT", "output"],
] as const;

/**
 * Our whole table. Base chains (input, forward; output only when it has
 * rules or drops) hook in at the filter priority with the preset's policy;
 * our own chains follow, by name.
 */
export function renderNftTable(table: FilterTable): string {
  const chains: string[][] = [];
  for (const [builtin, hook] of HOOKS) {
    const rules = table.builtin[builtin];
    const policy = table.policies[builtin] === "DROP" ? "drop" : "accept";
    if (hook === "output" && rules.length === 0 && policy === "accept") continue;
    chains.push([`\tchain ${hook} {`, `\t\ttype filter hook ${hook} priority filter; policy ${policy};`, ...rules.map((r) => `\t\t${nftRule(r)}`), "\t}"]);
  }
  for (const c of chainsByName(table)) chains.push([`\tchain ${c.name} {`, ...c.rules.map((r) => `\t\t${nftRule(r)}`), "\t}"]);
  const body = chains.map((c) => c.join("\n")).join("\n\n");
  return `${NFT_TABLE_REF} {\n${body}\n}\n`;
}

/** What `nft -f` loads: the replace header, then the table (the text's line n is the file's line n + 1). */
export function nftLoadText(rules: string): string {
  return `${NFT_REPLACE_HEADER}\n${rules}`;
}

/** The rule name on line `line` (1-based) of a rendered nft table, from its comment. */
export function nftRuleNameAtLine(text: string, line: number): string | undefined {
  const l = text.split("\n")[line - 1];
  return l ? /comment "ipv6gw:([a-z0-9-]+)"/.exec(l)?.[1] : undefined;
}
