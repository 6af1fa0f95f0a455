// The bench's Ansible baseline (bench/ansible) stays a baseline of this site:
// from blank boxes it leaves the end state `pulumi up` leaves, checks
// included, and a second run changes nothing. Otherwise `npm run bench --
// --baseline ansible` would stop before timing, or time something else.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ansibleRecap, endState, endStatesDiff, runPlaybook, writeLabBaseline } from "../../bench/ansible";
import { labCli } from "../../lab/client";
import { TestStack, labSiteStack } from "../pulumi-stack";

jest.setTimeout(900_000);

const BOXES = ["gw", "c1", "c2", "outside"];

describe("the Ansible baseline of the lab site", () => {
  let stack: TestStack | undefined;
  let dir: string;
  let ours: Record<string, string>;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-e2e-ansible-"));
    labCli(["reset"]);
    stack = labSiteStack("e2e-ansible-baseline");
    const up = stack.up();
    if (up.status !== 0) throw new Error(`the lab site did not converge:\n${up.stdout}\n${up.stderr}`);
    writeLabBaseline(stack, BOXES, dir);
    ours = endState(BOXES);
    // What is compared is the converged site, not an empty listing on both sides.
    expect(ours.gw).toMatch(/^\/etc\/radvd\.conf 644 root:root [0-9a-f]{16}$/m);
    expect(ours.gw).toMatch(/^wg-quick@wg0\.service$/m);
    stack.forget();
    stack = undefined;
    labCli(["reset"]);
  });
  afterAll(() => {
    stack?.forget();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("converges blank boxes to the end state pulumi up leaves, every check passing", async () => {
    const changed = ansibleRecap(await runPlaybook(dir));
    expect(changed.gw).toBeGreaterThan(0);
    expect(endStatesDiff(ours, endState(BOXES))).toEqual([]);
  });

  it("changes nothing on a second run", async () => {
    expect(ansibleRecap(await runPlaybook(dir))).toEqual({ gw: 0, c1: 0, c2: 0, outside: 0 });
  });
});
