// The policy pack's policies, each shown firing and not firing, through the
// policy SDK's own dispatch (test/unit/policy-harness.ts).
import { CONFIG_SECRETS_TYPE } from "../../components/config-secrets-inputs";
import { firewallTable } from "../../components/firewall/firewall";
import { FIREWALL_TYPE, FirewallInputs, firewallInputs } from "../../components/firewall/firewall-inputs";
import { UserRule } from "../../components/firewall/firewall";
import { ManagementPath } from "../../components/host/host-facts";
import { policyPackArgs } from "../../policy/policies";
import { GW6C_TYPE, RADVD_TYPE, SYSCTL_TYPE } from "../../policy/site-invariants";
import { Answer, TestResource, UNKNOWN, analyze, analyzeStack } from "./policy-harness";

const policies = policyPackArgs.policies;
const LAN = "2001:db8:8888::/64";
const overLan: ManagementPath = { clientAddress: "fe80::10", serverAddress: "fe80::200:5eff:fe00:5301", serverPort: 22, interface: "eth0" };
const overUplink: ManagementPath = { clientAddress: "2001:db8:ffff::10", serverAddress: "2001:db8:ffff:1::2", serverPort: 2222, interface: "wan0" };

function firewall(o: { preset?: "howto" | "rfc4890"; icmpv6?: boolean; rules?: UserRule[]; management?: ManagementPath }): TestResource {
  const preset = o.preset ?? "howto";
  const icmpv6 = o.icmpv6 ?? true;
  const rules = o.rules ?? [];
  const lanPrefixes = [LAN];
  const inputs: FirewallInputs = firewallInputs({
    preset,
    icmpv6,
    lanInterface: "eth0",
    lanPrefixes,
    table: firewallTable({ preset, icmpv6, lanInterface: "eth0", lanPrefixes, rules }),
    siteRules: rules.map((r) => r.name),
    management: o.management,
  });
  return { type: FIREWALL_TYPE, name: "site-firewall", props: inputs as unknown as Record<string, unknown> };
}

const of = (a: Answer, policy: string) => a.violations.filter((v) => v.policy === policy);
const skipped = (a: Answer, policy: string) => a.notApplicable.find((n) => n.policy === policy)?.reason;

describe("policy management-lockout (mandatory)", () => {
  it("fails a ruleset that drops the stack's own SSH connection, naming the rule", async () => {
    const a = await analyze(policies, firewall({ rules: [{ name: "no-ssh", action: "drop", protocol: "tcp", port: 22 }], management: overLan }));
    expect(of(a, "management-lockout")).toEqual([
      expect.objectContaining({
        level: "mandatory",
        message: expect.stringContaining(
          "the management connection (TCP from fe80::10 to [fe80::200:5eff:fe00:5301]:22 arriving on eth0, as this stack connects) would be refused: a new connection (the apply's confirmation, every later run) meets rule 'no-ssh' (drop) in chain IPV6-INPUT",
        ),
      }),
    ]);
  });

  it("fails the HOWTO's ruleset on a box the stack reaches over its uplink: only the LAN may open connections", async () => {
    const [v] = of(await analyze(policies, firewall({ management: overUplink })), "management-lockout");
    expect(v.message).toContain("TCP from 2001:db8:ffff::10 to [2001:db8:ffff:1::2]:2222 arriving on wan0");
    expect(v.message).toContain("meets rule 'reject' (reject) in chain IPV6-INPUT");
  });

  it("says when the connection gets through only while a rate limit holds", async () => {
    const rules: UserRule[] = [{ name: "ssh-limited", action: "accept", chain: "input", protocol: "tcp", port: 2222, state: ["new"], limit: "3/min" }];
    const [v] = of(await analyze(policies, firewall({ preset: "rfc4890", rules, management: overUplink })), "management-lockout");
    expect(v.message).toContain("meets rule 'in-reject' (reject) if not (the traffic stays under its rate limit 3/min) in chain ipv6gw-input");
  });

  it("passes the lab's path (link-local over the LAN) with either preset, and a rule that opens the uplink path", async () => {
    for (const preset of ["howto", "rfc4890"] as const) expect(of(await analyze(policies, firewall({ preset, management: overLan })), "management-lockout")).toEqual([]);
    const open: UserRule[] = [{ name: "admin-ssh", action: "accept", chain: "input", protocol: "tcp", port: 2222, source: "2001:db8:ffff::10" }];
    expect(of(await analyze(policies, firewall({ preset: "rfc4890", rules: open, management: overUplink })), "management-lockout")).toEqual([]);
  });

  it("does not apply to a box reached over IPv4, or whose facts do not say", async () => {
    const v4 = await analyze(policies, firewall({ rules: [{ name: "no-ssh", action: "drop", protocol: "tcp", port: 22 }], management: { ...overLan, serverAddress: "192.0.2.1", clientAddress: "192.0.2.10" } }));
    expect(of(v4, "management-lockout")).toEqual([]);
    expect(skipped(v4, "management-lockout")).toMatch(/over IPv4 \(192.0.2.1\), which the IPv6 firewall does not filter/);
    expect(skipped(await analyze(policies, firewall({})), "management-lockout")).toMatch(/do not say how the stack reached it/);
  });
});

describe("policies rfc4890-icmpv6 (mandatory under rfc4890) and rfc4890-icmpv6-other-presets (advisory)", () => {
  const noPingOut: UserRule = { name: "no-ping-out", action: "drop", protocol: "icmpv6", icmpv6Type: "echo-request" };

  it("fails an rfc4890 site whose rule drops echo requests, naming the rule and where", async () => {
    const a = await analyze(policies, firewall({ preset: "rfc4890", icmpv6: false, rules: [noPingOut] }));
    const [v] = of(a, "rfc4890-icmpv6");
    expect(v.level).toBe("mandatory");
    expect(v.message).toContain("rule 'no-ping-out' (drop) (a rule of this site) drops ICMPv6 that RFC 4890 says must not be dropped");
    expect(v.message).toContain("in transit from the LAN to outside: echo-request (128)");
    expect(v.message).toContain("to the gateway from the LAN: echo-request (128)");
    expect(skipped(a, "rfc4890-icmpv6-other-presets")).toBe("the firewall's preset is rfc4890");
  });

  it("advises on the HOWTO's ruleset without its ICMPv6 line: neighbour discovery to the gateway is untracked, so it is rejected", async () => {
    const a = await analyze(policies, firewall({ preset: "howto", icmpv6: false }));
    expect(of(a, "rfc4890-icmpv6")).toEqual([]);
    const [v] = of(a, "rfc4890-icmpv6-other-presets");
    expect(v.level).toBe("advisory");
    expect(v.message).toMatch(/^rule 'reject' \(reject\) \(a rule of the howto preset; icmpv6: true accepts all ICMPv6\) drops ICMPv6 .* to the gateway on the LAN link \(eth0\): router-solicitation \(133\), router-advertisement \(134\), neighbour-solicitation \(135\)/);
  });

  it.each([
    ["rfc4890", true],
    ["rfc4890", false],
    ["howto", true],
  ] as const)("passes the %s preset (icmpv6: %s), rate-limited echo included", async (preset, icmpv6) => {
    const a = await analyze(policies, firewall({ preset, icmpv6 }));
    expect([...of(a, "rfc4890-icmpv6"), ...of(a, "rfc4890-icmpv6-other-presets")]).toEqual([]);
  });

  it("lets a site's rule drop what RFC 4890 lets it drop (redirects, node information)", async () => {
    const rules: UserRule[] = [
      { name: "no-redirects", action: "drop", protocol: "icmpv6", icmpv6Type: "redirect" },
      { name: "no-node-info", action: "drop", protocol: "icmpv6", icmpv6Type: 139 },
    ];
    expect(of(await analyze(policies, firewall({ preset: "rfc4890", rules })), "rfc4890-icmpv6")).toEqual([]);
  });
});

describe("policy no-unrestricted-inbound (advisory)", () => {
  it("reports a site's accept for NEW connections from anywhere to the LAN, with its name and what it opens", async () => {
    const rules: UserRule[] = [{ name: "telnet-in", action: "accept", protocol: "tcp", port: 23, state: ["new"] }];
    expect(of(await analyze(policies, firewall({ rules })), "no-unrestricted-inbound")).toEqual([
      expect.objectContaining({
        level: "advisory",
        message: "rule 'telnet-in' accepts NEW connections from outside with no source restriction: it opens tcp port 23 to every LAN host from anywhere, past the LAN's eth0. Restrict its source, or list it under 'allow' in this stack's policy config if it is meant",
      }),
    ]);
  });

  it.each<[string, UserRule, "howto" | "rfc4890"]>([
    ["a source restriction", { name: "web-office", action: "accept", protocol: "tcp", port: 80, source: "2001:db8:ffff::10" }, "howto"],
    ["connections from the LAN", { name: "lan-dns", action: "accept", protocol: "udp", port: 53, inInterface: "eth0" }, "howto"],
    ["a rule for the gateway only", { name: "ssh-gw", action: "accept", chain: "input", protocol: "tcp", port: 22 }, "rfc4890"],
    ["a drop", { name: "no-smb", action: "drop", protocol: "tcp", port: 445 }, "howto"],
    ["established traffic only", { name: "late", action: "accept", protocol: "udp", state: ["established"] }, "howto"],
  ])("leaves alone %s", async (_what, rule, preset) => {
    expect(of(await analyze(policies, firewall({ preset, rules: [rule] })), "no-unrestricted-inbound")).toEqual([]);
  });

  it("leaves the presets' own openings alone (RFC 6092 IPsec, the HOWTO's ICMPv6 line)", async () => {
    for (const preset of ["howto", "rfc4890"] as const) expect(of(await analyze(policies, firewall({ preset })), "no-unrestricted-inbound")).toEqual([]);
  });

  it("counts every LAN of a native site as inside: a rule from the second LAN opens nothing, one from the WAN does", async () => {
    const rules: UserRule[] = [
      { name: "lan2-printing", action: "accept", protocol: "tcp", port: 631, state: ["new"], inInterface: "eth1" },
      { name: "wan-web", action: "accept", protocol: "tcp", port: 80, state: ["new"], inInterface: "wan0" },
    ];
    const lans = { lanInterface: "eth0", lanInterfaces: ["eth0", "eth1"], dhcpv6ClientInterface: "wan0" };
    const props = firewallInputs({
      preset: "rfc4890",
      icmpv6: false,
      lanInterface: "eth0",
      lanInterfaces: lans.lanInterfaces,
      table: firewallTable({ preset: "rfc4890", icmpv6: false, rules, ...lans }),
      siteRules: rules.map((r) => r.name),
    });
    const a = await analyze(policies, { type: FIREWALL_TYPE, name: "site-firewall", props: props as unknown as Record<string, unknown> });
    expect(of(a, "no-unrestricted-inbound").map((v) => v.message)).toEqual([expect.stringMatching(/^rule 'wan-web' accepts NEW connections from outside/)]);
    expect(of(a, "rfc4890-icmpv6")).toEqual([]);
  });
});

describe("site invariants (mandatory)", () => {
  const conn = (host: string) => ({ host, port: 22, user: "root", privateKey: "secret" });
  const forwarding = (name: string, host: string, value: unknown = "1"): TestResource => ({ type: SYSCTL_TYPE, name, props: { connection: conn(host), key: "net.ipv6.conf.all.forwarding", value } });
  const component = (type: string, name: string, props: Record<string, unknown> = {}): TestResource => ({ type, name, props });
  const child = (name: string, parent: string, host: string): TestResource => ({ type: "pulumi-nodejs:dynamic/ipv6gw:host:RemoteFile", name, parent, props: { connection: conn(host) } });

  it("forwarding-needs-firewall: fails forwarding switched on at a box without a Firewall of ours there", async () => {
    const a = await analyzeStack(policies, [forwarding("gw-forwarding", "192.0.2.1"), component(FIREWALL_TYPE, "fw"), child("fw-ruleset", "fw", "192.0.2.99")]);
    expect(of(a, "forwarding-needs-firewall").map((v) => v.message)).toEqual([
      "forwarding is switched on at 192.0.2.1:22 by sysctl 'gw-forwarding' (net.ipv6.conf.all.forwarding=1), but no Firewall of ours runs on that box: the LAN would be routed unfiltered. Add a Firewall for 192.0.2.1:22, or leave forwarding off",
    ]);
  });

  it("forwarding-needs-firewall: passes forwarding beside a Firewall on the same box, and forwarding off; skips values unknown at preview", async () => {
    const guarded = [forwarding("gw-forwarding", "192.0.2.1"), component(FIREWALL_TYPE, "fw"), child("fw-ruleset", "fw", "192.0.2.1")];
    expect(of(await analyzeStack(policies, guarded), "forwarding-needs-firewall")).toEqual([]);
    expect(of(await analyzeStack(policies, [forwarding("off", "192.0.2.1", "0")]), "forwarding-needs-firewall")).toEqual([]);
    expect((await analyzeStack(policies, [forwarding("later", "192.0.2.1", UNKNOWN)])).violations).toEqual([]);
  });

  it("forwarding-needs-firewall: counts gw6c in router mode as switching forwarding on", async () => {
    const a = await analyzeStack(policies, [component(GW6C_TYPE, "tunnel", { ownsRadvd: true }), child("tunnel-conf", "tunnel", "192.0.2.1")]);
    expect(of(a, "forwarding-needs-firewall").map((v) => v.message)).toEqual([expect.stringContaining("by gw6c 'tunnel' in router mode")]);
  });

  it("one-radvd: fails gw6c in router mode and a Radvd of ours on one box, passes host mode", async () => {
    const stack = (ownsRadvd: boolean) => [
      component(GW6C_TYPE, "tunnel", { ownsRadvd }),
      child("tunnel-conf", "tunnel", "192.0.2.1"),
      component(RADVD_TYPE, "radvd"),
      child("radvd-conf", "radvd", "192.0.2.1"),
      component(FIREWALL_TYPE, "fw"),
      child("fw-ruleset", "fw", "192.0.2.1"),
    ];
    expect(of(await analyzeStack(policies, stack(true)), "one-radvd").map((v) => v.message)).toEqual([
      "at 192.0.2.1:22, gw6c 'tunnel' runs in router mode, which starts its own radvd, and Radvd 'radvd' runs ours: two daemons would advertise on one LAN. Use gw6c in host mode, or drop the Radvd",
    ]);
    expect(of(await analyzeStack(policies, stack(false)), "one-radvd")).toEqual([]);
  });

  it("secret-config-is-secret: fails a secret key stored in plain text, naming the key, never the value", async () => {
    const a = await analyze(policies, { type: CONFIG_SECRETS_TYPE, name: "stack-config", props: { keys: [{ key: "ipv6gw:wireguardPrivateKey", secret: false }, { key: "ipv6gw:gw6cPassword", secret: true }] } });
    expect(of(a, "secret-config-is-secret")).toEqual([
      expect.objectContaining({ level: "mandatory", message: expect.stringMatching(/^ipv6gw:wireguardPrivateKey is stored in plain text in the stack's config/) }),
    ]);
    expect(of(await analyze(policies, { type: CONFIG_SECRETS_TYPE, name: "stack-config", props: { keys: [{ key: "ipv6gw:gw6cPassword", secret: true }] } }), "secret-config-is-secret")).toEqual([]);
  });
});
