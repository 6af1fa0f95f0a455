// A fleet preview: every site stack previewed with the Automation API, a
// bounded number at once, each with the policy pack, into one result.
//
// What the sites share, so ten cost little more than one: the program,
// loaded and compiled once in this process and run inline for each stack (no
// language host, no ts-node per site); the policy pack, compiled once
// (policy-pack.ts); and each box's facts, read once (facts-cache.ts). What
// each site keeps to itself: its CLI process, its dynamic-provider process
// (one SSH connection per box it touches), its policy pack process. A site
// that fails (box down, bad config, a mandatory violation) is one row of the
// summary; the others go on.

import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { ProgramOptions } from "../../components/stack-config";
import { siteStacks } from "../list-stacks";
import { offlineEnvironment, toolchainDir } from "./environment";
import { factsCache } from "./facts-cache";
import { FleetOptions } from "./options";
import { compiledPolicyPack } from "./policy-pack";
import { SiteEvents, SiteResult } from "./site-result";
import { FleetRun } from "./summary";

export type Program = (options: ProgramOptions) => Promise<Record<string, unknown>>;

/** Runs `tasks` with at most `limit` at once; results in the order given. */
export async function bounded<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** One lock: `pulumi stack select` writes the workspace's settings, so selections go one at a time. */
function mutex() {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(f: () => Promise<T>): Promise<T> => {
    const run = last.then(f, f);
    last = run.catch(() => undefined);
    return run;
  };
}

/** The stack's own enforcement levels and policy settings (CrossGuard's --policy-pack-config), if it has any. */
export function policyConfigOf(root: string, stack: string): string | undefined {
  const file = path.join(root, "stacks", `Pulumi.${stack}.policy.json`);
  return fs.existsSync(file) ? file : undefined;
}

export async function runFleet(root: string, options: FleetOptions, log: (line: string) => void = () => undefined): Promise<FleetRun> {
  const started = Date.now();
  const stacks = options.stacks ?? siteStacks(path.join(root, "stacks"));
  const { env, ownBackend } = offlineEnvironment(root, toolchainDir(root), process.env);
  Object.assign(process.env, env);
  for (const dir of [path.join(root, ".pulumi/state"), env.PULUMI_HOME]) fs.mkdirSync(dir, { recursive: true });

  const pack = options.policy ? compiledPolicyPack(root) : undefined;
  const programModule = path.resolve(root, options.program ?? "index.ts");
  const program = require(programModule) as Program;
  if (typeof program !== "function") throw new Error(`${programModule} does not export a program function (export = async () => ...)`);
  const facts = factsCache();

  const ws = await LocalWorkspace.create({ workDir: root, envVars: env, pulumiCommand: await PulumiCommand.get() });
  const existing = new Set((await ws.listStacks()).map((s) => s.name.split("/").pop()));
  const select = mutex();

  const previewOne = async (name: string): Promise<SiteResult> => {
    const t0 = Date.now();
    const events = new SiteEvents(name);
    let output = "";
    try {
      const stack = await select(async () => {
        if (!existing.has(name)) {
          // In the project's own backend a stack with a file in stacks/ exists from its first use (as scripts/pulumi.sh does).
          if (!ownBackend || !fs.existsSync(path.join(root, "stacks", `Pulumi.${name}.yaml`))) {
            throw new Error(`stack '${name}' not found in ${env.PULUMI_BACKEND_URL}: pulumi stack init ${name}, or check its name`);
          }
          return Stack.create(name, ws);
        }
        return Stack.select(name, ws);
      });
      log(`${name}: previewing`);
      const config = policyConfigOf(root, name);
      await stack.preview({
        program: () => program({ readFacts: facts.read }),
        diff: true,
        refresh: options.refresh,
        policyPacks: pack ? [pack] : undefined,
        policyPackConfigs: pack && config ? [config] : undefined,
        color: "never",
        suppressProgress: true,
        onOutput: (s) => (output += s),
        onEvent: (e) => events.add(e),
      });
    } catch (e) {
      events.fail(e instanceof Error ? e.message : String(e));
    }
    const result = events.result(output, (Date.now() - t0) / 1000);
    log(`${name}: done in ${result.seconds.toFixed(1)} s`);
    return result;
  };

  const sites = await bounded(options.concurrency, stacks.map((s) => () => previewOne(s)));
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "policy/package.json"), "utf8")) as { version: string };
  return {
    sites,
    seconds: (Date.now() - started) / 1000,
    concurrency: Math.min(options.concurrency, Math.max(1, stacks.length)),
    refresh: options.refresh,
    policyPack: pack ? `ipv6gw ${manifest.version}` : undefined,
  };
}
