// A probe loop run from inside one box (e.g. `outside`) while something
// happens to another (a restart): every interval it tries a TCP connect and a
// ping to each target and records each result with the time it started.
// It stops when told (its stdin closes) or after `maxSeconds`, by itself.
import { spawn } from "child_process";
import { boxLeader, nsenterArgs } from "./exec";
import { LabPaths } from "./paths";

export interface ProbeTarget {
  /** An IPv6 or IPv4 address (no zone). */
  readonly address: string;
  /** TCP port to connect to; no TCP probe when omitted. */
  readonly port?: number;
  /** Ping the address too (default true). */
  readonly ping?: boolean;
}

export interface ProbeResult {
  /** When the attempt started, ms since the epoch (the boxes share the host's clock). */
  readonly at: number;
  readonly kind: "tcp" | "ping";
  readonly address: string;
  readonly port?: number;
  /** The connection was accepted, or the ping answered. */
  readonly ok: boolean;
  /** nc's or ping's last line, e.g. "... failed: Permission denied" for an ICMPv6 adm-prohibited. */
  readonly detail: string;
}

const SAFE_ADDRESS = /^[0-9a-fA-F:.]+$/;

/** The bash loop (runs in the probing box). Targets are checked, so nothing unquoted reaches it. */
export function probeScript(targets: readonly ProbeTarget[], intervalMs: number, maxSeconds: number): string {
  if (!Number.isInteger(intervalMs) || intervalMs < 50) throw new Error(`probeScript: interval must be >= 50 ms, got ${intervalMs}`);
  if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new Error(`probeScript: maxSeconds must be >= 1, got ${maxSeconds}`);
  const lines: string[] = [];
  for (const t of targets) {
    if (!SAFE_ADDRESS.test(t.address)) throw new Error(`probeScript: '${t.address}' is not an IP address`);
    if (t.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)) throw new Error(`probeScript: bad port ${t.port}`);
    const fam = t.address.includes(":") ? "-6" : "-4";
    if (t.port !== undefined) {
      lines.push(
        `  ( d=$(nc ${fam} -vz -w 1 ${t.address} ${t.port} 2>&1 | tail -n1); ` +
          `case "$d" in *succeeded*) ok=1;; *) ok=0;; esac; echo "$t tcp ${t.address} ${t.port} $ok $d" ) &`,
      );
    }
    if (t.ping !== false) {
      lines.push(
        `  ( if d=$(ping ${fam} -n -c1 -W1 ${t.address} 2>&1); then ok=1; else ok=0; fi; ` +
          `echo "$t ping ${t.address} - $ok $(echo "$d" | grep -E 'bytes from|Unreachable|prohibited|unreachable|loss' | head -n1)" ) &`,
      );
    }
  }
  const wait = (intervalMs / 1000).toFixed(3);
  return [
    `end=$((SECONDS + ${maxSeconds}))`,
    "while [ $SECONDS -lt $end ]; do",
    "  t=$EPOCHREALTIME",
    ...lines,
    // A line or EOF on stdin ends the loop; a timeout (status > 128) goes on.
    `  read -r -t ${wait} _; [ $? -gt 128 ] || break`,
    "done",
    "wait",
  ].join("\n");
}

/** Parses the loop's output lines. Pure. */
export function parseProbeOutput(text: string): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+)[.,](\d+) (tcp|ping) (\S+) (\S+) ([01]) ?(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      at: Number(m[1]) * 1000 + Math.floor(Number(`0.${m[2]}`) * 1000),
      kind: m[3] as "tcp" | "ping",
      address: m[4],
      ...(m[5] === "-" ? {} : { port: Number(m[5]) }),
      ok: m[6] === "1",
      detail: m[7].trim(),
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

export interface ProbeLoop {
  /** Ends the loop, waits for attempts in flight, and returns every result in time order. */
  stop(): Promise<ProbeResult[]>;
}

/** Starts a probe loop inside `box` (as root, nsenter). */
export function startProbeLoop(
  paths: LabPaths,
  box: string,
  targets: readonly ProbeTarget[],
  opts: { intervalMs?: number; maxSeconds?: number } = {},
): ProbeLoop {
  const script = probeScript(targets, opts.intervalMs ?? 200, opts.maxSeconds ?? 600);
  const child = spawn("nsenter", nsenterArgs(boxLeader(paths, box), ["/bin/bash", "-c", script]), { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  return {
    async stop() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`probe loop in ${box} exited ${code}: ${stderr.trim()}`);
      return parseProbeOutput(stdout);
    },
  };
}
