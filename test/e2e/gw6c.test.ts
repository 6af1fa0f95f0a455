// gw6c as the HOWTO runs it, end to end on the lab: the example gw6c stack
// (router mode: the broker delegates a /64, gw6c puts <prefix>::1 on the LAN
// and runs radvd itself), with only what names real machines swapped for
// the lab's: its connections, the source tarball (the gw6c STAND-IN,
// test/fixtures/gw6c-standin: built like gw6c 5.1, speaking TSP, its
// template running 5.1's commands; not gw6c) and the broker (the lab's TSP
// broker on isp, lab/tsp-broker). From a blank lab with a plain `pulumi up`
// (its preview included, the prefix unknown until the broker answers), the
// clients take addresses in the delegated /64, outside cannot reach them,
// a killed gw6c comes back with the same prefix, destroy leaves the gateway
// blank. Then the same behind NAT, and host mode.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { labCli, LabJson, labSh, loadLab } from "../../lab/client";
import { slaacAddress } from "../../components/net/eui64";
import { canonicalPrefix, expandAddress } from "../../components/net/ipv6";
import { ROOT } from "../../scripts/pulumi-run";
import { packGw6cStandin } from "../fixtures/gw6c-standin";
import { TestStack, labSite, siteConfig } from "../pulumi-stack";

jest.setTimeout(900_000);

const DIR = "/usr/local/gw6c";
const gw = (script: string) => labSh("gw", script);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The example stack's gw6c site with the lab's boxes, broker and the stand-in's tarball. */
function exampleOnLab(labJson: LabJson, tarball: string, hostType: "router" | "host" = "router"): Record<string, unknown> {
  const example = parse(fs.readFileSync(path.join(ROOT, "stacks/Pulumi.example-gw6c.yaml"), "utf8")).config["ipv6gw:site"];
  const site = labSite();
  site.tunnel = { ...example.tunnel, source: { ...example.tunnel.source, tarball }, server: labJson.tsp.server, userid: labJson.tsp.userid, hostType };
  site.firewall = { ...example.firewall, rollbackSeconds: 30 };
  return site;
}

async function until(box: string, what: string, check: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      labSh(box, check);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what} within ${seconds} s: ${(e as Error).message}`);
    }
    await sleep(1000);
  }
}

function gatewayIsBlank(): void {
  expect(gw(`[ -e ${DIR} ] && echo present || echo absent`).trim()).toBe("absent");
  expect(gw("pidof gw6c radvd || echo none").trim()).toBe("none");
  expect(gw("ip -6 -o addr show scope global").trim()).toBe("");
  expect(gw("ip link show tun >/dev/null 2>&1 && echo tun || echo none").trim()).toBe("none");
  expect(gw("cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("0");
  expect(gw("[ -e /etc/systemd/system/gw6c.service ] && echo present || echo absent").trim()).toBe("absent");
  expect(gw("crontab -l 2>/dev/null | grep -c gw6c || true").trim()).toBe("0");
}

describe("gw6c in router mode against the lab's TSP broker (the gw6c stand-in, not gw6c)", () => {
  let stack: TestStack;
  let tmp: string;
  let labJson: LabJson;
  let prefix: string;
  const addressOf = (mac: string) => slaacAddress(prefix, mac);

  beforeAll(() => {
    labCli(["reset"]);
    labJson = loadLab();
    prefix = labJson.tsp.userPrefix;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-gw6c-"));
    stack = new TestStack("e2e-gw6c", siteConfig(exampleOnLab(labJson, packGw6cStandin(path.join(tmp, "gw6c-standin.tar.gz")))));
    stack.setSecret("ipv6gw:gw6cPassword", labJson.tsp.password);
  });
  afterAll(() => {
    stack?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("previews cleanly with the prefix unknown, saying it is learned at apply", () => {
    const preview = stack.preview();
    expect(preview.stdout + preview.stderr).not.toMatch(/error:/);
    expect(preview.status).toBe(0);
    expect(preview.stdout + preview.stderr).toContain("the LAN prefix is learned at apply");
  });

  it("converges a blank lab with a plain pulumi up, every check passing, the broker's /64 on the LAN", () => {
    const up = stack.run(["up", "--yes"]);
    expect(up.stdout + up.stderr).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(up.stdout + up.stderr).not.toContain(labJson.tsp.password);
    expect(stack.outputs()).toMatchObject({ checksPassed: true, lanPrefix: prefix, gatewayAddress: prefix.replace("::/64", "::1"), tunnelInterface: "tun" });
  });

  it("has gw6c's own radvd advertise the /64, and none of ours", () => {
    expect(gw("ps -o args= -C radvd")).toContain(`-C ${DIR}/gw6c-rtadvd.conf`);
    // Written by gw6c's template from TSP_PREFIX, which the broker sends fully expanded.
    expect(gw(`cat ${DIR}/gw6c-rtadvd.conf`)).toContain(`prefix ${expandAddress(prefix.split("/")[0]).replace(/(:0000)+$/, "")}::/64`);
    expect(gw("[ -e /etc/radvd.conf ] && echo ours || echo none").trim()).toBe("none");
    expect(gw("systemctl is-active radvd || true").trim()).toBe("inactive");
  });

  it.each([
    ["c1", "00:00:5e:00:53:11"],
    ["c2", "00:00:5e:00:53:12"],
  ])("%s holds its EUI-64 address in the delegated /64 and fetches the outside page", (box, mac) => {
    expect(labSh(box, "ip -6 -o addr show dev eth0 scope global -tentative")).toContain(` ${addressOf(mac)}/64 `);
    expect(labSh(box, "curl -fsS -m 10 'http://[2001:db8:ffff::1]/'")).toContain("ipv6gw lab: hello from outside");
  });

  it("refuses TCP from outside to a client with adm-prohibited", () => {
    expect(labSh("outside", `timeout 10 bash -c 'exec 3<>/dev/tcp/${addressOf("00:00:5e:00:53:11")}/22' 2>&1 || true`)).toContain("Permission denied");
  });

  it("changes nothing on a second up, and previews no changes", () => {
    const again = stack.up();
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/\b(updated|created|deleted|replaced)\b/);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
  });

  it("brings a killed gw6c back by itself, with the same prefix, clearing what the dead one left", async () => {
    gw("kill -9 $(pidof gw6c)");
    await until("gw", "gw6c runs again", "pidof gw6c", 90);
    await until("gw", "the LAN address is back", `ip -6 -o addr show dev eth0 scope global | grep -q ' ${prefix.replace("::/64", "::1")}/64 '`, 60);
    await until("c1", "c1 reaches outside again", "curl -fsS -m 5 -o /dev/null 'http://[2001:db8:ffff::1]/'", 60);
    expect(canonicalPrefix(gw(`${DIR}/bin/ipv6gw-gw6c prefix`).trim(), { normalize: true })).toBe(prefix);
    expect(gw(`grep -c "removed what a gw6c that is gone left behind" ${DIR}/logs/gw6c.log`).trim()).not.toBe("0");
  });

  it("has the HOWTO's hourly watchdog line", () => {
    expect(gw("crontab -l | grep -A1 '^# ipv6gw:gw6c-watchdog$' | tail -n 1").trim()).toBe("0 * * * * /sbin/pidof gw6c >/dev/null || systemctl restart gw6c");
  });

  it("leaves the gateway blank on destroy, also when gw6c died first", () => {
    gw("systemctl kill -s KILL gw6c; sleep 1");
    expect(stack.run(["destroy", "--yes", "--skip-preview"]).status).toBe(0);
    gatewayIsBlank();
  });
});

describe("gw6c behind NAT (v6udpv4 through natbox, keepalives holding the mapping), and in host mode", () => {
  let tmp: string;
  let tarball: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-gw6c-"));
    tarball = packGw6cStandin(path.join(tmp, "gw6c-standin.tar.gz"));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("converges behind NAT: the broker sees natbox's address, the clients reach outside", () => {
    labCli(["down"]);
    labCli(["up", "--scenario", "nat"]);
    const labJson = loadLab();
    const stack = new TestStack("e2e-gw6c-nat", siteConfig(exampleOnLab(labJson, tarball)));
    try {
      stack.setSecret("ipv6gw:gw6cPassword", labJson.tsp.password);
      const up = stack.up();
      expect(up.stdout + up.stderr).not.toMatch(/error:/);
      expect(stack.outputs()).toMatchObject({ checksPassed: true, lanPrefix: labJson.tsp.userPrefix });
      expect(labSh("isp", `cat ${labJson.tsp.sessionsFile}`)).toContain("198.51.100.3");
    } finally {
      stack.dispose();
      labCli(["down"]);
      labCli(["up", "--scenario", "direct"]);
    }
  });

  it("still works in host mode: the gateway gets its own address over the tunnel and reaches outside", () => {
    labCli(["reset"]);
    const labJson = loadLab();
    const site = exampleOnLab(labJson, tarball, "host");
    // Host mode brings no prefix for a LAN: the gateway alone.
    site.lan = { prefix: "2001:db8:8888::/64" };
    delete site.clients;
    delete site.checks;
    const stack = new TestStack("e2e-gw6c-host", siteConfig(site));
    try {
      stack.setSecret("ipv6gw:gw6cPassword", labJson.tsp.password);
      const up = stack.up();
      expect(up.stdout + up.stderr).not.toMatch(/error:/);
      expect(gw("ip -6 -o addr show dev tun")).toContain(` ${labJson.tsp.userAddress}/128 `);
      expect(gw("ping -6 -n -c 1 -W 3 2001:db8:ffff::1 >/dev/null && echo reached")).toContain("reached");
      expect(stack.run(["destroy", "--yes", "--skip-preview"]).status).toBe(0);
      expect(gw(`[ -e ${DIR} ] && echo present || echo absent`).trim()).toBe("absent");
      expect(gw("pidof gw6c || echo none").trim()).toBe("none");
    } finally {
      stack.dispose();
    }
  });
});
