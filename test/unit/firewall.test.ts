import { firewallSettingsProblems, firewallTable } from "../../components/firewall/firewall";
import { tableRuleNames } from "../../components/firewall/rule";
import { describeProblem } from "../../components/problems";
import { persistencePlan } from "../../components/firewall/persistence";
import { EMPTY_FILTER_TABLE, normalizeSave, renderFilterTable, ruleNameAtLine } from "../../components/firewall/render-ruleset";
import { explainRejection } from "../../components/firewall/ruleset";
import { ruleArguments } from "../../components/firewall/rule";
import { expectGolden } from "./golden";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { explainNftRejection, bootCopy } from "../../components/firewall/ruleset";
import { nftLoadText, nftRule, renderNftTable } from "../../components/firewall/render-nft";
import { renderNftBootUnit } from "../../components/firewall/persistence";
import { IPTABLES_OURS_AWK } from "../../components/firewall/iptables-ours";
import { ROLLBACK_STATUS_SCRIPT, applyScript, confirmScript } from "../../components/firewall/ruleset-scripts";

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

/** What a box with nothing else in its filter table holds once ours is in: the built-in chains' own policies (ACCEPT), then ours. */
const onBlankBox = (ours: string) => ours.replace("*filter\n", "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n");

describe("the howto preset", () => {
  it("is the HOWTO's step 17 ruleset exactly on a box with nothing else, comments aside", () => {
    const text = renderFilterTable(firewallTable({ lanInterface: "eth0" }));
    expect(onBlankBox(withoutComments(text))).toBe(HOWTO_STEP_17);
    expectGolden("firewall/howto.rules", text);
  });

  it("owns no policy of a built-in chain: Docker sets FORWARD to DROP, and that stays", () => {
    expect(renderFilterTable(firewallTable({ lanInterface: "eth0" }))).not.toMatch(/^:(INPUT|FORWARD|OUTPUT) /m);
  });

  it("leaves the ICMPv6 line out when asked, as the HOWTO's default does", () => {
    const text = onBlankBox(withoutComments(renderFilterTable(firewallTable({ lanInterface: "eth0", icmpv6: false }))));
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

  it("renders the same rules on nftables", () => {
    const howto = renderNftTable(firewallTable({ ...native, icmpv6: false }));
    expectGolden("firewall/howto-native.nft", howto);
    expectGolden("firewall/rfc4890-native.nft", renderNftTable(firewallTable({ ...native, preset: "rfc4890" })));
    const names = [...howto.matchAll(/comment "ipv6gw:([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(tableRuleNames(firewallTable({ ...native, icmpv6: false })));
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
    const problems = firewallProblems({ preset: "howto", icmpv6: true, rules: [], clampMss: true, lanInterface: "eth0.1", lanInterfaces: ["eth0.1", "eth0-1"], facts, backend: "iptables", persist: true });
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
    expect(EMPTY_FILTER_TABLE).toBe("*filter\nCOMMIT\n");
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

describe("the nftables renderer", () => {
  const rfc = () => firewallTable({ preset: "rfc4890", lanInterface: "eth0", icmpv6: true, lanPrefixes: ["2001:db8:8888::/64"] });

  it("renders the howto preset as the HOWTO's step 17 in a table of ours, as `nft -s list` prints it", () => {
    const text = renderNftTable(firewallTable({ lanInterface: "eth0" }));
    expectGolden("firewall/howto.nft", text);
    expect(text.startsWith("table ip6 ipv6gw {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")).toBe(true);
  });

  it("renders the rfc4890 preset as reviewed: neighbour discovery on-link only, by typed hop limit", () => {
    const text = renderNftTable(rfc());
    expectGolden("firewall/rfc4890.nft", text);
    expect(text).toContain('icmpv6 type nd-neighbor-solicit ip6 hoplimit 255 counter accept comment "ipv6gw:in-nd-neighbour-solicitation"');
    expect(renderFilterTable(rfc())).toContain("-p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -m comment");
  });

  it("names every rule in its comment, in the order of tableRuleNames", () => {
    const table = rfc();
    expect([...renderNftTable(table).matchAll(/comment "ipv6gw:([a-z0-9-]+)"/g)].map((m) => m[1])).toEqual(tableRuleNames(table));
  });

  it("shows one added rule as one added line, and a removed one as one removed line", () => {
    const ssh = { name: "ssh-in", action: "accept", protocol: "tcp", port: 22, state: ["new"] } as const;
    const before = renderNftTable(firewallTable({ lanInterface: "eth0" }));
    const after = renderNftTable(firewallTable({ lanInterface: "eth0", rules: [ssh] }));
    expect(lineDiff(before, after)).toEqual({ added: ['\t\ttcp dport 22 ct state new counter accept comment "ipv6gw:ssh-in"'], removed: [] });
    expect(lineDiff(after, before)).toEqual({ added: [], removed: ['\t\ttcp dport 22 ct state new counter accept comment "ipv6gw:ssh-in"'] });
  });

  // Each expected line is what nft 1.0.6 printed back after loading the rule (Debian 12's nft).
  it.each([
    [{ name: "a", action: "accept", source: "2001:DB8:0::1/128" }, 'ip6 saddr 2001:db8::1 counter accept comment "ipv6gw:a"'],
    [{ name: "b", action: "drop", inInterface: "!wg+", protocol: "icmpv6", icmpv6Type: "echo-request" }, 'iifname != "wg*" icmpv6 type echo-request counter drop comment "ipv6gw:b"'],
    [{ name: "c", action: "reject", protocol: "tcp", rejectWith: "tcp-reset" }, 'meta l4proto tcp counter reject with tcp reset comment "ipv6gw:c"'],
    [{ name: "d", action: "clamp-mss", protocol: "tcp", tcpFlags: "SYN,RST SYN" }, 'tcp flags syn / syn,rst counter tcp option maxseg size set rt mtu comment "ipv6gw:d"'],
    [{ name: "e", action: "accept", protocol: "udp", sourcePort: 547, port: "546" }, 'udp sport 547 udp dport 546 counter accept comment "ipv6gw:e"'],
    [{ name: "f", action: "reject", rejectWith: "icmp6-port-unreachable", protocol: "udp", port: "1000:2000" }, 'udp dport 1000-2000 counter reject comment "ipv6gw:f"'],
    [{ name: "g", action: "accept", protocol: "tcp", state: ["related", "new", "established"] }, 'meta l4proto tcp ct state established,related,new counter accept comment "ipv6gw:g"'],
    [{ name: "h", action: "accept", protocol: "icmpv6", icmpv6Type: 148, limit: "3/min", limitBurst: 5 }, 'icmpv6 type 148 limit rate 3/minute counter accept comment "ipv6gw:h"'],
    [{ name: "i", action: "accept", protocol: "icmpv6", icmpv6Type: "destination-unreachable/4" }, 'icmpv6 type destination-unreachable icmpv6 code port-unreachable counter accept comment "ipv6gw:i"'],
    [{ name: "j", action: "drop", destination: "!2001:db8:1::/48", outInterface: "eth1", protocol: "ah" }, 'oifname "eth1" ip6 daddr != 2001:db8:1::/48 meta l4proto ah counter drop comment "ipv6gw:j"'],
  ] as const)("%j renders as nft prints it", (rule, expected) => {
    expect(nftRule(rule)).toBe(expected);
  });

  it("refuses ip6tables syntax rather than pass it to nft", () => {
    expect(() => nftRule({ name: "x", action: "accept", extraMatches: "-m hl --hl-eq 255" })).toThrow("firewall rule 'x': extraMatches is ip6tables syntax");
  });

  it("names the rule nft or the kernel rejected, from nft's file:line (after the one-line replace header)", () => {
    const text = renderNftTable(firewallTable({ lanInterface: "eth0", rules: [{ name: "telnet", action: "accept", protocol: "tcp", port: 23 }] }));
    const line = text.split("\n").findIndex((l) => l.includes("ipv6gw:telnet")) + 1;
    const stderr = `/dev/stdin:${line + 1}:3-52: Error: Could not process rule: Operation not supported\n\t\ttcp dport 23 counter accept\n\t\t^^^^^\n`;
    expect(explainNftRejection(text, stderr)).toEqual({ rule: "telnet", line, message: "Could not process rule: Operation not supported" });
    expect(nftLoadText(text).split("\n")[line]).toContain("ipv6gw:telnet");
  });

  it("loads at boot from a unit of ours, before any interface, after nftables.service, with no stop that would open the firewall", () => {
    const unit = renderNftBootUnit();
    expectGolden("firewall/ipv6gw-firewall.service", unit);
    expect(unit).not.toContain("ExecStop");
    expect(bootCopy("nftables", "table ip6 ipv6gw {\n}\n")).toBe("#!/usr/sbin/nft -f\n# ipv6gw: our table only; loaded at boot by ipv6gw-firewall.service\ntable ip6 ipv6gw; delete table ip6 ipv6gw\ntable ip6 ipv6gw {\n}\n");
  });

  it("persists through that unit on systemd boxes only", () => {
    expect(persistencePlan({ distro: "debian", distroVersion: "12", packageManager: "apt", serviceManager: "systemd" }, "nftables")).toEqual({ packages: ["nftables"], path: "/etc/ipv6gw/firewall.nft", service: "ipv6gw-firewall" });
    expect(() => persistencePlan({ distro: "alpine", distroVersion: "3.20", packageManager: "apk", serviceManager: "openrc" }, "nftables")).toThrow(/use firewall.backend iptables/);
  });
});

describe("ours in the ip6tables filter table (the awk program the box runs)", () => {
  const awk = (mode: string, save: string, want?: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-awk-"));
    try {
      const w = path.join(dir, "want");
      if (want !== undefined) fs.writeFileSync(w, want);
      return execFileSync("awk", ["-v", `mode=${mode}`, "-v", `want=${want === undefined ? "" : w}`, IPTABLES_OURS_AWK], { input: save, encoding: "utf8" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const ours = renderFilterTable(firewallTable({ lanInterface: "eth0" }));
  // A box where Docker and fail2ban have their chains, and ours is in (as ip6tables-save prints it).
  const live = [
    "# Generated by ip6tables-save v1.8.9 (nf_tables)",
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":DOCKER-USER - [0:0]",
    ":IPV6-INPUT - [0:0]",
    ":f2b-sshd - [0:0]",
    "-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd",
    ...ours.split("\n").filter((l) => l.startsWith("-A INPUT")),
    "-A FORWARD -j DOCKER-USER",
    ...ours.split("\n").filter((l) => l.startsWith("-A FORWARD") || l.startsWith("-A IPV6-INPUT")),
    "-A IPV6-INPUT -p tcp -m tcp --dport 23 -j ACCEPT",
    "-A DOCKER-USER -j RETURN",
    "-A f2b-sshd -s 2001:db8::66/128 -j REJECT --reject-with icmp6-port-unreachable",
    "COMMIT",
    "",
  ].join("\n");

  it("reads ours back, a rule added by hand in our chain included, and nobody else's", () => {
    const got = awk("ours", live);
    expect(got).toBe(ours.replace("COMMIT\n", "-A IPV6-INPUT -p tcp -m tcp --dport 23 -j ACCEPT\nCOMMIT\n"));
    expect(got).not.toMatch(/DOCKER|f2b/);
  });

  it("swaps ours for a new version in one restore that names no chain but ours", () => {
    const next = renderFilterTable(firewallTable({ preset: "rfc4890", lanInterface: "eth0", lanPrefixes: ["2001:db8:8888::/64"] }));
    const plan = awk("plan", live, next);
    expect(plan.split("\n").slice(0, 6)).toEqual([
      "*filter",
      ":ipv6gw-forward -",
      ":ipv6gw-input -",
      ":IPV6-INPUT -",
      '-D INPUT -m comment --comment "ipv6gw:input" -j IPV6-INPUT',
      '-D FORWARD -m comment --comment "ipv6gw:forward" -j IPV6-INPUT',
    ]);
    expect(plan).toContain("-X IPV6-INPUT\n");
    expect(plan).not.toMatch(/DOCKER|f2b|^:INPUT|^:FORWARD|^-P/m);
    expect(plan.endsWith(next.split("\n").filter((l) => l.startsWith("-A")).join("\n") + "\nCOMMIT\n")).toBe(true);
  });

  it("removes ours whole when nothing is wanted (destroy), and plans nothing on a box without ours", () => {
    expect(awk("plan", live, "")).toBe('*filter\n:IPV6-INPUT -\n-D INPUT -m comment --comment "ipv6gw:input" -j IPV6-INPUT\n-D FORWARD -m comment --comment "ipv6gw:forward" -j IPV6-INPUT\n-X IPV6-INPUT\nCOMMIT\n');
    expect(awk("plan", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "")).toBe("*filter\nCOMMIT\n");
    expect(awk("ours", "")).toBe("*filter\nCOMMIT\n");
  });
});

describe("the safe apply's scripts", () => {
  it.each(["iptables", "nftables"] as const)("%s: the rollback touches only ours, and every file an apply makes is removed by the confirm or the rollback", (b) => {
    const apply = applyScript(b, 30);
    const timer = apply.split("\n").find((l) => l.startsWith("setsid"))!;
    expect(timer).toContain("sleep 30; ");
    expect(timer).toContain("/var/lib/ipv6gw/firewall/rollback.rules");
    expect(timer).not.toMatch(/flush ruleset|ip6tables-restore(?! \$\(ip6tables-restore --help)[^|]*<|-F\b/);
    const made = [...apply.matchAll(/> "\$d\/([a-z.]+)"/g)].map((m) => m[1]);
    const cleared = confirmScript(b) + timer + ROLLBACK_STATUS_SCRIPT;
    for (const f of made) expect(cleared).toContain(f);
  });
});
