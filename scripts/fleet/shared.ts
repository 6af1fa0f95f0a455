// What every site of a fleet run shares, so ten sites cost little more than
// one: one dynamic-provider process, whose SSH pool then holds one connection
// per box for the whole run, and one policy pack process per distinct policy
// config. Each site's CLI still starts "its" provider and analyzer plugins;
// for a fleet run these are shims that hand it the shared process's port
// (IPV6GW_FLEET_PROVIDER_PORT, IPV6GW_FLEET_POLICY_PORT) and wait to be
// stopped, as a plugin does. Both servers are stateless between requests but
// for the pack's enforcement levels, which the CLI sets (Configure) before
// every preview, so sites share a pack only when their policy config is the
// same.

import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The analyzer plugin the compiled pack names as its runtime (PulumiPolicy.yaml `runtime: ipv6gw-fleet`). */
export const FLEET_ANALYZER = "policy-ipv6gw-fleet";
const ANALYZER_VERSION = "0.1.0";

export const ANALYZER_SHIM = `#!/bin/sh
# pulumi-analyzer-${FLEET_ANALYZER}: the policy pack of a fleet preview (scripts/fleet) already runs,
# shared by the run's sites; hand the CLI its port and stay until the CLI stops this plugin.
: "\${IPV6GW_FLEET_POLICY_PORT:?pulumi-analyzer-${FLEET_ANALYZER}: only npm run fleet -- preview runs this compiled policy pack}"
echo "$IPV6GW_FLEET_POLICY_PORT"
exec sleep 2147483647
`;

/** Marker of a toolchain whose provider shim can hand over a shared provider (scripts/toolchain.sh). */
const PROVIDER_SHARING = "IPV6GW_FLEET_PROVIDER_PORT";

/** Whether the CLI in `binDir` starts dynamic providers through our shim, which can share one. */
export function providerSharable(binDir: string): boolean {
  const shim = path.join(binDir, "pulumi-resource-pulumi-nodejs");
  return fs.existsSync(shim) && fs.readFileSync(shim, "utf8").includes(PROVIDER_SHARING);
}

/**
 * Installs the analyzer shim into the CLI's plugin cache (PULUMI_HOME), where
 * the CLI finds it without a download and without the warning a plugin from
 * $PATH gets. Reinstalled when its text changes.
 */
export function installAnalyzerShim(pulumiHome: string, work: string, env: NodeJS.ProcessEnv): void {
  const installed = path.join(pulumiHome, "plugins", `analyzer-${FLEET_ANALYZER}-v${ANALYZER_VERSION}`, `pulumi-analyzer-${FLEET_ANALYZER}`);
  if (fs.existsSync(installed) && fs.readFileSync(installed, "utf8") === ANALYZER_SHIM) return;
  fs.mkdirSync(work, { recursive: true });
  const file = path.join(work, `pulumi-analyzer-${FLEET_ANALYZER}`);
  fs.writeFileSync(file, ANALYZER_SHIM, { mode: 0o755 });
  const r = spawnSync("pulumi", ["plugin", "install", "analyzer", FLEET_ANALYZER, ANALYZER_VERSION, "--file", file, "--reinstall"], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`installing the fleet's analyzer plugin into ${pulumiHome} failed: ${r.stderr || r.stdout}`);
}

export interface Server {
  readonly port: string;
  /** Why it stopped, once it has: its last words on stderr. */
  readonly died: () => string | undefined;
  stop(): void;
}

/** Starts a plugin server as the CLI would, and waits for the port it prints first. */
export function startServer(what: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let exited: string | undefined;
    child.stderr!.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    child.on("exit", (code, signal) => {
      exited = `${what} exited (${signal ?? code}): ${stderr.trim().split("\n").slice(-3).join(" ") || "no message"}`;
      reject(new Error(exited));
    });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const port = /^(\d+)\n/.exec(out)?.[1];
      if (port) {
        // Later output is the server's own (a policy printing, say): keep draining it.
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ port, died: () => exited, stop: () => child.kill() });
      }
    });
  });
}

/** One dynamic-provider process for the run (what pulumi-resource-pulumi-nodejs starts per preview). */
export function startSharedProvider(root: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const main = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [root] });
  // As the toolchain's provider shim starts it (scripts/preload/defer-modules.js).
  const preload = path.join(root, "scripts", "preload", "defer-modules.js");
  // Its one argument is the engine's address, which it never calls: any value will do.
  return startServer("the shared dynamic provider", [...(fs.existsSync(preload) ? ["-r", preload] : []), main, "127.0.0.1:0"], root, env);
}

/** One policy pack process (the compiled pack in `packDir`), served as run-policy-pack serves it for the CLI. */
export function startSharedPolicyPack(root: string, packDir: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const main = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [root] });
  return startServer("the shared policy pack", [main, "127.0.0.1:0", packDir], packDir, env);
}
