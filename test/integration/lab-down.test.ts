// `lab down` leaves nothing behind but the caches; then a warm `up` (timed)
// brings the lab back for the tests that follow, and a concurrent second
// `up` is refused while it runs.
import { execFile, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import { isAlive } from "../../lab/boxes";
import { existingBoxCgroups } from "../../lab/cgroups";
import { LabJson, labSshCommand, loadLab, REPO_ROOT, runLabCli } from "../../lab/client";
import { ourNspawnProcesses } from "../../lab/lab";
import { labPaths } from "../../lab/paths";
import { acquireLock } from "../../lab/state";
import { allNetnsNames } from "../../lab/topology";

jest.setTimeout(300_000);

const paths = labPaths();

function ipLines(args: string[]): string[] {
  return spawnSync("ip", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
}

describe("lab down", () => {
  let before: LabJson;
  let cgroupsBefore: string[];

  beforeAll(() => {
    before = loadLab();
    cgroupsBefore = existingBoxCgroups();
    const r = runLabCli(["down"], { viaNpm: true });
    if (r.code !== 0) throw new Error(`lab down failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  });

  it("removes every lab network namespace", () => {
    const left = ipLines(["netns", "list"]).map((l) => l.split(" ")[0]);
    expect(left.filter((n) => allNetnsNames().includes(n) || n.startsWith("ipv6gw-"))).toEqual([]);
    for (const b of Object.values(before.boxes)) expect(fs.existsSync(`/run/netns/${b!.netns}`)).toBe(false);
  });

  it("removes every host-side lab link and bridge", () => {
    const names = ipLines(["-o", "link", "show"]).map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? "");
    expect(names.filter((n) => n.startsWith("ipv6gw-") || n.startsWith("lab-"))).toEqual([]);
  });

  it("stops every process it started", () => {
    for (const b of Object.values(before.boxes)) {
      expect({ pid: b!.pid, alive: isAlive(b!.pid) }).toEqual({ pid: b!.pid, alive: false });
      expect({ leader: b!.leaderPid, alive: isAlive(b!.leaderPid) }).toEqual({ leader: b!.leaderPid, alive: false });
    }
    expect(ourNspawnProcesses(paths)).toEqual([]);
  });

  it("unmounts every overlay and namespace mount", () => {
    const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").filter(Boolean);
    const ours = mounts.filter((m) => m.includes(paths.state) || m.includes(paths.trees) || m.includes("/run/netns"));
    expect(ours).toEqual([]);
  });

  it("removes every box's cgroup", () => {
    expect(cgroupsBefore.length).toBeGreaterThanOrEqual(Object.keys(before.boxes).length);
    expect(existingBoxCgroups()).toEqual([]);
  });

  it("removes runtime state but keeps the caches", () => {
    for (const f of [paths.labJson, paths.knownHosts, paths.boxes, paths.lock]) {
      expect({ f, exists: fs.existsSync(f) }).toEqual({ f, exists: false });
    }
    expect(fs.existsSync(paths.sshPrivateKey)).toBe(true);
    expect(fs.readdirSync(paths.trees).filter((d) => /^(base|apt-repo|infra)-[0-9a-f]{16}$/.test(d))).toHaveLength(3);
  });

  it("is idempotent, and status and exec then say the lab is down", () => {
    const again = runLabCli(["down"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("lab was not up; nothing left to remove");
    const status = runLabCli(["status"]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("lab is down");
    const exec = runLabCli(["exec", "gw", "--", "true"]);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toContain("box gw: the lab is not up");
  });
});

function nonRootLogin(box: string): Promise<{ box: string; code: number | null; stdout: string; stderr: string }> {
  const { cmd, args } = labSshCommand(box, "nosudo", ["id", "-un"]);
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ box, code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

describe("lab up again (warm)", () => {
  it("refuses an up while another lab command holds the lab, saying which", () => {
    // Held here rather than by a racing first up, which on a busy machine may finish before the second asks.
    const release = acquireLock(paths, "up");
    try {
      const second = runLabCli(["up"]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`lab up: another lab command is running: 'lab up' \\(pid ${process.pid}, since `));
    } finally {
      release();
    }
  });

  it("comes back in seconds with every user able to log in", async () => {
    const start = Date.now();
    const first = spawn("npm", ["run", "--silent", "lab", "--", "up"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    first.stdout.on("data", (d: Buffer) => (out += d.toString()));
    first.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number>((resolve) => first.on("close", (code) => resolve(code ?? 1)));

    const code = await exited;
    const seconds = (Date.now() - start) / 1000;
    // Boot keeps /run/nologin a moment after sshd answers, and pam_nologin
    // turns non-root users away meanwhile: `up` must not return before every
    // user can log in, so this asks at once, all boxes together.
    const logins = await Promise.all(Object.keys(loadLab().boxes).map((box) => nonRootLogin(box)));
    process.stdout.write(`warm 'npm run lab -- up' took ${seconds.toFixed(1)} s (wall, including npm and ts-node)\n${out}`);
    expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining("lab up (scenario direct) in") });
    expect(seconds).toBeLessThan(30);
    expect(logins).toEqual(logins.map(({ box }) => ({ box, code: 0, stdout: "nosudo", stderr: "" })));

    const status = runLabCli(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("lab is up: scenario direct");
  });
});
