// The gw6c STAND-IN fixture (test/fixtures/gw6c-standin): packed like the
// user's gw6c tarball, unpacked and built the way Gw6cTunnel's buildScript
// does (tar -xzf - -C, find tspc-advanced -maxdepth 3, make target=linux,
// make target=linux install installdir=...), then run as gw6c 5.1 runs:
// against the lab's TSP broker (lab/tsp-broker's build) in a scratch pair
// of network namespaces on the host (test/fixtures/tsp-scratch.ts), so
// negotiation, daemonizing, the tun data path, keepalives, templates and
// signals are all real. Needs root (gw6c refuses otherwise), cc, make, tar,
// gzip and Go (the broker's build). The stand-in's Linux template runs here
// in host mode only; router mode with radvd runs on the lab's gw
// (tsp-broker.test.ts), where the box is a Debian 12 like the users'.
//
// Every process these tests start is found by PID and killed in afterAll;
// the namespaces and the temp directory are removed there too.

import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labPaths } from "../../lab/paths";
import { ensureTspBroker } from "../../lab/tsp-broker";
import { GW6C_STANDIN_DIR, packGw6cStandin } from "../fixtures/gw6c-standin";
import { readIf, TspScratch, waitFor } from "../fixtures/tsp-scratch";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

const SECRET = "Tr0ub4dor&3-standin-not-real";
const BANNER = "gw6c stand-in (ipv6gw test fixture): not gw6c; speaks TSP to a broker like gw6c 5.1";
const TODD_ADDRESS = "2001:db8:ffff:200::1:2";

jest.setTimeout(60_000);

let tmp = "";
let tarball = "";
let srcDir = ""; // the unpacked tspc-advanced
let inst = ""; // installdir
let bin = "";
let buildOutput = "";
let scratch: TspScratch;
const pids = new Set<number>();

function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer; timeoutMs?: number; uid?: number } = {}): Run {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: "utf8", timeout: opts.timeoutMs ?? 60_000, uid: opts.uid, gid: opts.uid });
  if (typeof r.pid === "number" && r.pid > 0 && r.status === null) pids.add(r.pid);
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mustRun(cmd: string, args: readonly string[], opts: { cwd?: string; input?: Buffer } = {}): Run {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The stand-in on the host, run with a short timeout: it must return at once (config errors). */
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

/** PIDs of processes running this run's installed stand-in (safety net for cleanup). */
function ourDaemons(): number[] {
  if (!bin) return [];
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0] === bin) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function killOurs(): void {
  for (const pid of new Set([...pids, ...ourDaemons()])) {
    try {
      // Only a process that still runs this run's binary: never a reused PID.
      if (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === bin) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function confText(conf: Record<string, string>): string {
  return ["# written by gw6c-standin.test.ts", ...Object.entries(conf).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

function routerConf(overrides: Record<string, string> = {}): string {
  return confText({
    userid: "lab-gw",
    passwd: SECRET,
    server: "broker.example:3653",
    auth_method: "any",
    host_type: "router",
    prefixlen: "64",
    if_prefix: "eth0",
    gw6_dir: inst,
    tunnel_mode: "v6udpv4",
    if_tunnel_v6udpv4: "tun",
    log_file: "2",
    log_filename: path.join(inst, "logs", "gw6c.log"),
    ...overrides,
  });
}

/** A fresh working directory holding `gw6c.conf` (or `name`) with `content`. */
function workdir(label: string, content: string, name = "gw6c.conf"): { dir: string; conf: string; log: string } {
  const dir = fs.mkdtempSync(path.join(tmp, `run-${label}-`));
  const conf = path.join(dir, name);
  fs.writeFileSync(conf, content, { mode: 0o600 });
  return { dir, conf, log: path.join(dir, "gw6c.log") };
}

/** A configuration for the scratch broker: todd, v6udpv4, short delays, everything logged into the working directory. */
function scratchConf(dir: string, overrides: Record<string, string> = {}): string {
  return confText({
    server: scratch.brokerAddress,
    userid: "todd",
    passwd: scratch.password,
    auth_method: "any",
    host_type: "host",
    tunnel_mode: "v6udpv4",
    if_tunnel_v6udpv4: "tsptun",
    if_tunnel_v6v4: "sit1",
    gw6_dir: inst,
    template: "linux",
    keepalive: "yes",
    keepalive_interval: "2",
    retry_delay: "1",
    log_file: "3",
    log_filename: path.join(dir, "gw6c.log"),
    ...overrides,
  });
}

/** Starts the stand-in in the client namespace; resolves with the daemon's PID once it forked. */
async function startInClient(label: string, overrides: Record<string, string> = {}): Promise<{ dir: string; log: string; pid: number; run: Run }> {
  const dir = fs.mkdtempSync(path.join(tmp, `tsp-${label}-`));
  const conf = path.join(dir, "gw6c.conf");
  fs.writeFileSync(conf, scratchConf(dir, overrides), { mode: 0o600 });
  const log = path.join(dir, "gw6c.log");
  const r = scratch.inClient([bin, "-f", conf], { cwd: dir, timeoutMs: 30_000 });
  // The parent exits as it forks; the child logs its pid a moment later.
  const logged = () => Number(/in the background \(pid (\d+)\)/.exec(readIf(log))?.[1] ?? 0);
  for (let i = 0; r.status === 0 && !logged() && i < 100; i++) await new Promise((done) => setTimeout(done, 50));
  const pid = logged();
  if (pid) {
    pids.add(pid);
    scratch.track(pid, bin);
  }
  return { dir, log, pid, run: r };
}

/** The TSP_* variables the stand-in logged for one operation's template run (the last one). */
function templateEnv(log: string, operation: string): Record<string, string> {
  const lines = readIf(log).split("\n");
  const start = lines.lastIndexOf(`gw6c stand-in: TSP_OPERATION=${operation}`);
  const env: Record<string, string> = {};
  if (start < 0) return env;
  for (const line of lines.slice(start)) {
    const m = /^gw6c stand-in: (TSP_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) {
      if (Object.keys(env).length > 0) break;
      continue;
    }
    env[m[1]] = m[2];
  }
  return env;
}

/** Installs a test-only template (not the stand-in's linux.sh) into the install directory. */
function testTemplate(name: string, body: string): void {
  fs.writeFileSync(path.join(inst, "template", `${name}.sh`), `#!/bin/sh\n# gw6c stand-in test template (gw6c-standin.test.ts only)\n${body}`, { mode: 0o755 });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-gw6c-standin-"));
  // Others (uid nobody) must reach the binary for the non-root test.
  fs.chmodSync(tmp, 0o755);
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
  fs.chmodSync(inst, 0o755);
  bin = path.join(inst, "bin", "gw6c");

  const broker = await ensureTspBroker(labPaths(), () => undefined);
  scratch = new TspScratch(broker.binary, tmp);
  scratch.setUp();
  await scratch.startBroker();
}, 180_000);

afterAll(() => {
  killOurs();
  scratch?.dispose();
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
      "tspc-advanced/src/base64.c",
      "tspc-advanced/src/conf.c",
      "tspc-advanced/src/gw6c.c",
      "tspc-advanced/src/log.c",
      "tspc-advanced/src/md5.c",
      "tspc-advanced/src/rudp.c",
      "tspc-advanced/src/standin.h",
      "tspc-advanced/src/template.c",
      "tspc-advanced/src/tsp.c",
      "tspc-advanced/src/tunnel.c",
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
    expect(r.stdout).toMatch(/^cc +-O2 -Wall +-o bin\/gw6c src\/gw6c\.c src\/conf\.c /m);
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

describe("gw6c stand-in: settings, checked before anything else", () => {
  it("refuses to run unless root (run as uid 65534)", () => {
    const { dir } = workdir("nonroot", routerConf());
    fs.chmodSync(dir, 0o755);
    const r = run(bin, [], { cwd: dir, timeoutMs: 10_000, uid: 65534 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("gw6c stand-in: must run as root");
  });

  it("-h says it is a stand-in", () => {
    const r = gw6c(["-h"], tmp);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(BANNER);
    expect(r.stdout).toContain("usage: gw6c");
  });

  it("reads gw6c.conf from the working directory and fails naming a missing server", () => {
    const { dir } = workdir("noserver", routerConf({ server: "" }));
    const r = gw6c([], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("gw6c stand-in: server is not set in gw6c.conf");
  });

  it("fails naming the -f file when server is missing", () => {
    const { dir, conf } = workdir("noserver-f", routerConf({ server: "" }).replace(/^server=.*\n/m, ""), "other.conf");
    const r = gw6c(["-f", conf], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`server is not set in ${conf}`);
  });

  it.each<[string, Record<string, string>, string]>([
    ["host_type must be host or router", { host_type: "hub" }, "host_type must be host or router"],
    ["router needs if_prefix", { if_prefix: "" }, "if_prefix is required for host_type=router"],
    ["auth_method other than anonymous needs passwd", { passwd: "", auth_method: "digest-md5" }, "passwd is required for auth_method=digest-md5"],
    ["auth_method must be known", { auth_method: "kerberos" }, "auth_method must be anonymous, any, digest-md5, plain or passdss-3des-1"],
    ["v6udpv4 needs its tun interface named (gw6c has no default)", { if_tunnel_v6udpv4: "" }, "if_tunnel_v6udpv4 is required for tunnel_mode=v6udpv4"],
    ["v4v6 is not for Linux", { tunnel_mode: "v4v6" }, "tunnel_mode=v4v6 is not supported on Linux"],
    ["gw6_dir must exist", { gw6_dir: "/nonexistent/gw6c" }, "gw6_dir /nonexistent/gw6c is not a directory"],
  ])("validates: %s, never printing the password", (_name, overrides, message) => {
    const { dir, conf } = workdir("invalid", routerConf(overrides));
    const r = gw6c(["-f", conf], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(readIf(path.join(inst, "logs", "gw6c.log"))).not.toContain(SECRET);
  });
});

describe("gw6c stand-in against the lab's TSP broker (scratch namespaces on the host)", () => {
  // A test that failed half-way must not leave its daemon holding the tun device for the next.
  afterEach(() => killOurs());

  it("host mode: negotiates with DIGEST-MD5, forks only then, and its template makes the tunnel; traffic both ways; SIGHUP tears down", async () => {
    const { dir, log, pid, run: r } = await startInClient("host");
    expect(r).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(pid).toBeGreaterThan(0);
    await waitFor("the tunnel", () => readIf(log).includes(`your IPv6 address is ${TODD_ADDRESS}`));

    expect(templateEnv(log, "TSP_TUNNEL_CREATION")).toEqual({
      TSP_OPERATION: "TSP_TUNNEL_CREATION",
      TSP_VERBOSE: "3",
      TSP_HOME_DIR: inst,
      TSP_TUNNEL_MODE: "v6udpv4",
      TSP_HOST_TYPE: "host",
      TSP_TUNNEL_INTERFACE: "tsptun",
      TSP_HOME_INTERFACE: "",
      TSP_CLIENT_ADDRESS_IPV4: scratch.clientAddress,
      TSP_CLIENT_ADDRESS_IPV6: TODD_ADDRESS,
      TSP_SERVER_ADDRESS_IPV4: scratch.brokerAddress,
      TSP_SERVER_ADDRESS_IPV6: scratch.serverTunnelAddress,
      TSP_TUNNEL_PREFIXLEN: "128",
      TSP_STANDIN_PID: String(pid),
    });
    // A daemon named gw6c (what `pidof gw6c` matches), in its own session, still in the working directory, stdio on /dev/null.
    expect(fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()).toBe("gw6c");
    expect(procStat(pid)?.[3]).toBe(String(pid));
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(dir);
    expect([0, 1, 2].map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`))).toEqual(["/dev/null", "/dev/null", "/dev/null"]);

    // What the template did, with net-tools: the tunnel address, MTU 1280, the default routes.
    expect(scratch.sh("client", "ip -6 -o addr show dev tsptun scope global")).toContain(`inet6 ${TODD_ADDRESS}/128`);
    expect(scratch.sh("client", "cat /sys/class/net/tsptun/mtu").trim()).toBe("1280");
    const routes = scratch.sh("client", "ip -6 route show");
    expect(routes).toMatch(/^default dev tsptun /m);
    expect(routes).toMatch(/^2000::\/3 dev tsptun /m);
    expect(readIf(log)).toContain("template: /sbin/ifconfig tsptun add 2001:db8:ffff:200::1:2/128");

    expect(await scratch.tcpReaches("client", scratch.serverTunnelAddress)).toBe(true);
    expect(await scratch.tcpReaches("broker", TODD_ADDRESS)).toBe(true);
    expect(scratch.brokerLog()).toContain('authenticated "todd" with DIGEST-MD5');
    expect(scratch.sessions()).toEqual([
      expect.objectContaining({ identity: "user todd", hostType: "host", address: TODD_ADDRESS, peer: expect.stringMatching(/^203\.0\.113\.251:\d+$/) }),
    ]);

    process.kill(pid, "SIGHUP");
    await waitFor(`pid ${pid} to exit after SIGHUP`, () => !alive(pid));
    const text = readIf(log);
    expect(text).toContain("gw6c stand-in: TSP_OPERATION=TSP_TUNNEL_TEARDOWN");
    expect(text).toContain("gw6c stand-in: SIGHUP, teardown done");
    expect(scratch.inClient(["ip", "link", "show", "tsptun"]).status).not.toBe(0);
    expect(scratch.sh("client", "ip -6 route show")).not.toMatch(/^default /m);
    expect(text).not.toContain(scratch.password);
    expect(text.trim().split("\n").every((l) => l.startsWith("gw6c stand-in: "))).toBe(true);
  });

  it("router mode: TSP_PREFIX cut as gw6c cuts it, the /64 routed through the tunnel to the LAN; SIGTERM leaves it all, a restart gets the same prefix", async () => {
    // Test template: the tunnel and the LAN address with iproute2, no radvd (radvd runs on the lab's gw).
    testTemplate(
      "scratch-router",
      [
        'if [ "$TSP_OPERATION" = TSP_TUNNEL_CREATION ]; then',
        "  ip link set $TSP_TUNNEL_INTERFACE up mtu 1280 || exit 1",
        "  ip -6 addr replace $TSP_CLIENT_ADDRESS_IPV6/128 dev $TSP_TUNNEL_INTERFACE || exit 1",
        "  ip -6 route replace default dev $TSP_TUNNEL_INTERFACE || exit 1",
        "  ip -6 addr replace $TSP_PREFIX::1/64 dev $TSP_HOME_INTERFACE || exit 1",
        "else",
        "  ip -6 addr del $TSP_PREFIX::1/64 dev $TSP_HOME_INTERFACE",
        "fi",
        "",
      ].join("\n"),
    );
    const conf = { host_type: "router", if_prefix: "lan0", auth_method: "plain", template: "scratch-router" };
    const first = await startInClient("router", conf);
    await waitFor("the tunnel", () => readIf(first.log).includes("your IPv6 prefix is"));
    expect(templateEnv(first.log, "TSP_TUNNEL_CREATION")).toMatchObject({
      TSP_HOST_TYPE: "router",
      TSP_HOME_INTERFACE: "lan0",
      TSP_CLIENT_ADDRESS_IPV6: TODD_ADDRESS,
      TSP_PREFIX: "2001:0db8:7777:0001",
      TSP_PREFIXLEN: "64",
    });
    expect(readIf(first.log)).toContain("your IPv6 prefix is 2001:0db8:7777:0001:0000:0000:0000:0000/64");
    expect(await scratch.tcpReaches("broker", "2001:db8:7777:1::1")).toBe(true);
    expect(scratch.brokerLog()).toContain('authenticated "todd" with PLAIN');

    process.kill(first.pid, "SIGTERM");
    await waitFor(`pid ${first.pid} to exit after SIGTERM`, () => !alive(first.pid));
    expect(readIf(first.log)).not.toContain("TSP_TUNNEL_TEARDOWN");
    expect(scratch.sh("client", "ip -6 -o addr show dev lan0 scope global")).toContain("2001:db8:7777:1::1/64");

    const second = await startInClient("router-again", conf);
    await waitFor("the tunnel again", () => readIf(second.log).includes("your IPv6 prefix is"));
    expect(templateEnv(second.log, "TSP_TUNNEL_CREATION")).toMatchObject({ TSP_CLIENT_ADDRESS_IPV6: TODD_ADDRESS, TSP_PREFIX: "2001:0db8:7777:0001" });
    expect(second.pid).not.toBe(first.pid);
    expect(scratch.brokerLog()).toMatch(/session user todd from 203\.0\.113\.251:\d+ replaces its tunnel from 203\.0\.113\.251:\d+/);
    expect(await scratch.tcpReaches("broker", "2001:db8:7777:1::1")).toBe(true);

    process.kill(second.pid, "SIGHUP");
    await waitFor(`pid ${second.pid} to exit after SIGHUP`, () => !alive(second.pid));
    expect(scratch.sh("client", "ip -6 -o addr show dev lan0 scope global")).toBe("");
  });

  it("anonymous: the broker's first anonymous slot (256), its tunnel address and /64", async () => {
    testTemplate("scratch-record", 'ip link set $TSP_TUNNEL_INTERFACE up\n');
    const { log, pid } = await startInClient("anonymous", { auth_method: "anonymous", userid: "", passwd: "", host_type: "router", if_prefix: "lan0", template: "scratch-record" });
    await waitFor("the tunnel", () => readIf(log).includes("your IPv6 prefix is"));
    expect(templateEnv(log, "TSP_TUNNEL_CREATION")).toMatchObject({ TSP_CLIENT_ADDRESS_IPV6: "2001:db8:ffff:200::100:2", TSP_PREFIX: "2001:0db8:7777:0100" });
    expect(scratch.brokerLog()).toContain("session up: anonymous 203.0.113.251 from 203.0.113.251:");
    process.kill(pid, "SIGHUP");
    await waitFor(`pid ${pid} to exit`, () => !alive(pid));
  });

  it("a wrong password ends it in the foreground with gw6c's AUTHENTICATION_ERROR (9), never printing the password", async () => {
    const { log, pid, run: r } = await startInClient("badpass", { passwd: "wrong-Secret-42" });
    expect(pid).toBe(0);
    expect(r.status).toBe(9);
    expect(r.stderr).toContain("gw6c stand-in: authentication error; quitting");
    expect(readIf(log)).toContain("DIGEST-MD5 authentication refused: 300 Authentication failed");
    expect(r.stderr + readIf(log)).not.toContain("wrong-Secret-42");
    expect(scratch.brokerLog()).toContain("wrong password (digest response does not match)");
  });

  it("tunnel_mode=v6v4 finds no V6V4 in the broker's capability (no sit) and keeps retrying in the foreground, as gw6c does", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "tsp-v6v4-"));
    const conf = path.join(dir, "gw6c.conf");
    fs.writeFileSync(conf, scratchConf(dir, { tunnel_mode: "v6v4" }), { mode: 0o600 });
    const log = path.join(dir, "gw6c.log");
    const child = spawn("ip", ["netns", "exec", scratch.clientNs, bin, "-f", conf], { cwd: dir, stdio: "ignore" });
    if (child.pid) pids.add(child.pid);
    await waitFor("two attempts", () => readIf(log).split("the broker does not offer tunnel_mode=v6v4: CAPABILITY TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS").length > 2);
    expect(child.exitCode).toBeNull();
    expect(readIf(log)).not.toContain("in the background");
  });

  it("retries in the foreground every retry_delay until the broker answers, and only then forks", async () => {
    scratch.stopBroker();
    const dir = fs.mkdtempSync(path.join(tmp, "tsp-retry-"));
    const conf = path.join(dir, "gw6c.conf");
    fs.writeFileSync(conf, scratchConf(dir), { mode: 0o600 });
    const log = path.join(dir, "gw6c.log");
    const child = spawn("ip", ["netns", "exec", scratch.clientNs, bin, "-f", conf], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    if (child.pid) pids.add(child.pid);
    await waitFor("two retries", () => readIf(log).split("disconnected; retrying in 1 seconds").length > 2);
    expect(child.exitCode).toBeNull();
    expect(readIf(log)).not.toContain("in the background");
    await scratch.startBroker();
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    expect(await exited).toBe(0);
    await waitFor("the tunnel", () => readIf(log).includes(`your IPv6 address is ${TODD_ADDRESS}`));
    expect(stderr).toContain("gw6c stand-in: disconnected; retrying in 1 seconds");
    const pid = Number(/in the background \(pid (\d+)\)/.exec(readIf(log))?.[1]);
    pids.add(pid);
    process.kill(pid, "SIGHUP");
    await waitFor(`pid ${pid} to exit`, () => !alive(pid));
  });

  it("falls back to TSP 2.0.0 when the broker answers 2.0.1 with 302", async () => {
    await scratch.startBroker({ versions: ["2.0.0"] });
    try {
      const { log, pid } = await startInClient("fallback");
      expect(readIf(log)).toContain("the broker refused TSP 2.0.1 (302); trying 2.0.0 in 5 s");
      expect(readIf(log)).toContain("connected to 203.0.113.250 (TSP 2.0.0)");
      expect(scratch.brokerLog()).toContain("version 2.0.1 not spoken (speaks 2.0.0)");
      await waitFor("the broker's session", () => /session up: user todd .*TSP 2\.0\.0/.test(scratch.brokerLog()));
      process.kill(pid, "SIGHUP");
      await waitFor(`pid ${pid} to exit`, () => !alive(pid));
    } finally {
      await scratch.startBroker();
    }
  });

  it("keepalives: the broker answers them; when it falls silent the tunnel times out after 5 intervals, is torn down, and a new negotiation forks anew", async () => {
    const { log, pid } = await startInClient("keepalive", { keepalive_interval: "1" });
    await waitFor("the tunnel", () => readIf(log).includes("keepalive every 1 s"));
    const seen = () => Number(scratch.sessions()[0]?.packetsOut ?? 0);
    await waitFor("echo replies through the broker", () => seen() >= 2);

    scratch.pauseBroker(true);
    try {
      await waitFor("the keepalive timeout", () => readIf(log).includes("connection timeout: nothing from the broker for 5 keepalive intervals"));
      await waitFor("the teardown", () => readIf(log).includes("TSP_OPERATION=TSP_TUNNEL_TEARDOWN"));
      await waitFor("a retry", () => readIf(log).includes("disconnected; retrying in 1 seconds"));
    } finally {
      scratch.pauseBroker(false);
    }
    await waitFor("a second daemon", () => readIf(log).split("in the background (pid").length === 3, 20_000);
    const again = Number([...readIf(log).matchAll(/in the background \(pid (\d+)\)/g)][1][1]);
    pids.add(again);
    expect(again).not.toBe(pid);
    expect(alive(pid)).toBe(false);
    await waitFor("the tunnel again", () => readIf(log).split(`your IPv6 address is ${TODD_ADDRESS}`).length === 3);
    process.kill(again, "SIGHUP");
    await waitFor(`pid ${again} to exit`, () => !alive(again));
  });

  it("a broker that is gone (ICMP port unreachable) ends the tunnel at once, as gw6c's failed tun write does: teardown, then retries", async () => {
    const { log, pid } = await startInClient("gone", { keepalive_interval: "1" });
    await waitFor("the tunnel", () => readIf(log).includes("keepalive every 1 s"));
    scratch.stopBroker();
    try {
      await waitFor("the tunnel error", () => readIf(log).includes("the broker's socket reports Connection refused; tunnel error"));
      await waitFor("the teardown", () => readIf(log).includes("TSP_OPERATION=TSP_TUNNEL_TEARDOWN"));
      await waitFor("a retry", () => readIf(log).includes("disconnected; retrying in 1 seconds"));
      expect(readIf(log)).not.toContain("connection timeout");
      expect(alive(pid)).toBe(true);
    } finally {
      await scratch.startBroker();
    }
    await waitFor("a second daemon", () => readIf(log).split("in the background (pid").length === 3, 20_000);
  });

  it("a failing template ends the daemon without teardown (gw6c: INTERFACE_SETUP_FAILED), its output in the log", async () => {
    testTemplate("scratch-fail", 'echo "scratch-fail: giving up"\nexit 3\n');
    const { log, pid, run: r } = await startInClient("fail", { template: "scratch-fail" });
    expect(r.status).toBe(0);
    await waitFor(`pid ${pid} to exit`, () => !alive(pid));
    const text = readIf(log);
    expect(text).toContain("gw6c stand-in: template: scratch-fail: giving up");
    expect(text).toContain("interface setup (running the template scratch-fail) failed; quitting (gw6c: INTERFACE_SETUP_FAILED)");
    expect(text).not.toContain("TSP_TUNNEL_TEARDOWN");
  });
});
