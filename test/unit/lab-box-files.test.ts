import { boxFiles, ispWireguardConfig } from "../../lab/box-files";
import { planLab } from "../../lab/topology";

const keys = { isp: { privateKey: "ISPPRIV=", publicKey: "ISPPUB=" }, gw: { privateKey: "GWPRIV=", publicKey: "GWPUB=" } };
const input = {
  labPublicKey: "ssh-ed25519 AAAAlab ipv6gw-lab",
  hostPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n",
  hostPublicKey: "ssh-ed25519 AAAAhost",
  wireguard: keys,
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

  it("give isp its WireGuard endpoint, enabled at boot", () => {
    const { files, symlinks } = boxFiles(byName("isp"), plan, input);
    expect(files.find((x) => x.path === "/etc/wireguard/wg0.conf")).toMatchObject({ mode: 0o600, uid: 0 });
    expect(symlinks).toEqual([
      { path: "/etc/systemd/system/multi-user.target.wants/wg-quick@wg0.service", target: "/lib/systemd/system/wg-quick@.service" },
    ]);
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
