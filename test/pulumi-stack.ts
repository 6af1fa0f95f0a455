// Throwaway stacks for integration and end-to-end tests: each has its own
// file backend (a developer's lab stack state is never touched), its own
// stack file, and runs the project's pinned CLI.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ROOT, Ran, pulumi, pulumiAsync } from "../scripts/pulumi-run";

export type SiteConfig = Record<string, unknown>;

export class TestStack {
  readonly backend: string;
  readonly file: string;
  private readonly env: NodeJS.ProcessEnv;

  private readonly ownsBackend: boolean;

  /**
   * @param projectDir the Pulumi project, relative to the repository (default: the repository's own)
   * @param stackDir where its stack files live, relative to the repository (default: stacks/)
   * @param backend a file backend directory shared with other stacks (a fleet's); default one of its own
   */
  constructor(
    readonly name: string,
    config: Record<string, unknown>,
    private readonly projectDir = ".",
    stackDir = "stacks",
    backend?: string,
  ) {
    if (!/^e2e-[a-z0-9-]+$/.test(name)) throw new Error(`test stack names start with e2e-, got ${name}`);
    this.ownsBackend = backend === undefined;
    this.backend = backend ?? fs.mkdtempSync(path.join(os.tmpdir(), `ipv6gw-${name}-`));
    this.file = path.join(ROOT, stackDir, `Pulumi.${name}.yaml`);
    this.env = { PULUMI_BACKEND_URL: `file://${this.backend}` };
    this.setConfig(config);
    this.run(["stack", "init", name], true);
  }

  /** Replaces the stack's config (keys with their namespace, "ipv6gw:site"). */
  setConfig(config: Record<string, unknown>): void {
    const existing = fs.existsSync(this.file) ? parse(fs.readFileSync(this.file, "utf8")) : {};
    const kept = Object.fromEntries(Object.entries(existing?.config ?? {}).filter(([, v]) => v && typeof v === "object" && "secure" in (v as object)));
    fs.writeFileSync(this.file, stringify({ ...existing, config: { ...kept, ...config } }));
  }

  /** Runs pulumi on this stack; `must` throws with the CLI's output when it exits non-zero. */
  run(args: readonly string[], must = false, input?: string): Ran {
    const init = args[0] === "stack" && args[1] === "init";
    const r = pulumi([...args, ...(init ? [] : ["--stack", this.name]), "--non-interactive", "--cwd", path.join(ROOT, this.projectDir)], { env: this.env, input });
    if (must && r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** Like `run`, in the background. */
  runAsync(args: readonly string[]): Promise<Ran> {
    return pulumiAsync([...args, "--stack", this.name, "--non-interactive", "--cwd", path.join(ROOT, this.projectDir)], { env: this.env });
  }

  setSecret(key: string, value: string): void {
    this.run(["config", "set", "--secret", key, value], true);
  }

  up(extra: readonly string[] = []): Ran {
    return this.run(["up", "--yes", "--skip-preview", ...extra]);
  }

  preview(extra: readonly string[] = []): Ran {
    return this.run(["preview", ...extra]);
  }

  outputs(): Record<string, unknown> {
    return JSON.parse(this.run(["stack", "output", "--json", "--show-secrets"], true).stdout);
  }

  /** The resources in the stack's state (pulumi stack export), with their dependencies and outputs. */
  exportedResources(): { urn: string; type: string; dependencies?: string[]; outputs?: Record<string, unknown> }[] {
    return JSON.parse(this.run(["stack", "export"], true).stdout).deployment.resources ?? [];
  }

  /** The raw state files of the backend, for checks that nothing secret is in them. */
  stateText(): string {
    const texts: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else texts.push(fs.readFileSync(p, "utf8"));
      }
    };
    walk(this.backend);
    return texts.join("\n");
  }

  /** `npm run preview -- --stack <name>`: the preview with the policy pack, in this stack's backend. */
  previewWithPolicy(extra: readonly string[] = []): Ran {
    const r = spawnSync("bash", [path.join(ROOT, "scripts/preview.sh"), "--stack", this.name, ...extra], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      maxBuffer: 256 * 1024 * 1024,
    });
    return { status: r.status ?? 1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
  }

  /** The stack's deployment as `pulumi stack export` prints it. */
  exportState(): string {
    return this.run(["stack", "export"], true).stdout;
  }

  /**
   * Takes another stack's resources as this stack's (its name renamed in
   * every URN), e.g. several sites that stand for one converged box. Its
   * secrets stay readable: this stack takes the other's encryption salt.
   */
  importStateOf(other: TestStack): void {
    const salt = parse(fs.readFileSync(other.file, "utf8")).encryptionsalt as string;
    fs.writeFileSync(this.file, stringify({ ...parse(fs.readFileSync(this.file, "utf8")), encryptionsalt: salt }));
    const state = other.exportState().split(other.name).join(this.name);
    const file = path.join(this.backend, `${this.name}.import.json`);
    fs.writeFileSync(file, state);
    try {
      this.run(["stack", "import", "--file", file], true);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Destroys what is left, removes the stack, its file and (when its own) its backend. */
  dispose(): void {
    try {
      this.run(["destroy", "--yes", "--skip-preview"]);
      this.run(["stack", "rm", "--yes", "--force"]);
    } finally {
      fs.rmSync(this.file, { force: true });
      if (this.ownsBackend) fs.rmSync(this.backend, { recursive: true, force: true });
    }
  }

  /** Removes the stack and its file, leaving the boxes as they are (a stack that shares its resources with another). */
  forget(): void {
    try {
      this.run(["stack", "rm", "--yes", "--force"]);
    } finally {
      fs.rmSync(this.file, { force: true });
      if (this.ownsBackend) fs.rmSync(this.backend, { recursive: true, force: true });
    }
  }
}

/** `npm run fleet -- preview` of these stacks in a shared file backend; the run's JSON result, its summary and exit status. */
export function fleetPreview(backend: string, stacks: readonly string[], extra: readonly string[] = []): Ran & { run: import("../scripts/fleet/summary").FleetRun } {
  const json = path.join(backend, `fleet-${process.pid}-${Date.now()}.json`);
  const r = spawnSync("npm", ["run", "--silent", "fleet", "--", "preview", "--stacks", stacks.join(","), "--json", json, ...extra], {
    cwd: ROOT,
    env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` },
    maxBuffer: 256 * 1024 * 1024,
  });
  const ran = { status: r.status ?? 1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? "" };
  if (!fs.existsSync(json)) throw new Error(`the fleet preview wrote no result (exit ${ran.status}):\n${ran.stdout}\n${ran.stderr}`);
  try {
    return { ...ran, run: JSON.parse(fs.readFileSync(json, "utf8")) };
  } finally {
    fs.rmSync(json, { force: true });
  }
}

/** The lab stack's `ipv6gw:site`, as a fresh object to change. */
export function labSite(): SiteConfig {
  const file = path.join(ROOT, "stacks/Pulumi.lab.yaml");
  return structuredClone(parse(fs.readFileSync(file, "utf8")).config["ipv6gw:site"]);
}

/** A stack of the repository's program for the lab, with this site config. */
export function labSiteStack(name: string, site: SiteConfig = labSite()): TestStack {
  return new TestStack(name, siteConfig(site));
}

export function siteConfig(site: SiteConfig): Record<string, unknown> {
  return { "ipv6gw:lab": "/var/lib/ipv6gw-lab/lab.json", "ipv6gw:site": site };
}

/** The `+`/`-` lines pulumi's line diff shows for a property, e.g. `rules`. */
export function propertyLineDiff(output: string, property: string): { added: string[]; removed: string[] } {
  const lines = output.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\s*~ ${property}\\s*:`).test(l));
  if (start < 0) return { added: [], removed: [] };
  const indent = /^\s*/.exec(lines[start])![0].length;
  const added: string[] = [];
  const removed: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() === "" || /^\s*/.exec(l)![0].length <= indent) break;
    const m = /^\s*([+-]) (.*)$/.exec(l);
    if (m) (m[1] === "+" ? added : removed).push(m[2].trim());
  }
  return { added, removed };
}
