// A native site (DHCPv6-PD uplink, two LANs) under Pulumi mocks: what gets
// registered, that no resource's inputs hold the delegated prefix (so a
// renumbering is never drift), and every bad input named at preview with its
// key path, before anything is registered.
import * as pulumi from "@pulumi/pulumi";
import { parseFacts } from "../../components/host/host-facts";

jest.mock("@pulumi/pulumi/runtime/closure/serializeClosure", () => ({
  serializeFunction: async () => ({ text: "exports.handler = () => ({});", exportName: "handler", containsSecrets: false }),
}));

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];
const DELEGATED = { prefix: "2001:db8:9900::/56", lanPrefixes: { eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64" } };
/** What the gateway holds when DelegatedPrefix reads it; a test may set a lease run out. */
let onTheBox: { prefix: string; lanPrefixes: Record<string, string> } = DELEGATED;

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      // What the box would hold: only DelegatedPrefix reads it, as an output.
      const state = args.type.endsWith(":DelegatedPrefix") ? { ...args.inputs, ...onTheBox } : args.inputs;
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "ipv6gw",
  "test",
  false,
);

async function settled(): Promise<void> {
  let seen = -1;
  while (seen !== registered.length) {
    seen = registered.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const value = <T>(o: pulumi.Input<T>): Promise<T> => new Promise((resolve) => pulumi.output(o as any).apply((v: any) => resolve(v)));
const byType = (suffix: string) => registered.filter((r) => r.type.endsWith(suffix));

const gwFacts = parseFacts(
  ["distro=debian", "distroVersion=12", "kernel=6.1.0", "iface=eth0 00:00:5e:00:53:01 1", "iface=wan0 00:00:5e:00:53:02 1", "iface=eth1 00:00:5e:00:53:03 1", "iface=lo 00:00:00:00:00:00 1", "ipv6=0", "pkg=apt", "svc=systemd", "dev=tun", "proc=conntrack", "proc=ip6_tables", "kconfig=CONFIG_IP6_NF_TARGET_REJECT=y", "kconfig=CONFIG_NF_TABLES=y", "net=none"].join("\n"),
);
const clientFacts = (mac: string) => parseFacts(`distro=debian\nkernel=6.1.0\niface=eth0 ${mac} 1\nipv6=0\npkg=apt\nsvc=systemd\nnet=none\n`);
const connection = { host: "192.0.2.1", user: "root", privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"), hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKi0T01RggbGXVQcwimgy5tZDId2EEabCN2uqYY1iUQp" };
const tunnel = { kind: "dhcpv6-pd", wanInterface: "wan0", prefixLength: 56, lans: [{ interface: "eth0", subnetId: 0 }, { interface: "eth1", subnetId: 1, rdnss: ["2001:db8:ffff::53"] }] } as const;
const nativeSite = () => ({
  gateway: { connection, facts: gwFacts, uplinkInterface: "wan0" },
  tunnel,
  radvd: { maxInterval: 10 },
  clients: [
    { name: "c1", connection, facts: clientFacts("00:00:5e:00:53:11") },
    { name: "c3", lan: "eth1", connection, facts: clientFacts("00:00:5e:00:53:13") },
  ],
  checks: { pingTarget: "2001:db8:ffff::1", httpUrl: "http://[2001:db8:ffff::1]/", outside: { connection } },
});

describe("a native site: DHCPv6-PD on wan0, LANs eth0 (subnet 0) and eth1 (subnet 1)", () => {
  let site: import("../../components/site").Ipv6Site;
  beforeAll(async () => {
    registered.length = 0;
    const { Ipv6Site } = await import("../../components/site");
    site = new Ipv6Site("lab", nativeSite() as never);
    await value(site.clientAddresses);
    await settled();
  });

  it("declares nothing that holds the delegated prefix: only DelegatedPrefix's outputs do", async () => {
    const inputs = await Promise.all(registered.map(async (r) => [r.name, JSON.stringify(await value(r.inputs as never))] as const));
    expect(inputs.filter(([, text]) => text.includes("2001:db8:9900"))).toEqual([]);
    expect(byType(":DelegatedPrefix").map((r) => r.inputs)).toEqual([
      expect.objectContaining({ wanInterface: "wan0", prefixLength: 56, lans: [{ interface: "eth0", subnetId: 0 }, { interface: "eth1", subnetId: 1 }], unit: "ipv6gw-dhcpcd.service", waitSeconds: 60 }),
    ]);
  });

  it("shows what the box holds: the delegated prefix, each LAN's /64, the gateway's ::1 and each client's EUI-64 in its LAN", async () => {
    expect(await value(site.delegatedPrefix!)).toBe("2001:db8:9900::/56");
    expect(await value(site.lanPrefixes!)).toEqual({ eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64" });
    expect(await value(site.lanPrefix)).toBe("2001:db8:9900::/64");
    expect(await value(site.gatewayAddress)).toBe("2001:db8:9900::1");
    expect(await value(site.clientAddresses)).toEqual({ c1: "2001:db8:9900:0:200:5eff:fe00:5311", c3: "2001:db8:9900:1:200:5eff:fe00:5313" });
  });

  it("runs dhcpcd and radvd as units of ours, dhcpcd after the firewall's boot unit; the distribution's radvd off; no radvd.conf or LAN address of the site's", async () => {
    const paths = await Promise.all(byType(":RemoteFile").map((f) => value(f.inputs.path as string)));
    expect(paths.sort()).toEqual([
      "/etc/ipv6gw/dhcpcd.conf",
      "/etc/systemd/system/ipv6gw-dhcpcd.service",
      "/etc/systemd/system/ipv6gw-firewall.service",
      "/etc/systemd/system/ipv6gw-forwarding.service",
      "/etc/systemd/system/ipv6gw-pd-refresh.service",
      "/etc/systemd/system/ipv6gw-pd-refresh.timer",
      "/etc/systemd/system/ipv6gw-radvd.service",
      "/usr/local/lib/ipv6gw/pd-hook",
    ]);
    const unit = byType(":RemoteFile").find((f) => f.inputs.path === "/etc/systemd/system/ipv6gw-dhcpcd.service")!;
    // The nftables backend's boot unit (the default backend).
    expect(await value(unit.inputs.content as string)).toContain("Requires=ipv6gw-firewall.service\nAfter=ipv6gw-firewall.service network-pre.target");
    const services = Object.fromEntries(byType(":Service").map((s) => [s.inputs.name, s.inputs]));
    expect(Object.keys(services).sort()).toEqual(["ipv6gw-dhcpcd.service", "ipv6gw-firewall", "ipv6gw-forwarding.service", "ipv6gw-pd-refresh.timer", "ipv6gw-radvd.service", "radvd"]);
    expect(services.radvd).toMatchObject({ enabled: false, running: false });
    expect(byType(":Radvd")).toEqual([]);
    expect(byType(":LanAddress")).toEqual([]);
    // dhcpcd owns the WAN's RA settings: a sysctl of ours there would be drift after every dhcpcd start.
    expect(byType(":Sysctl").map((s) => String(s.inputs.key)).filter((k) => k.includes(".wan0."))).toEqual([]);
  });

  it("lets the DHCPv6 server's replies in on wan0 and NEW from both LANs", async () => {
    const [ruleset] = byType(":NftRuleset");
    const rules = await value(ruleset.inputs.rules as string);
    expect(rules).toMatch(/iifname "wan0" ip6 saddr fe80::\/10 udp sport 547 udp dport 546 .*comment "ipv6gw:wan-dhcpv6-reply"/);
    expect(rules).toMatch(/iifname "eth0" ct state new .*comment "ipv6gw:lan-new-eth0"/);
    expect(rules).toMatch(/iifname "eth1" ct state new .*comment "ipv6gw:lan-new-eth1"/);
  });

  it("checks without naming a prefix: each client's probe reads its LAN's /64 from the gateway's", async () => {
    const [probe] = byType(":SiteProbe");
    const probes = await value(probe.inputs.probes as { name: string; on: string; stdinFrom?: string }[]);
    expect(probes.find((p) => p.on === "c3" && p.stdinFrom)).toMatchObject({ name: "c3: holds its EUI-64 address in eth1's /64, preferred", stdinFrom: "gateway: eth1 holds a delegated /64 (::1)" });
    expect(probes.map((p) => p.name)).toContain("gateway: ipv6gw-dhcpcd active");
  });
});

describe("a native site whose lease ran out when the gateway was read", () => {
  it("shows no prefix and no addresses, and builds as before", async () => {
    registered.length = 0;
    onTheBox = { prefix: "", lanPrefixes: {} };
    try {
      const { Ipv6Site } = await import("../../components/site");
      const site = new Ipv6Site("expired", nativeSite() as never);
      expect(await value(site.delegatedPrefix!)).toBe("");
      expect(await value(site.lanPrefixes!)).toEqual({});
      expect(await value(site.gatewayAddress)).toBe("");
      expect(await value(site.clientAddresses)).toEqual({ c1: "", c3: "" });
      await settled();
      expect(byType(":SiteProbe")).toHaveLength(1);
    } finally {
      onTheBox = DELEGATED;
    }
  });
});

describe("a native site's bad input, named at preview with its key path", () => {
  const problemsOf = async (change: (s: ReturnType<typeof nativeSite>) => unknown) => {
    const { ipv6SiteArgsSchema, siteProblems } = await import("../../components/site");
    const { describeProblem } = await import("../../components/problems");
    return siteProblems(ipv6SiteArgsSchema.parse(change(nativeSite()))).map(describeProblem);
  };
  // Only c1, on the first LAN, so a changed list of LANs leaves every client on one.
  const withTunnel = (t: object) => (s: ReturnType<typeof nativeSite>) => ({ ...s, clients: [s.clients[0]], tunnel: { ...s.tunnel, ...t } });

  it.each<[string, (s: ReturnType<typeof nativeSite>) => unknown, string[]]>([
    ["a prefix hint shorter than 48", withTunnel({ prefixLength: 40 }), ["tunnel.prefixLength: is 40: ask for a prefix of 48 to 64 bits (ISPs delegate /48 to /64, most a /56; each LAN needs a /64)"]],
    ["a prefix hint longer than 64", withTunnel({ prefixLength: 65 }), ["tunnel.prefixLength: is 65: ask for a prefix of 48 to 64 bits (ISPs delegate /48 to /64, most a /56; each LAN needs a /64)"]],
    [
      "a subnet id that does not fit the hint",
      withTunnel({ prefixLength: 60, lans: [{ interface: "eth0", subnetId: 0 }, { interface: "eth1", subnetId: 16 }] }),
      ["tunnel.lans[1].subnetId: is 16, which does not fit a /60: it holds 16 /64s, subnet ids 0-15; pick one of those, or ask for a shorter prefix"],
    ],
    ["two LANs with one subnet id", withTunnel({ lans: [{ interface: "eth0", subnetId: 1 }, { interface: "eth1", subnetId: 1 }] }), ["tunnel.lans[1].subnetId: is 1, as lans[0] is: each LAN needs a /64 of its own"]],
    ["two LANs on one interface", withTunnel({ lans: [{ interface: "eth0", subnetId: 0 }, { interface: "eth0", subnetId: 1 }] }), ["tunnel.lans[1].interface: is 'eth0', as lans[0] is: each LAN needs an interface of its own"]],
    ["a LAN on the WAN interface", withTunnel({ lans: [{ interface: "wan0", subnetId: 0 }] }), ["tunnel.lans[0].interface: is 'wan0', the WAN interface: a LAN needs an interface of its own"]],
    ["a LAN interface the box lacks", withTunnel({ lans: [{ interface: "eth7", subnetId: 0 }] }), ["tunnel.lans[0].interface: is 'eth7', which does not exist on the gateway (it has eth0, wan0, eth1, lo): name its LAN interface"]],
    ["a WAN interface the box lacks", withTunnel({ wanInterface: "ppp0" }), ["gateway.uplinkInterface: is 'wan0' but tunnel.wanInterface is 'ppp0': give one of them (the WAN is tunnel.wanInterface)", "tunnel.wanInterface: is 'ppp0', which does not exist on the gateway (it has eth0, wan0, eth1, lo): name its interface facing the ISP"]],
    ["gateway.lanInterface beside the LANs", (s) => ({ ...s, gateway: { ...s.gateway, lanInterface: "eth0" } }), ["gateway.lanInterface: cannot be set with tunnel.kind dhcpv6-pd: its LANs are tunnel.lans; move 'eth0' there as { interface: eth0, subnetId: 0 }"]],
    ["uplinkAutoconf", (s) => ({ ...s, gateway: { ...s.gateway, uplinkAutoconf: true } }), ["gateway.uplinkAutoconf: must stay off with tunnel.kind dhcpv6-pd: dhcpcd takes the ISP's router advertisements on the WAN itself"]],
    ["a fixed LAN prefix", (s) => ({ ...s, lan: { prefix: "2001:db8:8888::/64" } }), ["lan.prefix: cannot be set with tunnel.kind dhcpv6-pd: each LAN's /64 is its subnet id's in the prefix the ISP delegates (tunnel.lans[i].subnetId)"]],
    ["a client on a LAN the gateway does not have", (s) => ({ ...s, clients: [{ ...s.clients[0], lan: "eth2" }] }), ["clients[0].lan: is 'eth2', which is not a LAN of this gateway (eth0, eth1): name the gateway's interface of the client's LAN"]],
    [
      "a box without systemd",
      (s) => ({ ...s, firewall: { backend: "iptables" }, gateway: { ...s.gateway, facts: { ...gwFacts, serviceManager: "sysv" } } }),
      ["tunnel: needs systemd (the DHCPv6 client's and radvd's units) on the gateway, which runs sysv"],
    ],
  ])("%s", async (_what, change, expected) => {
    expect(await problemsOf(change)).toEqual(expected);
  });

  it("a sound native site has no problems, and rfc4890 is allowed (without BCP 38, whose rules would name the changing prefix)", async () => {
    expect(await problemsOf((s) => s)).toEqual([]);
    expect(await problemsOf((s) => ({ ...s, firewall: { preset: "rfc4890" } }))).toEqual([]);
  });

  it("the component refuses them all at once, before registering anything", async () => {
    const { Ipv6Site } = await import("../../components/site");
    await settled();
    registered.length = 0;
    const bad = { ...nativeSite(), tunnel: { ...tunnel, prefixLength: 40, lans: [{ interface: "wan0", subnetId: 0 }, { interface: "eth1", subnetId: 0 }] } };
    expect(() => new Ipv6Site("bad", bad as never)).toThrow(
      'Ipv6Site "bad" cannot be built as asked:\n  - tunnel.prefixLength: is 40: ask for a prefix of 48 to 64 bits (ISPs delegate /48 to /64, most a /56; each LAN needs a /64)\n  - tunnel.lans[0].interface: is \'wan0\', the WAN interface: a LAN needs an interface of its own\n  - tunnel.lans[1].subnetId: is 0, as lans[0] is: each LAN needs a /64 of its own',
    );
    await settled();
    expect(registered).toEqual([]);
  });
});
