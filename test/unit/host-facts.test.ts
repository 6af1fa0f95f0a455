import * as fs from "fs";
import * as path from "path";
import { FACTS_SCRIPT, HostFactsProvider, parseFacts, stableFacts } from "../../components/host/host-facts";
import { FakeRemote, connection, opener } from "./fake-remote";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");

describe("host facts", () => {
  it("reads a modern Debian gateway with everything built into the kernel", () => {
    const f = parseFacts(fixture("facts-debian12-gw.txt"));
    expect(f).toMatchObject({ distro: "debian", distroVersion: "12", kernel: "6.18.44-fc-v657", ipv6Enabled: true, ipv6Forwarding: true });
    expect(f).toMatchObject({ ip6tablesBackend: "nf_tables", ip6tablesVersion: "1.8.9", packageManager: "apt", serviceManager: "systemd", networkStack: "none" });
    expect(f.features).toEqual({ ipv6: true, tun: true, conntrack: true, ip6tablesFilter: true, reject: true, nftables: true, sit: false, wireguard: false });
    const eth0 = f.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0.mac).toBe("00:00:5e:00:53:01");
    expect(eth0.ipv6).toEqual([
      { address: "2001:db8:8888::1/64", scope: "global", tentative: false },
      { address: "fe80::200:5eff:fe00:5301/64", scope: "link", tentative: false },
    ]);
    expect(f.interfaces.find((i) => i.name === "wg0")!.ipv6[0]).toEqual({ address: "2001:db8:ffff:100::2/64", scope: "global", tentative: true });
  });

  it("reads the HOWTO's CentOS 5 gateway from its loaded modules", () => {
    const f = parseFacts(fixture("facts-centos5-gw.txt"));
    expect(f).toMatchObject({ distro: "centos", distroVersion: "5.11", kernel: "2.6.18-398.el5", packageManager: "yum", serviceManager: "sysv", networkStack: "ifcfg" });
    expect(f.ip6tablesBackend).toBe("legacy");
    expect(f.features).toMatchObject({ tun: true, conntrack: true, ip6tablesFilter: true, reject: true, sit: true, wireguard: false });
    expect(f.interfaces.find((i) => i.name === "eth0")!.ipv6[0].address).toBe("fe80::290:27ff:fee0:a00/64");
  });

  it("names other firewall managers once each, and none on a box without them", () => {
    expect(parseFacts(fixture("facts-debian12-gw.txt")).otherFirewalls).toEqual([]);
    expect(parseFacts("otherfw=ufw\notherfw=firewalld\notherfw=ufw\n").otherFirewalls).toEqual(["firewalld", "ufw"]);
  });

  it("reads nft and nf_tables: from nft itself, the loaded module, the kernel config or the modules on disk", () => {
    expect(parseFacts("nft=nftables v1.0.6 (Lester Gooch #5)\nproc=nf_tables\n")).toMatchObject({ nftVersion: "1.0.6", features: { nftables: true } });
    expect(parseFacts("nft=\nmodules=nf_tables nf_conntrack\n")).toMatchObject({ nftVersion: "", features: { nftables: true } });
    expect(parseFacts("nft=\nkconfig=CONFIG_NF_TABLES=m\n").features.nftables).toBe(true);
    expect(parseFacts("nft=\nkmod=nf_tables\n").features.nftables).toBe(true);
    expect(parseFacts(fixture("facts-centos5-gw.txt"))).toMatchObject({ nftVersion: "", features: { nftables: false } });
  });

  it("says when IPv6 is missing or disabled", () => {
    expect(parseFacts("ipv6=absent\n")).toMatchObject({ ipv6Enabled: false, features: { ipv6: false } });
    expect(parseFacts("ipv6=1\n")).toMatchObject({ ipv6Enabled: false, features: { ipv6: true } });
  });

  it("records how the stack's own session reached the box, without the zone of a link-local address", () => {
    expect(parseFacts("mgmt=fe80::20:1ff:fe00:10%ipv6gw-lan fe80::200:5eff:fe00:5301 22 eth0\n").management).toEqual({
      clientAddress: "fe80::20:1ff:fe00:10",
      serverAddress: "fe80::200:5eff:fe00:5301",
      serverPort: 22,
      interface: "eth0",
    });
    expect(parseFacts("mgmt=198.51.100.7 203.0.113.2 2222 \n").management).toEqual({ clientAddress: "198.51.100.7", serverAddress: "203.0.113.2", serverPort: 2222, interface: "" });
    expect(parseFacts("mgmt=fe80::10%lan fe80::200:5eff:fe00:5301%eth0 22 \n").management).toEqual({
      clientAddress: "fe80::10",
      serverAddress: "fe80::200:5eff:fe00:5301",
      serverPort: 22,
      interface: "eth0",
    });
    expect(parseFacts("distro=debian\n").management).toBeUndefined();
  });
});

describe("HostFacts provider", () => {
  const debian = fixture("facts-debian12-gw.txt");
  const stable = {
    ...parseFacts(debian),
    // What changes while the stack works on the box is left out: it would show as drift on every refresh.
    interfaces: [
      { name: "eth0", mac: "00:00:5e:00:53:01", up: true, ipv6: [] },
      { name: "wan0", mac: "00:00:5e:00:53:02", up: true, ipv6: [] },
    ],
    ipv6Forwarding: false,
    modules: [],
    ip6tablesBackend: "",
    ip6tablesVersion: "",
    nftVersion: "",
    // nf_tables is also seen through nft and ip6tables, which the stack installs.
    features: { ...parseFacts(debian).features, nftables: false },
  };

  it("records the box's stable facts, named by its kernel", async () => {
    const box = new FakeRemote([[FACTS_SCRIPT, { stdout: debian }]]);
    const { id, outs } = await new HostFactsProvider(opener(box)).create({ connection });
    expect(id).toBe("facts:6.18.44-fc-v657");
    expect(outs).toEqual({ connection, facts: stable });
    expect(outs.facts).toEqual(stableFacts(parseFacts(debian)));
    expect(box.scripts).toEqual([FACTS_SCRIPT]);
  });

  it("reads what changed (a new kernel) on refresh, and never asks for an update for it", async () => {
    const upgraded = debian.replace("kernel=6.18.44-fc-v657", "kernel=6.19.1-fc-v700");
    const p = new HostFactsProvider(opener(new FakeRemote([[FACTS_SCRIPT, { stdout: upgraded }]])));
    const read = await p.read("facts:6.18.44-fc-v657", { connection, facts: stable });
    expect(read).toEqual({ id: "facts:6.18.44-fc-v657", props: { connection, facts: { ...stable, kernel: "6.19.1-fc-v700" } } });
    expect(await p.diff("f", { connection, facts: stable, __provider: "v1" } as never, { connection, __provider: "v1" } as never)).toEqual({ changes: false });
    expect(await p.diff("f", { connection, facts: stable, __provider: "v1" } as never, { connection, __provider: "v2" } as never)).toEqual({ changes: true });
    const { outs } = await p.update("f", { connection, facts: stable }, { connection });
    expect(outs.facts.kernel).toBe("6.19.1-fc-v700");
  });

  it("records the facts the program observed without reading the box again, and refresh still reads the box", async () => {
    const box = new FakeRemote([[FACTS_SCRIPT, { stdout: debian.replace("kernel=6.18.44-fc-v657", "kernel=6.19.1-fc-v700") }]]);
    const p = new HostFactsProvider(opener(box));
    const { id, outs } = await p.create({ connection, observed: stable });
    expect(id).toBe("facts:6.18.44-fc-v657");
    expect(outs.facts).toEqual(stable);
    expect(box.calls).toEqual([]);
    expect((await p.check({}, { connection, observed: stable })).failures).toEqual([]);
    expect((await p.check({}, { connection, observed: "gw" })).failures.map((f) => f.property)).toEqual(["observed"]);
    expect((await p.read(id, outs)).props.facts.kernel).toBe("6.19.1-fc-v700");
  });

  it("leaves what a refresh read for the program of the same command (up --refresh dials each box once)", async () => {
    const put: [unknown, unknown][] = [];
    const command = { get: () => undefined, put: (c: unknown, f: unknown) => void put.push([c, f]) };
    const p = new HostFactsProvider(opener(new FakeRemote([[FACTS_SCRIPT, { stdout: debian }]])), () => command);
    const read = await p.read("facts:6.18.44-fc-v657", { connection, facts: stable });
    expect(read.props.facts).toEqual(stable);
    // All of them, as the program reads them: the preflight judges what stableFacts leaves out.
    expect(put).toEqual([[connection, parseFacts(debian)]]);
  });

  it("fails with the box's words when the facts cannot be read", async () => {
    const p = new HostFactsProvider(opener(new FakeRemote([[FACTS_SCRIPT, { code: 127, stderr: "sh: 1: awk: not found\n" }]])));
    await expect(p.create({ connection })).rejects.toThrow("reading host facts failed on root@fake.example:22 (exit 127): sh: 1: awk: not found");
  });

  it("checks the connection without asking the box, and deletes nothing", async () => {
    const box = new FakeRemote();
    const p = new HostFactsProvider(opener(box));
    expect((await p.check({}, { connection })).failures).toEqual([]);
    expect((await p.check({}, { connection: { ...connection, port: 70000 } })).failures.map((f) => f.property)).toEqual(["connection.port"]);
    await p.delete();
    expect(box.calls).toEqual([]);
  });
});
