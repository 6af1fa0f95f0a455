// DelegatedPrefix: what the ISP delegated, read on the gateway. Create waits
// a bounded time and says what was asked, where, and what came back; a
// refresh follows the box; the prefix is never part of the diff.
import { DELEGATION_EXIT, DelegatedPrefixProvider, delegationTimeoutMessage, parseHeld, readScript, waitScript } from "../../components/tunnel/delegated-prefix";
import { FakeRemote, connection, inTurn, opener } from "./fake-remote";

const LANS = [
  { interface: "eth0", subnetId: 0 },
  { interface: "eth1", subnetId: 1 },
];
const ASKED = { connection, wanInterface: "wan0", prefixLength: 56, lans: LANS, unit: "ipv6gw-dhcpcd.service", waitSeconds: 60 };
const UNIT = "ipv6gw-dhcpcd.service";
const lanLine = (ifname: string, address: string) => `lan ${ifname} 3: ${ifname}    inet6 ${address}/64 scope global dynamic noprefixroute \\       valid_lft 118sec preferred_lft 58sec`;
const HELD_0 = [lanLine("eth0", "2001:db8:9900::1"), lanLine("eth1", "2001:db8:9900:1::1"), "route unreachable 2001:db8:9900::/56 dev lo proto dhcp metric 1024 pref medium"].join("\n");
const HELD_1 = [lanLine("eth0", "2001:db8:9900:1000::1"), lanLine("eth1", "2001:db8:9900:1001::1"), "route unreachable 2001:db8:9900:1000::/56 dev lo proto dhcp metric 1024 pref medium"].join("\n");

describe("what the box holds", () => {
  it("reads each LAN's /64 and the delegated prefix from dhcpcd's unreachable route", () => {
    expect(parseHeld(HELD_0)).toEqual({ prefix: "2001:db8:9900::/56", lanPrefixes: { eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64" }, log: [] });
  });

  it("during a renumbering, takes the delegation that holds the LANs' /64s", () => {
    const both = [lanLine("eth0", "2001:db8:9900:1000::1"), "route unreachable 2001:db8:9900:1000::/56 dev lo proto dhcp metric 1024 pref medium", "route unreachable 2001:db8:9900::/56 dev lo proto dhcp metric 1024 pref medium"].join("\n");
    expect(parseHeld(both).prefix).toBe("2001:db8:9900:1000::/56");
  });

  it("holds nothing once the lease ran out", () => {
    expect(parseHeld("")).toEqual({ prefix: "", lanPrefixes: {}, log: [] });
  });
});

describe("DelegatedPrefix provider", () => {
  it("waits for every LAN to hold its /64, then records what the box holds", async () => {
    const remote = new FakeRemote([[waitScript(UNIT, "wan0", ["eth0", "eth1"], 60), { stdout: HELD_0 }]]);
    const { id, outs } = await new DelegatedPrefixProvider(opener(remote)).create(ASKED);
    expect(id).toBe("delegation-wan0");
    expect(outs).toEqual({ ...ASKED, prefix: "2001:db8:9900::/56", lanPrefixes: { eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64" } });
  });

  it("fails after the wait when no server answered: what was asked, on which interface, what came back, dhcpcd's own words", async () => {
    const log = [
      "log wan0: soliciting a DHCPv6 lease",
      "log wan0: soliciting a DHCPv6 lease",
      "log wan0: IAID 5e:00:53:02",
      "log wan0: Router Advertisement from fe80::200:5eff:fe00:5321",
      "log wan0: no advertisement received",
      "log eth9: unrelated",
    ].join("\n");
    const remote = new FakeRemote([[waitScript(UNIT, "wan0", ["eth0", "eth1"], 60), { code: DELEGATION_EXIT.timedOut, stdout: log }]], "root@gw:22");
    await expect(new DelegatedPrefixProvider(opener(remote)).create(ASKED)).rejects.toThrow(
      [
        "no prefix was delegated within 60 s on root@gw:22: dhcpcd asked for a /56 (DHCPv6 IA_PD, RFC 8415) from the DHCPv6 servers on wan0, for eth0 (subnet id 0), eth1 (subnet id 1); what came back: nothing: no DHCPv6 server answered.",
        "dhcpcd's last words:",
        "  wan0: soliciting a DHCPv6 lease",
        "  wan0: Router Advertisement from fe80::200:5eff:fe00:5321",
        "  wan0: no advertisement received",
        "Check that the ISP delegates prefixes on wan0 (DHCPv6-PD) and that the prefix length fits; the firewall lets DHCPv6 replies in. Then run up again.",
      ].join("\n"),
    );
  });

  it("says a server answered when dhcpcd logged its advertisement or reply, and no prefix came", () => {
    const held = parseHeld(["log wan0: soliciting a DHCPv6 lease", "log wan0: ADV  from fe80::200:5eff:fe00:5321", "log wan0: NoPrefixAvail: no prefixes available"].join("\n"));
    expect(delegationTimeoutMessage(ASKED, held, "gw")).toContain("what came back: a server answered, but delegated no prefix.\ndhcpcd's last words:\n  wan0: soliciting a DHCPv6 lease\n  wan0: ADV  from fe80::200:5eff:fe00:5321\n  wan0: NoPrefixAvail: no prefixes available\n");
  });

  it("says so when a prefix came but a LAN's subnet id does not fit it", () => {
    const held = parseHeld([lanLine("eth0", "2001:db8:9900:10::1"), "route unreachable 2001:db8:9900:10::/60 dev lo proto dhcp metric 1024 pref medium"].join("\n"));
    expect(delegationTimeoutMessage({ ...ASKED, lans: [LANS[0], { interface: "eth1", subnetId: 16 }] }, held, "gw")).toContain(
      "what came back: 2001:db8:9900:10::/60 was delegated, but eth1 got no /64 of it (eth0 has 2001:db8:9900:10::/64): the ISP may have delegated a longer prefix than asked, in which those subnet ids do not fit.",
    );
  });

  it("refuses to wait on a box without the DHCPv6 client's unit", async () => {
    const remote = new FakeRemote([[waitScript(UNIT, "wan0", ["eth0", "eth1"], 60), { code: DELEGATION_EXIT.notDeployed }]], "root@gw:22");
    await expect(new DelegatedPrefixProvider(opener(remote)).create(ASKED)).rejects.toThrow("ipv6gw-dhcpcd.service is not on root@gw:22: the DHCPv6 client must be deployed before its delegation is read");
  });

  it("a refresh follows the box (a renumbering shows in the outputs) and gives back the inputs as they were: never a diff", async () => {
    const remote = new FakeRemote([[readScript(UNIT, ["eth0", "eth1"]), inTurn({ stdout: HELD_1 }, { stdout: "" }, { code: DELEGATION_EXIT.notDeployed })]]);
    const p = new DelegatedPrefixProvider(opener(remote));
    const state = { ...ASKED, prefix: "2001:db8:9900::/56", lanPrefixes: { eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64" } };
    const renumbered = await p.read("delegation-wan0", state);
    expect(renumbered).toEqual({ id: "delegation-wan0", props: { ...ASKED, prefix: "2001:db8:9900:1000::/56", lanPrefixes: { eth0: "2001:db8:9900:1000::/64", eth1: "2001:db8:9900:1001::/64" } }, inputs: ASKED });
    expect(await p.diff("delegation-wan0", renumbered.props as never, { ...ASKED } as never)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    // Lease run out: nothing held, still the same resource.
    expect((await p.read("delegation-wan0", state)).props).toMatchObject({ prefix: "", lanPrefixes: {} });
    // The client's unit gone (a box rebuilt blank): the resource is gone, up creates it again.
    expect(await p.read("delegation-wan0", state)).toEqual({});
  });

  it("changes only when what is asked changes, and an update then waits again", async () => {
    const remote = new FakeRemote([[waitScript(UNIT, "wan0", ["eth0", "eth1", "eth2"], 60), { stdout: HELD_0 + "\n" + lanLine("eth2", "2001:db8:9900:2::1") }]]);
    const p = new DelegatedPrefixProvider(opener(remote));
    const olds = { ...ASKED, prefix: "2001:db8:9900::/56", lanPrefixes: {} };
    const news = { ...ASKED, lans: [...LANS, { interface: "eth2", subnetId: 2 }] };
    expect(await p.diff("d", olds as never, news as never)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    const { outs } = await p.update("d", olds as never, news as never);
    expect(outs.lanPrefixes).toEqual({ eth0: "2001:db8:9900::/64", eth1: "2001:db8:9900:1::/64", eth2: "2001:db8:9900:2::/64" });
  });

  it.each([
    ["a prefix length outside 48-64", { prefixLength: 40 }, "prefixLength"],
    ["no LAN", { lans: [] }, "lans"],
    ["a unit that is not a service", { unit: "dhcpcd" }, "unit"],
  ])("checks %s", async (_d, over, property) => {
    const { failures } = await new DelegatedPrefixProvider(opener(new FakeRemote())).check({}, { ...ASKED, ...over });
    expect(failures.map((f) => f.property)).toEqual([property]);
  });
});
