// The site's checklist: the pure planner of probes, and the SiteProbe
// provider running them on fake boxes (one per connection) with a clock that
// never waits.
import { siteProbes } from "../../components/checks/checks";
import { Probe, forwardingOn, hasAddress, httpGet, interfaceUp, noPing, ping, running, tcpAdmProhibited, wireguardHandshake } from "../../components/checks/probes";
import { SiteProbeProvider } from "../../components/checks/site-probe";
import { Connection } from "../../components/host/connection";
import { UNKNOWN } from "../../components/host/provider-kit";
import { RunResult } from "../../components/host/remote";
import { FakeClock, FakeRemote, Rule, connection, inTurn } from "./fake-remote";

describe("siteProbes (planner)", () => {
  const site = {
    pingTarget: "2001:db8:ffff::1",
    lanInterface: "eth1",
    lanPrefix: "2001:db8:8888::/64",
    tunnel: { kind: "wireguard" as const, interface: "wg0", running: { process: "wireguard-go" } },
    radvdProcess: "radvd",
    outsidePingAllowed: false,
    clients: [
      { name: "c1", interface: "eth0", expectedAddress: "2001:db8:8888:0:200:5eff:fe00:5311" },
      { name: "c2", interface: "ens3", expectedAddress: "2001:db8:8888:0:200:5eff:fe00:5312" },
    ],
  };

  it("plans the HOWTO's checklist for a whole site, each probe on its box with its patience", () => {
    const probes = siteProbes({ ...site, httpUrl: "http://[2001:db8:ffff::80]/", outsidePort: 80 });
    const c1 = site.clients[0].expectedAddress;
    const c2 = site.clients[1].expectedAddress;
    expect(probes).toEqual<Probe[]>([
      { name: "gateway: IPv6 forwarding on", on: "gateway", script: forwardingOn, retrySeconds: 0 },
      { name: "gateway: tunnel wg0 up", on: "gateway", script: interfaceUp("wg0"), retrySeconds: 30 },
      { name: "gateway: wireguard-go running", on: "gateway", script: running("wireguard-go"), retrySeconds: 30 },
      { name: "gateway: WireGuard handshake with the far end", on: "gateway", script: wireguardHandshake("wg0"), retrySeconds: 30 },
      { name: "gateway: radvd running", on: "gateway", script: running("radvd"), retrySeconds: 10 },
      { name: "gateway: 2001:db8:8888::1/64 on eth1", on: "gateway", script: hasAddress("eth1", "2001:db8:8888::1/64"), retrySeconds: 30 },
      { name: "gateway: ping6 2001:db8:ffff::1", on: "gateway", script: ping("2001:db8:ffff::1"), retrySeconds: 30 },
      { name: `c1: has ${c1}/64`, on: "c1", script: hasAddress("eth0", `${c1}/64`), retrySeconds: 90 },
      { name: "c1: ping6 2001:db8:ffff::1", on: "c1", script: ping("2001:db8:ffff::1"), retrySeconds: 30, after: `c1: has ${c1}/64` },
      { name: "c1: fetches http://[2001:db8:ffff::80]/", on: "c1", script: httpGet("http://[2001:db8:ffff::80]/"), retrySeconds: 30, after: `c1: has ${c1}/64` },
      { name: `c2: has ${c2}/64`, on: "c2", script: hasAddress("ens3", `${c2}/64`), retrySeconds: 90 },
      { name: "c2: ping6 2001:db8:ffff::1", on: "c2", script: ping("2001:db8:ffff::1"), retrySeconds: 30, after: `c2: has ${c2}/64` },
      { name: "c2: fetches http://[2001:db8:ffff::80]/", on: "c2", script: httpGet("http://[2001:db8:ffff::80]/"), retrySeconds: 30, after: `c2: has ${c2}/64` },
      { name: "outside: TCP 80 to c1 refused (adm-prohibited)", on: "outside", script: tcpAdmProhibited(c1, 80), retrySeconds: 10, after: `c1: has ${c1}/64` },
      { name: "outside: c1 does not answer ping6 (ICMPv6 not allowed)", on: "outside", script: noPing(c1), retrySeconds: 0, after: `c1: has ${c1}/64` },
      { name: "outside: TCP 80 to c2 refused (adm-prohibited)", on: "outside", script: tcpAdmProhibited(c2, 80), retrySeconds: 10, after: `c2: has ${c2}/64` },
      { name: "outside: c2 does not answer ping6 (ICMPv6 not allowed)", on: "outside", script: noPing(c2), retrySeconds: 0, after: `c2: has ${c2}/64` },
    ]);
  });

  it.each([
    ["a gw6c site: no handshake probe", { tunnel: { kind: "gw6c" as const, interface: "tun", running: { process: "gw6c" } } }, ["gateway: tunnel tun up", "gateway: gw6c running"], "WireGuard"],
    ["a 6in4 site: no handshake probe", { tunnel: { kind: "sit6in4" as const, interface: "he-ipv6", running: { unit: "ipv6gw-he-ipv6" } } }, ["gateway: tunnel he-ipv6 up", "gateway: ipv6gw-he-ipv6 active"], "WireGuard"],
    ["no outside box: no outside probes", {}, ["c1: ping6 2001:db8:ffff::1"], "outside:"],
    ["no URL: no fetches", {}, ["c2: ping6 2001:db8:ffff::1"], "fetches"],
  ])("plans %s", (_what, change, present, absent) => {
    const names = siteProbes({ ...site, ...change }).map((p) => p.name);
    for (const name of present) expect(names).toContain(name);
    expect(names.filter((n) => n.includes(absent))).toEqual([]);
  });

  it("lets outsiders' ping through when the firewall allows ICMPv6, and expects it answered", () => {
    const outside = siteProbes({ ...site, outsidePingAllowed: true, outsidePort: 22 }).filter((p) => p.on === "outside");
    expect(outside.map((p) => [p.name, p.script, p.retrySeconds])).toEqual([
      ["outside: TCP 22 to c1 refused (adm-prohibited)", tcpAdmProhibited(site.clients[0].expectedAddress, 22), 10],
      ["outside: c1 answers ping6 (ICMPv6 allowed)", ping(site.clients[0].expectedAddress), 10],
      ["outside: TCP 22 to c2 refused (adm-prohibited)", tcpAdmProhibited(site.clients[1].expectedAddress, 22), 10],
      ["outside: c2 answers ping6 (ICMPv6 allowed)", ping(site.clients[1].expectedAddress), 10],
    ]);
  });

  it("names every probe once, and runs each on the gateway, a client or the outside box", () => {
    const probes = siteProbes({ ...site, httpUrl: "http://example.org/", outsidePort: 80 });
    expect(new Set(probes.map((p) => p.name)).size).toBe(probes.length);
    expect([...new Set(probes.map((p) => p.on))]).toEqual(["gateway", "c1", "c2", "outside"]);
  });

  it("refuses a LAN prefix that is not a /64 (there is no gateway address to expect)", () => {
    expect(() => siteProbes({ ...site, lanPrefix: "2001:db8:8888::/56" })).toThrow(/must be a \/64/);
  });
});

describe("SiteProbe provider", () => {
  const connections = { gateway: connection, c1: { ...connection, host: "192.0.2.11" } };
  const probe = (name: string, on: string, retrySeconds = 0): Probe => ({ name, on, script: `check ${name}`, retrySeconds });
  const ok: Partial<RunResult> = { stdout: "ok\n" };
  const fail = (why: string): Partial<RunResult> => ({ code: 1, stderr: `${why}\n` });

  /** A provider whose boxes are fake, one per connection name; a box without rules cannot be reached. */
  function sites(rules: Record<string, Rule[]>) {
    const clock = new FakeClock();
    const boxes: Record<string, FakeRemote> = Object.fromEntries(Object.entries(rules).map(([name, r]) => [name, new FakeRemote(r, name)]));
    const open = async (c: Connection) => {
      const name = Object.entries(connections).find(([, x]) => x.host === c.host)![0];
      if (!boxes[name]) throw new Error(`connect ECONNREFUSED ${c.host}:22`);
      return boxes[name];
    };
    return { provider: new SiteProbeProvider(open, clock), boxes, clock };
  }

  it("runs every probe on its box and records the results", async () => {
    const probes = [probe("gateway: radvd running", "gateway"), probe("c1: ping6", "c1")];
    const { provider, boxes, clock } = sites({ gateway: [["check gateway: radvd running", { stdout: "a\nb\nlast two\nlines\n" }]], c1: [["check c1: ping6", ok]] });
    const { id, outs } = await provider.create({ connections, probes, triggers: ["t"] });
    expect(id).toBe("site-checks");
    expect(outs).toEqual({
      connections,
      probes,
      triggers: ["t"],
      passed: true,
      results: [
        { check: "gateway: radvd running", ok: true, detail: "last two\nlines" },
        { check: "c1: ping6", ok: true, detail: "ok" },
      ],
    });
    expect(boxes.gateway.scripts).toEqual(["check gateway: radvd running"]);
    expect(clock.sleeps).toEqual([]);
  });

  it("tries a failing probe again every 0.25 s for 2 s, then every 2 s, while the site settles, until it passes", async () => {
    const { provider, boxes, clock } = sites({ c1: [["check c1: has address", inTurn(fail("tentative"), fail("tentative"), ok)]] });
    const { outs } = await provider.create({ connections, probes: [probe("c1: has address", "c1", 90)], triggers: [] });
    expect(outs.passed).toBe(true);
    expect(boxes.c1.calls).toHaveLength(3);
    expect(clock.sleeps).toEqual([250, 250]);
  });

  it("gives up once its retrySeconds are over, and fails the update with every failed check, the results kept in state", async () => {
    const probes = [probe("gateway: radvd running", "gateway", 6), probe("gateway: forwarding on", "gateway", 0), probe("c1: ping6", "c1", 0)];
    const { provider, boxes, clock } = sites({
      gateway: [
        ["check gateway: radvd running", fail("radvd is not running")],
        ["check gateway: forwarding on", ok],
      ],
    });
    const inputs = { connections, probes, triggers: [] };
    const error = await provider.create(inputs).then(
      () => undefined,
      (e: Error & { id?: string; properties?: unknown; reasons?: string[] }) => e,
    );
    expect(error?.message).toBe("2 site check(s) failed:\n  - gateway: radvd running: radvd is not running\n  - c1: ping6: connect ECONNREFUSED 192.0.2.11:22");
    expect(error?.id).toBe("site-checks");
    expect(error?.reasons).toEqual(["  - gateway: radvd running: radvd is not running", "  - c1: ping6: connect ECONNREFUSED 192.0.2.11:22"]);
    expect(error?.properties).toEqual({
      ...inputs,
      passed: false,
      results: [
        { check: "gateway: radvd running", ok: false, detail: "radvd is not running" },
        { check: "gateway: forwarding on", ok: true, detail: "ok" },
        { check: "c1: ping6", ok: false, detail: "connect ECONNREFUSED 192.0.2.11:22" },
      ],
    });
    // 6 s of patience: tried at 0, every 0.25 s to 2 s, then at 4 and 6 s; the others once.
    expect(boxes.gateway.scripts).toEqual([...Array(11).fill("check gateway: radvd running"), "check gateway: forwarding on"]);
    expect(clock.sleeps).toEqual([...Array(8).fill(250), 2000, 2000]);
  });

  it("runs a box's probes in order and the boxes side by side, and reports in the probes' order", async () => {
    const events: string[] = [];
    const slow = async () => {
      events.push("gateway 1 starts");
      await new Promise((r) => setImmediate(r));
      events.push("gateway 1 ends");
      return ok;
    };
    const record = (label: string) => () => (events.push(label), ok);
    const { provider } = sites({
      gateway: [
        ["check g1", slow],
        ["check g2", record("gateway 2")],
      ],
      c1: [["check c", record("c1")]],
    });
    const { outs } = await provider.create({ connections, probes: [probe("g1", "gateway"), probe("c", "c1"), probe("g2", "gateway")], triggers: [] });
    expect(events).toEqual(["gateway 1 starts", "c1", "gateway 1 ends", "gateway 2"]);
    expect(outs.results.map((r) => r.check)).toEqual(["g1", "c", "g2"]);
  });

  it("gives a probe what an earlier one printed on stdin, waiting for it across boxes", async () => {
    const events: string[] = [];
    const { provider, boxes } = sites({
      gateway: [["check lan", async () => (await new Promise((r) => setImmediate(r)), events.push("gateway printed"), { stdout: "2001:db8:9900::/64\n" })]],
      c1: [["check holds", (_s, stdin) => (events.push(`c1 read ${JSON.stringify(stdin)}`), { stdout: "2001:db8:9900:0:200:5eff:fe00:5311\n" })]],
    });
    const probes = [probe("lan", "gateway"), { ...probe("holds", "c1"), stdinFrom: "lan" }];
    const { outs } = await provider.create({ connections, probes, triggers: [] });
    expect(events).toEqual(["gateway printed", 'c1 read "2001:db8:9900::/64\\n"']);
    expect(outs.results).toEqual([
      { check: "lan", ok: true, detail: "2001:db8:9900::/64" },
      { check: "holds", ok: true, detail: "2001:db8:9900:0:200:5eff:fe00:5311" },
    ]);
    expect(boxes.c1.calls).toEqual([{ script: "check holds", stdin: "2001:db8:9900::/64\n" }]);
  });

  it("does not run a probe whose input failed, and says which one", async () => {
    const { provider, boxes } = sites({ gateway: [["check lan", fail("eth0 holds no delegated /64")], ["check ping", ok]], c1: [] });
    const probes = [probe("lan", "gateway"), { ...probe("holds", "c1", 90), stdinFrom: "lan" }, probe("ping", "gateway")];
    const error = await provider.create({ connections, probes, triggers: [] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe('2 site check(s) failed:\n  - lan: eth0 holds no delegated /64\n  - holds: not run: "lan" failed');
    expect(boxes.c1.calls).toEqual([]);
  });

  it("runs a probe after the one it needs (across boxes, without its output), and not at all when that one failed", async () => {
    const events: string[] = [];
    const { provider, boxes } = sites({
      c1: [["check c1: has address", async () => (await new Promise((r) => setImmediate(r)), events.push("c1 has it"), { stdout: "yes\n" })]],
      gateway: [["check gateway: reaches c1", (_s, stdin) => (events.push(`gateway ran, stdin ${JSON.stringify(stdin)}`), ok)]],
    });
    const probes = [probe("c1: has address", "c1"), { ...probe("gateway: reaches c1", "gateway"), after: "c1: has address" }];
    const { outs } = await provider.create({ connections, probes, triggers: [] });
    expect(events).toEqual(["c1 has it", "gateway ran, stdin undefined"]);
    expect(outs.passed).toBe(true);
    // On a blank site (a refresh of boxes rebuilt blank) the dependent probe does not wait out its timeout.
    const { provider: down, boxes: blank } = sites({ c1: [["check c1: has address", fail("eth0 has no address")]], gateway: [] });
    const read = await down.read("site-checks", { connections, probes, triggers: [] });
    expect(read.props.results).toEqual([
      { check: "c1: has address", ok: false, detail: "eth0 has no address" },
      { check: "gateway: reaches c1", ok: false, detail: 'not run: "c1: has address" failed' },
    ]);
    expect(blank.gateway.calls).toEqual([]);
    expect(boxes.gateway.calls).toHaveLength(1);
  });

  it("observes once on refresh: no retries, no waiting, failures recorded without failing", async () => {
    const { provider, boxes, clock } = sites({ gateway: [["check gateway: radvd running", fail("radvd is not running")]] });
    const state = { connections, probes: [probe("gateway: radvd running", "gateway", 30)], triggers: [], passed: true, results: [] };
    const read = await provider.read("site-checks", state);
    expect(read).toEqual({ id: "site-checks", props: { ...state, passed: false, results: [{ check: "gateway: radvd running", ok: false, detail: "radvd is not running" }] } });
    expect(boxes.gateway.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("runs again when what the probes test changes, or a refresh found the site failing", async () => {
    const { provider } = sites({});
    const olds = { connections, probes: [probe("a", "gateway")], triggers: ["h1"], passed: true, __provider: "v1" };
    const same = { connections, probes: [probe("a", "gateway")], triggers: ["h1"], __provider: "v1" };
    expect(await provider.diff("s", olds as never, same as never)).toEqual({ changes: false });
    expect(await provider.diff("s", olds as never, { ...same, triggers: ["h2"] } as never)).toEqual({ changes: true });
    expect(await provider.diff("s", olds as never, { ...same, probes: [probe("b", "gateway")] } as never)).toEqual({ changes: true });
    expect(await provider.diff("s", { ...olds, passed: false } as never, same as never)).toEqual({ changes: true });
    expect(await provider.diff("s", olds as never, { ...same, connections: { ...connections, c1: { ...connection, host: "192.0.2.99" } } } as never)).toEqual({ changes: false });
  });

  it.each([
    ["a probe on a box without a connection", { connections, probes: [probe("a", "gateway"), probe("b", "c9")] }, ['probe "b" runs on "c9", which has no connection']],
    ["every probe on a known box", { connections, probes: [probe("a", "gateway"), probe("b", "c1")] }, []],
    ["probes not known yet (the prefix comes from the tunnel)", { connections, probes: UNKNOWN }, []],
    ["connections not known yet", { connections: UNKNOWN, probes: [probe("a", "gateway")] }, []],
    ["one connection not known yet: its box's name still is", { connections: { ...connections, c1: UNKNOWN }, probes: [probe("b", "c1"), probe("c", "c9")] }, ['probe "c" runs on "c9", which has no connection']],
    ["one probe not known yet, beside one on a box without a connection", { connections, probes: [UNKNOWN, { ...probe("b", "c1"), on: UNKNOWN }, probe("c", "c9")] }, ['probe "c" runs on "c9", which has no connection']],
    ["a probe reading an earlier one's output", { connections, probes: [probe("a", "gateway"), { ...probe("b", "c1"), stdinFrom: "a" }] }, []],
    ["a probe reading a later one's output (it could wait forever)", { connections, probes: [{ ...probe("b", "c1"), stdinFrom: "a" }, probe("a", "gateway")] }, ['probe "b" reads the output of "a", which is not an earlier probe']],
    ["a probe reading one that does not exist", { connections, probes: [{ ...probe("b", "c1"), stdinFrom: "nope" }] }, ['probe "b" reads the output of "nope", which is not an earlier probe']],
    ["a probe after a later one", { connections, probes: [{ ...probe("b", "c1"), after: "a" }, probe("a", "gateway")] }, ['probe "b" runs after "a", which is not an earlier probe']],
  ])("checks %s", async (_what, news, reasons) => {
    const { provider, boxes } = sites({});
    const { failures } = await provider.check({}, { ...news, triggers: [] });
    expect(failures).toEqual(reasons.map((reason) => ({ property: "probes", reason })));
    expect(boxes).toEqual({});
  });
});

describe("SiteProbe check of its connections", () => {
  it("names a known connection's problem with the box it belongs to, and leaves unknown ones alone", async () => {
    const { SiteProbeProvider } = await import("../../components/checks/site-probe");
    const { UNKNOWN } = await import("../../components/host/provider-kit");
    const provider = new SiteProbeProvider(async () => {
      throw new Error("check must not contact a box");
    });
    const { failures } = await provider.check({}, { connections: { gateway: { host: "192.0.2.1", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx" }, c1: UNKNOWN }, probes: UNKNOWN, triggers: [] });
    expect(failures).toEqual([expect.objectContaining({ property: "connections.gateway.hostKey" })]);
  });
});
