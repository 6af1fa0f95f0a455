// The site's components under Pulumi mocks: what gets registered, with which
// inputs, for a lab-like WireGuard site and a HOWTO-like gw6c site.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseFacts } from "../../components/host/host-facts";

// Serializing dynamic providers needs the V8 inspector hooks Pulumi's runtime
// sets up, which jest does not; the lab's e2e runs the real serializer.
jest.mock("@pulumi/pulumi/runtime/closure/serializeClosure", () => ({
  serializeFunction: async () => ({ text: "exports.handler = () => ({});", exportName: "handler", containsSecrets: false }),
}));

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: () => ({}),
  },
  "ipv6gw",
  "test",
  false,
);

/** Waits until the program's registrations (asynchronous, some behind dependencies) stop coming. */
async function settled(): Promise<void> {
  let seen = -1;
  while (seen !== registered.length) {
    seen = registered.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");
// As the lab's host reaches gw: over IPv6 link-local on the LAN.
const gwFacts = parseFacts(`${fixture("facts-debian12-gw.txt").replace("forwarding=1", "forwarding=0")}\nmgmt=fe80::10 fe80::200:5eff:fe00:5301 22 eth0\n`);
const clientFacts = (mac: string) => parseFacts(`distro=debian\nkernel=6.1.0\niface=eth0 ${mac} 1\nipv6=0\npkg=apt\nsvc=systemd\nnet=none\n`);
const connection = { host: "192.0.2.1", user: "root", privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"), hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKi0T01RggbGXVQcwimgy5tZDId2EEabCN2uqYY1iUQp" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const value = <T>(o: pulumi.Input<T>): Promise<T> => new Promise((resolve) => pulumi.output(o as any).apply((v: any) => resolve(v)));
/** Mocks see secret inputs wrapped; tests read the value inside. */
function unwrap(v: unknown): unknown {
  if (v && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v) return (v as unknown as { value: unknown }).value;
  return v;
}
const byType = (suffix: string) => registered.filter((r) => r.type.endsWith(suffix));
const fileAt = async (p: string) => {
  for (const f of byType(":RemoteFile")) if ((await value(f.inputs.path as string)) === p) return f;
  throw new Error(`no RemoteFile for ${p}; have ${byType(":RemoteFile").map((f) => f.name).join(", ")}`);
};

/** What each resource of a site was told to wait for (its dependsOn, by name), seen by a transformation. */
function dependencyRecorder() {
  const names = new Map<pulumi.Resource, string>();
  const told = new Map<string, unknown>();
  const transformation: pulumi.ResourceTransformation = (a) => {
    names.set(a.resource, a.name);
    told.set(a.name, a.opts.dependsOn);
    return undefined;
  };
  const flat = async (d: unknown): Promise<pulumi.Resource[]> => {
    if (Array.isArray(d)) return (await Promise.all(d.map(flat))).flat();
    if (pulumi.Output.isInstance(d)) return flat(await value(d));
    if (d && typeof (d as Promise<unknown>).then === "function") return flat(await d);
    return d ? [d as pulumi.Resource] : [];
  };
  /** The names `name` waits for, directly or through what those wait for. */
  const waitsFor = async (name: string, seen = new Set<string>()): Promise<Set<string>> => {
    for (const r of await flat(told.get(name))) {
      const dep = names.get(r) ?? "(not of this site)";
      if (!seen.has(dep)) {
        seen.add(dep);
        await waitsFor(dep, seen);
      }
    }
    return seen;
  };
  return { transformation, waitsFor };
}

describe("a WireGuard site like the lab", () => {
  let site: import("../../components/site").Ipv6Site;
  const dependencies = dependencyRecorder();

  beforeAll(async () => {
    registered.length = 0;
    const { Ipv6Site } = await import("../../components/site");
    site = new Ipv6Site("lab", {
      gateway: { connection, facts: gwFacts, lanInterface: "eth0", uplinkInterface: "wan0" },
      tunnel: {
        kind: "wireguard",
        privateKey: pulumi.secret("cHJpdmF0ZWtleXByaXZhdGVrZXlwcml2YXRla2V5MDA="),
        endpoint: "198.51.100.1:51820",
        peerPublicKey: "cHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHViMDA=",
        address: "2001:db8:ffff:100::2/64",
        routedPrefix: "2001:db8:8888::/48",
      },
      radvd: { maxInterval: 10 },
      clients: [
        { name: "c1", connection, facts: clientFacts("00:00:5e:00:53:11") },
        { name: "c2", connection, facts: clientFacts("00:00:5e:00:53:12") },
      ],
      checks: { pingTarget: "2001:db8:ffff::1", httpUrl: "http://[2001:db8:ffff::1]/", outside: { connection } },
    }, { transformations: [dependencies.transformation] });
    await settled();
  });

  it("starts the LAN address and radvd after the firewall and forwarding (their files before), beside the tunnel (its prefix is in the config), and checks once all are up", async () => {
    // The at-boot unit too: stopping it (as destroy does) turns forwarding off, so what advertises goes first.
    const firewallFirst = ["lab-firewall-nft-ruleset", "lab-gateway-forwarding", "lab-gateway-forwarding-at-boot", "lab-gateway-packages"];
    for (const name of ["lab-tunnel-service", "lab-lan-address-service", "lab-radvd-service"]) {
      expect([...(await dependencies.waitsFor(name))]).toEqual(expect.arrayContaining(firewallFirst));
    }
    expect(await dependencies.waitsFor("lab-radvd-service")).not.toContain("lab-lan-address-service");
    for (const name of ["lab-lan-address-service", "lab-radvd-service"]) expect(await dependencies.waitsFor(name)).not.toContain("lab-tunnel-service");
    expect([...(await dependencies.waitsFor("lab-checks-probe"))]).toEqual(expect.arrayContaining([...firewallFirst, "lab-tunnel-service", "lab-lan-address-service", "lab-radvd-service"]));
    // Their packages and files (inert until started) go on the box while the firewall is applied.
    for (const name of ["lab-radvd-packages", "lab-radvd-conf", "lab-lan-address-unit"]) {
      const waits = await dependencies.waitsFor(name);
      expect(waits).toContain("lab-gateway-packages");
      expect(waits).not.toContain("lab-firewall-nft-ruleset");
      expect(waits).not.toContain("lab-gateway-forwarding");
    }
  });

  it("loads the HOWTO's ruleset into a table of ours on nftables (the default), at boot too, and forwarding waits for it", async () => {
    expect(byType(":Ip6tablesRuleset")).toEqual([]);
    const [ruleset] = byType(":NftRuleset");
    expect(await value(ruleset.inputs.rules as string)).toBe(fs.readFileSync(path.join(__dirname, "golden/firewall/howto.nft"), "utf8"));
    expect(ruleset.inputs.persistPath).toBe("/etc/ipv6gw/firewall.nft");
    // The facts show no nft yet: the preview's check does not dial the box to find that out again.
    expect(ruleset.inputs.kernelCheck).toBe(false);
    expect(await value((await fileAt("/etc/systemd/system/ipv6gw-firewall.service")).inputs.content as string)).toContain("ExecStart=/usr/sbin/nft -f /etc/ipv6gw/firewall.nft");
    const forwarding = await value((await fileAt("/etc/systemd/system/ipv6gw-forwarding.service")).inputs.content as string);
    expect(forwarding).toContain("Requires=ipv6gw-firewall.service");
  });

  it("records the firewall's rule model and the management path as the Firewall's inputs, with their diff left to the ruleset", async () => {
    const { firewallTable } = await import("../../components/firewall/firewall");
    const [fw] = byType("ipv6gw:firewall:Firewall");
    expect(fw.inputs).toEqual({
      preset: "howto",
      icmpv6: true,
      lanInterface: "eth0",
      lanPrefixes: ["2001:db8:8888::/64"],
      table: JSON.parse(JSON.stringify(firewallTable({ preset: "howto", icmpv6: true, lanInterface: "eth0", lanPrefixes: ["2001:db8:8888::/64"] }))),
      siteRules: [],
      management: { clientAddress: "fe80::10", serverAddress: "fe80::200:5eff:fe00:5301", serverPort: 22, interface: "eth0" },
    });
  });

  // Stack policies need the parents, which mocks do not report; the lab's e2e runs the whole pack.
  it("passes every resource policy of the pack", async () => {
    const { policyPackArgs } = await import("../../policy/policies");
    const { analyze } = await import("./policy-harness");
    const resources = registered.map((r) => ({ type: r.type, name: r.name, props: JSON.parse(JSON.stringify(r.inputs, (_k, v) => (v && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v ? v.value : v))) }));
    for (const r of resources) expect((await analyze(policyPackArgs.policies, r)).violations).toEqual([]);
  });

  it("turns forwarding on", async () => {
    const sysctls = await Promise.all(byType(":Sysctl").map(async (s) => [await value(s.inputs.key as string), await value(s.inputs.value as string)]));
    expect(sysctls).toContainEqual(["net.ipv6.conf.all.forwarding", "1"]);
  });

  it("advertises the first /64 of the routed prefix, checked by radvd before it is installed", async () => {
    const conf = await fileAt("/etc/radvd.conf");
    expect(await value(conf.inputs.content as string)).toMatch(/interface eth0[\s\S]*prefix 2001:db8:8888::\/64/);
    expect(conf.inputs.validate).toBe("radvd --configtest -C %s");
  });

  it("runs wg-quick with wireguard-go, as the kernel has no wireguard module", async () => {
    const conf = await fileAt("/etc/wireguard/wg0.conf");
    expect(unwrap(await value(conf.inputs.content as string))).toContain("Endpoint = 198.51.100.1:51820");
    expect(conf.inputs.mode).toBe("0600");
    await fileAt("/etc/systemd/system/wg-quick@.service.d/60-ipv6gw-userspace.conf");
    const services = await Promise.all(byType(":Service").map((s) => value(s.inputs.name as string)));
    expect(services).toEqual(expect.arrayContaining(["wg-quick@wg0", "radvd", "ipv6gw-lan-address", "ipv6gw-firewall"]));
  });

  it("installs the gateway's packages in one transaction; each component's own Packages names its part", async () => {
    const packages = byType(":Packages");
    const plan = packages.find((p) => p.name === "lab-gateway-packages")!;
    expect(plan.inputs.handOver).toBe(true);
    // Registered after the Firewall component, which the policy pack judges as it registers: a refused
    // ruleset stops `up --policy-pack` before the transaction reaches the box.
    const firewall = registered.findIndex((r) => r.type === "ipv6gw:firewall:Firewall");
    expect(firewall).toBeGreaterThanOrEqual(0);
    expect(registered.indexOf(plan)).toBeGreaterThan(firewall);
    const parts = await Promise.all(packages.filter((p) => p !== plan).map((p) => value(p.inputs.names as string[])));
    expect(parts.length).toBeGreaterThanOrEqual(3);
    // Exactly the union of the components' lists: nothing the plan installs is left without an owner.
    expect([...(await value(plan.inputs.names as string[]))].sort()).toEqual([...new Set(parts.flat())].sort());
    expect(parts.flat()).toEqual(expect.arrayContaining(["radvd", "wireguard-tools", "wireguard-go"]));
  });

  it("expects each client at its EUI-64 address", async () => {
    expect(await value(site.clientAddresses)).toEqual({ c1: "2001:db8:8888:0:200:5eff:fe00:5311", c2: "2001:db8:8888:0:200:5eff:fe00:5312" });
    expect(await value(site.gatewayAddress)).toBe("2001:db8:8888::1");
  });

  it("checks the HOWTO's list, including from outside", async () => {
    const [probe] = byType(":SiteProbe");
    const names = (await value(probe.inputs.probes as { name: string }[])).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "gateway: radvd running",
        "gateway: 2001:db8:8888::1/64 on eth0",
        "c1: has 2001:db8:8888:0:200:5eff:fe00:5311/64",
        "c2: fetches http://[2001:db8:ffff::1]/",
        "outside: TCP 80 to c1 refused (adm-prohibited)",
        "outside: c2 answers ping6 (ICMPv6 allowed)",
      ]),
    );
  });
});

describe("a gw6c router site like the HOWTO", () => {
  let dir: string;
  beforeAll(async () => {
    registered.length = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-test-"));
    fs.writeFileSync(path.join(dir, "gw6c.tar.gz"), "not really a tarball");
    const facts = parseFacts(fixture("facts-centos5-gw.txt").replace("kernel=2.6.18-398.el5", "kernel=2.6.32-754.el6"));
    const { Ipv6Site } = await import("../../components/site");
    const site = new Ipv6Site("home", {
      gateway: { connection, facts, lanInterface: "eth1" },
      tunnel: {
        kind: "gw6c",
        source: { tarball: path.join(dir, "gw6c.tar.gz") },
        server: "broker.freenet6.net",
        userid: "todd",
        authMethod: "any",
        hostType: "router",
        logFile: 2,
        tunnelMode: "v6v4",
        password: pulumi.secret("MARKER-SECRET"),
        expectedPrefix: "2001:db8:8888::/64",
      },
      // CentOS 6 has neither nf_tables nor systemd: the HOWTO's ip6tables.
      firewall: { backend: "iptables" },
    });
    await value(site.lanPrefix);
    await settled();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("plans the gateway's packages as its components name them: the build tools and radvd for gw6c, iptables' for the firewall", async () => {
    const packages = byType(":Packages");
    const plan = packages.find((p) => p.name === "home-gateway-packages")!;
    const parts = await Promise.all(packages.filter((p) => p !== plan).map((p) => value(p.inputs.names as string[])));
    expect([...(await value(plan.inputs.names as string[]))].sort()).toEqual([...new Set(parts.flat())].sort());
    expect(parts.flat()).toEqual(expect.arrayContaining(["gcc", "make", "radvd"]));
  });

  it("builds from the tarball with make target=linux and installs under /usr/local/gw6c", () => {
    const [build] = byType(":RemoteCommand").filter((c) => c.name.endsWith("-build"));
    expect(build.inputs.stdinFile).toBe(path.join(dir, "gw6c.tar.gz"));
    expect(build.inputs.create).toContain("make target=linux install installdir='/usr/local/gw6c'");
    expect(build.inputs.present).toBe("test -x '/usr/local/gw6c'/bin/gw6c");
  });

  it("writes gw6c.conf with the HOWTO's keys, readable by root only", async () => {
    const conf = await fileAt("/usr/local/gw6c/etc/gw6c.conf");
    const text = unwrap(await value(conf.inputs.content as string)) as string;
    for (const line of ["userid=todd", "passwd=MARKER-SECRET", "server=broker.freenet6.net", "auth_method=any", "host_type=router", "if_prefix=eth1", "log_file=2"]) {
      expect(text).toContain(line);
    }
    expect(conf.inputs.mode).toBe("0600");
  });

  it("lets gw6c own radvd: no radvd.conf of ours, the distribution's service off", async () => {
    await expect(fileAt("/etc/radvd.conf")).rejects.toThrow(/no RemoteFile/);
    const radvd = byType(":Service").find((s) => s.inputs.name === "radvd")!;
    expect(radvd.inputs).toMatchObject({ enabled: false, running: false });
  });

  it("runs gw6c from a SysV init script with the HOWTO's hourly watchdog", async () => {
    const init = await fileAt("/etc/init.d/gw6c");
    expect(init.inputs.mode).toBe("0755");
    const [cron] = byType(":CronEntry");
    expect(cron.inputs).toMatchObject({ schedule: "0 * * * *", command: "/sbin/pidof gw6c >/dev/null || /etc/init.d/gw6c restart" });
  });

  it("says gw6c runs radvd, in the tunnel's registered outputs (for the one-radvd policy)", () => {
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor() as { getRegisteredResources(): Map<string, { state: { toJavaScript(): Record<string, unknown> } }> };
    const [tunnel] = [...monitor.getRegisteredResources()].filter(([urn]) => urn.endsWith("ipv6gw:tunnel:Gw6cTunnel::home-tunnel"));
    expect(tunnel[1].state.toJavaScript()).toMatchObject({ ownsRadvd: true, interface: "sit1" });
  });

  it("persists the firewall where CentOS loads it", () => {
    expect(byType(":Ip6tablesRuleset")[0].inputs.persistPath).toBe("/etc/sysconfig/ip6tables");
    // ip6tables is there (facts): the box's kernel checks the rules at preview.
    expect(byType(":Ip6tablesRuleset")[0].inputs).not.toHaveProperty("kernelCheck");
  });
});

describe("the stack's config secrets, for the secret-config-is-secret policy", () => {
  it("records which secret keys are set and whether each is encrypted, never a value", async () => {
    const { ConfigSecrets, configSecretStatus } = await import("../../components/config-secrets");
    const config = { "ipv6gw:site": "{}", "ipv6gw:wireguardPrivateKey": "MARKER-PLAIN", "ipv6gw:gw6cPassword": "MARKER-SECRET" };
    expect(configSecretStatus(config, (k) => k === "ipv6gw:gw6cPassword")).toEqual({
      keys: [
        { key: "ipv6gw:wireguardPrivateKey", secret: false },
        { key: "ipv6gw:gw6cPassword", secret: true },
      ],
    });
    registered.length = 0;
    pulumi.runtime.setAllConfig(config, ["ipv6gw:gw6cPassword"]);
    try {
      new ConfigSecrets("stack-config");
      await settled();
    } finally {
      pulumi.runtime.setAllConfig({});
    }
    const [record] = byType("ipv6gw:site:ConfigSecrets");
    expect(record.inputs).toEqual({ keys: [{ key: "ipv6gw:wireguardPrivateKey", secret: false }, { key: "ipv6gw:gw6cPassword", secret: true }] });
    expect(JSON.stringify(record.inputs)).not.toContain("MARKER");
  });
});

describe("site problems are found before anything is registered", () => {
  const base = () => ({
    gateway: { connection, facts: gwFacts },
    tunnel: { kind: "wireguard", privateKey: "k", endpoint: "198.51.100.1:51820", peerPublicKey: "cHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHViMDA=", address: "2001:db8:ffff:100::2/64", routedPrefix: "2001:db8:8888::/48" } as const,
  });
  const problemsOf = async (args: import("../../components/site").Ipv6SiteArgs) => {
    const { ipv6SiteArgsSchema, siteProblems } = await import("../../components/site");
    const { describeProblem } = await import("../../components/problems");
    return siteProblems(ipv6SiteArgsSchema.parse(args)).map(describeProblem);
  };

  it.each([
    ["an old kernel", { facts: { ...gwFacts, kernel: "2.6.18-398.el5" } }, "older than 2.6.20"],
    ["a missing LAN interface", { lanInterface: "br-lan" }, "gateway.lanInterface: is 'br-lan', which does not exist on the box"],
    ["IPv6 disabled", { facts: { ...gwFacts, ipv6Enabled: false } }, "IPv6 is disabled"],
    ["no conntrack", { facts: { ...gwFacts, features: { ...gwFacts.features, conntrack: false } } }, "no IPv6 connection tracking"],
    ["firewalld running", { facts: { ...gwFacts, otherFirewalls: ["firewalld" as const] } }, "gateway: firewalld is running: it filters the same packets from its own nftables table, so it would block what this firewall lets through (the LAN going out); stop it with 'systemctl disable --now firewalld'"],
    ["ufw enabled", { facts: { ...gwFacts, otherFirewalls: ["ufw" as const] } }, "gateway: ufw is enabled: its chains and default policies (routed traffic dropped) filter the same packets, so it would block what this firewall lets through, and both would manage INPUT and FORWARD; turn it off with 'ufw disable'"],
    ["nftables flushing at boot", { facts: { ...gwFacts, otherFirewalls: ["nftables" as const] } }, "gateway: nftables.service is enabled and its config starts with 'flush ruleset': whenever it starts, restarts or reloads it deletes every table, this firewall's too (table ip6 ipv6gw, or the ip6tables filter table holding its chains), and forwarding stays on with no firewall; disable it with 'systemctl disable nftables', or replace 'flush ruleset' with deleting only its own tables (e.g. 'table inet filter; delete table inet filter' before that table)"],
    ["an uplink that is the LAN interface", { uplinkInterface: "eth0" }, "gateway.uplinkInterface: is the LAN interface 'eth0'"],
    ["uplinkAutoconf without an uplink", { uplinkAutoconf: true }, "gateway.uplinkAutoconf: needs uplinkInterface"],
  ])("%s", async (_what, gateway, fragment) => {
    const args = base();
    expect((await problemsOf({ ...args, gateway: { ...args.gateway, ...gateway } })).join("\n")).toContain(fragment);
  });

  it("a 6in4 tunnel on a kernel without sit", async () => {
    const args = base();
    const problems = await problemsOf({ ...args, tunnel: { kind: "sit6in4", serverIpv4: "198.51.100.1", clientIpv6: "2001:db8:ffff:200::2/64", routedPrefix: "2001:db8:8888::/48" } });
    expect(problems).toEqual(["gateway: the kernel has no sit (CONFIG_IPV6_SIT) for 6in4: load the sit module, or use a wireguard tunnel"]);
  });

  it.each([
    ["a kernel without nf_tables", { kernel: "3.10.0", features: { ...gwFacts.features, nftables: false } }, "firewall.backend: is nftables, but kernel 3.10.0 has no nf_tables (Linux 3.13 or later with CONFIG_NF_TABLES): load or build it, or use backend iptables"],
    ["an nft too old to read its table back", { nftVersion: "0.8.3" }, "firewall.backend: is nftables, but the box's nft is 0.8.3, older than 0.9.1 (named chain priorities): upgrade nftables, or use backend iptables"],
    ["a box without systemd", { serviceManager: "openrc" as const }, "firewall.backend: the nftables backend loads its table at boot with a systemd unit, and debian 12 runs openrc: use firewall.backend iptables, whose rules the distribution's own init scripts load"],
  ])("the nftables backend on %s, naming the fix", async (_what, facts, message) => {
    const args = base();
    const tunnel = { kind: "sit6in4", serverIpv4: "198.51.100.1", clientIpv6: "2001:db8:ffff:200::2/64", routedPrefix: "2001:db8:8888::/48" } as const;
    const problems = await problemsOf({ ...args, tunnel, gateway: { ...args.gateway, facts: { ...gwFacts, features: { ...gwFacts.features, sit: true }, ...facts } } });
    expect(problems).toContain(message);
    const iptables = await problemsOf({ ...args, tunnel, firewall: { backend: "iptables" }, gateway: { ...args.gateway, facts: { ...gwFacts, features: { ...gwFacts.features, sit: true }, ...facts } } });
    expect(iptables.filter((p) => p.startsWith("firewall"))).toEqual([]);
  });

  it("extraMatches (ip6tables syntax) with the nftables backend, naming the typed fields instead", async () => {
    const firewall = { rules: [{ name: "hl", action: "accept" as const, extraMatches: "-m hl --hl-eq 255" }] };
    expect(await problemsOf({ ...base(), firewall })).toEqual([
      "firewall.rules[0].extraMatches: extraMatches is ip6tables syntax, which the nftables backend does not pass to nft: use the typed fields (hopLimit, state, limit ...) or firewall.backend iptables",
    ]);
    expect(await problemsOf({ ...base(), firewall: { ...firewall, backend: "iptables" as const } })).toEqual([]);
  });

  it("a LAN prefix outside the routed prefix", async () => {
    expect(await problemsOf({ ...base(), lan: { prefix: "2001:db8:9999::/64" } })).toEqual([
      "lan.prefix: is 2001:db8:9999::/64, outside the tunnel's routed prefix 2001:db8:8888::/48: the far end routes only that prefix here, so the LAN would be unreachable; pick a /64 inside it",
    ]);
  });

  it("a client named like a vantage point of the checklist", async () => {
    const problems = await problemsOf({ ...base(), clients: [{ name: "outside", connection, facts: clientFacts("00:00:5e:00:53:11") }] });
    expect(problems).toEqual(["clients[0].name: 'outside' is reserved for the checklist's own vantage point; pick another name"]);
  });

  it.each([
    ["a missing LAN interface", (a: ReturnType<typeof base>) => ({ ...a, gateway: { ...a.gateway, lanInterface: "br-lan" } }), /Ipv6Site "bad" cannot be built as asked:\n {2}- gateway.lanInterface: is 'br-lan'/],
    ["an unknown key", (a: ReturnType<typeof base>) => ({ ...a, firewal: {} }), /- unknown key 'firewal' \(did you mean 'firewall'\?\)/],
    ["a non-systemd box for WireGuard", (a: ReturnType<typeof base>) => ({ ...a, gateway: { ...a.gateway, facts: { ...gwFacts, serviceManager: "sysv" as const } } }), /tunnel: needs systemd \(wg-quick@\)/],
    ["a missing gw6c tarball", (a: ReturnType<typeof base>) => ({ ...a, tunnel: { kind: "gw6c", source: { tarball: "/nonexistent/gw6c.tgz" }, server: "broker.example.net", authMethod: "anonymous", expectedPrefix: "2001:db8:8888::/64" } }), /tunnel.source.tarball: is \/nonexistent\/gw6c.tgz, which does not exist/],
    ["a malformed LAN prefix", (a: ReturnType<typeof base>) => ({ ...a, lan: { prefix: "2001:db8:::zz/64" } }), /lan.prefix: /],
  ])("and the component refuses %s without registering anything", async (_what, change, message) => {
    const { Ipv6Site } = await import("../../components/site");
    await settled();
    registered.length = 0;
    expect(() => new Ipv6Site("bad", change(base()) as never)).toThrow(message);
    await settled();
    expect(registered).toEqual([]);
  });
});
