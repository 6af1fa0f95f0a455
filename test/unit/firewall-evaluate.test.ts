import { Packet, describeVerdict, evaluate, matchAddress, matchExtra, matchInterface, matchPort, matchTcpFlags } from "../../components/firewall/evaluate";
import { firewallTable } from "../../components/firewall/firewall";
import { FilterTable } from "../../components/firewall/rule";

const LAN = "2001:db8:8888::/64";
const client = "2001:db8:8888:0:200:5eff:fe00:5311";
const outsider = "2001:db8:ffff::1";
const fromOutside = { inInterface: "wg0", source: outsider } as const;
const fromLan = { inInterface: "eth0", source: client } as const;
const tcpNew = (port: number, from: Pick<Packet, "inInterface" | "source">, path: "input" | "forward" = "input"): Packet => ({
  path,
  ...from,
  outInterface: path === "forward" ? (from.inInterface === "eth0" ? "wg0" : "eth0") : undefined,
  destination: path === "forward" ? (from.inInterface === "eth0" ? outsider : client) : "2001:db8:8888::1",
  protocol: "tcp",
  port,
  tcpFlags: ["SYN"],
  state: "new",
});
const icmp = (type: number, code: number, state: Packet["state"], from: Pick<Packet, "inInterface" | "source">, extra: Partial<Packet> = {}): Packet => ({
  path: "input",
  ...from,
  destination: "2001:db8:8888::1",
  protocol: "icmpv6",
  icmpv6Type: type,
  icmpv6Code: code,
  state,
  ...extra,
});

/** "accept by lan-new", or each possible verdict joined with " | ". */
const outcome = (table: FilterTable, p: Packet) =>
  evaluate(table, p)
    .verdicts.map((v) => `${v.action} by ${v.rule ?? `${v.chain} policy`}${v.assumptions.length ? ` [${v.assumptions.map((a) => `${a.matched ? "" : "not "}${a.rule}`).join(", ")}]` : ""}`)
    .join(" | ");

describe("packets through the HOWTO's ruleset (step 17, ICMPv6 line on)", () => {
  const howto = firewallTable({ preset: "howto", lanInterface: "eth0", icmpv6: true });
  const howtoNoIcmp = firewallTable({ preset: "howto", lanInterface: "eth0", icmpv6: false });

  it.each<[string, FilterTable, Packet, string]>([
    ["SSH to the gateway from the LAN", howto, tcpNew(22, fromLan), "accept by lan-new"],
    ["SSH to the gateway from outside", howto, tcpNew(22, fromOutside), "reject by reject"],
    ["a LAN host's new connection out", howto, tcpNew(443, fromLan, "forward"), "accept by lan-new"],
    ["a new connection in to a LAN host", howto, tcpNew(80, fromOutside, "forward"), "reject by reject"],
    ["the answer to a LAN host's connection", howto, { ...tcpNew(443, fromOutside, "forward"), state: "established", tcpFlags: ["ACK"] }, "accept by established"],
    ["loopback", howto, { ...tcpNew(631, { inInterface: "lo", source: "::1" }), destination: "::1" }, "accept by loopback"],
    ["ESP from anywhere", howto, { ...tcpNew(0, fromOutside, "forward"), protocol: "esp", port: undefined, tcpFlags: undefined }, "accept by esp"],
    ["an outsider's ping, ICMPv6 line on", howto, icmp(128, 0, "new", fromOutside), "accept by icmpv6"],
    ["an outsider's ping, ICMPv6 line off", howtoNoIcmp, icmp(128, 0, "new", fromOutside), "reject by reject"],
    ["packet too big about a flow, ICMPv6 line off", howtoNoIcmp, icmp(2, 0, "related", fromOutside), "accept by established"],
    ["a neighbour solicitation (untracked), ICMPv6 line off", howtoNoIcmp, icmp(135, 0, "untracked", { inInterface: "eth0", source: "fe80::1" }, { hopLimit: 255 }), "reject by reject"],
  ])("%s: %s", (_what, table, packet, expected) => {
    expect(outcome(table, packet)).toBe(expected);
  });

  it("names the chain and the rule that decided", () => {
    const [v] = evaluate(howto, tcpNew(22, fromOutside)).verdicts;
    expect(v).toEqual({ action: "reject", rule: "reject", chain: "IPV6-INPUT", assumptions: [] });
    expect(describeVerdict(v)).toBe("rule 'reject' (reject)");
  });
});

describe("packets through the rfc4890 ruleset", () => {
  const rfc = firewallTable({ preset: "rfc4890", lanInterface: "eth0", icmpv6: true, lanPrefixes: [LAN] });

  it.each<[string, Packet, string]>([
    ["a neighbour solicitation with hop limit 255", icmp(135, 0, "untracked", { inInterface: "wg0", source: "fe80::1" }, { hopLimit: 255 }), "accept by in-nd-neighbour-solicitation"],
    ["a forged neighbour solicitation (hop limit 64)", icmp(135, 0, "untracked", { inInterface: "wg0", source: "fe80::1" }, { hopLimit: 64 }), "reject by in-reject"],
    ["an MLD report from a link-local source", icmp(143, 0, "untracked", { inInterface: "eth0", source: "fe80::1" }, { hopLimit: 1 }), "accept by in-mldv2-report"],
    ["an MLD report from a global source", icmp(143, 0, "untracked", { inInterface: "eth0", source: client }, { hopLimit: 1 }), "reject by in-reject"],
    ["multicast router discovery", icmp(151, 0, "untracked", { inInterface: "eth0", source: "fe80::1" }, { hopLimit: 1 }), "accept by in-mrd-advertisement"],
    ["an outsider's ping to the gateway (rate limited)", icmp(128, 0, "new", fromOutside), "accept by in-icmp-echo-request [in-icmp-echo-request] | reject by in-reject [not in-icmp-echo-request]"],
    ["an invalid packet", { ...tcpNew(80, fromOutside, "forward"), state: "invalid" }, "drop by fwd-invalid"],
    ["a spoofed LAN source from outside", { ...tcpNew(80, fromOutside, "forward"), source: client }, "drop by fwd-spoofed-in"],
    ["IKE to a LAN host", { ...tcpNew(500, fromOutside, "forward"), protocol: "udp", tcpFlags: undefined }, "accept by fwd-ike"],
    ["a new connection in to a LAN host", tcpNew(80, fromOutside, "forward"), "reject by fwd-reject"],
    ["a LAN host's new connection out", tcpNew(443, fromLan, "forward"), "accept by fwd-lan-new"],
  ])("%s: %s", (_what, packet, expected) => {
    expect(outcome(rfc, packet)).toBe(expected);
  });

  it("forks on a packet only known to arrive on some interface but the LAN's, saying which match it rests on", () => {
    const table = firewallTable({ preset: "rfc4890", lanInterface: "eth0", icmpv6: false, lanPrefixes: [LAN], rules: [{ name: "web-from-tunnel", action: "accept", chain: "forward", protocol: "tcp", port: 80, inInterface: "wg0" }] });
    const e = evaluate(table, { ...tcpNew(80, fromOutside, "forward"), inInterface: { anyBut: ["eth0", "lo"] } });
    expect(e.verdicts.map(describeVerdict)).toEqual(["rule 'web-from-tunnel' (accept) if the packet arrives on wg0", "rule 'fwd-reject' (reject) if not (the packet arrives on wg0)"]);
  });
});

describe("tables built by hand", () => {
  const table = (INPUT: FilterTable["builtin"]["INPUT"], chains: FilterTable["chains"] = [], policy: "ACCEPT" | "DROP" = "ACCEPT"): FilterTable => ({
    policies: { INPUT: policy, FORWARD: "ACCEPT", OUTPUT: "ACCEPT" },
    builtin: { INPUT, FORWARD: [], OUTPUT: [] },
    chains,
  });

  it("falls back to the built-in chain's policy, and returns from our chains to the rule after the jump", () => {
    const t = table([{ name: "to-ours", action: "jump", jumpTo: "ours" }, { name: "after", action: "accept", protocol: "udp" }], [{ name: "ours", rules: [{ name: "web", action: "accept", protocol: "tcp", port: 80 }] }], "DROP");
    expect(outcome(t, tcpNew(80, fromLan))).toBe("accept by web");
    expect(outcome(t, { ...tcpNew(53, fromLan), protocol: "udp" })).toBe("accept by after");
    expect(outcome(t, tcpNew(22, fromLan))).toBe("drop by INPUT policy");
  });

  it("goes on after clamp-mss, which decides nothing", () => {
    const t = table([{ name: "clamp", action: "clamp-mss", protocol: "tcp", tcpFlags: "SYN,RST SYN" }, { name: "deny", action: "drop" }]);
    expect(outcome(t, tcpNew(80, fromLan))).toBe("drop by deny");
  });

  it("never guesses raw matches or limits: both ways, each saying what it assumed", () => {
    const t = table([
      { name: "recent", action: "drop", protocol: "tcp", port: 22, extraMatches: "-m recent --rcheck --seconds 60" },
      { name: "limited", action: "accept", protocol: "tcp", port: 22, limit: "3/min" },
      { name: "deny", action: "reject" },
    ]);
    const e = evaluate(t, tcpNew(22, fromLan));
    expect(e.verdicts.map(describeVerdict)).toEqual([
      "rule 'recent' (drop) if its raw matches '-m recent --rcheck --seconds 60' hold (they cannot be judged at preview)",
      "rule 'limited' (accept) if not (its raw matches '-m recent --rcheck --seconds 60' hold (they cannot be judged at preview)), and the traffic stays under its rate limit 3/min",
      "rule 'deny' (reject) if not (its raw matches '-m recent --rcheck --seconds 60' hold (they cannot be judged at preview)), and not (the traffic stays under its rate limit 3/min)",
    ]);
    expect(e.verdicts.map((v) => v.assumptions.map((a) => a.kind))).toEqual([["extra"], ["extra", "limit"], ["extra", "limit"]]);
  });

  it("refuses a table netfilter would refuse", () => {
    expect(() => evaluate(table([{ name: "x", action: "jump", jumpTo: "missing" }]), tcpNew(22, fromLan))).toThrow("a rule jumps to chain 'missing', which the table does not declare");
    expect(() => evaluate(table([{ name: "x", action: "jump", jumpTo: "a" }], [{ name: "a", rules: [{ name: "loop", action: "jump", jumpTo: "a" }] }]), tcpNew(22, fromLan))).toThrow(/deeper than 16/);
  });
});

describe("single matches", () => {
  it.each([
    ["2001:db8::/32", "2001:db8:8888::1", "yes"],
    ["!2001:db8::/32", "2001:db8:8888::1", "no"],
    ["2001:db8:8888::1", "2001:db8:8888:0::1", "yes"],
    ["fe80::/10", "fe80::1%eth0", "yes"],
    ["2001:db8::/32", { within: "::/0" }, "unknown"],
    ["::/0", { within: LAN }, "yes"],
    ["2001:db8:8888::/48", { within: LAN }, "yes"],
    ["2001:db8:9999::/48", { within: LAN }, "no"],
    ["2001:db8:8888::/64", { within: "::/0", except: [LAN] }, "no"],
    ["!2001:db8:8888::/64", { within: "::/0", except: [LAN] }, "yes"],
  ] as const)("address %s against %j: %s", (rule, packet, kind) => {
    expect(matchAddress(rule, packet, "source").kind).toBe(kind);
  });

  it.each([
    ["eth0", "eth0", "yes"],
    ["eth+", "eth1", "yes"],
    ["!eth0", "eth0", "no"],
    ["eth0", { anyBut: ["eth0"] }, "no"],
    ["wg0", { anyBut: ["eth0"] }, "unknown"],
    ["+", { anyBut: ["eth0"] }, "yes"],
    ["eth0", undefined, "no"],
    ["!eth0", undefined, "yes"],
  ] as const)("interface %s against %j: %s", (rule, packet, kind) => {
    expect(matchInterface(rule, packet, "arrives on").kind).toBe(kind);
  });

  it.each([
    [22, 22, "yes"],
    ["1024:65535", 22, "no"],
    [":1023", 22, "yes"],
    ["1024:", 40000, "yes"],
    [22, undefined, "unknown"],
  ] as const)("port %s against %s: %s", (rule, port, kind) => {
    expect(matchPort(rule, port, "destination port").kind).toBe(kind);
  });

  it("tests TCP flags as mask and comparison", () => {
    expect(matchTcpFlags("SYN,RST SYN", ["SYN"]).kind).toBe("yes");
    expect(matchTcpFlags("SYN,RST SYN", ["SYN", "RST"]).kind).toBe("no");
    expect(matchTcpFlags("ALL NONE", []).kind).toBe("yes");
  });

  it("judges exactly the hop-limit test among raw matches", () => {
    expect(matchExtra("-m hl --hl-eq 255", 255).kind).toBe("yes");
    expect(matchExtra("-m hl --hl-eq 255", 64).kind).toBe("no");
    expect(matchExtra("-m hl ! --hl-eq 255", 64).kind).toBe("yes");
    expect(matchExtra("-m hl --hl-lt 2", 1).kind).toBe("yes");
    expect(matchExtra("-m hl --hl-eq 255", undefined).kind).toBe("unknown");
    expect(matchExtra("-m owner --uid-owner 0", 64).kind).toBe("unknown");
  });
});
