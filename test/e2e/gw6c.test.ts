// The gw6c tunnel the HOWTO's way on the lab's gateway, built from a source
// tarball, configured, run as a service and watched by cron: with the gw6c
// STAND-IN (test/fixtures/gw6c-standin), which builds and runs like gw6c 5.1
// but is not gw6c and speaks no TSP (the lab has no broker, and gw6c's own
// sources may not be committed). What is checked is our part: build, config,
// service (SIGHUP stop), watchdog, and leaving the box as it was.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labSh, runLabCli } from "../../lab/client";
import { packGw6cStandin } from "../fixtures/gw6c-standin";
import { TestStack, labSite, siteConfig } from "../pulumi-stack";

jest.setTimeout(900_000);

const DIR = "/usr/local/gw6c";
const gw = (script: string) => labSh("gw", script);

describe("gw6c stand-in (not gw6c: speaks no TSP) built, configured, run and watched on the lab gateway", () => {
  let stack: TestStack;
  let tmp: string;

  beforeAll(() => {
    const reset = runLabCli(["reset"], { timeoutMs: 120_000 });
    if (reset.code !== 0) throw new Error(`lab reset failed:\n${reset.stdout}\n${reset.stderr}`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-gw6c-"));
    const tarball = packGw6cStandin(path.join(tmp, "gw6c-standin.tar.gz"));
    const site = labSite();
    site.tunnel = {
      kind: "gw6c",
      source: { tarball, makeArgs: ["CFLAGS=-O2 -Wall"] },
      server: "broker.example.net",
      userid: "todd",
      authMethod: "any",
      hostType: "router",
      tunnelMode: "v6udpv4",
      logFile: 2,
      expectedPrefix: "2001:db8:8888::/64",
    };
    delete site.clients;
    delete site.checks;
    stack = new TestStack("e2e-gw6c", siteConfig(site));
    stack.setSecret("ipv6gw:gw6cPassword", "MARKER-gw6c-passwd");
  });
  afterAll(() => {
    stack?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("converges: packages, build with make target=linux, install, config, service, watchdog", () => {
    const up = stack.up();
    expect(up.stdout + up.stderr).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(up.stdout + up.stderr).not.toContain("MARKER-gw6c-passwd");
  });

  it("installed the stand-in under /usr/local/gw6c as the HOWTO lays gw6c out", () => {
    expect(gw(`${DIR}/bin/gw6c -h`)).toContain("gw6c stand-in (ipv6gw test fixture): not gw6c");
    expect(gw(`ls -d ${DIR}/bin ${DIR}/etc ${DIR}/logs ${DIR}/template`).trim().split("\n")).toHaveLength(4);
  });

  it("wrote gw6c.conf with the HOWTO's keys, the password in it, readable by root only", () => {
    const conf = gw(`cat ${DIR}/etc/gw6c.conf`);
    for (const line of ["userid=todd", "passwd=MARKER-gw6c-passwd", "server=broker.example.net", "auth_method=any", "host_type=router", "if_prefix=eth0", `gw6_dir=${DIR}`, "log_file=2", `log_filename=${DIR}/logs/gw6c.log`]) {
      expect(conf).toContain(`${line}\n`);
    }
    expect(gw(`stat -c %a ${DIR}/etc/gw6c.conf`).trim()).toBe("600");
  });

  it("runs it as a service whose template got the LAN interface, with the distribution's radvd off", () => {
    expect(gw("systemctl is-active gw6c").trim()).toBe("active");
    expect(gw("systemctl is-enabled gw6c").trim()).toBe("enabled");
    expect(gw(`cat ${DIR}/standin-tunnel.up`)).toMatch(/TSP_HOME_INTERFACE=eth0[\s\S]*TSP_HOST_TYPE=router|TSP_HOST_TYPE=router[\s\S]*TSP_HOME_INTERFACE=eth0/);
    expect(gw("systemctl is-enabled radvd || true").trim()).toBe("disabled");
    expect(gw("systemctl is-active radvd || true").trim()).toBe("inactive");
  });

  it("stops it with SIGHUP, so its teardown runs (HOWTO step 9)", () => {
    gw("systemctl stop gw6c");
    expect(gw(`cat ${DIR}/standin-tunnel.down >/dev/null && echo torn-down`)).toContain("torn-down");
    expect(gw(`cat ${DIR}/logs/gw6c.log`)).toContain("gw6c stand-in: SIGHUP, teardown done");
  });

  it("has the HOWTO's hourly watchdog, and the watchdog brings it back (step 24)", () => {
    const line = gw("crontab -l | grep -A1 '^# ipv6gw:gw6c-watchdog$' | tail -n 1").trim();
    expect(line).toBe("0 * * * * /sbin/pidof gw6c >/dev/null || systemctl restart gw6c");
    expect(gw("pidof gw6c || echo none").trim()).toBe("none");
    gw(`sh -c '${line.replace(/^(\S+\s+){5}/, "")}'`); // what cron runs at the top of the hour
    expect(gw("pidof gw6c >/dev/null && systemctl is-active gw6c").trim()).toBe("active");
  });

  it("leaves the gateway as it was on destroy", () => {
    expect(stack.run(["destroy", "--yes", "--skip-preview"]).status).toBe(0);
    expect(gw(`[ -e ${DIR} ] && echo present || echo absent`).trim()).toBe("absent");
    expect(gw("pidof gw6c || echo none").trim()).toBe("none");
    expect(gw("[ -e /etc/systemd/system/gw6c.service ] && echo present || echo absent").trim()).toBe("absent");
    expect(gw("crontab -l 2>/dev/null | grep -c gw6c || true").trim()).toBe("0");
  });
});
