// The policy pack on the lab, as `npm run preview` runs it: a ruleset that
// would drop the stack's own SSH connection fails the preview with the
// policy's and the rule's name, and `up` stops before anything reaches the
// box. The lab's host reaches gw over IPv6 link-local on the LAN (eth0), so
// the HOWTO's ruleset lets it in, and a rule dropping TCP 22 does not.
import * as fs from "fs";
import * as path from "path";
import { getHostFacts } from "../../components/host/host-facts";
import { labBox, labSh, loadLab } from "../../lab/client";
import { ROOT } from "../../scripts/pulumi-run";
import { TestStack, labSite, labSiteStack } from "../pulumi-stack";

jest.setTimeout(600_000);

describe("the policy pack at preview, on the lab", () => {
  let stack: TestStack;

  beforeAll(() => {
    const site = labSite();
    site.firewall = { ...(site.firewall as object), rules: [{ name: "block-ssh", action: "drop", protocol: "tcp", port: 22 }] };
    stack = labSiteStack("e2e-policy-lockout", site);
  });
  afterAll(() => stack?.dispose());

  it("reads from gw's facts how the stack reaches it: over IPv6 link-local on eth0", async () => {
    const lab = loadLab();
    const gw = labBox(lab, "gw");
    const facts = await getHostFacts({ host: gw.host, port: gw.port, user: "root", hostKey: gw.hostKey, privateKey: fs.readFileSync(lab.sshPrivateKeyPath, "utf8") });
    expect(facts.management).toEqual({ clientAddress: expect.stringMatching(/^fe80::/), serverAddress: "fe80::200:5eff:fe00:5301", serverPort: 22, interface: "eth0" });
  });

  it("fails npm run preview on the management lock-out, naming the policy and the rule", () => {
    const r = stack.previewWithPolicy();
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status).not.toBe(0);
    expect(out).toMatch(/\[mandatory\]\s+management-lockout/);
    expect(out).toContain("meets rule 'block-ssh' (drop) in chain IPV6-INPUT");
    expect(out).toMatch(/TCP from fe80::[0-9a-f:]+ to \[fe80::200:5eff:fe00:5301\]:22 arriving on eth0/);
    // Kept for the README's example.
    fs.writeFileSync(path.join(ROOT, ".pulumi", "e2e-policy-preview.txt"), r.stdout);
  });

  it("stops up with the pack before anything reaches the box", () => {
    const r = stack.up(["--policy-pack", path.join(ROOT, "policy")]);
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toContain("management-lockout");
    const state = JSON.parse(stack.exportState()) as { deployment: { resources?: { type: string }[] } };
    expect((state.deployment.resources ?? []).filter((res) => res.type.startsWith("pulumi-nodejs:dynamic/"))).toEqual([]);
    expect(labSh("gw", "ip6tables-save 2>/dev/null; nft list ruleset 2>/dev/null; true")).not.toContain("ipv6gw:block-ssh");
  });

  it("passes the lab site as it is, advisory findings aside", () => {
    stack.setConfig({ "ipv6gw:lab": "/var/lib/ipv6gw-lab/lab.json", "ipv6gw:site": labSite() });
    const r = stack.previewWithPolicy();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ipv6gw|local|");
    expect(r.stdout).not.toContain("[mandatory]");
  });
});
