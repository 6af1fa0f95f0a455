import * as fs from "fs";
import * as path from "path";
import { parseFacts } from "../../components/host/host-facts";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");

describe("host facts", () => {
  it("reads a modern Debian gateway with everything built into the kernel", () => {
    const f = parseFacts(fixture("facts-debian12-gw.txt"));
    expect(f).toMatchObject({ distro: "debian", distroVersion: "12", kernel: "6.18.44-fc-v657", ipv6Enabled: true, ipv6Forwarding: true });
    expect(f).toMatchObject({ ip6tablesBackend: "nf_tables", ip6tablesVersion: "1.8.9", packageManager: "apt", serviceManager: "systemd", networkStack: "none" });
    expect(f.features).toEqual({ ipv6: true, tun: true, conntrack: true, ip6tablesFilter: true, reject: true, sit: false, wireguard: false });
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
    expect(parseFacts("distro=debian\n").management).toBeUndefined();
  });
});
