// The example site stacks preview cleanly. A real site's boxes are not here,
// so each example is previewed against the lab with only what names real
// machines swapped: its connections (to lab boxes) and the gw6c source
// tarball (to the gw6c stand-in, test/fixtures/gw6c-standin).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../../scripts/pulumi-run";
import { packGw6cStandin } from "../fixtures/gw6c-standin";
import { TestStack, siteConfig } from "../pulumi-stack";

jest.setTimeout(300_000);

describe("the example gw6c site (HOWTO-shaped), with lab boxes for its connections and the gw6c stand-in for its tarball", () => {
  let stack: TestStack;
  let tmp: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-example-"));
    const site = parse(fs.readFileSync(path.join(ROOT, "stacks/Pulumi.example-gw6c.yaml"), "utf8")).config["ipv6gw:site"];
    site.gateway.connection = { lab: "gw" };
    site.gateway.lanInterface = "eth0";
    site.clients[0].connection = { lab: "c1" };
    site.tunnel.source.tarball = packGw6cStandin(path.join(tmp, "gw6c.tar.gz"));
    stack = new TestStack("e2e-example-gw6c", siteConfig(site));
    stack.setSecret("ipv6gw:gw6cPassword", "example-password");
  });
  afterAll(() => {
    stack?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("previews cleanly: gw6c built and run in router mode, radvd left to it, the HOWTO's firewall", () => {
    // A new resource's long text is cut to three lines unless the full output is asked for.
    const preview = stack.preview(["--diff", "--show-full-output"]);
    expect(preview.stderr + preview.stdout).not.toMatch(/error:/);
    expect(preview.status).toBe(0);
    const out = preview.stdout;
    expect(out).toContain("ipv6gw:tunnel:Gw6cTunnel");
    expect(out).toContain("site-tunnel-watchdog");
    expect(out).not.toContain("ipv6gw:lan:Radvd");
    // The HOWTO's step 17 on the default backend (nftables), escaped as the preview prints it.
    expect(out).toContain('iifname \\"eth0\\" ct state new counter accept comment \\"ipv6gw:lan-new\\"');
  });
});
