// Runs the project's pinned Pulumi CLI (scripts/pulumi.sh) from scripts and
// tests, and reads the site checks' results from a stack's state.
import { SpawnSyncOptions, spawn, spawnSync } from "child_process";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..");

export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pulumi <args>`; output is captured, or shown when `inherit`. */
export function pulumi(args: readonly string[], options: { inherit?: boolean; env?: NodeJS.ProcessEnv; input?: string } = {}): Ran {
  const spawnOptions: SpawnSyncOptions = {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    input: options.input,
    stdio: options.inherit ? ["ignore", "inherit", "inherit"] : "pipe",
    maxBuffer: 256 * 1024 * 1024,
  };
  const r = spawnSync("bash", [path.join(ROOT, "scripts/pulumi.sh"), ...args], spawnOptions);
  return { status: r.status ?? 1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
}

/** `pulumi` started in the background: resolves when it exits (for tests that act on a box while an update runs). */
export function pulumiAsync(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(ROOT, "scripts/pulumi.sh"), ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

const PROBE_TYPE = "pulumi-nodejs:dynamic/ipv6gw:checks:SiteProbe";

/** The SiteProbe's URN and last results in a stack's state, or undefined when the stack has none. */
export function checkResults(stack: string): { urn: string; results: CheckResult[] } | undefined {
  const exported = pulumi(["stack", "export", "--stack", stack]);
  if (exported.status !== 0) throw new Error(`pulumi stack export --stack ${stack} failed: ${exported.stderr.trim()}`);
  const state = JSON.parse(exported.stdout) as { deployment: { resources?: { urn: string; type: string; outputs?: { results?: CheckResult[] } }[] } };
  const probe = (state.deployment.resources ?? []).find((r) => r.type === PROBE_TYPE);
  return probe ? { urn: probe.urn, results: probe.outputs?.results ?? [] } : undefined;
}

/** The results as a plain table; returns whether all passed. */
export function printResults(results: readonly CheckResult[]): boolean {
  const width = Math.max(...results.map((r) => r.check.length), 10);
  console.log(`\n${"check".padEnd(width)}  result`);
  for (const r of results) {
    console.log(`${r.check.padEnd(width)}  ${r.ok ? "ok" : "FAILED"}${r.ok ? "" : `: ${r.detail.replace(/\s*\n\s*/g, " | ")}`}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(failed === 0 ? `\nall ${results.length} checks passed` : `\n${failed} of ${results.length} checks failed`);
  return failed === 0 && results.length > 0;
}
