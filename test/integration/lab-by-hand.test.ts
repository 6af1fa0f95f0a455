// Does by hand, with `lab exec`, what the project's gateway will do, to show
// the lab can host the real thing: packages from the local repo, a WireGuard
// tunnel from gw to isp (wireguard-go), forwarding, radvd on the LAN; then
// c1 autoconfigures its EUI-64 address and fetches a page from outside.
// The steps depend on each other and run in order, on boxes reset first
// (test files share the lab in an order jest picks) and again at the end.
import { labCli, labExec, LabJson, labSh, loadLab } from "../../lab/client";
import { slaacAddressFor } from "../../lab/topology";

jest.setTimeout(180_000);

let lab: LabJson;
let c1Address: string;

beforeAll(() => {
  labCli(["reset"], { viaNpm: true });
  lab = loadLab();
  c1Address = slaacAddressFor(lab.wireguard.lanPrefix, lab.boxes.c1!.interfaces.eth0.mac);
});

afterAll(() => labCli(["reset"], { viaNpm: true }));

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("a gateway built by hand in the lab", () => {
  it("installs radvd, wireguard-go and wireguard-tools in gw from the local apt repo", () => {
    labSh("gw", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q radvd wireguard-go wireguard-tools");
    expect(labSh("gw", "for c in radvd wg wireguard-go; do command -v $c; done").trim().split("\n")).toEqual([
      "/usr/sbin/radvd",
      "/usr/bin/wg",
      "/usr/bin/wireguard-go",
    ]);
  });

  it("brings up wg0 on gw with isp as its peer, and the tunnel carries traffic", async () => {
    const wg = lab.wireguard;
    // The private key goes through stdin into a 0600 file, never argv.
    const key = labExec("gw", ["sh", "-c", "umask 077 && mkdir -p /etc/wireguard && cat > /etc/wireguard/gw.key"], {
      input: `${wg.privateKey}\n`,
    });
    expect(key.code).toBe(0);
    labSh(
      "gw",
      [
        "set -e",
        "wireguard-go wg0",
        `wg set wg0 private-key /etc/wireguard/gw.key peer ${wg.peerPublicKey} endpoint ${wg.endpoint} ` +
          "allowed-ips ::/0 persistent-keepalive 25",
        `ip -6 address add ${wg.address} dev wg0`,
        "ip link set wg0 up",
        "ip -6 route add default dev wg0",
      ].join("\n"),
    );
    expect(labSh("gw", "wg show wg0 public-key").trim()).toBe(wg.publicKey);
    const ispTunnel = wg.peerAddress.split("/")[0];
    const pingIsp = () => labExec("gw", ["ping", "-6", "-c1", "-W1", ispTunnel]).code === 0;
    await waitFor(`gw to ping isp's tunnel address ${ispTunnel}`, pingIsp, 20_000);
    expect(labSh("isp", "wg show wg0 latest-handshakes").trim()).toMatch(new RegExp(`^${escape(wg.publicKey)}\\t[1-9]\\d*$`));
  });

  it("turns forwarding on and advertises the LAN prefix with radvd on eth0", () => {
    const lanPrefix = lab.wireguard.lanPrefix;
    labSh(
      "gw",
      [
        "set -e",
        "sysctl -q -w net.ipv6.conf.all.forwarding=1",
        `ip -6 address add ${lanPrefix.replace("::/64", "::1/64")} dev eth0`,
        "cat > /etc/radvd.conf <<'EOF'",
        "interface eth0 {",
        "  AdvSendAdvert on;",
        "  MinRtrAdvInterval 3;",
        "  MaxRtrAdvInterval 10;",
        `  prefix ${lanPrefix} {`,
        "    AdvOnLink on;",
        "    AdvAutonomous on;",
        "  };",
        "};",
        "EOF",
        "systemctl restart radvd",
      ].join("\n"),
    );
    expect(labSh("gw", "systemctl is-active radvd").trim()).toBe("active");
    expect(labSh("gw", "sysctl -n net.ipv6.conf.all.forwarding").trim()).toBe("1");
  });

  it("c1 autoconfigures 2001:db8:8888:0:<EUI-64 of its MAC>/64, and the address leaves tentative state", async () => {
    expect(c1Address).toBe("2001:db8:8888:0:200:5eff:fe00:5311");
    const addressLine = () => labSh("c1", "ip -6 -o address show dev eth0 scope global");
    await waitFor(
      `c1 to have ${c1Address}/64, non-tentative`,
      () => {
        const line = addressLine();
        return line.includes(`${c1Address}/64`) && !line.includes("tentative");
      },
      60_000,
    );
    // No privacy address: EUI-64 only, as the lab promises.
    expect(addressLine().trim().split("\n")).toHaveLength(1);
    expect(labSh("c1", "ip -6 route show default")).toMatch(/^default via fe80::200:5eff:fe00:5301 dev eth0/);
  });

  it("c1 fetches http://[2001:db8:ffff::1]/ through gw and the tunnel", () => {
    const page = labSh("c1", `curl -sS -m 10 '${lab.outside.url}'`);
    expect(page).toContain(lab.outside.pageLine);
  });

  it("outside reaches c1's address back through isp and the tunnel (no firewall yet)", () => {
    expect(labExec("outside", ["ping", "-6", "-c1", "-W5", c1Address]).code).toBe(0);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
