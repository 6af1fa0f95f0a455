// A fleet preview on the lab: several site stacks stand for the lab's one
// gateway (the lab site, converged once, and copies of its state with
// variations of their own), plus a site whose box is down (an address on the
// lab's LAN where nothing answers). A shared-code change that adds one rule
// shows that rule once per site; the dead site is reported as unreachable
// while the others preview; the exit status says the fleet fails.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labCli, loadLab } from "../../lab/client";
import type { SiteResult } from "../../scripts/fleet/site-result";
import type { FleetRun } from "../../scripts/fleet/summary";
import { ROOT } from "../../scripts/pulumi-run";
import { SiteConfig, TestStack, fleetPreview, labSite, siteConfig } from "../pulumi-stack";

jest.setTimeout(1_800_000);

const NOBODY = "fe80::200:5eff:fe00:53ff%ipv6gw-lan"; // a documentation MAC's link-local address on the lab's LAN, no box behind it

function fleet(backend: string, stacks: readonly TestStack[], extra: readonly string[] = []): { status: number; text: string; run: FleetRun } {
  const r = fleetPreview(backend, stacks.map((s) => s.name), extra);
  return { status: r.status, text: r.stdout, run: r.run };
}

const site = (run: FleetRun, name: string): SiteResult => run.sites.find((s) => s.stack === name)!;

describe("a fleet preview of several sites on the lab", () => {
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-e2e-fleet-"));
  const stacks: TestStack[] = [];
  let base: TestStack;
  let copies: TestStack[];
  let down: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    base = new TestStack("e2e-fleet-home", siteConfig(labSite()), ".", "stacks", backend);
    stacks.push(base);
    const up = base.up();
    if (up.status !== 0) throw new Error(`the lab site did not converge:\n${up.stdout}\n${up.stderr}`);
    // The same box behind more sites, each converged (its state the base's) and with a setting of its own.
    const variation = (name: string, change: (s: SiteConfig) => void) => {
      const s = labSite();
      change(s);
      const stack = new TestStack(name, siteConfig(s), ".", "stacks", backend);
      stacks.push(stack);
      stack.importStateOf(base);
      return stack;
    };
    copies = [
      variation("e2e-fleet-office", () => undefined),
      variation("e2e-fleet-cabin", (s) => (s.radvd = { maxInterval: 30 })),
    ];
    const lab = loadLab();
    const dead = labSite();
    dead.gateway = { ...(dead.gateway as object), connection: { host: NOBODY, hostKey: lab.boxes.gw!.hostKey, privateKeyFile: lab.sshPrivateKeyPath } };
    dead.clients = [];
    delete dead.checks;
    down = new TestStack("e2e-fleet-down", siteConfig(dead), ".", "stacks", backend);
    stacks.push(down);
  });

  afterAll(() => {
    for (const s of stacks) {
      try {
        if (s === base || s === down) s.dispose();
        else s.forget(); // its resources are the base's: the base's destroy removes them once
      } catch (e) {
        console.error(`cleaning up ${s.name}: ${(e as Error).message}`);
      }
    }
    fs.rmSync(backend, { recursive: true, force: true });
  });

  it("previews converged sites as converged: no change, no rule, only their own variations", () => {
    const { status, run } = fleet(backend, [base, ...copies]);
    expect(site(run, "e2e-fleet-home")).toMatchObject({ changes: { add: 0, change: 0, delete: 0 }, rules: { added: [], removed: [], changed: [] }, violations: [], errors: [] });
    expect(site(run, "e2e-fleet-office")).toMatchObject({ changes: { add: 0, change: 0, delete: 0 }, errors: [] });
    expect(site(run, "e2e-fleet-cabin").changes.change).toBeGreaterThan(0);
    expect(site(run, "e2e-fleet-cabin").rules).toEqual({ added: [], removed: [], changed: [] });
    expect(status).toBe(0);
  });

  it("shows a shared-code change's one new rule once per site, reports the dead box, and fails", () => {
    const all = [base, ...copies, down];
    const { status, text, run } = fleet(backend, all, ["--program", "test/fixtures/fleet-program/extra-rule.ts"]);
    for (const s of [base, ...copies]) {
      const r = site(run, s.name);
      expect(r.errors).toEqual([]);
      expect(r.rules).toEqual({ added: ["web-proxy-in"], removed: [], changed: [] });
      // The rule opens the LAN to anyone: the advisory policy says so, naming it.
      expect(r.violations).toEqual([expect.objectContaining({ policy: "no-unrestricted-inbound", level: "advisory", message: expect.stringContaining("rule 'web-proxy-in'") })]);
      expect(r.output).toContain('+ -A IPV6-INPUT -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m comment --comment "ipv6gw:web-proxy-in" -j ACCEPT');
    }
    const dead = site(run, "e2e-fleet-down");
    expect(dead.errors).toEqual([expect.objectContaining({ kind: "unreachable", message: expect.stringContaining("fe80::200:5eff:fe00:53ff%ipv6gw-lan") })]);
    expect(text.match(/web-proxy-in/g)?.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/e2e-fleet-down\s+-\s+-\s+-\s+-\s+-\s+FAILS: box unreachable/);
    expect(text).toContain("1 of 4 sites fail: e2e-fleet-down (box unreachable).");
    expect(status).toBe(1);
    fs.writeFileSync(path.join(ROOT, ".pulumi", "e2e-fleet-summary.txt"), text);
  });
});
