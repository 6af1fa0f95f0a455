// Firewall changes a reviewer can read and a box survives: rule-level
// previews, drift against the live box, kernel validation at preview, and
// rollback when a change would lock the management connection out.
import { labCli, labSh } from "../../lab/client";
import { SiteConfig, TestStack, labSite, labSiteStack, propertyLineDiff, siteConfig } from "../pulumi-stack";

jest.setTimeout(600_000);

const withRules = (rules: object[], extra: object = {}): SiteConfig => {
  const site = labSite();
  site.firewall = { ...(site.firewall as object), rules, ...extra };
  return site;
};
const liveRules = () => labSh("gw", "ip6tables -S");

const TELNET = { name: "telnet-in", action: "accept", protocol: "tcp", port: 23, state: ["new"] };

describe("firewall changes on the lab", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    stack = labSiteStack("e2e-firewall");
    const up = stack.up();
    if (up.status !== 0) throw new Error(`the lab site did not converge:\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(() => stack?.dispose());

  it("previews one added rule as one added line; besides it only the checks' trigger and the Firewall's rule model (hidden) change", () => {
    stack.setConfig(siteConfig(withRules([TELNET])));
    const preview = stack.preview(["--diff"]);
    expect(preview.status).toBe(0);
    expect(propertyLineDiff(preview.stdout, "rules")).toEqual({
      added: ['-A IPV6-INPUT -p tcp -m tcp --dport 23 -m conntrack --ctstate NEW -m comment --comment "ipv6gw:telnet-in" -j ACCEPT'],
      removed: [],
    });
    const updates = preview.stdout.split("\n").filter((l) => /^\s*~ pulumi-nodejs:dynamic/.test(l));
    expect(updates.map((l) => l.replace(/.*dynamic\/ipv6gw:/, "").replace(/:.*/, "")).sort()).toEqual(["checks", "firewall"]);
    // The third: the Firewall component's own inputs (its rule model, for policies), whose diff is hidden.
    expect(preview.stdout).toMatch(/~ ipv6gw:firewall:Firewall: \(update\)\n.*\n\s*~ siteRules \(hidden\)\n\s*~ table \(hidden\)/);
    expect(preview.stdout).toMatch(/~ 3 to update/);
  });

  it("applies it, and previews removing it as one removed line", () => {
    expect(stack.up().status).toBe(0);
    expect(liveRules()).toContain('--comment "ipv6gw:telnet-in"');
    stack.setConfig(siteConfig(withRules([])));
    const preview = stack.preview(["--diff"]);
    expect(propertyLineDiff(preview.stdout, "rules")).toEqual({
      added: [],
      removed: ['-A IPV6-INPUT -p tcp -m tcp --dport 23 -m conntrack --ctstate NEW -m comment --comment "ipv6gw:telnet-in" -j ACCEPT'],
    });
    expect(stack.up().status).toBe(0);
    expect(liveRules()).not.toContain("telnet-in");
  });

  it("shows a rule added on the box by hand in a refresh preview, and up --refresh removes it", () => {
    labSh("gw", "ip6tables -I IPV6-INPUT 5 -p tcp --dport 23 -j ACCEPT");
    const preview = stack.preview(["--refresh", "--diff"]);
    expect(preview.stdout).toContain("+ -A IPV6-INPUT -p tcp -m tcp --dport 23 -j ACCEPT");
    expect(preview.stdout).toContain("- -A IPV6-INPUT -p tcp -m tcp --dport 23 -j ACCEPT");
    expect(stack.up(["--refresh"]).status).toBe(0);
    expect(liveRules()).not.toContain("--dport 23");
    expect(stack.preview(["--refresh", "--expect-no-changes"]).status).toBe(0);
  });

  it("fails the preview of a rule the kernel rejects, naming it, and changes nothing", () => {
    const before = liveRules();
    // The parser accepts the owner match anywhere; the kernel only allows it on locally generated packets.
    stack.setConfig(siteConfig(withRules([{ name: "owner-on-input", action: "accept", extraMatches: "-m owner --uid-owner 0" }])));
    const preview = stack.preview(["--diff"]);
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(/rule 'owner-on-input' \(line \d+\) is rejected by ip6tables on root@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22: .*Invalid argument/);
    expect(liveRules()).toBe(before);
    stack.setConfig(siteConfig(withRules([])));
  });

  it("rolls back a ruleset that locks out the management connection, stays reachable, and says so", () => {
    const before = liveRules();
    // The stack manages gw over SSH on the LAN (eth0): this rule rejects every new connection to it.
    stack.setConfig(siteConfig(withRules([{ name: "no-ssh-from-lan", action: "reject", inInterface: "eth0", protocol: "tcp", port: 22, rejectWith: "tcp-reset" }], { rollbackSeconds: 15 })));
    const started = Date.now();
    const up = stack.up();
    const output = up.stdout + up.stderr;
    expect(up.status).not.toBe(0);
    expect(output).toMatch(/firewall change on root@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22 rolled back: after loading the new ruleset a new SSH connection could not confirm it/);
    expect(output).toContain("the box restored the previous ruleset after 15 s and is reachable again");
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(liveRules()).toBe(before);
    // The rolled-back apply leaves nothing behind that could change the next one.
    expect(labSh("gw", "ls -A /var/lib/ipv6gw/firewall").trim()).toBe("");
    // Back to the reviewed ruleset: nothing to change on the box. The failed up did record its
    // rule model in the Firewall component (a component has no provider to fail), so one up puts it back.
    stack.setConfig(siteConfig(withRules([])));
    const back = stack.preview(["--diff"]);
    expect(back.status).toBe(0);
    expect(back.stdout.split("\n").filter((l) => /^\s*[~+-] pulumi-nodejs:dynamic/.test(l))).toEqual([]);
    expect(stack.up().status).toBe(0);
    expect(liveRules()).toBe(before);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
  });
});
