import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { siteStacks } from "../../scripts/list-stacks";

const root = path.join(__dirname, "../..");
const workflow = parse(fs.readFileSync(path.join(root, ".github/workflows/preview.yml"), "utf8"));
const scripts = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>;

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
const steps = (): Step[] => Object.values(workflow.jobs as Record<string, { steps: Step[] }>).flatMap((j) => j.steps);

describe("the pull-request preview workflow", () => {
  it("runs on pull requests that touch sites or components", () => {
    expect(workflow.on.pull_request.paths).toEqual(expect.arrayContaining(["stacks/**", "components/**", "policy/**"]));
    expect(workflow.permissions["pull-requests"]).toBe("write");
  });

  it("only runs npm scripts that exist", () => {
    const used = steps()
      .flatMap((s) => [...(s.run ?? "").matchAll(/npm run (?:--silent )?([a-z][\w:-]*)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(Object.keys(scripts)).toContain(name);
  });

  it("previews every site in one fleet run with the policy pack, and posts its summary as one comment updated in place", () => {
    const fleet = steps().find((s) => /npm run fleet -- preview\b/.test(s.run ?? ""))!;
    expect(fleet.run).toContain("--markdown fleet-preview.md");
    expect(fleet.run).not.toContain("--no-policy");
    const comment = steps().find((s) => s.uses?.startsWith("actions/github-script@"))!;
    const { COMMENT_MARKER } = require("../../scripts/fleet/summary") as typeof import("../../scripts/fleet/summary");
    expect(comment.with?.script).toContain(`const marker = "${COMMENT_MARKER}"`);
    expect(comment.with?.script).toContain('readFileSync("fleet-preview.md"');
    expect(comment.with?.script).toMatch(/updateComment[\s\S]*createComment/);
    expect(steps().some((s) => s.uses?.startsWith("pulumi/actions@"))).toBe(false);
  });

  it("fails the check when the fleet does, after the comment is posted", () => {
    const all = steps() as (Step & { id?: string; if?: string; ["continue-on-error"]?: boolean })[];
    const fleet = all.findIndex((s) => s.id === "fleet");
    expect(all[fleet]["continue-on-error"]).toBe(true);
    const last = all[all.length - 1];
    expect(last.if).toBe("steps.fleet.outcome == 'failure'");
    expect(last.run).toContain("exit 1");
  });

  it("lists site stacks without the lab's and the examples", () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "ipv6gw-stacks-"));
    for (const f of ["Pulumi.lab.yaml", "Pulumi.lab-native.yaml", "Pulumi.example-gw6c.yaml", "Pulumi.example-native.yaml", "Pulumi.home.yaml", "Pulumi.office.yaml", "README.md"]) fs.writeFileSync(path.join(dir, f), "");
    try {
      expect(siteStacks(dir)).toEqual(["home", "office"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
