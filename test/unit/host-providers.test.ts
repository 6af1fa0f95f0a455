// Provider hooks against a fake box: what each hook runs, what it reports,
// and how it reacts to what the box answers.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RemoteFileProvider, backupPathFor, parseRead, readScript as fileReadScript, writeScript as fileWriteScript } from "../../components/host/remote-file";
import { SysctlProvider, applyScript as sysctlApplyScript, procPath, readScript as sysctlReadScript, restoreScript as sysctlRestoreScript } from "../../components/host/sysctl";
import { PackagesProvider, handOverScript, installScript, parseVersions, queryScript, removeScript as packagesRemoveScript, takeOverScript } from "../../components/host/packages";
import { ServiceProvider, applyScript as serviceApplyScript, diagnoseScript, parseStatus, statusScript } from "../../components/host/service";
import { CronEntryProvider, installScript as cronInstallScript, parseLine, readScript as cronReadScript } from "../../components/host/cron-entry";
import { DETECT_PACKAGE_MANAGER, DETECT_SERVICE_MANAGER } from "../../components/host/platform";
import { RemoteCommandProvider } from "../../components/host/remote-command";
import { shq } from "../../components/host/remote";
import { FakeRemote, Rule, connection, opener } from "./fake-remote";

const PROVIDER_V1 = "exports.handler = v1";

describe("shq", () => {
  it.each(["plain", "it's", "$(reboot)", "a b\nc", ""])("quotes %j so sh reads it back unchanged", (s) => {
    const { execFileSync } = require("child_process") as typeof import("child_process");
    expect(execFileSync("sh", ["-c", `printf %s ${shq(s)}`]).toString()).toBe(s);
  });
});

describe("RemoteFile", () => {
  const inputs = { connection, path: "/etc/radvd.conf", content: "interface eth0 {};\n", mode: "0644", owner: "root", group: "root" };

  it("checks paths and modes per property", async () => {
    const p = new RemoteFileProvider(opener(new FakeRemote()));
    const { failures } = await p.check({}, { connection, path: "etc/x", content: "x", mode: "rw" });
    expect(failures.map((f) => f.property).sort()).toEqual(["mode", "path"]);
  });

  it("sends the content on stdin, never in the script", async () => {
    const secret = { ...inputs, content: "passwd=MARKER-SECRET\n" };
    const box = new FakeRemote([[fileWriteScript(secret, true), { stdout: "original\n" }]]);
    const p = new RemoteFileProvider(opener(box));
    const { outs } = await p.create(secret);
    expect(box.calls).toHaveLength(1);
    expect(box.calls[0].stdin).toBe("passwd=MARKER-SECRET\n");
    expect(box.transcript).not.toContain("MARKER-SECRET");
    expect(box.transcript).toContain(backupPathFor("/etc/radvd.conf"));
    expect(outs.hadOriginal).toBe(true);
  });

  it("reads live content and mode, and reports a missing file as gone", async () => {
    const box = new FakeRemote([[fileReadScript("/etc/radvd.conf"), { stdout: "600 root root\nchanged by hand\n" }]]);
    const p = new RemoteFileProvider(opener(box));
    const read = await p.read("/etc/radvd.conf", { ...inputs, sha256: "x", hadOriginal: false });
    expect(read.props).toMatchObject({ content: "changed by hand\n", mode: "0600" });
    expect(read.inputs).not.toHaveProperty("sha256");
    const gone = await new RemoteFileProvider(opener(new FakeRemote([[fileReadScript("/etc/radvd.conf"), { code: 3 }]]))).read("/etc/radvd.conf", inputs);
    expect(gone).toEqual({});
  });

  it("diffs only what it manages; a path change replaces", async () => {
    const p = new RemoteFileProvider(opener(new FakeRemote()));
    const olds = { ...inputs, __provider: PROVIDER_V1 };
    expect(await p.diff("x", olds, { ...inputs, __provider: PROVIDER_V1, connection: { ...connection, host: "192.0.2.99" } } as never)).toMatchObject({ changes: false });
    expect(await p.diff("x", olds, { ...inputs, __provider: PROVIDER_V1, mode: "0600" } as never)).toMatchObject({ changes: true, replaces: [] });
    expect(await p.diff("x", olds, { ...inputs, __provider: PROVIDER_V1, path: "/etc/other" } as never)).toMatchObject({ replaces: ["path"] });
  });

  it("stores new provider code without touching the box", async () => {
    const box = new FakeRemote();
    const p = new RemoteFileProvider(opener(box));
    const olds = { ...inputs, __provider: PROVIDER_V1, sha256: "s", hadOriginal: false };
    const news = { ...inputs, __provider: "exports.handler = v2" };
    expect(await p.diff("x", olds, news as never)).toMatchObject({ changes: true });
    await p.update("x", olds, news as never);
    expect(box.calls).toHaveLength(0);
  });

  it("fails with the box's own words when a write fails", async () => {
    const box = new FakeRemote([[fileWriteScript(inputs, true), { code: 1, stderr: "mktemp: failed to create file: Read-only file system\n" }]]);
    await expect(new RemoteFileProvider(opener(box)).create(inputs)).rejects.toThrow(
      /writing \/etc\/radvd.conf failed on root@fake.example:22 \(exit 1\): mktemp: failed to create file: Read-only file system/,
    );
  });

  it("splits stat output from content", () => {
    expect(parseRead(0, "644 root adm\na\nb")).toEqual({ mode: "0644", owner: "root", group: "adm", content: "a\nb" });
  });
});

describe("Sysctl", () => {
  it("maps interface keys with dots to /proc paths", () => {
    expect(procPath("net.ipv6.conf.eth0.100.accept_ra")).toBe("/proc/sys/net/ipv6/conf/eth0.100/accept_ra");
    expect(procPath("net.ipv6.conf.all.forwarding")).toBe("/proc/sys/net/ipv6/conf/all/forwarding");
  });

  it("remembers the value it found and puts it back on delete", async () => {
    const key = "net.ipv6.conf.all.forwarding";
    const box = new FakeRemote([
      [sysctlApplyScript({ key, value: "1", persist: true }), { stdout: "0\n" }],
      [sysctlRestoreScript({ key, previous: "0" }), {}],
    ]);
    const p = new SysctlProvider(opener(box));
    const { inputs } = await p.check({}, { connection, key: "net.ipv6.conf.all.forwarding", value: 1 });
    expect(inputs).toMatchObject({ value: "1", persist: true });
    const { outs } = await p.create(inputs as never);
    expect(outs.previous).toBe("0");
    expect(box.transcript).toContain("/etc/sysctl.d/60-ipv6gw-net.ipv6.conf.all.forwarding.conf");
    await p.delete("k", outs);
    expect(box.calls.at(-1)!.script).toMatch(/printf '%s\\n' '0' > '\/proc\/sys\/net\/ipv6\/conf\/all\/forwarding'/);
  });

  it("treats a runtime change and a stale persisted file as drift", async () => {
    const state = { connection, key: "net.ipv6.conf.all.forwarding", value: "1", persist: true, previous: "0" };
    const runtime = await new SysctlProvider(opener(new FakeRemote([[sysctlReadScript(state.key), { stdout: "0\n1\n" }]]))).read("k", state);
    expect(runtime.props).toMatchObject({ value: "0", persist: true });
    const file = await new SysctlProvider(opener(new FakeRemote([[sysctlReadScript(state.key), { stdout: "1\n0\n" }]]))).read("k", state);
    expect(file.props).toMatchObject({ value: "1", persist: false });
  });

  it("compares vector values regardless of tabs", async () => {
    const p = new SysctlProvider(opener(new FakeRemote()));
    const base = { connection, key: "net.ipv4.tcp_rmem", persist: true, __provider: PROVIDER_V1 };
    expect(await p.diff("k", { ...base, value: "4096\t131072\t6291456" }, { ...base, value: "4096 131072 6291456" })).toMatchObject({ changes: false });
  });
});

describe("Packages", () => {
  // A box with apt where `missing` gets installed when asked for exactly that list, and removed when asked.
  const answers = (installed: Record<string, string>, missing: string[], extra: Rule[] = []) =>
    new FakeRemote([
      ...extra,
      [DETECT_PACKAGE_MANAGER, { stdout: "apt\n" }],
      [queryScript("apt", Object.keys(installed).sort()), () => ({ stdout: Object.entries(installed).map(([n, v]) => `${n}\t${v}\n`).join("") })],
      [
        installScript("apt", missing),
        () => {
          for (const n of missing) installed[n] = "1.0";
          return {};
        },
      ],
      [packagesRemoveScript("apt", missing), {}],
    ]);

  it("installs only what is missing and removes only that on delete", async () => {
    // Nothing on the hand-over list.
    const box = answers({ radvd: "", iptables: "1.8.9" }, ["radvd"], [[takeOverScript(["iptables", "radvd"]), {}]]);
    const p = new PackagesProvider(opener(box));
    const { inputs } = await p.check({}, { connection, names: ["radvd", "iptables", "radvd"] });
    expect(inputs.names).toEqual(["iptables", "radvd"]);
    const { outs } = await p.create(inputs as never);
    expect(outs.installed).toEqual(["radvd"]);
    expect(box.transcript).toMatch(/apt-get -o DPkg::Lock::Timeout=600 install -y -q 'radvd' /);
    await p.delete("p", outs);
    expect(box.calls.at(-1)!.script).toContain("apt-get -o DPkg::Lock::Timeout=600 purge -y -q --autoremove 'radvd'");
  });

  it("hands a whole plan over: one install, each resource then owns (and removes) what it names, the hand-over resource what nobody took", async () => {
    // The box: what is installed, and the hand-over list, as the box-side scripts keep it.
    const installed: Record<string, string> = { iptables: "1.8.9", radvd: "", "wireguard-tools": "" };
    const list = new Set<string>();
    const plan = ["iptables", "radvd", "wireguard-tools"];
    const query = (names: string[]) => [queryScript("apt", names), () => ({ stdout: names.map((n) => `${n}\t${installed[n]}\n`).join("") })] as Rule;
    const takeOver = (names: string[]) =>
      [
        takeOverScript(names),
        () => {
          const taken = names.filter((n) => list.has(n));
          for (const n of taken) list.delete(n);
          return { stdout: taken.map((n) => `${n}\n`).join("") };
        },
      ] as Rule;
    const box = new FakeRemote([
      [DETECT_PACKAGE_MANAGER, { stdout: "apt\n" }],
      query(plan),
      query(["radvd"]),
      [
        installScript("apt", ["radvd", "wireguard-tools"]),
        () => {
          installed.radvd = installed["wireguard-tools"] = "1.0";
          return {};
        },
      ],
      [
        handOverScript(["radvd", "wireguard-tools"]),
        () => {
          list.add("radvd").add("wireguard-tools");
          return {};
        },
      ],
      takeOver(["radvd"]),
      takeOver(["radvd", "wireguard-tools"]),
      [packagesRemoveScript("apt", ["radvd"]), {}],
      [packagesRemoveScript("apt", ["wireguard-tools"]), {}],
    ]);
    const p = new PackagesProvider(opener(box));
    const all = await p.create({ connection, names: plan, manager: "auto", handOver: true } as never);
    expect(all.outs).toMatchObject({ installed: [], handedOver: ["radvd", "wireguard-tools"] });
    expect(box.calls.filter((c) => /apt-get .*install/.test(c.script))).toHaveLength(1);
    // A component's own Packages finds it installed and takes it over.
    const radvd = await p.create({ connection, names: ["radvd"], manager: "auto", handOver: false } as never);
    expect(radvd.outs.installed).toEqual(["radvd"]);
    expect([...list]).toEqual(["wireguard-tools"]);
    // Deleted in dependency order: the component first, removing what it owns; then the plan, removing what nobody took.
    await p.delete("radvd", radvd.outs);
    expect(box.calls.at(-1)!.script).toBe(packagesRemoveScript("apt", ["radvd"]));
    await p.delete("all", all.outs);
    expect(box.calls.at(-1)!.script).toBe(packagesRemoveScript("apt", ["wireguard-tools"]));
    expect([...list]).toEqual([]);
  });

  it("names the package that cannot be installed", async () => {
    const box = new FakeRemote([
      [DETECT_PACKAGE_MANAGER, { stdout: "apt\n" }],
      [queryScript("apt", ["no-such-pkg"]), { stdout: "no-such-pkg\t\n" }],
      [installScript("apt", ["no-such-pkg"]), { code: 100, stderr: "E: Unable to locate package no-such-pkg\n" }],
    ]);
    const p = new PackagesProvider(opener(box));
    await expect(p.create({ connection, names: ["no-such-pkg"], manager: "auto" } as never)).rejects.toThrow(
      /package\(s\) 'no-such-pkg' could not be installed with apt on root@fake.example:22: E: Unable to locate package no-such-pkg/,
    );
  });

  it("fails clearly without a package manager", async () => {
    const p = new PackagesProvider(opener(new FakeRemote([[DETECT_PACKAGE_MANAGER, { stdout: "\n" }]])));
    await expect(p.create({ connection, names: ["radvd"], manager: "auto" } as never)).rejects.toThrow(/no supported package manager on root@fake.example:22/);
  });

  it("sees a package removed by hand as a change", async () => {
    const p = new PackagesProvider(opener(new FakeRemote()));
    const olds = { connection, names: ["radvd"], manager: "auto", versions: { radvd: "" }, __provider: PROVIDER_V1 };
    expect(await p.diff("p", olds as never, { ...olds, versions: undefined } as never)).toMatchObject({ changes: true });
  });

  it("keeps the hand-over list on the box with sh, flock and grep: taken names leave it, an emptied list leaves no directory of ours", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-handover-"));
    try {
      const at = { dir: path.join(root, "var/lib/ipv6gw/packages"), lock: path.join(root, "run/lock/ipv6gw-packages.lock") };
      const sh = (script: string) => {
        const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
        expect(r.status).toBe(0);
        return r.stdout;
      };
      expect(sh(takeOverScript(["radvd"], at))).toBe("");
      sh(handOverScript(["wireguard-tools", "radvd"], at));
      sh(handOverScript(["radvd", "curl"], at));
      expect(fs.readFileSync(path.join(at.dir, "handed-over"), "utf8")).toBe("curl\nradvd\nwireguard-tools\n");
      expect(sh(takeOverScript(["radvd", "iptables", "wireguard"], at))).toBe("radvd\n");
      expect(fs.readFileSync(path.join(at.dir, "handed-over"), "utf8")).toBe("curl\nwireguard-tools\n");
      expect(sh(takeOverScript(["wireguard-tools", "curl"], at))).toBe("wireguard-tools\ncurl\n");
      expect(fs.existsSync(path.join(root, "var/lib/ipv6gw"))).toBe(false);
      expect(fs.readdirSync(path.join(root, "var/lib"))).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("parses query output", () => {
    expect(parseVersions("radvd\t1:2.19-1+b1\niptables\t\n")).toEqual({ radvd: "1:2.19-1+b1", iptables: "" });
  });
});

describe("Service", () => {
  it("records the state it found and restores it", async () => {
    const box = new FakeRemote([
      [DETECT_SERVICE_MANAGER, { stdout: "systemd\n" }],
      [statusScript("systemd", "radvd"), { stdout: "enabled=0 running=0\n" }],
      [serviceApplyScript("systemd", "radvd", true, true, false), {}],
      [serviceApplyScript("systemd", "radvd", false, false, false), {}],
    ]);
    const p = new ServiceProvider(opener(box));
    const { inputs } = await p.check({}, { connection, name: "radvd" });
    const { outs } = await p.create(inputs as never);
    expect(outs.previous).toEqual({ enabled: false, running: false });
    // Enabled unless it is already (a SysV script beside the unit costs Debian's update-rc.d); systemd reloads at boot.
    expect(box.transcript).toContain(`[ "$(systemctl is-enabled 'radvd' 2>/dev/null)" = enabled ] || systemctl enable --quiet --no-reload 'radvd'`);
    expect(box.transcript).toContain("systemctl start --no-block 'radvd'");
    await p.delete("radvd", outs);
    expect(box.calls.at(-1)!.script).toContain("systemctl stop 'radvd'");
    expect(box.calls.at(-1)!.script).toContain(`[ "$(systemctl is-enabled 'radvd' 2>/dev/null)" = disabled ] || systemctl disable --quiet --no-reload 'radvd'`);
  });

  it("restarts when the trigger changes", async () => {
    const box = new FakeRemote([[serviceApplyScript("systemd", "radvd", true, true, true), {}]]);
    const p = new ServiceProvider(opener(box));
    const olds = { connection, name: "radvd", enabled: true, running: true, manager: "auto", restartTrigger: "a", usedManager: "systemd", __provider: PROVIDER_V1 };
    await p.update("radvd", olds as never, { ...olds, restartTrigger: "b" } as never);
    expect(box.transcript).toContain("systemctl restart --no-block 'radvd'");
  });

  it("explains a failed start with the unit's own log", async () => {
    const box = new FakeRemote([
      [DETECT_SERVICE_MANAGER, { stdout: "systemd\n" }],
      [statusScript("systemd", "radvd"), { stdout: "enabled=0 running=0\n" }],
      [serviceApplyScript("systemd", "radvd", true, true, false), { code: 1, stderr: "Job for radvd.service failed.\n" }],
      [diagnoseScript("systemd", "radvd"), { stdout: "radvd[12]: config file, /etc/radvd.conf, syntax error\n" }],
    ]);
    await expect(new ServiceProvider(opener(box)).create({ connection, name: "radvd", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(
      /service radvd on root@fake.example:22 could not be started \(systemd\): Job for radvd.service failed.\n.*syntax error/s,
    );
  });

  it("refuses an unknown service manager and a missing service", async () => {
    const none = new ServiceProvider(opener(new FakeRemote([[DETECT_SERVICE_MANAGER, { stdout: "" }]])));
    await expect(none.create({ connection, name: "radvd", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(/no supported service manager/);
    const sysvBox = new FakeRemote([
      [DETECT_SERVICE_MANAGER, { stdout: "sysv\n" }],
      [statusScript("sysv", "gw6c"), { code: 3 }],
    ]);
    const missing = new ServiceProvider(opener(sysvBox));
    await expect(missing.create({ connection, name: "gw6c", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(/service gw6c does not exist/);
  });

  it("has systemd reload before it calls a unit missing (one just written, looked up before, stays unknown until then)", async () => {
    let reloaded = false;
    const box = new FakeRemote([
      [DETECT_SERVICE_MANAGER, { stdout: "systemd\n" }],
      [statusScript("systemd", "ipv6gw-firewall"), () => (reloaded ? { stdout: "enabled=0 running=0\n" } : { code: 3 })],
      [
        "systemctl daemon-reload",
        () => {
          reloaded = true;
          return {};
        },
      ],
      [serviceApplyScript("systemd", "ipv6gw-firewall", true, "unmanaged", false), {}],
    ]);
    const p = new ServiceProvider(opener(box));
    const { outs } = await p.create({ connection, name: "ipv6gw-firewall", enabled: true, running: "unmanaged", manager: "auto", restartTrigger: "" });
    expect(outs.previous).toEqual({ enabled: false, running: false });
    const missing = new ServiceProvider(opener(new FakeRemote([[DETECT_SERVICE_MANAGER, { stdout: "systemd\n" }], [statusScript("systemd", "nope"), { code: 3 }], ["systemctl daemon-reload", {}]])));
    await expect(missing.create({ connection, name: "nope", enabled: true, running: true, manager: "auto", restartTrigger: "" })).rejects.toThrow(/service nope does not exist/);
  });

  it("parses status lines", () => {
    expect(parseStatus("enabled=1 running=0\n")).toEqual({ enabled: true, running: false });
  });
});

describe("CronEntry", () => {
  it("validates the schedule and refuses % in commands", async () => {
    const p = new CronEntryProvider(opener(new FakeRemote()));
    const { failures } = await p.check({}, { connection, name: "gw6c-watchdog", schedule: "every hour", command: "date +%s" });
    expect(failures.map((f) => f.property).sort()).toEqual(["command", "schedule"]);
  });

  it("writes the marker and the line, and reads them back", async () => {
    const entry = { connection, name: "gw6c-watchdog", schedule: "0 * * * *", command: "/sbin/pidof gw6c >/dev/null || systemctl restart gw6c", user: "root" };
    const box = new FakeRemote([
      [cronInstallScript(entry), {}],
      [cronReadScript(entry), { stdout: "0 * * * * /sbin/pidof gw6c >/dev/null || systemctl restart gw6c\n" }],
    ]);
    const p = new CronEntryProvider(opener(box));
    await p.create(entry);
    expect(box.transcript).toContain("'# ipv6gw:gw6c-watchdog'");
    const read = await p.read("root:gw6c-watchdog", entry);
    expect(read.props).toMatchObject({ schedule: "0 * * * *", command: entry.command });
  });

  it("splits schedules from commands", () => {
    expect(parseLine("@reboot /x y")).toEqual({ schedule: "@reboot", command: "/x y" });
    expect(parseLine("0  *  * * * a b")).toEqual({ schedule: "0 * * * *", command: "a b" });
  });
});

describe("RemoteCommand", () => {
  const base = { connection, create: "make install", triggers: ["v1"], timeoutSeconds: 600 };

  it("replaces on a trigger change, updates on a script change", async () => {
    const p = new RemoteCommandProvider(opener(new FakeRemote()));
    const olds = { ...base, __provider: PROVIDER_V1 };
    expect(await p.diff("c", olds, { ...olds, triggers: ["v2"] })).toMatchObject({ changes: true, replaces: ["triggers"] });
    expect(await p.diff("c", olds, { ...olds, create: "make all install" })).toMatchObject({ changes: true, replaces: [] });
    expect(await p.diff("c", olds, { ...olds })).toMatchObject({ changes: false });
  });

  it("passes stdin and reports the effect gone when the probe fails", async () => {
    const box = new FakeRemote([
      ["make install", {}],
      ["test -x /usr/local/gw6c/bin/gw6c", { code: 1 }],
    ]);
    const p = new RemoteCommandProvider(opener(box));
    const { outs } = await p.create({ ...base, stdin: "s3cret", present: "test -x /usr/local/gw6c/bin/gw6c" });
    expect(box.calls[0]).toEqual({ script: "make install", stdin: "s3cret" });
    expect(await p.read("c", outs)).toEqual({});
  });
});
