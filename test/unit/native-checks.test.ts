// The checklist of a native site names no prefix: the planner's probes, and
// the probe scripts run here with sh and awk against a stand-in `ip` that
// prints what a box holds.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { eui64Groups, nativeSiteProbes } from "../../components/checks/checks";
import { delegatedLanPrefix, holdsEui64In, noPingStdin, pingStdin, tcpAdmProhibitedStdin } from "../../components/checks/probes";

const held = (ifname: string, address: string, flags = "dynamic noprefixroute", lifetimes = "valid_lft 98sec preferred_lft 38sec") => `3: ${ifname}    inet6 ${address} scope global ${flags} \\       ${lifetimes}`;

describe("nativeSiteProbes (planner)", () => {
  const site = {
    pingTarget: "2001:db8:ffff::1",
    httpUrl: "http://[2001:db8:ffff::1]/",
    tunnel: { kind: "dhcpv6-pd" as const, interface: "wan0", running: { unit: "ipv6gw-dhcpcd" } },
    radvdProcess: "radvd",
    outsidePingAllowed: true,
    delegatedLans: ["eth0", "eth1"],
    clients: [
      { name: "c1", interface: "eth0", lan: "eth0", mac: "00:00:5e:00:53:11" },
      { name: "c3", interface: "eth0", lan: "eth1", mac: "00:00:5e:00:53:13" },
    ],
    outsidePort: 80,
  };

  it("plans the checklist with the prefix found on the boxes: gateway LANs, then each client in its LAN's /64, then outside-in to the address the client holds", () => {
    const probes = nativeSiteProbes(site);
    expect(probes.map((p) => [p.name, p.on, p.stdinFrom ?? ""])).toEqual([
      ["gateway: IPv6 forwarding on", "gateway", ""],
      ["gateway: WAN wan0 up", "gateway", ""],
      ["gateway: ipv6gw-dhcpcd active", "gateway", ""],
      ["gateway: radvd running", "gateway", ""],
      ["gateway: eth0 holds a delegated /64 (::1)", "gateway", ""],
      ["gateway: eth1 holds a delegated /64 (::1)", "gateway", ""],
      ["gateway: ping6 2001:db8:ffff::1", "gateway", ""],
      ["c1: holds its EUI-64 address in eth0's /64, preferred", "c1", "gateway: eth0 holds a delegated /64 (::1)"],
      ["c1: ping6 2001:db8:ffff::1", "c1", ""],
      ["c1: fetches http://[2001:db8:ffff::1]/", "c1", ""],
      ["c3: holds its EUI-64 address in eth1's /64, preferred", "c3", "gateway: eth1 holds a delegated /64 (::1)"],
      ["c3: ping6 2001:db8:ffff::1", "c3", ""],
      ["c3: fetches http://[2001:db8:ffff::1]/", "c3", ""],
      ["outside: TCP 80 to c1 refused (adm-prohibited)", "outside", "c1: holds its EUI-64 address in eth0's /64, preferred"],
      ["outside: c1 answers ping6 (ICMPv6 allowed)", "outside", "c1: holds its EUI-64 address in eth0's /64, preferred"],
      ["outside: TCP 80 to c3 refused (adm-prohibited)", "outside", "c3: holds its EUI-64 address in eth1's /64, preferred"],
      ["outside: c3 answers ping6 (ICMPv6 allowed)", "outside", "c3: holds its EUI-64 address in eth1's /64, preferred"],
    ]);
    expect(probes.find((p) => p.name.startsWith("c3: holds"))!.script).toBe(holdsEui64In("eth0", "0200:5eff:fe00:5313"));
    expect(probes.find((p) => p.name === "outside: TCP 80 to c1 refused (adm-prohibited)")!.script).toBe(tcpAdmProhibitedStdin(80));
    expect(nativeSiteProbes({ ...site, outsidePingAllowed: false }).find((p) => p.name.startsWith("outside: c1"))!.script).toBe(noPingStdin);
    expect(probes.find((p) => p.name === "outside: c1 answers ping6 (ICMPv6 allowed)")!.script).toBe(pingStdin);
  });

  it("names no prefix anywhere: a renumbering changes no probe", () => {
    expect(JSON.stringify(nativeSiteProbes(site))).not.toMatch(/2001:db8:99/);
  });

  it("writes a MAC's EUI-64 interface id as four full groups", () => {
    expect(eui64Groups("00:00:5e:00:53:11")).toBe("0200:5eff:fe00:5311");
    expect(eui64Groups("02:00:00:00:00:01")).toBe("0000:00ff:fe00:0001");
  });
});

describe("the native probe scripts, on a stand-in box", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-probes-"));
    fs.mkdirSync(path.join(dir, "bin"));
    // Prints "<dir>/held" whatever the filters: the script's awk must pick the right line.
    fs.writeFileSync(path.join(dir, "bin", "ip"), `#!/bin/sh\ncat "${dir}/held"\n`, { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (script: string, lines: string[], stdin = "") => {
    fs.writeFileSync(path.join(dir, "held"), lines.map((l) => `${l}\n`).join(""));
    const r = spawnSync("sh", ["-c", script], { input: stdin, encoding: "utf8", env: { PATH: `${dir}/bin:${process.env.PATH}` } });
    return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  };

  it("the gateway's LAN prints the /64 of its delegated ::1, not of another address it holds", () => {
    expect(run(delegatedLanPrefix("eth0"), [held("eth0", "2001:db8:9900:1000:0:0:0:5/64"), held("eth0", "2001:db8:9900:1000::1/64")])).toEqual({ code: 0, stdout: "2001:db8:9900:1000::/64", stderr: "" });
  });

  it("the gateway's LAN without a delegated ::1 fails, showing what it holds", () => {
    const r = run(delegatedLanPrefix("eth0"), []);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("eth0 holds no delegated /64 (its ::1 from the DHCPv6 client, preferred):");
  });

  it("a client holding its EUI-64 in the LAN's /64 prints it; one in another /64 (the old prefix) does not count", () => {
    const iid = "0200:5eff:fe00:5311";
    const old = held("eth0", "2001:db8:9900:0:200:5eff:fe00:5311/64");
    const fresh = held("eth0", "2001:db8:9900:1000:200:5eff:fe00:5311/64");
    expect(run(holdsEui64In("eth0", iid), [old, fresh], "2001:db8:9900:1000::/64\n")).toEqual({ code: 0, stdout: "2001:db8:9900:1000:200:5eff:fe00:5311", stderr: "" });
    const r = run(holdsEui64In("eth0", iid), [old], "2001:db8:9900:1000::/64\n");
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("eth0 holds no preferred address with interface id 0200:5eff:fe00:5311 in 2001:db8:9900:1000::/64:");
  });

  it("a client without the gateway's /64 on stdin fails saying so", () => {
    expect(run(holdsEui64In("eth0", "0200:5eff:fe00:5311"), [], "")).toEqual({ code: 1, stdout: "", stderr: "no /64 came from the gateway's probe" });
  });

  it("outside refuses to use anything but an address from the client's probe", () => {
    expect(run(pingStdin, [], "2001:db8::1; rm -rf /\n")).toEqual({ code: 1, stdout: "", stderr: "no address came from the client's probe (got '2001:db8::1; rm -rf /')" });
    expect(run(tcpAdmProhibitedStdin(80), [], "").stderr).toBe("no address came from the client's probe (got '')");
  });
});
