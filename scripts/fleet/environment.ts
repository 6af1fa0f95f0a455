// The pinned CLI and the offline settings scripts/pulumi.sh uses, for the
// Automation API: the CLI from scripts/toolchain.sh (with the language host
// and dynamic-provider shims beside it), the project's file backend and lab
// passphrase unless the caller has their own, no update checks, no plugin
// downloads.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The directory holding the pinned `pulumi` (built or cached by scripts/toolchain.sh). */
export function toolchainDir(root: string): string {
  const r = spawnSync("bash", [path.join(root, "scripts/toolchain.sh")], { cwd: root, encoding: "utf8" });
  const dir = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !fs.existsSync(path.join(dir, "pulumi"))) throw new Error(`scripts/toolchain.sh could not provide the pinned Pulumi CLI (exit ${r.status}):\n${r.stderr}`);
  return dir;
}

export interface OfflineEnvironment {
  readonly env: Record<string, string>;
  /** Whether the backend is the project's own (.pulumi/state), where stacks with a file in stacks/ are created on first use. */
  readonly ownBackend: boolean;
}

/** The variables scripts/pulumi.sh exports, from the caller's environment. Pure. */
export function offlineEnvironment(root: string, binDir: string, callerEnv: NodeJS.ProcessEnv): OfflineEnvironment {
  const ownBackend = !callerEnv.PULUMI_BACKEND_URL;
  return {
    ownBackend,
    env: {
      IPV6GW_ROOT: root,
      PATH: `${binDir}${path.delimiter}${callerEnv.PATH ?? ""}`,
      PULUMI_HOME: callerEnv.PULUMI_HOME || path.join(root, ".pulumi/home"),
      PULUMI_BACKEND_URL: callerEnv.PULUMI_BACKEND_URL || `file://${path.join(root, ".pulumi/state")}`,
      // The lab stack's fixed passphrase, unless the caller set one (even empty), as scripts/pulumi.sh does.
      PULUMI_CONFIG_PASSPHRASE: callerEnv.PULUMI_CONFIG_PASSPHRASE ?? "ipv6gw-lab",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    },
  };
}
