import { boxFiles, ispWireguardConfig, tspBrokerConfig, tspBrokerUnit } from "../../lab/box-files";
import { planLab } from "../../lab/topology";

const keys = { isp: { privateKey: "ISPPRIV=", publicKey: "ISPPUB=" }, gw: { privateKey: "GWPRIV=", publicKey: "GWPUB=" } };
const input = {
  labPublicKey: "ssh-ed25519 AAAAlab ipv6gw-lab",
  hostPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n",
  hostPublicKey: "ssh-ed25519 AAAAhost",
  wireguard: keys,
  tsp: { userid: "todd", password: "TSPPASSWORD" },
};

describe("per-box files", () => {
  const plan = planLab("direct");
  const byName = (n: string) => plan.boxes.find((b) => b.name === n)!;

  it("give each box its name, machine-id, host key and the lab key for all three users", () => {
    const { files, symlinks } = boxFiles(byName("c1"), plan, input);
    const f = Object.fromEntries(files.map((x) => [x.path, x]));
    expect(f["/etc/hostname"].content).toBe("c1\n");
    expect(f["/etc/machine-id"].content).toBe(`${byName("c1").machineId}\n`);
    expect(f["/etc/ssh/ssh_host_ed25519_key"]).toMatchObject({ mode: 0o600, uid: 0 });
    expect(f["/etc/ssh/ssh_host_ed25519_key.pub"].content).toBe("ssh-ed25519 AAAAhost root@c1\n");
    for (const [p, uid] of [
      ["/root/.ssh/authorized_keys", 0],
      ["/home/admin/.ssh/authorized_keys", 1000],
      ["/home/nosudo/.ssh/authorized_keys", 1001],
    ] as const) {
      expect(f[p]).toMatchObject({ content: "ssh-ed25519 AAAAlab ipv6gw-lab\n", mode: 0o600, uid, gid: uid });
    }
    expect(f["/etc/wireguard/wg0.conf"]).toBeUndefined();
    expect(symlinks).toEqual([]);
  });

  it("give isp its WireGuard endpoint and the TSP broker, enabled at boot", () => {
    const { files, symlinks } = boxFiles(byName("isp"), plan, input);
    expect(files.find((x) => x.path === "/etc/wireguard/wg0.conf")).toMatchObject({ mode: 0o600, uid: 0 });
    expect(files.find((x) => x.path === "/etc/ipv6gw-lab/tsp-broker.json")).toMatchObject({ mode: 0o600, uid: 0 });
    expect(files.find((x) => x.path === "/etc/systemd/system/ipv6gw-lab-tsp-broker.service")).toMatchObject({ mode: 0o644 });
    expect(symlinks).toEqual([
      { path: "/etc/systemd/system/multi-user.target.wants/wg-quick@wg0.service", target: "/lib/systemd/system/wg-quick@.service" },
      {
        path: "/etc/systemd/system/multi-user.target.wants/ipv6gw-lab-tsp-broker.service",
        target: "/etc/systemd/system/ipv6gw-lab-tsp-broker.service",
      },
    ]);
  });

  it("configure the TSP broker on isp's WAN address with the lab's account at slot 1", () => {
    const config = JSON.parse(tspBrokerConfig(plan, input.tsp));
    expect(config).toEqual({
      listen: "198.51.100.1",
      port: 3653,
      serverIPv4: "198.51.100.1",
      tunInterface: "tsp0",
      tunnelPrefix: "2001:db8:ffff:200::/64",
      delegationPrefix: "2001:db8:7777::/48",
      dnsServer: "2001:db8:ffff::fe",
      realm: "ipv6gw-lab",
      versions: ["2.0.2", "2.0.1", "2.0.0"],
      anonymous: true,
      anonymousFirstSlot: 256,
      users: [{ name: "todd", password: "TSPPASSWORD", slot: 1 }],
      keepaliveDefault: 30,
      keepaliveMin: 5,
      keepaliveMax: 3600,
      sessionTimeout: 120,
      stateDir: "/var/lib/ipv6gw-tsp-broker",
      runDir: "/run/ipv6gw-tsp-broker",
    });
    const unit = tspBrokerUnit(plan);
    expect(unit).toContain("Type=notify\n");
    expect(unit).toContain("ExecStart=/opt/ipv6gw-lab/tsp-broker/tsp-broker -config /etc/ipv6gw-lab/tsp-broker.json\n");
  });

  it("keep the TSP broker's files off every other box", () => {
    for (const b of planLab("nat").boxes.filter((x) => x.name !== "isp")) {
      expect(boxFiles(b, plan, input).files.map((f) => f.path).filter((p) => p.includes("tsp"))).toEqual([]);
    }
  });

  it("enable the HTTP server on outside and masquerading on natbox", () => {
    expect(boxFiles(byName("outside"), plan, input).symlinks.map((s) => s.path)).toEqual([
      "/etc/systemd/system/multi-user.target.wants/ipv6gw-lab-httpd.service",
    ]);
    const nat = planLab("nat");
    expect(boxFiles(nat.boxes.find((b) => b.name === "natbox")!, nat, input).symlinks.map((s) => s.path)).toEqual([
      "/etc/systemd/system/multi-user.target.wants/ipv6gw-lab-nat.service",
    ]);
  });

  it("route the delegated prefix to the gw peer on isp", () => {
    expect(ispWireguardConfig(plan, keys)).toBe(
      [
        "# ipv6gw lab: isp's end of the gw tunnel (wireguard-go through wg-quick)",
        "[Interface]",
        "Address = 2001:db8:ffff:100::1/64",
        "ListenPort = 51820",
        "PrivateKey = ISPPRIV=",
        "",
        "[Peer]",
        "# the gw",
        "PublicKey = GWPUB=",
        "AllowedIPs = 2001:db8:8888::/48, 2001:db8:ffff:100::2/128",
        "",
      ].join("\n"),
    );
  });
});
