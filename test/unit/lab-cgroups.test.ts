import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { boxCgroupDirs, inCgroups, ownCgroupDirs, removeCgroupTree } from "../../lab/cgroups";

// This machine's kind: hybrid (v1 controllers, named systemd hierarchy, cgroup2 at unified).
const HYBRID_CGROUP = "9:name=systemd:/\n4:memory:/process_api/be06\n1:cpu:/\n0::/\n";
const HYBRID_MOUNTINFO = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

describe("ownCgroupDirs", () => {
  it("finds the named systemd hierarchy and cgroup2 on a hybrid host, and nothing else", () => {
    expect(ownCgroupDirs(HYBRID_CGROUP, HYBRID_MOUNTINFO)).toEqual(["/sys/fs/cgroup/systemd/", "/sys/fs/cgroup/unified/"]);
  });

  it("follows this process into a nested cgroup on a pure cgroup2 host", () => {
    const mountinfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
    expect(ownCgroupDirs("0::/user.slice/session-3.scope\n", mountinfo)).toEqual(["/sys/fs/cgroup/user.slice/session-3.scope"]);
  });

  it("skips a hierarchy that is not mounted", () => {
    expect(ownCgroupDirs("1:name=systemd:/\n0::/\n", "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw")).toEqual(["/sys/fs/cgroup/"]);
  });
});

describe("box cgroups", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cgroups-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names one cgroup per hierarchy and box", () => {
    expect(boxCgroupDirs(["/a", "/b/"], "gw")).toEqual(["/a/ipv6gw-lab-gw", "/b/ipv6gw-lab-gw"]);
  });

  it("joins every cgroup, then execs the command as the same process", () => {
    const cgroups = ["one", "two"].map((n) => path.join(dir, n));
    for (const c of cgroups) fs.mkdirSync(c);
    const { cmd, args } = inCgroups(cgroups, "/bin/sh", ["-c", 'echo "$$ $1"', "sh", "an argument with spaces"]);
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    expect(r.status).toBe(0);
    const [pid, ...rest] = r.stdout.trim().split(" ");
    expect(rest.join(" ")).toBe("an argument with spaces");
    for (const c of cgroups) expect(fs.readFileSync(path.join(c, "cgroup.procs"), "utf8").trim()).toBe(pid);
  });

  it("just execs the command when there is no cgroup to join", () => {
    const { cmd, args } = inCgroups([], "/bin/echo", ["--", "started"]);
    expect(spawnSync(cmd, args, { encoding: "utf8" }).stdout).toBe("-- started\n");
  });

  it("does not start the command when it cannot join a cgroup", () => {
    const { cmd, args } = inCgroups([path.join(dir, "missing")], "/bin/echo", ["started"]);
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    expect(r.status).toBe(125);
    expect(r.stdout).toBe("");
  });

  it("removes a cgroup with the tree a container made below it, deepest first", () => {
    fs.mkdirSync(path.join(dir, "ipv6gw-lab-gw/payload/system.slice/ssh.service"), { recursive: true });
    fs.mkdirSync(path.join(dir, "ipv6gw-lab-gw/supervisor"), { recursive: true });
    expect(removeCgroupTree(path.join(dir, "ipv6gw-lab-gw"))).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(removeCgroupTree(path.join(dir, "ipv6gw-lab-gw"))).toEqual([]);
  });
});
