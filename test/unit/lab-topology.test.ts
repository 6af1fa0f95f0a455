import { BlockList } from "net";
import {
  allHostLinkNames,
  allNetnsNames,
  BOX_NAMES,
  docMac,
  eui64InterfaceId,
  HOST_NAME_PREFIXES,
  linkLocalFor,
  machineIdFor,
  MAX_IFNAME,
  planLab,
  SCENARIOS,
  slaacAddressFor,
  tspSlotAddress,
  tspSlotPrefix,
} from "../../lab/topology";

const docRanges = new BlockList();
docRanges.addSubnet("192.0.2.0", 24, "ipv4");
docRanges.addSubnet("198.51.100.0", 24, "ipv4");
docRanges.addSubnet("203.0.113.0", 24, "ipv4");
docRanges.addSubnet("2001:db8::", 32, "ipv6");

const addr = (cidr: string) => cidr.split("/")[0];

function everyAddress(plan: ReturnType<typeof planLab>): string[] {
  const out: string[] = [];
  for (const b of plan.boxes) {
    for (const i of b.interfaces) {
      if (i.ipv4) out.push(i.ipv4);
      if (i.ipv6) out.push(i.ipv6);
    }
    // A route via a link-local next hop (isp's to the native pool) names its device: nothing routable there.
    for (const r of b.routes) if (!(r.via.startsWith("fe80::") && r.dev)) out.push(r.via);
    if (!b.ssh.host.startsWith("fe80::")) out.push(b.ssh.host);
  }
  for (const br of plan.bridges) {
    if (br.hostIpv4) out.push(br.hostIpv4);
    if (br.hostIpv6) out.push(br.hostIpv6);
  }
  const wg = plan.wireguard;
  out.push(wg.endpoint.split(":")[0], wg.ispAddress, wg.gwAddress, wg.routedPrefix, wg.lanPrefix, plan.outside.pingTarget);
  const t = plan.tsp;
  out.push(t.listen, t.tunnelPrefix, t.serverAddress, t.delegationPrefix, t.dnsServer, t.user.address, t.user.prefix);
  return out;
}

// Each scenario as it boots by default, and the others with as many LAN clients as the lab can boot.
const shapes = [...SCENARIOS.map((s) => [s, 2] as const), ["direct", 32] as const, ["nat", 32] as const];

describe.each(shapes)("topology, scenario %s with %d LAN clients", (scenario, clients) => {
  const plan = planLab(scenario, clients);

  it("boots the gw, its LAN clients c1..cN and the far side", () => {
    const lanClients = plan.boxes.filter((b) => b.name !== "c3" || scenario !== "native").map((b) => b.name).filter((n) => /^c\d+$/.test(n));
    expect(lanClients.sort()).toEqual(Array.from({ length: clients }, (_, i) => `c${i + 1}`).sort());
    expect(plan.clients).toBe(clients);
    expect(new Set(plan.boxes.map((b) => b.name)).size).toBe(plan.boxes.length);
    for (const b of plan.boxes) expect(BOX_NAMES).toContain(b.name);
  });

  it("uses documentation addresses only (RFC 5737, RFC 3849), each once", () => {
    const all = everyAddress(plan);
    const interfaces = plan.boxes.flatMap((b) => b.interfaces.flatMap((i) => [i.ipv4, i.ipv6].filter((a): a is string => a !== undefined)));
    expect(new Set(interfaces).size).toBe(interfaces.length);
    for (const a of all) {
      const ip = addr(a);
      expect({ a, doc: docRanges.check(ip, ip.includes(":") ? "ipv6" : "ipv4") }).toEqual({ a, doc: true });
    }
  });

  it("gives every interface a unique documentation MAC (RFC 7042)", () => {
    const macs = [
      ...plan.boxes.flatMap((b) => b.interfaces.map((i) => i.mac)),
      ...plan.bridges.map((b) => b.mac),
      ...plan.links.flatMap((l) => (l.kind === "bridge-port" ? [l.hostSideMac] : [])),
    ];
    for (const m of macs) expect(m).toMatch(/^00:00:5e:00:53:[0-9a-f]{2}$/);
    expect(new Set(macs).size).toBe(macs.length);
  });

  it("names host-side links with a lab prefix and within IFNAMSIZ", () => {
    const names = [...plan.bridges.map((b) => b.name), ...plan.links.flatMap((l) => (l.kind === "bridge-port" ? [l.hostSide] : []))];
    for (const n of names) {
      expect(HOST_NAME_PREFIXES.some((p) => n.startsWith(p))).toBe(true);
      expect(n.length).toBeLessThanOrEqual(MAX_IFNAME);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it("connects every box interface exactly once", () => {
    const ends = plan.links.flatMap((l) =>
      l.kind === "bridge-port" ? [`${l.box}/${l.ifname}`] : [`${l.a.box}/${l.a.ifname}`, `${l.b.box}/${l.b.ifname}`],
    );
    const ifaces = plan.boxes.flatMap((b) => b.interfaces.map((i) => `${b.name}/${i.name}`));
    expect([...ends].sort()).toEqual([...ifaces].sort());
  });

  it("keeps the fixed interface names and addresses the project relies on", () => {
    const box = (n: string) => plan.boxes.find((b) => b.name === n)!;
    const iface = (b: string, i: string) => box(b).interfaces.find((x) => x.name === i)!;
    expect(iface("gw", "eth0")).toMatchObject({ mac: "00:00:5e:00:53:01", ipv4: "192.0.2.1/24" });
    expect(iface("c1", "eth0")).toMatchObject({ mac: "00:00:5e:00:53:11", ipv4: "192.0.2.11/24" });
    expect(iface("c2", "eth0")).toMatchObject({ mac: "00:00:5e:00:53:12", ipv4: "192.0.2.12/24" });
    expect(iface("isp", "wan0").ipv4).toBe("198.51.100.1/24");
    expect(iface("isp", "inet0").ipv6).toBe("2001:db8:ffff::fe/64");
    expect(iface("outside", "inet0").ipv6).toBe("2001:db8:ffff::1/64");
    expect(box("outside").routes).toEqual([{ family: 6, to: "default", via: "2001:db8:ffff::fe" }]);
    expect(box("isp").ssh.host).toBe("2001:db8:ffff::fe");
    expect(box("outside").ssh.host).toBe("2001:db8:ffff::1");
  });

  it("leaves the gw blank: no IPv6 address, forwarding off", () => {
    const gw = plan.boxes.find((b) => b.name === "gw")!;
    expect(gw.interfaces.every((i) => i.ipv6 === undefined)).toBe(true);
    expect(gw.sysctls["net.ipv6.conf.all.forwarding"]).toBe("0");
    expect(gw.sysctls["net.ipv4.ip_forward"]).toBe("0");
    expect(gw.services).toEqual([]);
  });

  it("makes clients autoconfigure EUI-64 addresses from RAs", () => {
    for (const n of ["c1", "c2"]) {
      const c = plan.boxes.find((b) => b.name === n)!;
      expect(c.sysctls).toMatchObject({
        "net.ipv6.conf.default.accept_ra": "1",
        "net.ipv6.conf.default.autoconf": "1",
        "net.ipv6.conf.default.addr_gen_mode": "0",
        "net.ipv6.conf.default.use_tempaddr": "0",
        "net.ipv6.conf.all.forwarding": "0",
      });
    }
  });

  it("gives the host no IPv4 on the LAN and no route into the delegated prefix", () => {
    const lan = plan.bridges.find((b) => b.name === "ipv6gw-lan")!;
    expect(lan.hostIpv4).toBeUndefined();
    expect(lan.hostIpv6).toBeUndefined();
    expect(plan.bridges.find((b) => b.name === "ipv6gw-inet")!.hostIpv6).toBe("2001:db8:ffff::10/64");
  });

  it("reaches LAN boxes over link-local on the LAN bridge", () => {
    expect(plan.boxes.find((b) => b.name === "gw")!.ssh.host).toBe("fe80::200:5eff:fe00:5301%ipv6gw-lan");
    expect(plan.boxes.find((b) => b.name === "c1")!.ssh.host).toBe("fe80::200:5eff:fe00:5311%ipv6gw-lan");
  });
});

describe("scenarios differ only where they should", () => {
  it("direct: gw wan0 is wired to isp, no natbox", () => {
    const plan = planLab("direct");
    expect(plan.boxes.map((b) => b.name)).toEqual(["gw", "c1", "c2", "isp", "outside"]);
    expect(plan.links.filter((l) => l.kind === "pair")).toEqual([
      { kind: "pair", a: { box: "gw", ifname: "wan0" }, b: { box: "isp", ifname: "wan0" } },
    ]);
    const gw = plan.boxes[0];
    expect(gw.interfaces.find((i) => i.name === "wan0")!.ipv4).toBe("198.51.100.2/24");
    expect(gw.routes).toEqual([{ family: 4, to: "default", via: "198.51.100.1" }]);
  });

  it("nat: gw sits behind natbox, which masquerades toward isp", () => {
    const plan = planLab("nat");
    expect(plan.boxes.map((b) => b.name)).toContain("natbox");
    expect(plan.links.filter((l) => l.kind === "pair")).toEqual([
      { kind: "pair", a: { box: "gw", ifname: "wan0" }, b: { box: "natbox", ifname: "lan0" } },
      { kind: "pair", a: { box: "natbox", ifname: "wan0" }, b: { box: "isp", ifname: "wan0" } },
    ]);
    const gw = plan.boxes.find((b) => b.name === "gw")!;
    expect(gw.interfaces.find((i) => i.name === "wan0")!.ipv4).toBe("203.0.113.2/24");
    expect(gw.routes).toEqual([{ family: 4, to: "default", via: "203.0.113.1" }]);
    const natbox = plan.boxes.find((b) => b.name === "natbox")!;
    expect(natbox.interfaces.map((i) => [i.name, i.ipv4])).toEqual([
      ["lan0", "203.0.113.1/24"],
      ["wan0", "198.51.100.3/24"],
    ]);
    expect(natbox.services).toEqual(["nat"]);
    expect(natbox.sysctls["net.ipv4.ip_forward"]).toBe("1");
  });

  it("keeps every box's MAC the same in both scenarios (stable EUI-64)", () => {
    const macs = (s: (typeof SCENARIOS)[number]) =>
      Object.fromEntries(planLab(s).boxes.flatMap((b) => b.interfaces.map((i) => [`${b.name}/${i.name}`, i.mac])));
    const direct = macs("direct");
    const nat = macs("nat");
    for (const [k, v] of Object.entries(direct)) expect(nat[k]).toBe(v);
  });

  it("rejects an unknown scenario", () => {
    expect(() => planLab("bridge" as never)).toThrow("unknown scenario 'bridge'; use one of: direct, nat");
  });
});

describe("the TSP broker", () => {
  it("runs on isp's WAN address, port 3653, in every scenario, with ARCHITECTURE.md's ranges", () => {
    for (const s of SCENARIOS) {
      const plan = planLab(s);
      expect(plan.tsp).toMatchObject({
        box: "isp",
        listen: "198.51.100.1",
        port: 3653,
        tunnelPrefix: "2001:db8:ffff:200::/64",
        serverAddress: "2001:db8:ffff:200::1",
        delegationPrefix: "2001:db8:7777::/48",
      });
      expect(plan.boxes.find((b) => b.name === "isp")!.services).toEqual(expect.arrayContaining(["wireguard", "tsp"]));
      expect(plan.boxes.find((b) => b.name === "isp")!.interfaces.find((i) => i.name === "wan0")!.ipv4).toBe("198.51.100.1/24");
    }
  });

  it.each([
    [1, "2001:db8:ffff:200::1:2", "2001:db8:7777:1::/64"],
    [256, "2001:db8:ffff:200::100:2", "2001:db8:7777:100::/64"],
    [0xffff, "2001:db8:ffff:200::ffff:2", "2001:db8:7777:ffff::/64"],
  ])("gives slot %d the tunnel address %s and the /64 %s (as lab/tsp-broker/assign.go does)", (slot, address, prefix) => {
    expect(tspSlotAddress("2001:db8:ffff:200::/64", slot)).toBe(address);
    expect(tspSlotPrefix("2001:db8:7777::/48", slot)).toBe(prefix);
  });

  it("names the user's stable addresses", () => {
    expect(planLab("direct").tsp.user).toEqual({ userid: "todd", slot: 1, address: "2001:db8:ffff:200::1:2", prefix: "2001:db8:7777:1::/64" });
  });

  it("refuses prefixes it cannot carve slots from", () => {
    expect(() => tspSlotPrefix("2001:db8:7777::/56", 1)).toThrow("expected a /48 written like '2001:db8:7777::/48', got '2001:db8:7777::/56'");
    expect(() => tspSlotAddress("2001:db8:ffff:200:1::/64", 1)).toThrow("expected a /64");
  });
});

describe("machine-ids", () => {
  it("are 32 lowercase hex digits, stable and distinct per box", () => {
    const ids = BOX_NAMES.map(machineIdFor);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(BOX_NAMES.map(machineIdFor)).toEqual(ids);
    expect(machineIdFor("gw")).toBe("affaaf58e39caa50005a72417baf7c46");
  });
});

describe("EUI-64", () => {
  it.each([
    ["00:00:5e:00:53:11", "200:5eff:fe00:5311"],
    ["00:00:5e:00:53:01", "200:5eff:fe00:5301"],
    ["02:00:00:00:00:01", "0:ff:fe00:1"],
  ])("%s -> interface id %s", (mac, id) => {
    expect(eui64InterfaceId(mac)).toBe(id);
  });

  it("gives c1 the address the by-hand test expects", () => {
    expect(slaacAddressFor("2001:db8:8888::/64", "00:00:5e:00:53:11")).toBe("2001:db8:8888:0:200:5eff:fe00:5311");
    expect(linkLocalFor("00:00:5e:00:53:01")).toBe("fe80::200:5eff:fe00:5301");
  });

  it("rejects what is not a MAC or a /64", () => {
    expect(() => eui64InterfaceId("00:00:5e:00:53")).toThrow("is not a MAC address");
    expect(() => slaacAddressFor("2001:db8:8888::/48", "00:00:5e:00:53:11")).toThrow("expected a /64");
    expect(() => docMac(256)).toThrow("0..255");
  });
});

describe("cleanup name lists", () => {
  it("cover every scenario's namespaces (and restart's parking ones) and host links, with as many clients as the lab can boot", () => {
    const clients = Array.from({ length: 32 }, (_, i) => `c${i + 1}`);
    const boxes = ["gw", "c1", "c2", "isp", "outside", "natbox", "c3", ...clients.slice(3)];
    expect(allNetnsNames()).toEqual([...boxes.map((b) => `ipv6gw-${b}`), ...boxes.map((b) => `ipv6gw-park-${b}`)]);
    expect(allHostLinkNames().sort()).toEqual(["ipv6gw-inet", "ipv6gw-lan", "ipv6gw-lan2", ...clients.map((c) => `lab-${c}-eth0`), "lab-gw-eth0", "lab-gw-eth1", "lab-isp-inet0", "lab-out-inet0"].sort());
  });
});

describe("the native scenario", () => {
  const plan = planLab("native");
  const box = (n: string) => plan.boxes.find((b) => b.name === n)!;

  it("adds c3 on a second LAN bridge to gw's eth1, link-local only for the host", () => {
    expect(plan.boxes.map((b) => b.name)).toEqual(["gw", "c1", "c2", "isp", "outside", "c3"]);
    expect(box("gw").interfaces.find((i) => i.name === "eth1")).toEqual({ name: "eth1", mac: "00:00:5e:00:53:03" });
    expect(box("c3").interfaces).toEqual([{ name: "eth0", mac: "00:00:5e:00:53:13", ipv4: "192.0.2.13/24" }]);
    expect(box("c3").routes).toEqual([]);
    expect(box("c3").ssh.host).toBe("fe80::200:5eff:fe00:5313%ipv6gw-lan2");
    const lan2 = plan.bridges.find((b) => b.name === "ipv6gw-lan2")!;
    expect(lan2.hostIpv4).toBeUndefined();
    expect(lan2.hostIpv6).toBeUndefined();
    expect(plan.links.filter((l) => l.kind === "bridge-port" && l.bridge === "ipv6gw-lan2").map((l) => l.kind === "bridge-port" && `${l.box}/${l.ifname}`)).toEqual([
      "gw/eth1",
      "c3/eth0",
    ]);
  });

  it("makes isp a DHCPv6 server and router on the gw link, routing the delegation pool to the gw's link-local", () => {
    const isp = box("isp");
    expect(isp.interfaces.find((i) => i.name === "wan0")).toMatchObject({ ipv4: "198.51.100.1/24", ipv6: "2001:db8:ffff:1::1/64" });
    expect(isp.routes).toEqual([{ family: 6, to: "2001:db8:9900::/40", via: "fe80::200:5eff:fe00:5302", dev: "wan0" }]);
    expect(isp.services).toEqual(["wireguard", "tsp", "dhcp6", "radvd"]);
    expect(plan.native).toMatchObject({ pdPool: "2001:db8:9900::/40", delegatedLength: 56, wanPrefix: "2001:db8:ffff:1::/64" });
  });

  it("leaves the other scenarios without c3, eth1, lan2 or a DHCPv6 server", () => {
    for (const s of ["direct", "nat"] as const) {
      const p = planLab(s);
      expect(p.boxes.map((b) => b.name)).not.toContain("c3");
      expect(p.bridges.map((b) => b.name)).not.toContain("ipv6gw-lan2");
      expect(p.boxes.find((b) => b.name === "gw")!.interfaces.map((i) => i.name)).toEqual(["eth0", "wan0"]);
      expect(p.boxes.find((b) => b.name === "isp")!.services).toEqual(["wireguard", "tsp"]);
      expect(p.native).toBeUndefined();
    }
  });
});

describe("the number of LAN clients", () => {
  it.each([
    ["direct", 1, "--clients must be a whole number from 2 to 32, got '1'"],
    ["direct", 33, "--clients must be a whole number from 2 to 32, got '33'"],
    ["nat", 2.5, "--clients must be a whole number from 2 to 32, got '2.5'"],
    ["native", 3, "the native scenario has its two LAN clients and c3 on the second LAN"],
  ] as const)("refuses scenario %s with %d", (scenario, clients, message) => {
    expect(() => planLab(scenario, clients)).toThrow(message);
  });

  it("keeps c1..c3's MACs and addresses, so a bigger lab is the same lab plus clients", () => {
    const small = planLab("direct");
    const big = planLab("direct", 32);
    for (const name of ["gw", "c1", "c2", "isp", "outside"]) expect(big.boxes.find((b) => b.name === name)).toEqual(small.boxes.find((b) => b.name === name));
    const c3 = big.boxes.find((b) => b.name === "c3")!;
    expect(c3.interfaces[0]).toMatchObject({ mac: planLab("native").boxes.find((b) => b.name === "c3")!.interfaces[0].mac, ipv4: "192.0.2.13/24" });
    expect(big.boxes.find((b) => b.name === "c32")!.interfaces[0]).toMatchObject({ mac: "00:00:5e:00:53:c0", ipv4: "192.0.2.42/24" });
  });
});
