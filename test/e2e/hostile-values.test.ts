// Hostile values in a stack, on the lab's real boxes (test/unit/hostile-values.test.ts
// covers every field against the schema). A value of each kind that the
// schema refuses fails `pulumi preview` with its key path and the fix,
// before anything reaches a box; the free text that is accepted (paths on
// the machine running pulumi, a broker password) does its job and arrives
// as inert data: no shell on any box, nor on this machine, ever runs it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { labBox, labCli, labSh, loadLab } from "../../lab/client";
import { ROOT } from "../../scripts/pulumi-run";
import { MARKER_PREFIX } from "../fixtures/hostile-values";
import { packGw6cStandin } from "../fixtures/gw6c-standin";
import { TestStack, labSite, siteConfig } from "../pulumi-stack";

jest.setTimeout(900_000);

const BOXES = ["gw", "c1", "c2", "isp", "outside"];
const markersOn = (box: string) => labSh(box, `ls -d ${MARKER_PREFIX}* 2>/dev/null || true`).trim();
const markersHere = () => fs.readdirSync("/tmp").filter((f) => `/tmp/${f}`.startsWith(MARKER_PREFIX));

function noMarkersAnywhere(): void {
  for (const box of BOXES) expect([box, markersOn(box)]).toEqual([box, ""]);
  expect(markersHere()).toEqual([]);
}

describe("hostile values refused at preview, before anything reaches a box", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    stack = new TestStack("e2e-hostile", siteConfig(labSite()));
  });
  afterAll(() => stack?.dispose());

  // The lab site, changed; the shape is the stack file's (plain objects).
  type Site = { gateway: Record<string, unknown>; firewall: Record<string, unknown>; checks: Record<string, unknown>; [k: string]: unknown };
  const change = (f: (site: Site) => void) => {
    const site = labSite() as Site;
    f(site);
    return site;
  };

  it.each([
    ["an interface name carrying a rule", change((s) => (s.gateway.lanInterface = "eth0\n-A IPV6-INPUT -j ACCEPT")), "ipv6gw:site.gateway.lanInterface: must be a Linux interface name"],
    ["a rule's interface carrying a rule", change((s) => (s.firewall.rules = [{ name: "x", action: "accept", inInterface: "wan0\n-A IPV6-INPUT -s ::/0" }])), "ipv6gw:site.firewall.rules[0].inInterface: must be a Linux interface name"],
    ["a ping target that runs a command", change((s) => (s.checks.pingTarget = `$(touch ${MARKER_PREFIX}-ping)`)), "ipv6gw:site.checks.pingTarget: is not a DNS name"],
    ["raw matches with a target", change((s) => (s.firewall.rules = [{ name: "x", action: "accept", extraMatches: "-m hl --hl-eq 255 -j ACCEPT" }])), "ipv6gw:site.firewall.rules[0].extraMatches: has '-j', which is not a match"],
    ["a misspelt section", change((s) => (s.firewal = { rules: [] })), "ipv6gw:site: unknown key 'firewal' (did you mean 'firewall'?)"],
  ])("%s", (_what, site, line) => {
    stack.setConfig(siteConfig(site));
    const preview = stack.preview();
    expect(preview.status).not.toBe(0);
    expect(preview.stdout + preview.stderr).toContain(line);
    // The user sees the message, not a stack trace.
    expect(preview.stdout + preview.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
    expect(labSh("gw", "[ -e /var/lib/ipv6gw ] && echo touched || echo untouched").trim()).toBe("untouched");
    noMarkersAnywhere();
  });
});

describe("free text that is accepted travels as data", () => {
  let stack: TestStack;
  let tmp: string;
  // A broker password with every shell character gw6c.conf may hold: it must arrive in the 0600 file as it is.
  const password = `p$(touch ${MARKER_PREFIX}-pw)';"\`touch ${MARKER_PREFIX}-tick\`|&<>`;

  beforeAll(() => {
    labCli(["reset"]);
    const lab = loadLab();
    // Paths on this machine with shell syntax in them: the tarball and the private key.
    // The markers' slashes make nested directories; the whole path still reads as the command.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-hostile-"));
    const odd = path.join(tmp, `dir $(touch ${MARKER_PREFIX}-path) 'q' "d" ;x`);
    fs.mkdirSync(odd, { recursive: true });
    const tarball = packGw6cStandin(path.join(odd, "gw6c.tar.gz"));
    const keyFile = path.join(odd, "key`touch " + MARKER_PREFIX + "-key`");
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.copyFileSync(lab.sshPrivateKeyPath, keyFile);
    const gw = labBox(lab, "gw");

    const example = parse(fs.readFileSync(path.join(ROOT, "stacks/Pulumi.example-gw6c.yaml"), "utf8")).config["ipv6gw:site"];
    const site = labSite();
    site.gateway = { ...(site.gateway as object), connection: { host: gw.host, port: gw.port, hostKey: gw.hostKey, privateKeyFile: keyFile } };
    site.tunnel = { ...example.tunnel, source: { ...example.tunnel.source, tarball }, server: lab.tsp.server, authMethod: "anonymous", userid: "" };
    site.firewall = { ...example.firewall, rollbackSeconds: 30 };
    stack = new TestStack("e2e-hostile-inert", siteConfig(site));
    stack.setSecret("ipv6gw:gw6cPassword", password);
  });
  afterAll(() => {
    stack?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const m of markersHere()) fs.rmSync(`/tmp/${m}`, { force: true });
  });

  it("converges, the password verbatim in gw6c.conf (0600), no marker on any box or here, the password never in state in clear", () => {
    const up = stack.up();
    expect(up.stdout + up.stderr).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(stack.outputs()).toMatchObject({ checksPassed: true });
    const conf = labSh("gw", "cat /usr/local/gw6c/etc/gw6c.conf");
    expect(conf.split("\n")).toContain(`passwd=${password}`);
    expect(labSh("gw", "stat -c %a /usr/local/gw6c/etc/gw6c.conf").trim()).toBe("600");
    expect(up.stdout + up.stderr).not.toContain(password);
    expect(stack.stateText()).not.toContain(password);
    noMarkersAnywhere();
  });
});
