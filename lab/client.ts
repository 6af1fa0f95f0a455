// For code that uses a running lab (integration and e2e tests, tools): read
// lab.json, run a command in a box, build ssh command lines, run the lab CLI.
import { spawnSync } from "child_process";
import * as path from "path";
import { LabError } from "./errors";
import { execCapture, ExecResult } from "./exec";
import { labPaths, LabPaths } from "./paths";
import { searchPath } from "./prereqs";
import { ProbeLoop, ProbeTarget, startProbeLoop } from "./probes";
import { restart, RestartReport } from "./restart";
import { sshCommand } from "./ssh";
import { LabJson, LabJsonBox, readLabJson } from "./state";
import { BoxName, isBoxName } from "./topology";

export type { ExecResult } from "./exec";
export type { LabJson, LabJsonBox, LabJsonNative } from "./state";
export type { ProbeLoop, ProbeResult, ProbeTarget } from "./probes";
export type { RestartReport } from "./restart";
export { parseLabJson } from "./lab-json";

/** The repository root (where package.json and lab/ live). */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** lab.json of the running lab; throws saying how to start it when there is none. */
export function loadLab(paths: LabPaths = labPaths()): LabJson {
  const lab = readLabJson(paths);
  if (!lab) throw new LabError(`the lab is not up (no ${paths.labJson}); run 'npm run lab -- up' as root`);
  return lab;
}

export function labBox(lab: LabJson, box: string): LabJsonBox {
  const b = lab.boxes[box as keyof LabJson["boxes"]];
  if (!b) throw new LabError(`box ${box} is not in the running lab (scenario ${lab.scenario}: ${Object.keys(lab.boxes).join(", ")})`);
  return b;
}

/** Runs `argv` as root inside a box (nsenter, no ssh) and captures its output. */
export function labExec(box: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): ExecResult {
  return execCapture(labPaths(), box, argv, opts.input ?? "", opts.timeoutMs);
}

/** Runs a shell script as root inside a box; throws with its output unless it exits 0. */
export function labSh(box: string, script: string, timeoutMs?: number): string {
  const r = labExec(box, ["/bin/sh", "-c", script], { timeoutMs });
  if (r.code !== 0) {
    throw new Error(`in box ${box}: script exited ${r.code}:\n${script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r.stdout;
}

/** The system ssh command line (program, args) that logs into a box as `user` with the pinned host key. */
export function labSshCommand(box: string, user = "root", remote: readonly string[] = []): { cmd: string; args: string[] } {
  const paths = labPaths();
  const b = labBox(loadLab(paths), box);
  const target = { host: b.host, port: b.port, viaNetns: b.viaNetns };
  return sshCommand(paths, target, user, ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"], remote);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the lab CLI (`lab/cli.ts`, what `npm run lab --` runs) with these
 * arguments and captures its output. `viaNpm` goes through npm itself.
 */
export function runLabCli(args: readonly string[], opts: { viaNpm?: boolean; timeoutMs?: number; input?: string } = {}): CliResult {
  const [cmd, cmdArgs] = opts.viaNpm
    ? ["npm", ["run", "--silent", "lab", "--", ...args]]
    : [process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "lab", "cli.ts"), ...args]];
  const r = spawnSync(cmd, cmdArgs as string[], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    input: opts.input ?? "",
    timeout: opts.timeoutMs ?? 600_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a lab verb that must succeed (a test's or the bench's setup); throws with its output otherwise. */
export function labCli(args: readonly string[], opts: { viaNpm?: boolean } = {}): void {
  const r = runLabCli(args, { viaNpm: opts.viaNpm, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`lab ${args.join(" ")} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/**
 * Reboots one box as `npm run lab -- restart <box> [--hard]` does, in this
 * process, so the caller's own timers (a probe loop) keep running meanwhile.
 * Resolves when the box is ready again (as after `up`), with when each step
 * happened; lab.json then holds its new PIDs.
 */
export async function restartBox(box: string, opts: { hard?: boolean } = {}, log: (line: string) => void = () => undefined): Promise<RestartReport> {
  if (!isBoxName(box)) throw new LabError(`restartBox: unknown box '${box}'`);
  // The lab's host tools live in sbin, which a test runner's PATH may lack.
  process.env.PATH = searchPath().join(":");
  return restart(labPaths(), box as BoxName, opts, log);
}

/**
 * Starts probing `targets` from inside `box` (TCP connects and pings, every
 * `intervalMs`, 200 by default, each attempt recorded with its start time);
 * `stop()` returns the results. It ends by itself after `maxSeconds` (600).
 */
export function startProbes(box: string, targets: readonly ProbeTarget[], opts: { intervalMs?: number; maxSeconds?: number } = {}): ProbeLoop {
  process.env.PATH = searchPath().join(":");
  return startProbeLoop(labPaths(), box, targets, opts);
}
