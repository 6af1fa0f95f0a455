// A fleet preview: every site stack previewed with the Automation API, a
// bounded number at once, each with the policy pack, into one result.
//
// What the sites share, so ten cost little more than one: the program,
// loaded and compiled once in this process and run inline for each stack (no
// language host, no TypeScript compile per site); one dynamic-provider
// process (so one SSH connection per box for the whole run) and one policy
// pack process per distinct policy config, compiled once (shared.ts,
// policy-pack.ts); and each box's facts, read once (facts-cache.ts). Each
// site keeps its own CLI. A site that fails (box down, bad config, a
// mandatory violation) is one row of the summary; the others go on.

import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { ProgramOptions } from "../../components/stack-config";
import { siteStacks } from "../list-stacks";
import { offlineEnvironment, toolchainDir } from "./environment";
import { factsCache } from "./facts-cache";
import { FleetOptions } from "./options";
import { compiledPolicyPack } from "./policy-pack";
import { Server, installAnalyzerShim, providerSharable, startSharedPolicyPack, startSharedProvider } from "./shared";
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

/**
 * The workspace, where selecting a stack it listed costs nothing: every
 * operation names its stack (--stack) anyway, and `pulumi stack select` per
 * site is a CLI run each, one at a time (it writes the workspace's settings).
 */
export function listedWorkspace(ws: LocalWorkspace, listed: ReadonlySet<string>): LocalWorkspace {
  return new Proxy(ws, {
    get(target, prop) {
      if (prop === "selectStack") return async (name: string) => (listed.has(name) ? undefined : target.selectStack(name));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** One lock: creating a stack writes the workspace's settings, so creations go one at a time. */
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
  const binDir = toolchainDir(root);
  const { env, ownBackend } = offlineEnvironment(root, binDir, process.env);
  Object.assign(process.env, env);
  for (const dir of [path.join(root, ".pulumi/state"), env.PULUMI_HOME]) fs.mkdirSync(dir, { recursive: true });

  const programModule = path.resolve(root, options.program ?? "index.ts");
  const program = require(programModule) as Program;
  if (typeof program !== "function") throw new Error(`${programModule} does not export a program function (export = async () => ...)`);
  const facts = factsCache();
  const pulumiCommand = await PulumiCommand.get();

  // The servers every site shares; sites share a pack only when they share a policy config.
  const servers: Server[] = [];
  const groups = new Map<string, { config?: string; stacks: string[] }>();
  for (const name of stacks) {
    const config = options.policy ? policyConfigOf(root, name) : undefined;
    const key = config ? fs.readFileSync(config, "utf8") : "";
    groups.set(key, { config, stacks: [...(groups.get(key)?.stacks ?? []), name] });
  }
  try {
    const pack = options.policy ? compiledPolicyPack(root) : undefined;
    if (pack) installAnalyzerShim(env.PULUMI_HOME, path.join(root, ".pulumi/fleet"), process.env);
    const tracked = (s: Promise<Server>) => s.then((server) => (servers.push(server), server));
    if (!providerSharable(binDir)) log(`the CLI in ${binDir} starts dynamic providers itself: one per site`);
    const [provider, ...packs] = await Promise.all([
      providerSharable(binDir) ? tracked(startSharedProvider(root, process.env)) : undefined,
      ...[...groups.keys()].map(() => (pack ? tracked(startSharedPolicyPack(root, pack, process.env)) : undefined)),
    ]);
    const workspaces = new Map<string, { ws: LocalWorkspace; config?: string }>();
    for (const [[key, group], packServer] of [...groups].map((g, i) => [g, packs[i]] as const)) {
      const envVars = {
        ...env,
        ...(provider ? { IPV6GW_FLEET_PROVIDER_PORT: provider.port } : {}),
        ...(packServer ? { IPV6GW_FLEET_POLICY_PORT: packServer.port } : {}),
      };
      workspaces.set(key, { ws: await LocalWorkspace.create({ workDir: root, envVars, pulumiCommand }), config: group.config });
    }
    const [first] = [...workspaces.values()];
    const existing = new Set(first ? (await first.ws.listStacks()).map((s) => s.name.split("/").pop() ?? s.name) : []);
    const create = mutex();

    const previewOne = async (name: string, ws: LocalWorkspace, config: string | undefined): Promise<SiteResult> => {
      const t0 = Date.now();
      const events = new SiteEvents(name);
      let output = "";
      try {
        const stack = existing.has(name)
          ? await Stack.select(name, listedWorkspace(ws, existing))
          : await create(async () => {
              // In the project's own backend a stack with a file in stacks/ exists from its first use (as scripts/pulumi.sh does).
              if (!ownBackend || !fs.existsSync(path.join(root, "stacks", `Pulumi.${name}.yaml`))) {
                throw new Error(`stack '${name}' not found in ${env.PULUMI_BACKEND_URL}: pulumi stack init ${name}, or check its name`);
              }
              return Stack.create(name, ws);
            });
        log(`${name}: previewing`);
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
      // A shared server that died explains every failure after it.
      for (const server of servers) if (server.died()) events.fail(server.died()!);
      const result = events.result(output, (Date.now() - t0) / 1000);
      log(`${name}: done in ${result.seconds.toFixed(1)} s`);
      return result;
    };

    const tasks = [...groups].flatMap(([key, g]) => g.stacks.map((name) => () => previewOne(name, workspaces.get(key)!.ws, g.config)));
    const byName = new Map((await bounded(options.concurrency, tasks)).map((r) => [r.stack, r]));
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "policy/package.json"), "utf8")) as { version: string };
    return {
      sites: stacks.map((s) => byName.get(s)!),
      seconds: (Date.now() - started) / 1000,
      concurrency: Math.min(options.concurrency, Math.max(1, stacks.length)),
      refresh: options.refresh,
      policyPack: pack ? `ipv6gw ${manifest.version}` : undefined,
    };
  } finally {
    for (const server of servers) server.stop();
  }
}
