// `lab restart <box> [--hard]` reboots one box as a power cycle would: what
// it wrote to its disk stays, what it had only in the kernel (addresses,
// sysctls, ip6tables rules) is gone, it comes back ready with new PIDs in
// lab.json, the rest of the lab runs on meanwhile, and `down` afterwards
// leaves nothing behind. The boxes are reset at the end.
import * as fs from "fs";
import { isAlive } from "../../lab/boxes";
import { labCli, labExec, LabJson, labSh, loadLab, restartBox, RestartReport, runLabCli, startProbes } from "../../lab/client";
import { leftovers } from "../../lab/lab";
import { labPaths } from "../../lab/paths";

jest.setTimeout(240_000);

const TOKEN = `restart-${process.pid}-${Date.now()}`;
// A unit whose ExecStop leaves a mark: a clean shutdown stops it, a power loss does not.
const STOPMARK_UNIT = `[Unit]
Description=lab test: marks a clean shutdown
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'echo stopped > /var/lib/lab-test-stopmark; sync'
[Install]
WantedBy=multi-user.target
`;

function netnsInode(lab: LabJson, box: "c2"): number {
  return fs.statSync(`/proc/${lab.boxes[box]!.leaderPid}/ns/net`).ino;
}

function labNetnsInode(box: "c2"): number {
  return fs.statSync(`/run/netns/ipv6gw-${box}`).ino;
}

/** Things a box only has until it reboots, set by hand in c2. */
function setRuntimeState(): void {
  labSh(
    "c2",
    [
      "set -e",
      "ip -6 address add 2001:db8:ffff:ee::12/64 dev eth0 nodad",
      "sysctl -q -w net.ipv6.conf.eth0.accept_ra=0",
      "ip6tables -A INPUT -s 2001:db8:ffff:ee::/64 -j DROP",
    ].join("\n"),
  );
}

function runtimeState(): { address: string; acceptRa: string; rules: string[] } {
  return {
    address: labSh("c2", "ip -6 -o addr show dev eth0 scope global").trim(),
    acceptRa: labSh("c2", "sysctl -n net.ipv6.conf.eth0.accept_ra").trim(),
    rules: labSh("c2", "ip6tables -S").trim().split("\n").filter((l) => !/^-P \w+ ACCEPT$/.test(l)),
  };
}

describe("lab restart", () => {
  let before: LabJson;

  beforeAll(() => {
    before = loadLab();
    // On c2's disk: ip6tables (from the local repo), a file, and the stop-mark unit, enabled.
    labSh("c2", "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null");
    labSh(
      "c2",
      `set -e\nmkdir -p /var/lib/lab-test\necho ${TOKEN} > /var/lib/lab-test/token\n` +
        `cat > /etc/systemd/system/lab-test-stopmark.service <<'EOF'\n${STOPMARK_UNIT}EOF\n` +
        "rm -f /var/lib/lab-test-stopmark\nsystemctl daemon-reload\nsystemctl enable -q --now lab-test-stopmark.service\nsync",
    );
  });

  afterAll(() => {
    labCli(["reset"], { viaNpm: true });
  });

  describe("clean (the box's systemd shuts down)", () => {
    let report: RestartReport;
    let after: LabJson;
    let probes: Awaited<ReturnType<ReturnType<typeof startProbes>["stop"]>>;

    beforeAll(async () => {
      expect(labNetnsInode("c2")).toBe(netnsInode(before, "c2"));
      setRuntimeState();
      expect(runtimeState()).toEqual({
        address: expect.stringContaining("2001:db8:ffff:ee::12/64"),
        acceptRa: "0",
        rules: ["-A INPUT -s 2001:db8:ffff:ee::/64 -j DROP"],
      });
      // c1 watches c2 across the restart: ssh port and ping on the LAN.
      const loop = startProbes("c1", [{ address: "192.0.2.12", port: 22 }], { intervalMs: 200, maxSeconds: 180 });
      await new Promise((r) => setTimeout(r, 1_000));
      report = await restartBox("c2");
      await new Promise((r) => setTimeout(r, 1_000));
      probes = await loop.stop();
      after = loadLab();
    });

    it("shuts the box down cleanly: its units are stopped", () => {
      expect(report).toMatchObject({ box: "c2", mode: "clean", clean: true });
      expect(labSh("c2", "cat /var/lib/lab-test-stopmark").trim()).toBe("stopped");
    });

    it("keeps what the box wrote to its disk", () => {
      expect(labSh("c2", "cat /var/lib/lab-test/token").trim()).toBe(TOKEN);
      expect(labExec("c2", ["ip6tables", "--version"]).code).toBe(0);
    });

    it("loses what the box had only in its kernel: an address, a sysctl and an ip6tables rule set by hand", () => {
      expect(runtimeState()).toEqual({ address: "", acceptRa: "1", rules: [] });
    });

    it("gives the box a fresh network namespace, wired as up wires it (same MAC, link-local, IPv4, default route)", () => {
      // The kernel gives a new namespace the lowest free inode number, often the old one's once that is
      // freed: the number cannot show freshness (what the kernel lost, above, does). lab.json follows the box.
      expect(labNetnsInode("c2")).toBe(netnsInode(after, "c2"));
      expect(labSh("c2", "cat /sys/class/net/eth0/address").trim()).toBe(before.boxes.c2!.interfaces.eth0.mac);
      expect(labSh("c2", "ip -6 -o addr show dev eth0 scope link")).toContain(`${before.boxes.c2!.interfaces.eth0.linkLocal}/64`);
      expect(labSh("c2", "ip -4 -o addr show dev eth0")).toContain("192.0.2.12/24");
      expect(labSh("c2", "ip -4 route show default").trim()).toBe("default via 192.0.2.1 dev eth0");
      expect(labSh("c2", "sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.default.addr_gen_mode").trim().split("\n")).toEqual(["0", "0"]);
      expect(labExec("c2", ["ping", "-c1", "-W5", "192.0.2.1"]).code).toBe(0);
    });

    it("comes back ready (a non-root login works: boot finished) with its new PIDs in lab.json, the others untouched", () => {
      expect(report.haltedAt).toBeLessThanOrEqual(report.bootedAt);
      expect(report.bootedAt).toBeLessThanOrEqual(report.readyAt);
      expect(after.boxes.c2).toMatchObject({ pid: report.pid, leaderPid: report.leaderPid });
      expect(after.boxes.c2!.pid).not.toBe(before.boxes.c2!.pid);
      expect(isAlive(before.boxes.c2!.pid)).toBe(false);
      for (const b of ["gw", "c1", "isp", "outside"] as const) expect(after.boxes[b]!.pid).toBe(before.boxes[b]!.pid);
      const nosudo = runLabCli(["ssh", "c2", "--user", "nosudo", "--", "id", "-un"]);
      expect({ code: nosudo.code, out: nosudo.stdout.trim() }).toEqual({ code: 0, out: "nosudo" });
      const status = runLabCli(["status"]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`c2\\s+up\\s+pid ${report.pid} `));
    });

    it("lets a probe loop from another box see the box go away and come back", () => {
      const tcp = probes.filter((p) => p.kind === "tcp");
      expect(tcp.filter((p) => p.at < report.startedAt).some((p) => p.ok)).toBe(true);
      const whileDown = tcp.filter((p) => p.at > report.haltedAt && p.at + 1_000 < report.bootedAt);
      expect(whileDown.every((p) => !p.ok)).toBe(true);
      expect(tcp.filter((p) => p.at > report.readyAt).some((p) => p.ok)).toBe(true);
    });
  });

  describe("--hard (power loss: no shutdown)", () => {
    let report: RestartReport;

    beforeAll(async () => {
      labSh("c2", "rm -f /var/lib/lab-test-stopmark; echo hard > /var/lib/lab-test/token; sync");
      setRuntimeState();
      report = await restartBox("c2", { hard: true });
    });

    it("kills the box without a shutdown: no unit was stopped", () => {
      expect(report).toMatchObject({ box: "c2", mode: "hard" });
      expect(labExec("c2", ["test", "-e", "/var/lib/lab-test-stopmark"]).code).toBe(1);
    });

    it("keeps the disk, loses the kernel state, and comes back ready", () => {
      expect(labSh("c2", "cat /var/lib/lab-test/token").trim()).toBe("hard");
      expect(runtimeState()).toEqual({ address: "", acceptRa: "1", rules: [] });
      expect(runLabCli(["status"]).code).toBe(0);
    });
  });

  it("refuses a box the running scenario does not have, and an unknown one", () => {
    const r = runLabCli(["restart", "natbox"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lab restart: box natbox is not part of the running lab (scenario direct: gw, c1, c2, isp, outside)");
    expect(runLabCli(["restart", "router"]).code).toBe(2);
  });

  it("restarts gw through the CLI, and `down` afterwards leaves nothing behind (namespaces, links, mounts, cgroups, processes)", async () => {
    const r = runLabCli(["restart", "gw"], { viaNpm: true });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/lab: gw is back \(clean\) in [\d.]+ s/);
    const down = runLabCli(["down"]);
    expect(down.code).toBe(0);
    expect(await leftovers(labPaths())).toEqual({ netns: [], links: [], mounts: [], processes: [], containers: [], cgroups: [] });
    const up = runLabCli(["up"]);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: "" });
  });
});
