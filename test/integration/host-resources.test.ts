// Every host resource against a lab box over real SSH, in the steps of
// Pulumi's own lifecycle tests: create, no-op, drift (changed by hand, seen
// by refresh, put back by up --refresh), update, delete (the box as before).
// Plus: one SSH connection per box per deployment, and a secret that never
// shows on the box's process list, in Pulumi's output or unencrypted in state.
import * as crypto from "crypto";
import { labSh } from "../../lab/client";
import { TestStack } from "../pulumi-stack";

jest.setTimeout(600_000);

const BOX = "c2";
const DIR = "/etc/ipv6gw-test";
const MARKER = `MARKER-${crypto.randomBytes(6).toString("hex")}`;

const sh = (script: string) => labSh(BOX, script);
const accepted = () => Number(sh("journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());

/** What the resources manage, read straight from the box. */
function boxState() {
  return {
    file1: sh(`cat ${DIR}/file-1.conf 2>/dev/null || echo absent`),
    file2Mode: sh(`stat -c %a ${DIR}/file-2.conf 2>/dev/null || echo absent`).trim(),
    tempaddr: sh("cat /proc/sys/net/ipv6/conf/eth0/use_tempaddr").trim(),
    sysctlFile: sh("cat /etc/sysctl.d/60-ipv6gw-net.ipv6.conf.eth0.use_tempaddr.conf 2>/dev/null || echo absent").trim(),
    tcpdump: sh("dpkg-query -W -f='${Status}' tcpdump 2>/dev/null || echo absent").trim(),
    ndisc6: sh("dpkg-query -W -f='${Status}' ndisc6 2>/dev/null || echo absent").trim(),
    service: sh("systemctl is-active ipv6gw-test 2>/dev/null || true").trim(),
    cron: sh("crontab -l 2>/dev/null | grep -A1 'ipv6gw:test-watchdog' || echo absent").trim(),
    command: sh(`cat ${DIR}/command.done 2>/dev/null || echo absent`).trim(),
    kv: sh(`cat ${DIR}/ifcfg-eth0 2>/dev/null || echo absent`).trim(),
  };
}

/** The box as the v1 program declares it. */
function expectV1(s: ReturnType<typeof boxState>): void {
  expect(s.file1).toBe("# file 1\nvalue = original\n");
  expect(s.tempaddr).toBe("2");
  expect(s.tcpdump).toBe("install ok installed");
  expect(s.service).toBe("active");
  expect(s.cron).toBe("# ipv6gw:test-watchdog\n0 * * * * /bin/true");
  expect(s.command).toBe("created");
  expect(s.kv).toBe("IPV6INIT=yes\nIPV6_AUTOCONF=yes");
}

describe("host resources on a lab box", () => {
  let stack: TestStack;
  let before: ReturnType<typeof boxState>;

  beforeAll(() => {
    before = boxState();
    stack = new TestStack("e2e-host", { "ipv6gw-host-resources:box": BOX, "ipv6gw-host-resources:variant": "v1" }, "test/fixtures/host-program", "test/fixtures/host-program");
    stack.setSecret("ipv6gw-host-resources:marker", MARKER);
  });
  afterAll(() => stack?.dispose());

  it("creates all twenty, over one SSH connection, never showing the secret on the box's process list", () => {
    sh(`rm -f /tmp/ps.log; (for i in $(seq 1 300); do ps -eo args >> /tmp/ps.log; sleep 0.1; done) >/dev/null 2>&1 &`);
    const connections = accepted();
    const up = stack.up();
    expect(up.status).toBe(0);
    expect(accepted() - connections).toBe(1);
    expect(stack.outputs().count).toBe(20);
    const s = boxState();
    expectV1(s);
    expect(s.sysctlFile).toContain("net.ipv6.conf.eth0.use_tempaddr = 2");
    expect(sh(`cat ${DIR}/secret.conf`)).toBe(`passwd=${MARKER}\n`);
    expect(sh("sleep 1; cat /tmp/ps.log | wc -l").trim()).not.toBe("0");
    expect(sh("cat /tmp/ps.log")).not.toContain(MARKER);
    expect(up.stdout + up.stderr).not.toContain(MARKER);
    expect(stack.stateText()).not.toContain(MARKER);
  });

  it("changes nothing on a second up, without connecting", () => {
    const connections = accepted();
    const again = stack.up();
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/21 unchanged/); // the twenty and the stack
    // Nothing to read or change: a no-op up needs no connection at all.
    expect(accepted() - connections).toBe(0);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
  });

  it("shows what was changed on the box by hand in a refresh preview, and up --refresh puts it back", () => {
    sh(
      [
        `echo 'edited by hand' >> ${DIR}/file-1.conf`,
        "echo 0 > /proc/sys/net/ipv6/conf/eth0/use_tempaddr",
        "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q tcpdump >/dev/null 2>&1",
        "systemctl stop ipv6gw-test",
        "crontab -l | grep -v -e 'ipv6gw:test-watchdog' -e '/bin/true' | crontab -",
        `rm ${DIR}/command.done`,
        `sed -i 's/IPV6INIT=yes/IPV6INIT=no/' ${DIR}/ifcfg-eth0`,
      ].join("\n"),
    );
    const preview = stack.preview(["--refresh", "--diff"]);
    expect(preview.status).toBe(0);
    const out = preview.stdout;
    expect(out).toContain("+ edited by hand");
    expect(out).toMatch(/~ value\s*: "2" => "0"/);
    expect(out).toMatch(/- tcpdump\s*: "[^"]+"/);
    expect(out).toMatch(/~ running\s*: true => false/);
    expect(out).toMatch(/- pulumi-nodejs:dynamic\/ipv6gw:host:CronEntry: \(refresh\)|cron.*deleted|\+ pulumi-nodejs:dynamic\/ipv6gw:host:CronEntry: \(create\)/);
    expect(out).toMatch(/\+ pulumi-nodejs:dynamic\/ipv6gw:host:RemoteCommand: \(create\)/);
    expect(out).toMatch(/IPV6INIT\s*: "yes" => "no"/);

    const connections = accepted();
    const up = stack.up(["--refresh"]);
    expect(up.stdout + up.stderr).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(accepted() - connections).toBe(1);
    expectV1(boxState());
    expect(stack.preview(["--refresh", "--expect-no-changes"]).status).toBe(0);
  });

  it("updates what the program changes, and only that", () => {
    const pid = sh("systemctl show -p MainPID --value ipv6gw-test").trim();
    stack.setConfig({ "ipv6gw-host-resources:box": BOX, "ipv6gw-host-resources:variant": "v2" });
    const up = stack.up();
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(/~ 7 updated/);
    const s = boxState();
    expect(s.file1).toBe("# file 1\nvalue = changed\n");
    expect(s.file2Mode).toBe("600");
    expect(s.tempaddr).toBe("0");
    expect(s.tcpdump).not.toBe("install ok installed");
    expect(s.ndisc6).toBe("install ok installed");
    expect(s.cron).toBe("# ipv6gw:test-watchdog\n*/5 * * * * /bin/true");
    expect(sh("systemctl show -p MainPID --value ipv6gw-test").trim()).not.toBe(pid);
  });

  it("leaves the box as it was on delete", () => {
    expect(stack.run(["destroy", "--yes", "--skip-preview"]).status).toBe(0);
    expect(boxState()).toEqual(before);
    // Directories made on the way stay (they may hold others' files); every file we made is gone.
    expect(sh(`ls -A ${DIR} 2>/dev/null || true`).trim()).toBe("");
  });
});
