// A throwaway stack for end-to-end tests: its own file backend (so a
// developer's lab stack state is never touched), a stack file under stacks/
// made from the lab stack's config plus changes, and the pinned CLI.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ROOT, Ran, pulumi } from "../../scripts/pulumi-run";

export type SiteConfig = Record<string, unknown>;

/** The lab stack's `ipv6gw:site`, as a fresh object to change. */
export function labSite(): SiteConfig {
  const file = path.join(ROOT, "stacks/Pulumi.lab.yaml");
  return structuredClone(parse(fs.readFileSync(file, "utf8")).config["ipv6gw:site"]);
}

export class TestStack {
  readonly backend: string;
  readonly file: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly name: string) {
    if (!/^e2e-[a-z0-9-]+$/.test(name)) throw new Error(`test stack names start with e2e-, got ${name}`);
    this.backend = fs.mkdtempSync(path.join(os.tmpdir(), `ipv6gw-${name}-`));
    this.file = path.join(ROOT, "stacks", `Pulumi.${name}.yaml`);
    this.env = { PULUMI_BACKEND_URL: `file://${this.backend}` };
    this.setSite(labSite());
    this.run(["stack", "init", name, "--non-interactive"], true);
  }

  /** Writes the stack's config: the lab file and this site. */
  setSite(site: SiteConfig, extra: Record<string, unknown> = {}): void {
    const existing = fs.existsSync(this.file) ? parse(fs.readFileSync(this.file, "utf8")) : {};
    const doc = { ...existing, config: { "ipv6gw:lab": "/var/lib/ipv6gw-lab/lab.json", "ipv6gw:site": site, ...extra } };
    fs.writeFileSync(this.file, stringify(doc));
  }

  /** Runs pulumi for this stack; `must` fails the test with the CLI's output when it exits non-zero. */
  run(args: readonly string[], must = false): Ran {
    const init = args[0] === "stack" && args[1] === "init";
    const r = pulumi([...args, ...(init ? [] : ["--stack", this.name]), "--non-interactive"], { env: this.env });
    if (must && r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r;
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

  /** Destroys what is left, removes the stack, its file and its backend. */
  dispose(): void {
    try {
      this.run(["destroy", "--yes", "--skip-preview"]);
      this.run(["stack", "rm", "--yes", "--force"]);
    } finally {
      fs.rmSync(this.file, { force: true });
      fs.rmSync(this.backend, { recursive: true, force: true });
    }
  }
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
