// A cgroup of its own for each box. This host runs no systemd, so nothing
// gives a container a cgroup: started from the same cgroup, every nspawn
// puts its container in the same "payload" child, and the boxes' systemds
// share one system.slice. A box then races another for same-named units
// (seen: "Failed to attach to cgroup /system.slice/systemd-tmpfiles-setup.service:
// No such file or directory" at boot), and gw's wg-quick@wg0 shares a cgroup
// with isp's. Each nspawn is moved into <our cgroup>/ipv6gw-lab-<box> before
// it starts, in every hierarchy it uses.
import * as fs from "fs";
import * as path from "path";
import { LabError } from "./errors";

export const CGROUP_PREFIX = "ipv6gw-lab-";

/**
 * The cgroup directories this process lives in, in the hierarchies nspawn
 * uses: cgroup2 (pure or hybrid) and the named v1 "systemd" hierarchy.
 * Pure: reads the text of /proc/self/cgroup and /proc/self/mountinfo.
 */
export function ownCgroupDirs(procSelfCgroup: string, mountinfo: string): string[] {
  const mountOf = (match: (fstype: string, superOpts: string[]) => boolean): string | undefined => {
    for (const line of mountinfo.split("\n")) {
      const [pre, post] = line.split(" - ");
      if (!pre || !post) continue;
      const [fstype, , superOpts = ""] = post.split(" ");
      if (match(fstype, superOpts.split(","))) return pre.split(" ")[4];
    }
    return undefined;
  };
  const dirs: string[] = [];
  for (const line of procSelfCgroup.split("\n").filter(Boolean)) {
    const [, , controllers, cgPath] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    if (cgPath === undefined) continue;
    const mount =
      controllers === ""
        ? mountOf((t) => t === "cgroup2")
        : controllers === "name=systemd"
          ? mountOf((t, o) => t === "cgroup" && o.includes("name=systemd"))
          : undefined;
    if (mount) dirs.push(path.join(mount, cgPath));
  }
  return dirs;
}

/** Where each box's cgroups go, one per hierarchy. */
export function boxCgroupDirs(parents: readonly string[], box: string): string[] {
  return parents.map((p) => path.join(p, `${CGROUP_PREFIX}${box}`));
}

export function hostCgroupParents(): string[] {
  return ownCgroupDirs(fs.readFileSync("/proc/self/cgroup", "utf8"), fs.readFileSync("/proc/self/mountinfo", "utf8"));
}

/** Removes a cgroup and the ones a container's systemd made below it, deepest first. Returns what could not go. */
export function removeCgroupTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const problems: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) problems.push(...removeCgroupTree(path.join(dir, e.name)));
  }
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    problems.push(`cgroup ${dir}: ${(err as Error).message}`);
  }
  return problems;
}

/**
 * Fresh, empty cgroups for a box (leftovers of an earlier run are removed
 * first). Where the host does not let us make cgroups (read-only cgroupfs,
 * no permission), the box boots in ours, as before, and `warning` says so.
 */
export function prepareBoxCgroups(box: string): { dirs: string[]; warning?: string } {
  const dirs = boxCgroupDirs(hostCgroupParents(), box);
  for (const d of dirs) {
    const problems = removeCgroupTree(d);
    if (problems.length) throw new LabError(`box ${box}: an old cgroup is still in use:\n  ${problems.join("\n  ")}\nRun 'npm run lab -- down' first.`);
    try {
      fs.mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EACCES" && code !== "EPERM" && code !== "EROFS") throw err;
      dirs.filter((x) => x !== d).forEach(removeCgroupTree);
      return { dirs: [], warning: `box ${box}: cannot make its cgroup ${d} (${code}); it shares this process's cgroup with the other boxes, and same-named units may race at boot` };
    }
  }
  return { dirs };
}

/** The lab's box cgroups that exist now, in every hierarchy. */
export function existingBoxCgroups(): string[] {
  return hostCgroupParents().flatMap((p) => {
    try {
      return fs
        .readdirSync(p, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(CGROUP_PREFIX))
        .map((e) => path.join(p, e.name));
    } catch {
      return [];
    }
  });
}

/**
 * A command line that joins these cgroups, then execs `cmd` with `args`
 * (same PID, so the caller's PID bookkeeping holds).
 */
export function inCgroups(dirs: readonly string[], cmd: string, args: readonly string[]): { cmd: string; args: string[] } {
  const join = 'for d in "$@"; do [ "$d" = -- ] && break; echo $$ > "$d/cgroup.procs" || exit 125; shift; done; shift; exec "$@"';
  return { cmd: "/bin/sh", args: ["-c", join, "sh", ...dirs, "--", cmd, ...args] };
}
