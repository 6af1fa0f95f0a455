import { parseTrace, whereTimeGoes } from "../../bench/where-time-goes";

const T0 = 1_700_000_000_000;
const mark = (s: number, proc: string, event: string, detail: Record<string, unknown> = {}) => JSON.stringify({ t: T0 + s * 1000, pid: 1, proc, event, ...detail });

// An `up`: its preview, then the update, as the language host, program and provider mark them.
const TRACE = [
  mark(0.3, "host", "run", { dryRun: true }),
  mark(0.4, "host", "compiled", { ms: 20, compiled: false }),
  mark(0.5, "program", "start"),
  mark(1.5, "program", "loaded"),
  mark(1.9, "program", "facts", { box: "gw", ms: 300 }),
  mark(2.0, "program", "facts", { box: "c1", ms: 350 }),
  mark(2.4, "program", "constructed"),
  mark(2.6, "provider", "load", { provider: "SysctlProvider", from: "compiled", ms: 80 }),
  mark(2.7, "provider", "ssh-dial", { ms: 150 }),
  mark(2.9, "provider", "call", { provider: "SysctlProvider", method: "check", ms: 300 }),
  mark(3.0, "provider", "call", { provider: "SysctlProvider", method: "diff", ms: 5 }),
  mark(4.0, "host", "program-exit", { code: 0 }),
  mark(4.5, "host", "run", { dryRun: false }),
  mark(4.6, "host", "compiled", { ms: 10, compiled: false }),
  mark(7.0, "provider", "call", { provider: "PackagesProvider", method: "create", ms: 2000, what: "radvd,wireguard-tools" }),
  mark(8.0, "provider", "call", { provider: "SysctlProvider", method: "create", ms: 400 }),
  mark(8.5, "provider", "call", { provider: "SysctlProvider", method: "create", ms: 600, what: "net.ipv6.conf.all.forwarding" }),
  mark(9.0, "provider", "probe", { check: "c1: ping6 2001:db8:ffff::1", ok: true, tries: 1, ms: 10 }),
  mark(9.1, "provider", "probe", { check: "c1: has 2001:db8:8888::1/64", ok: true, tries: 3, ms: 800 }),
  '{"t": 17000000', // a torn last line
].join("\n");

describe("where the time goes", () => {
  it("accounts for a preview and its update separately, the slowest provider work first", () => {
    expect(whereTimeGoes(parseTrace(TRACE), T0)).toEqual([
      "preview (from 0.3 s):",
      "  program compiled at 0.4 (cached)",
      "  program: started 0.5, loaded 1.5, facts (gw 0.3 s, c1 0.3 s) read by 2.0, registered 2.4, exited 4.0",
      "  provider: 1 classes loaded (compiled) in 0.1 s; 2 calls from 2.6 to 3.0",
      "    Sysctl.check                   1 x    0.3 s in all, longest 0.3 s",
      "    Sysctl.diff                    1 x    0.0 s in all, longest 0.0 s",
      "  calls of 0.3 s or more (start-end):",
      "    2.6-2.9     0.3 s  Sysctl.check",
      "  ssh: 1 connections dialled (provider 1), 0.1 s dialling",
      "update (from 4.5 s):",
      "  program compiled at 4.6 (cached)",
      "  provider: 0 classes loaded (none) in 0.0 s; 3 calls from 5.0 to 8.5",
      "    Packages.create                1 x    2.0 s in all, longest 2.0 s",
      "    Sysctl.create                  2 x    1.0 s in all, longest 0.6 s",
      "  calls of 0.3 s or more (start-end):",
      "    5.0-7.0     2.0 s  Packages.create radvd,wireguard-tools",
      "    7.6-8.0     0.4 s  Sysctl.create",
      "    7.9-8.5     0.6 s  Sysctl.create net.ipv6.conf.all.forwarding",
      "  checklist: 2 probes, the slowest:",
      "     0.8 s  c1: has 2001:db8:8888::1/64 (passed, 3 tries)",
      "     0.0 s  c1: ping6 2001:db8:ffff::1 (passed, 1 try)",
    ]);
  });

  it("accounts for a refresh's reads, made before the program runs", () => {
    const refresh = [
      mark(0.5, "provider", "load", { provider: "SysctlProvider", from: "source", ms: 700 }),
      mark(1.0, "provider", "call", { provider: "SysctlProvider", method: "read", ms: 200 }),
      mark(1.2, "provider", "ssh-dial", { ms: 100 }),
      mark(2.0, "host", "run", { dryRun: false }),
      mark(2.5, "provider", "call", { provider: "SysctlProvider", method: "diff", ms: 1 }),
    ].join("\n");
    expect(whereTimeGoes(parseTrace(refresh), T0)).toEqual([
      "refresh, before the program:",
      "  provider: 1 classes loaded (source) in 0.7 s; 1 calls from 0.8 to 1.0",
      "    Sysctl.read                    1 x    0.2 s in all, longest 0.2 s",
      "  ssh: 1 connections dialled (provider 1), 0.1 s dialling",
      "update (from 2.0 s):",
      "  provider: 0 classes loaded (none) in 0.0 s; 1 calls from 2.5 to 2.5",
      "    Sysctl.diff                    1 x    0.0 s in all, longest 0.0 s",
    ]);
  });

  it("says so when the command left no marks", () => {
    expect(whereTimeGoes(parseTrace(""), T0)).toEqual(["no trace marks from a language host (was IPV6GW_TRACE passed to the command?)"]);
  });
});
