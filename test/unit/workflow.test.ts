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
    expect(workflow.on.pull_request.paths).toEqual(expect.arrayContaining(["stacks/**", "components/**"]));
    expect(workflow.permissions["pull-requests"]).toBe("write");
  });

  it("only runs npm scripts that exist", () => {
    const used = steps()
      .flatMap((s) => [...(s.run ?? "").matchAll(/npm run (?:--silent )?([a-z][\w:-]*)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(Object.keys(scripts)).toContain(name);
  });

  it("previews each site stack with a diff, posted on the PR, with the pinned CLI", () => {
    const preview = steps().find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(preview.with).toMatchObject({ command: "preview", diff: true, "comment-on-pr": true, "pulumi-version": "3.248.0", "stack-name": "${{ matrix.stack }}" });
    expect(workflow.jobs.preview.strategy.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
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
