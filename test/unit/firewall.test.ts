import { firewallSettingsProblems, firewallTable } from "../../components/firewall/firewall";
import { tableRuleNames } from "../../components/firewall/rule";
import { describeProblem } from "../../components/problems";
import { persistencePlan } from "../../components/firewall/persistence";
import { EMPTY_FILTER_TABLE, normalizeSave, renderFilterTable, ruleNameAtLine } from "../../components/firewall/render-ruleset";
import { explainRejection } from "../../components/firewall/ruleset";
import { ruleArguments } from "../../components/firewall/rule";
import { expectGolden } from "./golden";

// HOWTO step 17, as printed there (counters dropped), with the ICMPv6 line uncommented as in step 19.
const HOWTO_STEP_17 = `*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
:IPV6-INPUT -
-A INPUT -j IPV6-INPUT
-A FORWARD -j IPV6-INPUT
-A IPV6-INPUT -i lo -j ACCEPT
-A IPV6-INPUT -p ipv6-icmp -j ACCEPT
-A IPV6-INPUT -p esp -j ACCEPT
-A IPV6-INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A IPV6-INPUT -i eth0 -m state --state NEW -j ACCEPT
-A IPV6-INPUT -j REJECT --reject-with icmp6-adm-prohibited
COMMIT
`;

const withoutComments = (text: string) => text.replace(/ -m comment --comment "[^"]*"/g, "");

/** Lines added and removed between two texts, by longest common subsequence (as the CLI's line diff). */
function lineDiff(a: string, b: string): { added: string[]; removed: string[] } {
  const x = a.split("\n");
  const y = b.split("\n");
  const l = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) l[i][j] = x[i] === y[j] ? l[i + 1][j + 1] + 1 : Math.max(l[i + 1][j], l[i][j + 1]);
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || l[i][j + 1] >= l[i + 1][j])) added.push(y[j++]);
    else removed.push(x[i++]);
  }
  return { added, removed };
}

describe("the howto preset", () => {
  it("is the HOWTO's step 17 ruleset exactly, comments aside", () => {
    const text = renderFilterTable(firewallTable({ lanInterface: "eth0" }));
    expect(withoutComments(text)).toBe(HOWTO_STEP_17);
    expectGolden("firewall/howto.rules", text);
  });

  it("leaves the ICMPv6 line out when asked, as the HOWTO's default does", () => {
    const text = withoutComments(renderFilterTable(firewallTable({ lanInterface: "eth0", icmpv6: false })));
    expect(text).toBe(HOWTO_STEP_17.replace("-A IPV6-INPUT -p ipv6-icmp -j ACCEPT\n", ""));
  });

  it("names every rule, the names unique and in the order of the comments on the box", () => {
    const table = firewallTable({ lanInterface: "eth0" });
    const comments = [...renderFilterTable(table).matchAll(/--comment "ipv6gw:([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect(tableRuleNames(table)).toEqual(["input", "forward", "loopback", "icmpv6", "esp", "established", "lan-new", "reject"]);
    expect(comments).toEqual(tableRuleNames(table));
  });

  it("refuses per-chain user rules, which its single chain cannot express", () => {
    const [p] = firewallSettingsProblems({ preset: "howto", rules: [{ name: "x", action: "accept", chain: "input" }] });
    expect(describeProblem(p)).toMatch(/^rules\[0\].chain: the howto preset has one chain/);
  });

  it.each([
    ["howto", "reject"],
    ["howto", "loopback"],
    ["rfc4890", "in-reject"],
    ["rfc4890", "fwd-spoofed-in-2"],
  ] as const)("refuses a user rule named like a rule of the %s preset (%s)", (preset, name) => {
    const problems = firewallSettingsProblems({ preset, rules: [{ name, action: "accept", chain: "both" }] });
    expect(problems.map(describeProblem)).toEqual([`rules[0].name: '${name}' is the name of one of the ${preset} preset's own rules; pick another name`]);
  });
});

describe("the rfc4890 preset", () => {
  const table = () => firewallTable({ preset: "rfc4890", lanInterface: "eth0", icmpv6: false, lanPrefixes: ["2001:db8:8888::/64"] });

  it("renders as reviewed", () => {
    expectGolden("firewall/rfc4890.rules", renderFilterTable(table()));
  });

  it("never filters neighbour discovery, and lets transit errors through (RFC 4890 4.3.1, 4.4.1)", () => {
    const text = renderFilterTable(table());
    for (const t of [133, 134, 135, 136]) expect(text).toContain(`-A ipv6gw-input -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -m hl --hl-eq 255`);
    for (const t of [1, 2, 3, 4]) expect(text).toMatch(new RegExp(`-A ipv6gw-forward -p ipv6-icmp -m icmp6 --icmpv6-type ${t} .*-j ACCEPT`));
    expect(text).not.toContain("--icmpv6-type 128"); // unsolicited echo only on request
  });

  it("drops spoofed sources both ways (BCP 38, RFC 6092 REC-5/6) and lets IPsec through (REC-21/22/24)", () => {
    const text = renderFilterTable(table());
    expect(text).toContain('-A ipv6gw-forward -s 2001:db8:8888::/64 ! -i eth0 -m comment --comment "ipv6gw:fwd-spoofed-in" -j DROP');
    expect(text).toContain('-A ipv6gw-forward ! -s 2001:db8:8888::/64 -i eth0 -m comment --comment "ipv6gw:fwd-spoofed-out" -j DROP');
    expect(text).toContain('-A ipv6gw-forward -m ah -m comment --comment "ipv6gw:fwd-ah" -j ACCEPT');
    expect(text).toContain('-A ipv6gw-forward -p udp -m udp --dport 500 -m comment --comment "ipv6gw:fwd-ike" -j ACCEPT');
  });
});

describe("a native uplink's firewall (two LANs, a DHCPv6 client on the WAN)", () => {
  const native = { lanInterface: "eth0", lanInterfaces: ["eth0", "eth1"], dhcpv6ClientInterface: "wan0" };

  it("howto, ICMPv6 line off: NEW from each LAN, the DHCPv6 server's replies and the ISP's RAs and ND on the WAN", () => {
    const text = renderFilterTable(firewallTable({ ...native, icmpv6: false }));
    expectGolden("firewall/howto-native.rules", text);
    expect(text).toContain('-A IPV6-INPUT -s fe80::/10 -i wan0 -p udp -m udp --sport 547 --dport 546 -m comment --comment "ipv6gw:wan-dhcpv6-reply" -j ACCEPT');
    for (const [t, name] of [[134, "router-advertisement"], [135, "neighbour-solicitation"], [136, "neighbour-advertisement"]] as const) {
      expect(text).toContain(`-A IPV6-INPUT -i wan0 -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -m hl --hl-eq 255 -m comment --comment "ipv6gw:wan-${name}" -j ACCEPT`);
    }
    expect(text).toContain('-A IPV6-INPUT -i eth0 -m state --state NEW -m comment --comment "ipv6gw:lan-new-eth0" -j ACCEPT');
    expect(text).toContain('-A IPV6-INPUT -i eth1 -m state --state NEW -m comment --comment "ipv6gw:lan-new-eth1" -j ACCEPT');
  });

  it("howto, ICMPv6 line on: no separate ND rules, the ICMPv6 line accepts them", () => {
    const names = tableRuleNames(firewallTable({ ...native, icmpv6: true }));
    expect(names).toEqual(["input", "forward", "loopback", "icmpv6", "esp", "established", "wan-dhcpv6-reply", "lan-new-eth0", "lan-new-eth1", "reject"]);
  });

  it("rfc4890: the DHCPv6 replies on INPUT, NEW from each LAN on INPUT and FORWARD (the LANs reach each other), and no BCP 38 rules naming a prefix that changes", () => {
    const text = renderFilterTable(firewallTable({ ...native, preset: "rfc4890" }));
    expectGolden("firewall/rfc4890-native.rules", text);
    expect(text).toContain('-A ipv6gw-input -s fe80::/10 -i wan0 -p udp -m udp --sport 547 --dport 546 -m comment --comment "ipv6gw:in-wan-dhcpv6-reply" -j ACCEPT');
    expect(text).toContain('-A ipv6gw-forward -i eth1 -m conntrack --ctstate NEW -m comment --comment "ipv6gw:fwd-lan-new-eth1" -j ACCEPT');
    expect(text).not.toContain("spoofed");
    expect(text).not.toContain("ipv6gw:in-wan-router-advertisement");
  });

  it("keeps a one-LAN site's rules as they were", () => {
    expect(renderFilterTable(firewallTable({ lanInterface: "eth0", lanInterfaces: ["eth0"] }))).toBe(renderFilterTable(firewallTable({ lanInterface: "eth0" })));
  });

  it("refuses a user rule named like the native rules", () => {
    expect(firewallSettingsProblems({ preset: "howto", rules: [{ name: "wan-dhcpv6-reply", action: "accept", chain: "both" }] }).map(describeProblem)).toEqual([
      "rules[0].name: 'wan-dhcpv6-reply' is the name of one of the howto preset's own rules; pick another name",
    ]);
  });

  it("refuses two LAN interfaces whose rules would share a name", async () => {
    const { firewallProblems } = await import("../../components/firewall/firewall");
    const { parseFacts } = await import("../../components/host/host-facts");
    const facts = parseFacts("distro=debian\nkernel=6.1.0\npkg=apt\nsvc=systemd\n");
    const problems = firewallProblems({ preset: "howto", icmpv6: true, rules: [], clampMss: true, lanInterface: "eth0.1", lanInterfaces: ["eth0.1", "eth0-1"], facts });
    expect(problems.map(describeProblem)).toEqual(["lanInterfaces: 'eth0.1' and 'eth0-1' give their rules the same name (lan-new-eth0-1); rename one interface"]);
  });
});

describe("reviewable diffs", () => {
  const base = { lanInterface: "eth0" };
  const ssh = { name: "ssh-in", action: "accept", protocol: "tcp", port: 22, state: ["new"] } as const;

  it("shows one added rule as one added line, nothing else changed", () => {
    const before = renderFilterTable(firewallTable(base));
    const after = renderFilterTable(firewallTable({ ...base, rules: [ssh] }));
    expect(lineDiff(before, after)).toEqual({
      added: ['-A IPV6-INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m comment --comment "ipv6gw:ssh-in" -j ACCEPT'],
      removed: [],
    });
  });

  it("shows a removed rule as one removed line", () => {
    const two = renderFilterTable(firewallTable({ ...base, rules: [ssh, { name: "web", action: "accept", protocol: "tcp", port: 80 }] }));
    const one = renderFilterTable(firewallTable({ ...base, rules: [{ name: "web", action: "accept", protocol: "tcp", port: 80 }] }));
    expect(lineDiff(two, one).removed).toHaveLength(1);
    expect(lineDiff(two, one).added).toHaveLength(0);
  });
});

describe("rules", () => {
  it.each([
    [{ name: "a", action: "accept", source: "2001:db8::1" }, '-s 2001:db8::1/128 -m comment --comment "ipv6gw:a" -j ACCEPT'],
    [{ name: "b", action: "drop", inInterface: "!eth0", protocol: "icmpv6", icmpv6Type: "echo-request" }, '! -i eth0 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m comment --comment "ipv6gw:b" -j DROP'],
    [{ name: "c", action: "reject", protocol: "tcp", rejectWith: "tcp-reset" }, '-p tcp -m comment --comment "ipv6gw:c" -j REJECT --reject-with tcp-reset'],
    [{ name: "d", action: "clamp-mss", protocol: "tcp", tcpFlags: "SYN,RST SYN" }, '-p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment "ipv6gw:d" -j TCPMSS --clamp-mss-to-pmtu'],
    [{ name: "e", action: "accept", protocol: "udp", sourcePort: 547, port: "546" }, '-p udp -m udp --sport 547 --dport 546 -m comment --comment "ipv6gw:e" -j ACCEPT'],
  ] as const)("%j renders in ip6tables-save order", (rule, expected) => {
    expect(ruleArguments(rule)).toBe(expected);
  });
});

describe("reading a live table back", () => {
  it("drops counters, comments and other tables", () => {
    const save = `# Generated by ip6tables-save v1.8.9 (nf_tables)\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [12:3456]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [1:2]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n# Completed\n`;
    expect(normalizeSave(save)).toBe("*filter\n:INPUT ACCEPT\n:FORWARD DROP\n:OUTPUT ACCEPT\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n");
    expect(normalizeSave("")).toBe("");
    expect(EMPTY_FILTER_TABLE).toBe("*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\nCOMMIT\n");
  });

  it("names the rule the kernel rejected", () => {
    const text = renderFilterTable(firewallTable({ lanInterface: "eth0", rules: [{ name: "blocklist", action: "drop", extraMatches: "-m set --match-set nope src" }] }));
    const line = text.split("\n").findIndex((l) => l.includes("ipv6gw:blocklist")) + 1;
    expect(ruleNameAtLine(text, line)).toBe("blocklist");
    const nft = explainRejection(text, `ip6tables-restore v1.8.9 (nf_tables): Set nope doesn't exist.\n\nError occurred at line: ${line}\nTry \`ip6tables-restore -h' or 'ip6tables-restore --help' for more information.\n`);
    expect(nft).toEqual({ rule: "blocklist", line, message: "ip6tables-restore v1.8.9 (nf_tables): Set nope doesn't exist." });
    const kernel = explainRejection(text, `ip6tables-restore v1.8.9 (nf_tables): \nline ${line}: RULE_APPEND failed (Invalid argument): rule in chain IPV6-INPUT\n`);
    expect(kernel.rule).toBe("blocklist");
    expect(kernel.message).toContain("RULE_APPEND failed (Invalid argument)");
  });
});

describe("persistence", () => {
  it.each([
    ["debian", "12", "apt", "/etc/iptables/rules.v6", "netfilter-persistent"],
    ["centos", "5.11", "yum", "/etc/sysconfig/ip6tables", "ip6tables"],
    ["fedora", "41", "dnf", "/etc/sysconfig/ip6tables", "ip6tables"],
    ["mandriva", "2008.0", "urpmi", "/etc/sysconfig/ip6tables", "ip6tables"],
    ["gentoo", "2.14", "emerge", "/var/lib/ip6tables/rules-save", "ip6tables"],
  ] as const)("%s %s keeps rules in the place its boot loads", (distro, distroVersion, packageManager, path, service) => {
    expect(persistencePlan({ distro, distroVersion, packageManager })).toMatchObject({ path, service });
  });

  it("installs iptables-ipv6 on CentOS 5, as HOWTO step 16 does", () => {
    expect(persistencePlan({ distro: "centos", distroVersion: "5.11", packageManager: "yum" }).packages).toEqual(["iptables-ipv6"]);
  });
});
