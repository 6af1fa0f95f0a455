// The running lab (brought up by test/lab-setup.ts), checked from the host as
// the Pulumi program and a person would use it: SSH with pinned host keys,
// `lab exec`, the links between boxes, and the blank-site invariants.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { boxCgroupDirs, existingBoxCgroups, hostCgroupParents } from "../../lab/cgroups";
import { labBox, labCli, labExec, LabJson, labSh, labSshCommand, loadLab, runLabCli } from "../../lab/client";
import { labPaths } from "../../lab/paths";

jest.setTimeout(120_000);

let lab: LabJson;

beforeAll(() => {
  lab = loadLab();
});

function ssh(box: string, user: string, remote: string[], knownHosts?: string): { code: number; stdout: string; stderr: string } {
  const { cmd, args } = labSshCommand(box, user, remote);
  const withKnownHosts = (a: string) => (knownHosts && a.startsWith("UserKnownHostsFile=") ? `UserKnownHostsFile=${knownHosts}` : a);
  const finalArgs = args.map(withKnownHosts);
  const r = spawnSync(cmd, finalArgs, { encoding: "utf8", timeout: 30_000 });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}

/** "Accepted publickey" lines sshd logged to the box's journal. */
function countAccepted(box: string): number {
  return Number(labSh(box, "journalctl --no-pager -o cat _COMM=sshd | grep -c 'Accepted publickey' || true").trim());
}

describe("the lab after up (direct scenario)", () => {
  it("runs the direct scenario's boxes", () => {
    expect(lab.scenario).toBe("direct");
    expect(Object.keys(lab.boxes).sort()).toEqual(["c1", "c2", "gw", "isp", "outside"]);
    expect(fs.statSync(labPaths().labJson).mode & 0o777).toBe(0o600);
  });

  it.each(["gw", "c1", "c2", "isp", "outside"])("%s: sshd accepts the lab key for root, admin and nosudo, pinned host key", (box) => {
    for (const user of ["root", "admin", "nosudo"]) {
      const r = ssh(box, user, ["echo", "$(hostname) $(id -un)"]);
      expect({ user, code: r.code, stderr: r.stderr }).toEqual({ user, code: 0, stderr: "" });
      expect(r.stdout.trim()).toBe(`${box} ${user}`);
    }
    const pinned = labSh(box, "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub").trim();
    expect(labBox(lab, box).hostKey).toBe(pinned);
  });

  it("runs each box in a cgroup of its own, so same-named units of two boxes never share one", () => {
    const parents = hostCgroupParents();
    expect(parents.length).toBeGreaterThan(0);
    expect(existingBoxCgroups().sort()).toEqual(parents.flatMap((p) => Object.keys(lab.boxes).map((b) => boxCgroupDirs([p], b)[0])).sort());
    const unitCgroups = (unit: string) =>
      spawnSync("find", [...existingBoxCgroups(), "-type", "d", "-name", unit], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .map((d) => /ipv6gw-lab-([a-z0-9]+)\//.exec(d)?.[1]);
    expect([...new Set(unitCgroups("ipv6gw-lab-httpd.service"))]).toEqual(["outside"]);
    expect([...new Set(unitCgroups("ssh.service"))].sort()).toEqual(Object.keys(lab.boxes).sort());
  });

  it("refuses a box whose host key is not the pinned one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-kh-"));
    try {
      const wrong = path.join(dir, "known_hosts");
      // c1's address with c2's key: what a changed or spoofed box looks like.
      fs.writeFileSync(wrong, `${labBox(lab, "c1").host} ${labBox(lab, "c2").hostKey}\n`);
      const r = ssh("c1", "root", ["true"], wrong);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("logs accepted SSH logins to the box's journal", () => {
    const before = countAccepted("gw");
    expect(ssh("gw", "admin", ["true"]).code).toBe(0);
    expect(countAccepted("gw")).toBe(before + 1);
  });

  it("gives admin passwordless sudo and nosudo none", () => {
    expect(ssh("gw", "admin", ["sudo", "-n", "id", "-u"]).stdout.trim()).toBe("0");
    const r = ssh("gw", "nosudo", ["sudo", "-n", "id", "-u"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("a password is required");
  });

  it("gives each box its hostname, machine-id and MACs from lab.json", () => {
    for (const [name, box] of Object.entries(lab.boxes)) {
      const out = labSh(
        name,
        'hostname; cat /etc/machine-id; for i in /sys/class/net/*; do [ "${i##*/}" = lo ] || echo "${i##*/} $(cat $i/address)"; done',
      );
      const [hostname, machineId, ...macs] = out.trim().split("\n");
      expect(hostname).toBe(name);
      expect(machineId).toBe(box!.machineId);
      const expected = Object.entries(box!.interfaces).map(([i, v]) => `${i} ${v.mac}`);
      for (const line of expected) expect(macs).toContain(line);
    }
  });
});

describe("lab exec", () => {
  it("passes the exit code through", () => {
    const r = runLabCli(["exec", "gw", "--", "sh", "-c", "exit 42"]);
    expect(r.code).toBe(42);
  });

  it("passes stdin, stdout and stderr through", () => {
    const r = runLabCli(["exec", "c2", "--", "sh", "-c", "tr a-z A-Z; echo oops >&2"], { input: "hello\n" });
    expect(r).toEqual({ code: 0, stdout: "HELLO\n", stderr: "oops\n" });
  });

  it("runs `npm run lab -- exec c1 -- ping -c1 192.0.2.1`", () => {
    const r = runLabCli(["exec", "c1", "--", "ping", "-c1", "-W5", "192.0.2.1"], { viaNpm: true });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 received");
  });

  it("names an unknown box and the boxes there are", () => {
    const r = runLabCli(["exec", "router", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lab exec: unknown box 'router'; the boxes are: gw, isp, outside, natbox, c1..c32");
  });

  it("says when a box is not part of the running scenario", () => {
    const r = runLabCli(["exec", "natbox", "--", "true"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("box natbox: not part of the running lab (scenario direct: gw, c1, c2, isp, outside)");
  });
});

describe("links and services", () => {
  it("isp reaches outside over IPv6", () => {
    const r = labExec("isp", ["ping", "-6", "-c1", "-W5", lab.outside.pingTarget]);
    expect(r.code).toBe(0);
  });

  it("gw reaches isp over the IPv4 WAN", () => {
    expect(labExec("gw", ["ping", "-c1", "-W5", "198.51.100.1"]).code).toBe(0);
  });

  it("outside serves its page on port 80, also to the host on the internet segment", async () => {
    expect(labSh("isp", `curl -sS -m 10 '${lab.outside.url}'`)).toContain(lab.outside.pageLine);
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(lab.outside.url, { timeout: 10_000 }, (res) => {
          let data = "";
          res.on("data", (d: Buffer) => (data += d.toString()));
          res.on("end", () => resolve(data));
        })
        .on("error", reject);
    });
    expect(body).toContain(lab.outside.pageLine);
  });

  it("isp runs the WireGuard endpoint for the gw's key, routing the delegated prefix to it", () => {
    expect(labSh("isp", "systemctl is-active wg-quick@wg0").trim()).toBe("active");
    expect(labSh("isp", "wg show wg0 public-key").trim()).toBe(lab.wireguard.peerPublicKey);
    expect(labSh("isp", "wg show wg0 listen-port").trim()).toBe("51820");
    expect(labSh("isp", "wg show wg0 allowed-ips").trim()).toBe(
      `${lab.wireguard.publicKey}\t2001:db8:8888::/48 2001:db8:ffff:100::2/128`,
    );
    expect(labSh("isp", "ip -6 route show 2001:db8:8888::/48").trim()).toMatch(/^2001:db8:8888::\/48 dev wg0/);
    // The gw's key pair in lab.json is a real pair: isp's wg derives the same public key.
    expect(labExec("isp", ["wg", "pubkey"], { input: `${lab.wireguard.privateKey}\n` }).stdout.trim()).toBe(lab.wireguard.publicKey);
  });

  it("boxes install from the local apt repository, offline", () => {
    const out = labSh(
      "c2",
      "apt-get update -q >/dev/null && apt-cache policy radvd && apt-get install -s radvd wireguard-go iptables-persistent build-essential",
    );
    expect(out).toContain("file:/srv/ipv6gw-apt ./ Packages");
    expect(out).toMatch(/Inst radvd /);
    const sources = labSh("c2", "cat /etc/apt/sources.list; ls /etc/apt/sources.list.d").trim();
    expect(sources).toBe("deb [trusted=yes] file:/srv/ipv6gw-apt ./");
  });
});

describe("a blank site", () => {
  // Test files share the lab in an order jest picks (by size on a clean
  // clone), and an e2e site leaves what a real one would (SLAAC addresses
  // live on for hours, a simulated Docker's chains): start from fresh boxes.
  beforeAll(() => {
    labCli(["reset"]);
  }, 180_000);

  it("gw: no radvd, forwarding off, no ip6tables rules, no global IPv6 on eth0", () => {
    expect(labExec("gw", ["pgrep", "-x", "radvd"]).code).toBe(1);
    expect(labSh("gw", "sysctl -n net.ipv6.conf.all.forwarding net.ipv4.ip_forward").trim().split("\n")).toEqual(["0", "0"]);
    const rules = labExec("gw", ["sh", "-c", "command -v ip6tables >/dev/null || { echo absent; exit 0; }; ip6tables -S"]);
    expect(rules.code).toBe(0);
    const nonPolicy = rules.stdout.split("\n").filter((l) => l && l !== "absent" && !/^-P \w+ ACCEPT$/.test(l));
    expect(nonPolicy).toEqual([]);
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope global").trim()).toBe("");
    expect(labSh("gw", "ip -6 -o addr show dev eth0 scope link")).toContain("fe80::200:5eff:fe00:5301/64");
    expect(labSh("gw", "sysctl -n net.ipv6.conf.eth0.disable_ipv6").trim()).toBe("0");
  });

  it.each(["c1", "c2"])("%s: accepts RAs and has no global IPv6 yet", (box) => {
    const keys = ["accept_ra", "autoconf", "addr_gen_mode", "use_tempaddr"].map((k) => `net.ipv6.conf.eth0.${k}`);
    const conf = labSh(box, `sysctl -n ${keys.join(" ")}`);
    expect(conf.trim().split("\n")).toEqual(["1", "1", "0", "0"]);
    expect(labSh(box, "ip -6 -o addr show dev eth0 scope global").trim()).toBe("");
  });

  it("the host's lab interfaces ignore RAs and the host has no lab route into the delegated prefix", () => {
    for (const i of ["ipv6gw-lan", "ipv6gw-inet"]) {
      expect(fs.readFileSync(`/proc/sys/net/ipv6/conf/${i}/accept_ra`, "utf8").trim()).toBe("0");
      expect(fs.readFileSync(`/proc/sys/net/ipv6/conf/${i}/autoconf`, "utf8").trim()).toBe("0");
    }
    const routes = spawnSync("ip", ["-6", "route", "show"], { encoding: "utf8" }).stdout;
    expect(routes).not.toContain("2001:db8:8888");
    expect(spawnSync("ip", ["-4", "addr", "show", "dev", "ipv6gw-lan"], { encoding: "utf8" }).stdout).not.toContain("inet ");
  });
});

describe("status", () => {
  it("reports a box whose lab service stopped as not ready, naming the unit", () => {
    labSh("outside", "systemctl stop ipv6gw-lab-httpd.service");
    try {
      const r = runLabCli(["status"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/outside\s+NOT READY .*ipv6gw-lab-httpd\.service is inactive/);
    } finally {
      labSh("outside", "systemctl start ipv6gw-lab-httpd.service");
    }
    expect(runLabCli(["status"]).code).toBe(0);
  });
});

describe("bad input", () => {
  it("a second up with the same scenario verifies and exits 0", () => {
    const r = runLabCli(["up"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("lab already up (scenario direct");
  });

  it("up with another scenario says to run down first", () => {
    const r = runLabCli(["up", "--scenario", "nat"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the lab is already up with scenario 'direct', not 'nat'. Run 'npm run lab -- down' first");
  });

  it("refuses to run as a user other than root", () => {
    const asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    const cli = [process.execPath, "-r", "ts-node/register/transpile-only", "lab/cli.ts", "up"];
    const r = spawnSync("setpriv", [...asNobody, ...cli], {
      cwd: path.resolve(__dirname, "../.."),
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: "/nonexistent" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("lab up: must run as root (uid 0), running as uid 65534");
  });
});
