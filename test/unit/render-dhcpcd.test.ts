import { DhcpcdConf, renderDhcpcdConf, renderDhcpcdUnit } from "../../components/render";
import { expectGolden } from "./golden";

const LAB: DhcpcdConf = {
  wanInterface: "wan0",
  prefixLength: 56,
  lans: [
    { interface: "eth0", subnetId: 0 },
    { interface: "eth1", subnetId: 1 },
  ],
  requestAddress: false,
  hookPath: "/usr/local/lib/ipv6gw/pd-hook",
};

describe.each<[string, string, DhcpcdConf]>([
  ["the lab's two LANs: a /56 asked on wan0, eth0 gets subnet 0 and eth1 subnet 1, no WAN address asked", "lab-two-lans", LAB],
  ["an ISP that wants IA_NA too, a /48 asked, one LAN on a bridge with a high subnet id", "address-and-48", { ...LAB, wanInterface: "ppp0", prefixLength: 48, requestAddress: true, lans: [{ interface: "br-lan", subnetId: 65535 }] }],
])("dhcpcd.conf: %s", (_d, file, model) => {
  it("matches its golden file", () => expectGolden(`dhcpcd/${file}.conf`, renderDhcpcdConf(model)));
});

it("dhcpcd's unit starts after the firewall's boot unit, and only if it loaded", () => {
  expectGolden("dhcpcd/ipv6gw-dhcpcd.service", renderDhcpcdUnit({ wanInterface: "wan0", configPath: "/etc/ipv6gw/dhcpcd.conf", firewallBootUnit: "netfilter-persistent.service" }));
});

it("names no prefix: what the ISP delegates is learned on the box", () => {
  expect(renderDhcpcdConf(LAB)).not.toMatch(/2001:|fd[0-9a-f]{2}:/);
});

describe("dhcpcd.conf validation", () => {
  it.each<[string, Partial<DhcpcdConf>, string]>([
    ["a hint shorter than /48", { prefixLength: 40 }, "dhcpcd.conf: 'prefixLength' must be an integer 48..64, got 40"],
    ["a hint longer than /64", { prefixLength: 65 }, "'prefixLength' must be an integer 48..64, got 65"],
    ["a subnet id beyond the hint", { lans: [{ interface: "eth0", subnetId: 256 }] }, "'lans[0].subnetId' must be an integer 0..255, got 256; a /56 holds subnet ids 0-255"],
    ["a subnet id used twice", { lans: [{ interface: "eth0", subnetId: 1 }, { interface: "eth1", subnetId: 1 }] }, "'lans[1].subnetId' is used twice, got 1"],
    ["a LAN on the WAN", { lans: [{ interface: "wan0", subnetId: 0 }] }, "'lans[0].interface' is the WAN interface, got 'wan0'"],
    ["a LAN named twice", { lans: [{ interface: "eth0", subnetId: 0 }, { interface: "eth0", subnetId: 1 }] }, "'lans[1].interface' is named twice, got 'eth0'"],
    ["no LAN", { lans: [] }, "'lans' must name at least one LAN"],
    ["an interface name with a space", { wanInterface: "wan 0" }, "'wanInterface' must be a Linux interface name"],
    ["a relative hook path", { hookPath: "pd-hook" }, "'hookPath' must be an absolute path"],
  ])("rejects %s", (_d, over, fragment) => {
    expect(() => renderDhcpcdConf({ ...LAB, ...over })).toThrow(fragment);
  });
});
