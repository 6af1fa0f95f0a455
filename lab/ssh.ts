// The host's SSH client against the boxes: the lab key, the lab's own
// known_hosts with every box's pinned host key, and strict checking.
import { LabPaths } from "./paths";
import { run, sleep } from "./run";
import { SshTarget } from "./topology";

/** known_hosts line for a box: its address and its name, then its host key. */
export function knownHostsLine(box: string, target: SshTarget, hostKey: string): string {
  const hostPattern = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
  return `${hostPattern},${box} ${hostKey}`;
}

/** Options every lab ssh call uses. */
export function sshOptions(paths: LabPaths): string[] {
  return [
    "-i",
    paths.sshPrivateKey,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${paths.knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "LogLevel=ERROR",
  ];
}

/** The command line (program and arguments) that runs ssh to a box as `user`. */
export function sshCommand(
  paths: LabPaths,
  target: SshTarget,
  user: string,
  extraOptions: readonly string[] = [],
  remote: readonly string[] = [],
): { cmd: string; args: string[] } {
  const ssh = ["ssh", ...sshOptions(paths), ...extraOptions, "-p", String(target.port), `${user}@${target.host}`, ...remote];
  if (target.viaNetns) return { cmd: "ip", args: ["netns", "exec", target.viaNetns, ...ssh] };
  return { cmd: ssh[0], args: ssh.slice(1) };
}

/**
 * The remote check that a box is ready for use: boot has finished (systemd
 * removes /run/nologin only then, and Debian's sshd PAM stack turns every
 * non-root login away until it does, silently at LogLevel=ERROR) and the
 * box's lab services are active. Prints what it still waits for.
 */
export function readinessScript(units: readonly string[]): string {
  const unitChecks = units.map((u) => `s=$(systemctl is-active ${u}); [ "$s" = active ] || { echo "${u} is $s" >&2; exit 1; }`);
  return [
    `s=$(systemctl is-system-running); case "$s" in initializing|starting) echo "boot not finished (system $s)" >&2; exit 1;; esac`,
    "[ ! -e /run/nologin ] || { echo 'boot not finished: /run/nologin still present' >&2; exit 1; }",
    ...unitChecks,
  ].join("; ");
}

/** One non-interactive root login that checks the box is ready; resolves with ssh's exit code and stderr. */
export async function sshProbe(paths: LabPaths, target: SshTarget, units: readonly string[] = []): Promise<{ code: number; stderr: string }> {
  const { cmd, args } = sshCommand(paths, target, "root", ["-o", "BatchMode=yes", "-o", "ConnectTimeout=2"], [readinessScript(units)]);
  const r = await run(cmd, args, { timeoutMs: 10_000 });
  return { code: r.code, stderr: r.stderr.trim() };
}

/** Waits until the box's sshd accepts the lab key with the pinned host key and the box is ready (readinessScript). */
export async function waitForSsh(paths: LabPaths, target: SshTarget, units: readonly string[], timeoutMs: number): Promise<{ ok: boolean; last: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = await sshProbe(paths, target, units);
    if (r.code === 0) return { ok: true, last: "" };
    last = r.stderr;
    // A host key mismatch never heals by waiting.
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/.test(last)) return { ok: false, last };
    if (Date.now() > deadline) return { ok: false, last };
    await sleep(100);
  }
}
