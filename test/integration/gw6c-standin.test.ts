// The gw6c STAND-IN fixture (test/fixtures/gw6c-standin): packed like the
// user's gw6c tarball, unpacked and built the way Gw6cTunnel's buildScript
// does (tar -xzf - -C, find tspc-advanced -maxdepth 3, make target=linux,
// make target=linux install installdir=...), then run as gw6c would be:
// daemonizing, template run, SIGHUP teardown. The runtime tests need root
// (the stand-in refuses otherwise, like gw6c); without root only the refusal
// is checked. Needs cc, make, tar and gzip on the host.
//
// Every process these tests start is found by PID (TSP_STANDIN_PID in the
// marker file, "(pid N)" in the log, or /proc entries running this run's
// binary) and killed in afterAll; the temp directory is removed there too.

import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GW6C_STANDIN_DIR, packGw6cStandin } from "../fixtures/gw6c-standin";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const SECRET = "Tr0ub4dor&3-standin-not-real";
const BANNER = "gw6c stand-in (ipv6gw test fixture): not gw6c, speaks no TSP";
const isRoot = process.getuid?.() === 0;
// gw6c refuses to run unless root, so these tests need root (the test command runs as root).
const itRoot = isRoot ? it : it.skip;

jest.setTimeout(30_000);

let tmp = "";
let tarball = "";
let srcDir = ""; // the unpacked tspc-advanced
let inst = ""; // installdir
let bin = "";
let buildOutput = "";
const pids = new Set<number>();

function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer; timeoutMs?: number } = {}): Run {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: "utf8", timeout: opts.timeoutMs ?? 60_000 });
  if (typeof r.pid === "number" && r.pid > 0 && r.status === null) pids.add(r.pid);
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mustRun(cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer } = {}): Run {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The stand-in binary, run with a short timeout: it must return at once (error or daemonized). */
function gw6c(args: readonly string[], cwd: string): Run {
  return run(bin, args, { cwd, timeoutMs: 10_000 });
}

/** Fields after the command name in /proc/PID/stat: [state, ppid, pgrp, session, ...]; undefined when gone. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Running (a zombie nobody reaped yet counts as exited). */
function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s[0] !== "Z" && s[0] !== "X";
}

async function waitFor(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function readIf(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/** VAR=value lines of a marker file. */
function parseMarker(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** PIDs of processes running this run's installed stand-in (safety net for cleanup). */
function ourDaemons(): number[] {
  if (!bin) return [];
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
      if (argv0 === bin) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function killOurs(): void {
  for (const pid of new Set([...pids, ...ourDaemons()])) {
    // Only a process that still runs this run's binary: never a reused PID.
    let argv0 = "";
    try {
      argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
    } catch {
      continue;
    }
    if (argv0 !== bin) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function routerConf(overrides: Record<string, string> = {}): string {
  const conf: Record<string, string> = {
    userid: "lab-gw",
    passwd: SECRET,
    server: "broker.example:3653",
    auth_method: "any",
    host_type: "router",
    prefixlen: "64",
    if_prefix: "eth0",
    gw6_dir: inst,
    tunnel_mode: "v6udpv4",
    log_file: "2",
    log_filename: path.join(inst, "logs", "gw6c.log"),
    ...overrides,
  };
  return ["# written by gw6c-standin.test.ts", ...Object.entries(conf).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

/** A fresh working directory holding `gw6c.conf` (or `name`) with `content`. */
function workdir(label: string, content: string, name = "gw6c.conf"): { dir: string; conf: string } {
  const dir = fs.mkdtempSync(path.join(tmp, `run-${label}-`));
  const conf = path.join(dir, name);
  fs.writeFileSync(conf, content, { mode: 0o600 });
  return { dir, conf };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-gw6c-standin-"));
  tarball = packGw6cStandin(path.join(tmp, "gw6c-standin.tar.gz"));
  // Gw6cTunnel's buildScript, on the host.
  const srcRoot = path.join(tmp, "src");
  fs.mkdirSync(srcRoot);
  mustRun("tar", ["-xzf", "-", "-C", srcRoot], { input: fs.readFileSync(tarball) });
  srcDir = mustRun("find", [srcRoot, "-maxdepth", "3", "-type", "d", "-name", "tspc-advanced"]).stdout.split("\n")[0];
  inst = path.join(tmp, "inst");
  // -Werror: the stand-in must compile warning-free; CFLAGS on the command line is how users pass fixes.
  const build = mustRun("make", ["target=linux", "CFLAGS=-O2 -Wall -Werror -std=c99"], { cwd: srcDir });
  const install = mustRun("make", ["target=linux", "install", `installdir=${inst}`], { cwd: srcDir });
  buildOutput = build.stdout + build.stderr + install.stdout + install.stderr;
  fs.mkdirSync(path.join(inst, "etc"));
  fs.mkdirSync(path.join(inst, "logs"));
  bin = path.join(inst, "bin", "gw6c");
}, 120_000);

afterAll(() => {
  killOurs();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("gw6c stand-in: the fixture and its tarball", () => {
  it("names itself a stand-in in the header of every file", () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(GW6C_STANDIN_DIR);
    expect(files.map((f) => path.relative(GW6C_STANDIN_DIR, f)).sort()).toEqual([
      "README",
      "tspc-advanced/Makefile",
      "tspc-advanced/conf/gw6c.conf.sample",
      "tspc-advanced/src/gw6c.c",
      "tspc-advanced/template/linux.sh",
    ]);
    for (const f of files) {
      const header = fs.readFileSync(f, "utf8").split("\n").slice(0, 3).join("\n");
      expect({ file: f, standIn: /stand-in/i.test(header) }).toEqual({ file: f, standIn: true });
    }
  });

  it("packs to a reproducible tarball with tspc-advanced at depth 2", () => {
    const again = packGw6cStandin(path.join(tmp, "again", "gw6c-standin.tar.gz"));
    expect(path.isAbsolute(tarball)).toBe(true);
    const sha = (f: string): string => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");
    expect(sha(again)).toBe(sha(tarball));
    const names = mustRun("tar", ["-tzf", tarball]).stdout.trim().split("\n");
    expect(names.every((n) => n.startsWith("gw6c-standin/"))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(["gw6c-standin/README", "gw6c-standin/tspc-advanced/Makefile", "gw6c-standin/tspc-advanced/src/gw6c.c"]));
    expect(names.some((n) => n.includes("/bin/"))).toBe(false);
    expect(srcDir).toBe(path.join(tmp, "src", "gw6c-standin", "tspc-advanced"));
  });
});

describe("gw6c stand-in: build interface like gw6c 5.1's tspc-advanced/Makefile", () => {
  it("builds warning-free with CFLAGS passed through on the command line", () => {
    expect(buildOutput).toContain("-O2 -Wall -Werror -std=c99");
    expect(buildOutput).not.toMatch(/warning:/);
  });

  it("compiles with $(CC) and -O2 -Wall by default", () => {
    const r = mustRun("make", ["-n", "-B", "target=linux"], { cwd: srcDir });
    expect(r.stdout).toMatch(/^cc +-O2 -Wall +-o bin\/gw6c src\/gw6c\.c/m);
    expect(mustRun("make", ["-n", "-B", "target=linux", "CC=gcc-from-user"], { cwd: srcDir }).stdout).toMatch(/^gcc-from-user /m);
  });

  it.each([[[]], [["target=freebsd"]], [["install", "installdir=/nonexistent"]]])("refuses make %j: target must be linux", (args) => {
    const r = run("make", args, { cwd: srcDir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("target must be one of: linux");
  });

  it("refuses install without installdir", () => {
    const r = run("make", ["target=linux", "install"], { cwd: srcDir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("installdir must be set");
  });

  it("installs bin/gw6c, the sample, gw6c.conf and template/linux.sh like gw6c", () => {
    const mode = (p: string): string => (fs.statSync(path.join(inst, p)).mode & 0o777).toString(8);
    expect(mode("bin/gw6c")).toBe("755");
    expect(mode("bin/gw6c.conf.sample")).toBe("600");
    expect(mode("bin/gw6c.conf")).toBe("600");
    expect(mode("template/linux.sh")).toBe("755");
    // Like gw6c's install, the sample gets gw6_dir=<installdir>.
    expect(fs.readFileSync(path.join(inst, "bin/gw6c.conf.sample"), "utf8")).toContain(`\ngw6_dir=${inst}\n`);
  });

  it("keeps an existing gw6c.conf on reinstall", () => {
    const other = path.join(tmp, "inst-reinstall");
    mustRun("make", ["target=linux", "install", `installdir=${other}`], { cwd: srcDir });
    fs.writeFileSync(path.join(other, "bin/gw6c.conf"), "server=kept.example\n");
    mustRun("make", ["target=linux", "install", `installdir=${other}`], { cwd: srcDir });
    expect(fs.readFileSync(path.join(other, "bin/gw6c.conf"), "utf8")).toBe("server=kept.example\n");
  });

  it("make clean removes the build output", () => {
    const copy = path.join(tmp, "clean-copy");
    fs.cpSync(srcDir, copy, { recursive: true });
    expect(fs.existsSync(path.join(copy, "bin/gw6c"))).toBe(true);
    mustRun("make", ["clean"], { cwd: copy });
    expect(fs.existsSync(path.join(copy, "bin"))).toBe(false);
  });
});

describe("gw6c stand-in: runtime", () => {
  (isRoot ? it.skip : it)(`refuses to run unless root (${isRoot ? "skipped: only a run that is not root can see it" : "run as a user"})`, () => {
    const { dir } = workdir("nonroot", routerConf());
    const r = gw6c([], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("gw6c stand-in: must run as root");
  });

  it("-h says it is a stand-in", () => {
    const r = gw6c(["-h"], tmp);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(BANNER);
    expect(r.stdout).toContain("usage: gw6c");
  });

  itRoot("reads gw6c.conf from the working directory and fails naming a missing server", () => {
    const { dir } = workdir("noserver", routerConf({ server: "" }));
    const r = gw6c([], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("gw6c stand-in: server is not set in gw6c.conf");
  });

  itRoot("fails naming the -f file when server is missing", () => {
    const { dir, conf } = workdir("noserver-f", routerConf({ server: "" }).replace(/^server=.*\n/m, ""), "other.conf");
    const r = gw6c(["-f", conf], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`server is not set in ${conf}`);
  });

  itRoot.each<[string, Record<string, string>, string]>([
    ["host_type must be host or router", { host_type: "hub" }, "host_type must be host or router"],
    ["router needs if_prefix", { if_prefix: "" }, "if_prefix is required for host_type=router"],
    ["auth_method other than anonymous needs passwd", { passwd: "", auth_method: "digest-md5" }, "passwd is required for auth_method=digest-md5"],
  ])("validates: %s, never printing the password", (_name, overrides, message) => {
    const { dir, conf } = workdir("invalid", routerConf(overrides));
    const r = gw6c(["-f", conf], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(readIf(path.join(inst, "logs", "gw6c.log"))).not.toContain(SECRET);
  });

  itRoot("daemonizes, runs the template for creation and tears down on SIGHUP", async () => {
    const up = path.join(inst, "standin-tunnel.up");
    const down = path.join(inst, "standin-tunnel.down");
    const log = path.join(inst, "logs", "gw6c.log");
    const { dir, conf } = workdir("hup", routerConf());
    fs.rmSync(up, { force: true });
    fs.rmSync(down, { force: true });

    const r = gw6c(["-f", conf], dir);
    expect(r).toEqual({ status: 0, stdout: "", stderr: "" });
    await waitFor(`${up}`, () => fs.existsSync(up));
    const env = parseMarker(up);
    const pid = Number(env.TSP_STANDIN_PID);
    expect(pid).toBeGreaterThan(0);
    pids.add(pid);
    expect(env).toEqual({
      TSP_HOME_DIR: inst,
      TSP_HOME_INTERFACE: "eth0",
      TSP_HOST_TYPE: "router",
      TSP_OPERATION: "TSP_TUNNEL_CREATION",
      TSP_STANDIN_PID: String(pid),
      TSP_TUNNEL_MODE: "v6udpv4",
    });

    // A daemon named gw6c (what `pidof gw6c` matches), in its own session, still in the working directory, stdio on /dev/null.
    expect(fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()).toBe("gw6c");
    expect(procStat(pid)?.[3]).toBe(String(pid));
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(dir);
    expect([0, 1, 2].map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`))).toEqual(["/dev/null", "/dev/null", "/dev/null"]);
    await waitFor("the daemon to wait for signals", () => readIf(log).includes("TSP_TUNNEL_CREATION done"));

    process.kill(pid, "SIGHUP");
    await waitFor(`pid ${pid} to exit after SIGHUP`, () => !alive(pid));
    expect(fs.existsSync(up)).toBe(false);
    expect(parseMarker(down)).toMatchObject({ TSP_OPERATION: "TSP_TUNNEL_TEARDOWN", TSP_HOME_INTERFACE: "eth0", TSP_STANDIN_PID: String(pid) });

    const text = fs.readFileSync(log, "utf8");
    expect(text).toContain("gw6c stand-in: starting (server=broker.example:3653, host_type=router, if_prefix=eth0, tunnel_mode=v6udpv4)");
    expect(text).toContain("gw6c stand-in: speaks no TSP; acting as if the broker had answered");
    expect(text).toContain(`gw6c stand-in: in the background (pid ${pid})`);
    expect(text).toContain("gw6c stand-in: SIGHUP, teardown done");
    expect(text).not.toContain(SECRET);
    expect(text.trim().split("\n").every((l) => l.startsWith("gw6c stand-in: "))).toBe(true);
  });

  itRoot("exits on SIGTERM without teardown, leaving the .up marker (log relative to the working directory)", async () => {
    const up = path.join(inst, "standin-tunnel.up");
    const { dir, conf } = workdir("term", routerConf({ log_filename: "gw6c.log", host_type: "host", if_prefix: "", tunnel_mode: "" }));
    const log = path.join(dir, "gw6c.log");
    fs.rmSync(up, { force: true });

    expect(gw6c(["-f", conf], dir).status).toBe(0);
    await waitFor(`${up}`, () => fs.existsSync(up));
    const env = parseMarker(up);
    const pid = Number(env.TSP_STANDIN_PID);
    pids.add(pid);
    expect(env).toMatchObject({ TSP_OPERATION: "TSP_TUNNEL_CREATION", TSP_HOST_TYPE: "host", TSP_HOME_INTERFACE: "", TSP_TUNNEL_MODE: "v6anyv4" });
    await waitFor("the daemon to wait for signals", () => readIf(log).includes("TSP_TUNNEL_CREATION done"));

    process.kill(pid, "SIGTERM");
    await waitFor(`pid ${pid} to exit after SIGTERM`, () => !alive(pid));
    expect(parseMarker(up).TSP_OPERATION).toBe("TSP_TUNNEL_CREATION");
    expect(fs.existsSync(path.join(inst, "standin-tunnel.down"))).toBe(false);
    expect(fs.readFileSync(log, "utf8")).toContain("gw6c stand-in: exiting without teardown (only SIGHUP tears down)");
  });

  itRoot("returns 0 but quits in the background when the template fails (gw6c: INTERFACE_SETUP_FAILED)", async () => {
    const noTemplate = fs.mkdtempSync(path.join(tmp, "gw6-dir-without-template-"));
    const { dir, conf } = workdir("notemplate", routerConf({ gw6_dir: noTemplate, log_filename: "gw6c.log" }));
    const log = path.join(dir, "gw6c.log");

    expect(gw6c(["-f", conf], dir).status).toBe(0);
    await waitFor("the template failure in the log", () => readIf(log).includes("for TSP_TUNNEL_CREATION; quitting"));
    const pid = Number(/in the background \(pid (\d+)\)/.exec(readIf(log))?.[1]);
    pids.add(pid);
    await waitFor(`pid ${pid} to exit`, () => !alive(pid));
    expect(readIf(log)).toContain(`${noTemplate}/template/linux.sh failed`);
  });
});
