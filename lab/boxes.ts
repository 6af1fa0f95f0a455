// Boxes: an overlay mount over the cached trees, the box's own files, and
// systemd-nspawn booting it detached in its network namespace. Stopped by
// the PID recorded at start, never by process name.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BoxFile, BoxSymlink } from "./box-files";
import { LabError } from "./errors";
import { mountOverlay, unmountAll } from "./mounts";
import { boxCgroupDirs, hostCgroupParents, inCgroups, prepareBoxCgroups, removeCgroupTree } from "./cgroups";
import { BOOT_ENV, bootArgs, removePropagateDir } from "./nspawn";
import { boxPaths, LabPaths } from "./paths";
import { APT_REPO_MOUNT } from "./recipe";
import { sleep } from "./run";
import { BoxPlan } from "./topology";
import { Trees } from "./trees";

/** True while `pid` names a live process (a zombie is dead). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** True when `pid` is the systemd-nspawn that boots `root` (guards against a reused PID). */
export function isOurNspawn(pid: number, root: string): boolean {
  const argv = cmdline(pid);
  return argv.some((a) => a.endsWith("systemd-nspawn")) && argv.includes(`--directory=${root}`);
}

/** The container's PID 1 (its systemd), as seen from the host: the nspawn child whose namespaced PID is 1. */
export function leaderPid(nspawnPid: number): number | undefined {
  let children: string[] = [];
  try {
    children = fs.readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return undefined;
  }
  for (const c of children) {
    try {
      const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${c}/status`, "utf8"))?.[1].trim().split(/\s+/);
      if (nspid && nspid.length >= 2 && nspid[nspid.length - 1] === "1") return Number(c);
    } catch {
      // the child exited meanwhile
    }
  }
  return undefined;
}

/** A process's start time (clock ticks since boot): with its PID, identifies it even after PID reuse. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function writeBoxFiles(root: string, files: readonly BoxFile[], symlinks: readonly BoxSymlink[]): void {
  for (const f of files) {
    const p = path.join(root, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.writeFileSync(p, f.content, { mode: f.mode });
    fs.chmodSync(p, f.mode);
    fs.chownSync(p, f.uid, f.gid);
  }
  for (const l of symlinks) {
    const p = path.join(root, l.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.symlinkSync(l.target, p);
  }
}

export interface StartedBox {
  readonly pid: number;
  readonly leader: number;
}

/**
 * Mounts a fresh overlay for the box, writes its files and boots it; resolves
 * once its systemd runs. `bindRo` are extra read-only binds [host, box] (the
 * TSP broker's cached build on isp).
 */
export async function startBox(
  paths: LabPaths,
  box: BoxPlan,
  trees: Trees,
  files: { files: readonly BoxFile[]; symlinks: readonly BoxSymlink[] },
  log: (line: string) => void,
  bindRo: ReadonlyArray<readonly [string, string]> = [],
): Promise<StartedBox> {
  const bp = boxPaths(paths, box.name);
  fs.rmSync(bp.dir, { recursive: true, force: true });
  fs.mkdirSync(bp.dir, { recursive: true, mode: 0o700 });
  await mountOverlay({
    lower: box.tree === "infra" ? [trees.infra, trees.base] : [trees.base],
    upper: bp.upper,
    work: bp.work,
    merged: bp.root,
  });
  writeBoxFiles(bp.root, files.files, files.symlinks);
  return bootBox(paths, box, trees.repo, log, "w", bindRo);
}

/**
 * Boots the box's root as it is (its overlay mounted: the box's disk) with
 * systemd-nspawn in the box's network namespace; resolves once its systemd
 * runs. `consoleMode` "a" keeps the console log of earlier boots.
 */
export async function bootBox(
  paths: LabPaths,
  box: BoxPlan,
  repo: string,
  log: (line: string) => void,
  consoleMode: "w" | "a",
  bindRo: ReadonlyArray<readonly [string, string]> = [],
): Promise<StartedBox> {
  const bp = boxPaths(paths, box.name);
  const nspawnArgs = bootArgs({
    root: bp.root,
    machine: box.name,
    netnsPath: `/run/netns/${box.netns}`,
    bindRo: [[repo, APT_REPO_MOUNT], ...bindRo],
    bind: ["/dev/net/tun"],
  });
  const out = fs.openSync(bp.console, consoleMode);
  const cgroups = prepareBoxCgroups(box.name);
  if (cgroups.warning) log(`warning: ${cgroups.warning}`);
  const { cmd, args } = inCgroups(cgroups.dirs, "systemd-nspawn", nspawnArgs);
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...BOOT_ENV },
  });
  fs.closeSync(out);
  const pid = child.pid;
  if (!pid) throw new LabError(`could not start systemd-nspawn for ${box.name}`);
  child.unref();
  fs.writeFileSync(bp.pidFile, `${pid}\n`);

  const deadline = Date.now() + 20_000;
  for (;;) {
    const leader = leaderPid(pid);
    if (leader) {
      fs.writeFileSync(bp.leaderFile, `${leader} ${startTime(leader)}\n`);
      return { pid, leader };
    }
    if (!isAlive(pid) || Date.now() > deadline) {
      throw new LabError(
        `box ${box.name}: systemd-nspawn (pid ${pid}) ${isAlive(pid) ? "started no container in 20 s" : "exited"}; ` +
          `its output is in ${bp.console}:\n${tail(bp.console, 15)}`,
      );
    }
    await sleep(20);
  }
}

export function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}

/** The PID recorded in a leader file, if that very process (same start time) still runs. */
export function orphanLeader(leaderFile: string): number | undefined {
  try {
    const [pid, start] = fs.readFileSync(leaderFile, "utf8").trim().split(" ");
    const n = Number(pid);
    return isAlive(n) && startTime(n) === start ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Sends a signal to a process that may have exited meanwhile. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Waits until `pid` is gone; false if it still runs after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Removes the box's cgroups, giving the container's last processes a moment to leave them. */
async function removeBoxCgroups(box: string): Promise<string[]> {
  const dirs = boxCgroupDirs(hostCgroupParents(), box);
  const deadline = Date.now() + 5_000;
  for (;;) {
    const problems = dirs.flatMap(removeCgroupTree);
    if (problems.length === 0 || Date.now() > deadline) return problems.map((p) => `box ${box}: ${p}`);
    await sleep(50);
  }
}

/** How `lab restart` stops a box: its systemd shuts down, or the power goes. */
export type HaltMode = "clean" | "hard";

/**
 * Stops a running box and leaves its disk (the mounted overlay) as it is:
 * "clean" sends its nspawn SIGTERM, which has the container's systemd shut
 * down (SIGKILL after `cleanTimeoutMs`, reported as not clean); "hard"
 * SIGKILLs the container's PID 1 at once, so nothing in it runs another
 * instruction. The caller takes the box's links down first for "hard".
 * Removes the box's cgroups. Resolves with whether the shutdown was clean.
 */
export async function haltBox(paths: LabPaths, box: string, mode: HaltMode, cleanTimeoutMs: number): Promise<{ clean: boolean }> {
  const bp = boxPaths(paths, box);
  const pid = readPidFile(bp.pidFile);
  if (!pid || !isAlive(pid) || !isOurNspawn(pid, bp.root)) throw new LabError(`box ${box}: its systemd-nspawn is not running; run 'npm run lab -- up'`);
  const leader = leaderPid(pid);
  let clean = mode === "clean";
  if (mode === "hard") {
    if (leader) signal(leader, "SIGKILL");
  } else {
    signal(pid, "SIGTERM");
  }
  if (!(await waitGone(pid, mode === "clean" ? cleanTimeoutMs : 5_000))) {
    clean = false;
    if (leader) signal(leader, "SIGKILL");
    signal(pid, "SIGKILL");
    if (!(await waitGone(pid, 5_000))) throw new LabError(`box ${box}: systemd-nspawn pid ${pid} does not exit after SIGKILL`);
  }
  const orphan = orphanLeader(bp.leaderFile);
  if (orphan) {
    signal(orphan, "SIGKILL");
    if (!(await waitGone(orphan, 5_000))) throw new LabError(`box ${box}: container pid ${orphan} does not exit after SIGKILL`);
  }
  removePropagateDir(box);
  const problems = await removeBoxCgroups(box);
  if (problems.length > 0) throw new LabError(`box ${box}: cannot remove its cgroups:\n  ${problems.join("\n  ")}`);
  return { clean };
}

/**
 * Stops a box started by startBox: SIGTERM to its nspawn (the container halts
 * cleanly), SIGKILL to the container and nspawn if that takes too long, then
 * unmounts and removes its runtime directory. Returns problems it could not fix.
 */
export async function stopBox(paths: LabPaths, box: string): Promise<string[]> {
  const bp = boxPaths(paths, box);
  const problems: string[] = [];
  const pid = readPidFile(bp.pidFile);
  if (pid && isAlive(pid) && isOurNspawn(pid, bp.root)) {
    const leader = leaderPid(pid);
    signal(pid, "SIGTERM");
    if (!(await waitGone(pid, 3_000))) {
      if (leader) signal(leader, "SIGKILL");
      signal(pid, "SIGKILL");
      if (!(await waitGone(pid, 5_000))) problems.push(`box ${box}: systemd-nspawn pid ${pid} does not exit`);
    }
  }
  // A container whose nspawn was killed keeps running on its own: stop it by its recorded PID 1.
  const orphan = orphanLeader(bp.leaderFile);
  if (orphan) {
    signal(orphan, "SIGKILL");
    if (!(await waitGone(orphan, 5_000))) problems.push(`box ${box}: container pid ${orphan} does not exit`);
  }
  removePropagateDir(box);
  problems.push(...(await removeBoxCgroups(box)));
  problems.push(...(await unmountAll(bp.dir)).map((p) => `box ${box}: cannot unmount ${p}`));
  if (problems.length === 0) fs.rmSync(bp.dir, { recursive: true, force: true });
  return problems;
}
