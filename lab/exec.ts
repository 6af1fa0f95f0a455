// Running a command inside a box: nsenter into every namespace of the box's
// PID 1 (its systemd), with a clean environment. No sshd involved, so it
// works whatever the project does to the box's network or firewall.
import { spawn, spawnSync } from "child_process";
import { constants as osConstants } from "os";
import { isAlive, isOurNspawn, leaderPid } from "./boxes";
import { LabError } from "./errors";
import { boxPaths, LabPaths } from "./paths";
import { readLabJson } from "./state";

export const BOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** nsenter arguments that run `argv` inside the container whose PID 1 is `leader`. */
export function nsenterArgs(leader: number, argv: readonly string[], term = "dumb"): string[] {
  return [
    `--target=${leader}`,
    "--all",
    "--root",
    "--wd",
    "--",
    "/usr/bin/env",
    "-i",
    `PATH=${BOX_PATH}`,
    "HOME=/root",
    "USER=root",
    "LOGNAME=root",
    "LANG=C.UTF-8",
    `TERM=${term}`,
    ...argv,
  ];
}

/** The host PID of a running box's systemd, or a LabError saying why there is none. */
export function boxLeader(paths: LabPaths, box: string): number {
  const lab = readLabJson(paths);
  if (!lab) throw new LabError(`box ${box}: the lab is not up (no ${paths.labJson}); run 'npm run lab -- up'`);
  const entry = lab.boxes[box as keyof typeof lab.boxes];
  if (!entry) {
    throw new LabError(`box ${box}: not part of the running lab (scenario ${lab.scenario}: ${Object.keys(lab.boxes).join(", ")})`);
  }
  const root = boxPaths(paths, box).root;
  if (!isAlive(entry.pid) || !isOurNspawn(entry.pid, root)) {
    throw new LabError(`box ${box}: its systemd-nspawn (pid ${entry.pid}) is not running; run 'npm run lab -- up' to restart the lab`);
  }
  const leader = leaderPid(entry.pid);
  if (!leader) throw new LabError(`box ${box}: systemd-nspawn (pid ${entry.pid}) has no running container`);
  return leader;
}

/** Runs a command in a box with our stdin/stdout/stderr; resolves with its exit code. */
export function execInteractive(paths: LabPaths, box: string, argv: readonly string[]): Promise<number> {
  const leader = boxLeader(paths, box);
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", nsenterArgs(leader, argv, process.env.TERM), { stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  });
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in a box and captures its output (for tests and tools). */
export function execCapture(paths: LabPaths, box: string, argv: readonly string[], input = "", timeoutMs = 120_000): ExecResult {
  const leader = boxLeader(paths, box);
  const r = spawnSync("nsenter", nsenterArgs(leader, argv), { input, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
