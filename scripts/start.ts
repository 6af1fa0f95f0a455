// `npm start [-- --stack <lab stack>]`, the README's main command: a lab site,
// converged. Prerequisites and the Pulumi toolchain (cached), the lab booted
// (or reused) in the scenario the stack needs, `pulumi up --refresh` on the
// stack (so a lab booted blank under old state is rebuilt, not trusted), then
// the HOWTO's checklist as the site's checks found it. The exit status says
// whether the site works. Default stack: lab (the tunnelled site); lab-native
// is the native one (DHCPv6-PD from the lab's isp, two LANs).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT, checkResults, printResults, pulumi, pulumiAsync } from "./pulumi-run";
import { LabError } from "../lab/errors";
import { down as labDown, up as labUp } from "../lab/lab";
import { labPaths } from "../lab/paths";
import { assertPrereqs, searchPath } from "../lab/prereqs";
import { readLabJson } from "../lab/state";

/** The lab scenario a lab stack's site runs on: native for a DHCPv6-PD uplink, direct otherwise. */
export function labScenarioFor(stackFile: { config?: Record<string, unknown> }): "direct" | "native" | undefined {
  const config = stackFile.config ?? {};
  if (!("ipv6gw:lab" in config)) return undefined;
  const site = config["ipv6gw:site"] as { tunnel?: { kind?: string } } | undefined;
  return site?.tunnel?.kind === "dhcpv6-pd" ? "native" : "direct";
}

/** --stack <name> (or --stack=<name>), default lab. */
export function stackArgument(argv: readonly string[]): string {
  const i = argv.findIndex((a) => a === "--stack" || a.startsWith("--stack="));
  if (i < 0) return "lab";
  return argv[i].startsWith("--stack=") ? argv[i].slice("--stack=".length) : (argv[i + 1] ?? "");
}

function step(title: string, cmd: string, args: string[]): void {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`start: ${title} failed (exit ${r.status}); see the output above`);
    process.exit(r.status ?? 1);
  }
}

/** A lab verb, run here as `npm run lab` runs it (without starting another node for it). */
async function labStep(title: string, run: (log: (line: string) => void) => Promise<void>): Promise<void> {
  console.log(`\n== ${title}`);
  try {
    process.env.PATH = searchPath().join(":");
    assertPrereqs("up");
    await run((line) => console.log(`lab: ${line}`));
  } catch (err) {
    console.error(err instanceof LabError ? err.message : err);
    console.error(`start: ${title} failed; see the output above`);
    process.exit(err instanceof LabError ? err.exitCode : 1);
  }
}

async function main(): Promise<void> {
  const stack = stackArgument(process.argv.slice(2));
  const file = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
  if (!/^[a-z0-9-]+$/.test(stack) || !fs.existsSync(file)) {
    console.error(`start: no stack '${stack}' (stacks/Pulumi.${stack}.yaml): use a lab stack, e.g. --stack lab or --stack lab-native`);
    process.exit(2);
  }
  const scenario = labScenarioFor(parse(fs.readFileSync(file, "utf8")) ?? {});
  if (!scenario) {
    console.error(`start: stack '${stack}' is not a lab site (it has no ipv6gw:lab): npm start boots the lab; run pulumi up --stack ${stack} for a real site`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    console.error("start: the lab needs root (network namespaces, systemd-nspawn): run as root");
    process.exit(1);
  }
  step("prerequisites", "bash", ["scripts/prereqs.sh"]);
  step("Pulumi toolchain", "bash", ["scripts/toolchain.sh"]);
  // A lab up in another scenario goes down first (`up` refuses to switch a running lab).
  // The stack is selected (created the first time) while the lab comes up.
  const selecting = pulumiAsync(["stack", "select", "--create", stack, "--non-interactive"]);
  const paths = labPaths();
  const running = readLabJson(paths);
  if (running && running.scenario !== scenario) await labStep(`lab down (it runs scenario ${running.scenario})`, (log) => labDown(paths, log));
  await labStep(`lab (scenario ${scenario})`, (log) => labUp(paths, scenario, log));

  console.log(`\n== pulumi up --stack ${stack}`);
  const selected = await selecting;
  if (selected.status !== 0) {
    console.error(`start: cannot select or create stack ${stack}: ${selected.stderr.trim()}`);
    process.exit(1);
  }
  const up = pulumi(["up", "--stack", stack, "--refresh", "--yes", "--non-interactive", "--skip-preview"], { inherit: true });

  console.log(`\n== the HOWTO's checklist on the ${stack} site`);
  const checks = checkResults(stack);
  const passed = checks ? printResults(checks.results) : false;
  if (!checks) console.log("no checks ran: the update stopped before the site was complete (see above)");
  process.exit(up.status === 0 && passed ? 0 : 1);
}

if (require.main === module) void main();
