// systemd-nspawn invocations: one-shot commands in a tree (builds) and the
// argument list that boots a box. The host has no systemd as PID 1, so
// nothing is registered with machined (--register=no --keep-unit).
import * as fs from "fs";
import { check, RunOptions } from "./run";

/**
 * nspawn leaves /run/systemd/nspawn/propagate/<machine> behind when /run is
 * not a tmpfs (no systemd on the host); remove it once the machine is gone.
 */
export function removePropagateDir(machine: string): void {
  try {
    fs.rmdirSync(`/run/systemd/nspawn/propagate/${machine}`);
  } catch {
    // absent, or not empty: then it is not ours to remove
  }
}

export interface NspawnCommand {
  readonly root: string;
  readonly machine: string;
  /** Share the host's network (downloads); otherwise the command gets a private, empty one. */
  readonly hostNetwork?: boolean;
  readonly bindRo?: ReadonlyArray<readonly [string, string]>;
  readonly script: string;
}

/** Runs a shell script inside a tree with systemd-nspawn (not booted); its output shows only if it fails. */
export async function nspawnScript(what: string, cmd: NspawnCommand, opts: RunOptions = {}): Promise<void> {
  const args = [
    "--quiet",
    "--register=no",
    "--keep-unit",
    "--pipe",
    `--machine=${cmd.machine}`,
    `--directory=${cmd.root}`,
    "--setenv=DEBIAN_FRONTEND=noninteractive",
    ...(cmd.hostNetwork ? ["--resolv-conf=copy-host"] : ["--private-network"]),
    ...(cmd.bindRo ?? []).map(([src, dst]) => `--bind-ro=${src}:${dst}`),
    "/bin/sh",
    "-c",
    cmd.script,
  ];
  try {
    await check(what, "systemd-nspawn", args, opts);
  } finally {
    removePropagateDir(cmd.machine);
  }
}

export interface BootSpec {
  readonly root: string;
  readonly machine: string;
  readonly netnsPath: string;
  readonly bindRo: ReadonlyArray<readonly [string, string]>;
  readonly bind: readonly string[];
}

/** Arguments that boot a box: systemd as PID 1 in the given network namespace. */
export function bootArgs(spec: BootSpec): string[] {
  return [
    "--quiet",
    "--boot",
    "--register=no",
    "--keep-unit",
    "--console=read-only",
    `--machine=${spec.machine}`,
    `--hostname=${spec.machine}`,
    `--directory=${spec.root}`,
    `--network-namespace-path=${spec.netnsPath}`,
    "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
    "--resolv-conf=off",
    "--timezone=off",
    "--link-journal=no",
    ...spec.bindRo.map(([src, dst]) => `--bind-ro=${src}:${dst}`),
    ...spec.bind.map((p) => `--bind=${p}`),
  ];
}

/** Environment for a booted box: lets systemd and sysctl write /proc/sys/net inside it. */
export const BOOT_ENV = { SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" } as const;
