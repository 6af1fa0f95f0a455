// The native scenario (`lab up --scenario native`): isp is a DHCPv6 server
// with prefix delegation (Kea) and sends RAs on the gw link; c3 sits on a
// second LAN on gw's eth1. A DHCPv6-PD client run by hand on gw (dhcpcd from
// the local repo; not the product) gets a /56 that isp routes; `isp
// renumber` moves it, `isp dhcp stop|start` takes the server away and back.
// The DHCPv6 exchange is read on the wire (tcpdump on gw's wan0). The lab is
// back in the direct scenario at the end.
import { labExec, labSh, LabJson, LabJsonNative, labSshCommand, loadLab, runLabCli } from "../../lab/client";
import { spawnSync } from "child_process";

jest.setTimeout(300_000);

const DHCPCD_CONF = `# lab test: a DHCPv6-PD client by hand (not the product)
nodev
ipv6only
noipv4
allowinterfaces wan0 eth0 eth1
nohook resolv.conf, hostname, ntp-common.conf, chrony.conf, timesyncd.conf, openntpd.conf
interface wan0
  ipv6rs
  ia_na 1
  ia_pd 2 eth0/0/64/1 eth1/1/64/1
interface eth0
  noipv6rs
interface eth1
  noipv6rs
`;

let lab: LabJson;
let native: LabJsonNative;

function cli(args: string[]): void {
  const r = runLabCli(args, { viaNpm: true });
  if (r.code !== 0) throw new Error(`lab ${args.join(" ")} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The /64's gw address dhcpcd put on `ifname` (prefix::1), if any. */
function pdAddress(ifname: string): string | undefined {
  const m = /inet6 (2001:db8:99[0-9a-f:]+)\/64 /.exec(labSh("gw", `ip -6 -o addr show dev ${ifname} scope global`));
  return m?.[1];
}

/** The DHCPv6 messages seen on gw's wan0 so far, one decoded line each. */
function dhcpOnWire(): string[] {
  return labSh("gw", "journalctl -u lab-test-tcpdump -o cat --no-pager")
    .split("\n")
    .filter((l) => / dhcp6 (renew|rebind|reply|solicit|advertise|request)/.test(l))
    .map((l) => l.replace(/^.* dhcp6 /, "dhcp6 "));
}

/** Asks the running dhcpcd to renew now (it also renews by itself at T1). */
function renewNow(): void {
  labExec("gw", ["dhcpcd", "-N", "wan0"]);
}

describe("the native scenario", () => {
  beforeAll(() => {
    cli(["down"]);
    cli(["up", "--scenario", "native"]);
    lab = loadLab();
    native = lab.native!;
  });

  afterAll(() => {
    cli(["down"]);
    cli(["up", "--scenario", "direct"]);
  });

  it("describes the ISP, the pool and the second LAN in lab.json", () => {
    expect(lab.scenario).toBe("native");
    expect(Object.keys(lab.boxes).sort()).toEqual(["c1", "c2", "c3", "gw", "isp", "outside"]);
    expect(native).toEqual({
      wanInterface: "wan0",
      wanPrefix: "2001:db8:ffff:1::/64",
      dhcpServer: { address: "2001:db8:ffff:1::1/64", linkLocal: "fe80::200:5eff:fe00:5321", running: true },
      gwLinkLocal: "fe80::200:5eff:fe00:5302",
      pdPool: "2001:db8:9900::/40",
      delegatedLength: 56,
      epoch: 0,
      epochPool: "2001:db8:9900::/52",
      delegatedPrefix: "2001:db8:9900::/56",
      lifetimes: { renew: 30, rebind: 48, preferred: 60, valid: 120 },
      lan2: { bridge: "ipv6gw-lan2", gwInterface: "eth1" },
    });
    expect(lab.boxes.c3!.interfaces.eth0).toEqual({ mac: "00:00:5e:00:53:13", linkLocal: "fe80::200:5eff:fe00:5313", ipv4: "192.0.2.13/24" });
  });

  it("puts c3 on the second LAN: it reaches gw's eth1 over link-local, and the host reaches it over ssh", () => {
    const gwEth1 = lab.boxes.gw!.interfaces.eth1.linkLocal;
    expect(labExec("c3", ["ping", "-6", "-c1", "-W5", `${gwEth1}%eth0`]).code).toBe(0);
    // c3 is not on the first LAN.
    expect(labExec("c3", ["ping", "-6", "-c1", "-W2", `${lab.boxes.gw!.interfaces.eth0.linkLocal}%eth0`]).code).not.toBe(0);
    const { cmd, args } = labSshCommand("c3", "nosudo", ["hostname"]);
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
    expect({ code: r.status, out: r.stdout.trim() }).toEqual({ code: 0, out: "c3" });
    expect(lab.boxes.c3!.host).toBe("fe80::200:5eff:fe00:5313%ipv6gw-lan2");
  });

  it("isp runs Kea and radvd; the blank gw's WAN takes isp's RA: a SLAAC address and a default route", () => {
    expect(labSh("isp", "systemctl is-active kea-dhcp6-server radvd").trim().split("\n")).toEqual(["active", "active"]);
    expect(labSh("isp", "ip -6 route show 2001:db8:9900::/40").trim()).toBe("2001:db8:9900::/40 via fe80::200:5eff:fe00:5302 dev wan0 metric 1024 pref medium");
    const ra = labSh("gw", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ndisc6 >/dev/null && rdisc6 -1 wan0");
    expect(ra).toMatch(/Stateful address conf\.\s+:\s+Yes/);
    expect(ra).toMatch(/Stateful other conf\.\s+:\s+Yes/);
    expect(ra).toMatch(/Prefix\s+:\s+2001:db8:ffff:1::\/64/);
    expect(labSh("gw", "ip -6 -o addr show dev wan0 scope global")).toContain("2001:db8:ffff:1:200:5eff:fe00:5302/64");
    expect(labSh("gw", "ip -6 route show default")).toContain("via fe80::200:5eff:fe00:5321 dev wan0");
    // Still a blank gateway: nothing on the LANs.
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope global; ip -6 -o addr show dev eth1 scope global").trim()).toBe("");
  });

  describe("a DHCPv6-PD client by hand on gw (dhcpcd)", () => {
    beforeAll(async () => {
      labSh("gw", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q dhcpcd-base tcpdump >/dev/null");
      labExec("gw", ["sh", "-c", "cat > /etc/dhcpcd-lab-test.conf"], { input: DHCPCD_CONF });
      labSh("gw", "systemd-run -q --unit=lab-test-tcpdump tcpdump -l -n -v -i wan0 udp port 546 or udp port 547");
      await waitFor("tcpdump to listen", () => (labSh("gw", "journalctl -u lab-test-tcpdump -o cat --no-pager").includes("listening on wan0") ? true : undefined), 10_000);
      labSh("gw", "systemd-run -q --unit=lab-test-dhcpcd dhcpcd -B -M -6 -f /etc/dhcpcd-lab-test.conf");
    });

    it("obtains the /56 lab.json names, and isp routes it: outside reaches gw's address in it", async () => {
      const addr = await waitFor("dhcpcd to put the delegated /64 on eth0", () => pdAddress("eth0"), 30_000);
      expect(addr).toBe("2001:db8:9900::1");
      expect(pdAddress("eth1")).toBe("2001:db8:9900:1::1");
      // tcpdump's lines reach the journal a moment after the packets.
      const reply = await waitFor("tcpdump to log Kea's reply", () => dhcpOnWire().find((l) => l.startsWith("dhcp6 reply")), 10_000);
      expect(reply).toMatch(/IA_PD-prefix 2001:db8:9900::\/56 pltime:60 vltime:120/);
      // dhcpcd takes RA handling over from the kernel at start: gw's way back to outside may need the next RA.
      await waitFor(`outside to ping ${addr}`, () => (labExec("outside", ["ping", "-6", "-c1", "-W2", addr]).code === 0 ? true : undefined), 20_000);
    });

    it("after `isp renumber`, a renew gets a different /56, and the old one comes back with lifetimes 0", async () => {
      cli(["isp", "renumber"]);
      const after = loadLab().native!;
      expect(after).toMatchObject({ epoch: 1, epochPool: "2001:db8:9900:1000::/52", delegatedPrefix: "2001:db8:9900:1000::/56" });
      const addr = await waitFor(
        "a renew to bring the new prefix to eth0",
        () => {
          const a = pdAddress("eth0");
          if (a === "2001:db8:9900:1000::1") return a;
          renewNow();
          return undefined;
        },
        90_000,
        3_000,
      );
      expect(addr).toBe("2001:db8:9900:1000::1");
      const reply = await waitFor(
        "tcpdump to log the reply with the new prefix",
        () => dhcpOnWire().find((l) => l.startsWith("dhcp6 reply") && l.includes("2001:db8:9900:1000::/56")),
        10_000,
      );
      expect(reply).toMatch(/IA_PD-prefix 2001:db8:9900:1000::\/56 pltime:60 vltime:120/);
      expect(reply).toMatch(/IA_PD-prefix 2001:db8:9900::\/56 pltime:0 vltime:0/);
      expect(labExec("outside", ["ping", "-6", "-c1", "-W5", addr]).code).toBe(0);
    });

    it("`isp dhcp stop` leaves renewals unanswered, and `start` answers them again", async () => {
      cli(["isp", "dhcp", "stop"]);
      expect(loadLab().native!.dhcpServer.running).toBe(false);
      expect(labExec("isp", ["systemctl", "is-active", "kea-dhcp6-server"]).stdout.trim()).toBe("inactive");
      // isp counts as ready with its DHCPv6 server stopped on purpose.
      expect(runLabCli(["status"]).code).toBe(0);
      const replies = () => dhcpOnWire().filter((l) => l.startsWith("dhcp6 reply")).length;
      const clientMessages = () => dhcpOnWire().filter((l) => /^dhcp6 (renew|rebind)/.test(l)).length;
      const repliesBefore = replies();
      const sentBefore = clientMessages();
      renewNow();
      await waitFor("gw to send a renew", () => (clientMessages() > sentBefore ? true : undefined), 60_000, 1_000);
      await new Promise((r) => setTimeout(r, 5_000));
      expect(replies()).toBe(repliesBefore);

      cli(["isp", "dhcp", "start"]);
      expect(loadLab().native!.dhcpServer.running).toBe(true);
      await waitFor(
        "a reply once the server is back",
        () => {
          if (replies() > repliesBefore) return true;
          renewNow();
          return undefined;
        },
        90_000,
        3_000,
      );
      expect(dhcpOnWire().filter((l) => l.startsWith("dhcp6 reply")).pop()).toMatch(/IA_PD-prefix 2001:db8:9900:1000::\/56 pltime:60 vltime:120/);
    });
  });

  it("refuses the isp verbs in another scenario, saying which one runs", () => {
    cli(["down"]);
    cli(["up", "--scenario", "direct"]);
    const r = runLabCli(["isp", "renumber"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lab isp renumber: only the native scenario has a DHCPv6 server on isp; the lab runs scenario 'direct'");
  });
});
