// Where a pulumi command's time goes, from the marks its processes leave
// when IPV6GW_TRACE names a file (components/trace.ts): per phase (an `up` is
// a preview, then the update; `up --refresh` reads every box first), when the program started, loaded, read each
// box's facts and finished registering; how long the provider took to load
// its classes; which provider calls took the time; the SSH connections
// dialled. So whoever adds a resource or a round trip sees what it costs.

export interface Mark {
  readonly t: number;
  readonly pid: number;
  readonly proc: string;
  readonly event: string;
  readonly [detail: string]: unknown;
}

/** The marks of a trace file's text; lines that are not marks (a torn last line) are skipped. */
export function parseTrace(text: string): Mark[] {
  const marks: Mark[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as Mark;
      if (typeof m.t === "number" && typeof m.event === "string") marks.push(m);
    } catch {
      // Not a whole mark.
    }
  }
  return marks.sort((a, b) => a.t - b.t);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Calls at least this long are listed one by one. */
const SLOW_CALL_MS = 300;

/** One phase's account, lines indented under its title; times are seconds after `t0` (the command's start). */
function phaseLines(title: string, marks: readonly Mark[], t0: number, top: number): string[] {
  const at = (m: Mark | undefined) => (m ? `${((m.t - t0) / 1000).toFixed(1)}` : "-");
  const first = (proc: string, event: string) => marks.find((m) => m.proc === proc && m.event === event);
  const lines = [`${title}:`];

  const compiled = first("host", "compiled");
  if (compiled) lines.push(`  program compiled at ${at(compiled)} (${compiled.compiled === false ? "cached" : compiled.skipped ? `ts-node: ${String(compiled.skipped)}` : `compiled in ${seconds(Number(compiled.ms))}`})`);
  const facts = marks.filter((m) => m.proc === "program" && m.event === "facts");
  const program = [
    ["started", first("program", "start")],
    ["loaded", first("program", "loaded")],
    ...(facts.length ? [[`facts (${facts.map((f) => `${String(f.box)} ${seconds(Number(f.ms))}`).join(", ")}) read by`, facts[facts.length - 1]] as const] : []),
    ["registered", first("program", "constructed")],
    ["exited", first("host", "program-exit")],
  ] as const;
  if (program.some(([, m]) => m)) lines.push(`  program: ${program.filter(([, m]) => m).map(([what, m]) => `${what} ${at(m)}`).join(", ")}`);

  const loads = marks.filter((m) => m.proc === "provider" && m.event === "load");
  const calls = marks.filter((m) => m.proc === "provider" && m.event === "call");
  if (loads.length || calls.length) {
    const from = [...new Set(loads.map((l) => String(l.from)))].join(" and ");
    const loadMs = loads.reduce((s, l) => s + Number(l.ms), 0);
    const firstCall = calls[0] ? Math.min(...calls.map((c) => c.t - Number(c.ms))) : undefined;
    lines.push(
      `  provider: ${loads.length} classes loaded (${from || "none"}) in ${seconds(loadMs)}; ${calls.length} calls${firstCall !== undefined ? ` from ${((firstCall - t0) / 1000).toFixed(1)} to ${at(calls[calls.length - 1])}` : ""}`,
    );
    const byOp = new Map<string, { n: number; ms: number; max: number }>();
    for (const c of calls) {
      const key = `${String(c.provider).replace(/Provider$/, "")}.${String(c.method)}`;
      const e = byOp.get(key) ?? { n: 0, ms: 0, max: 0 };
      byOp.set(key, { n: e.n + 1, ms: e.ms + Number(c.ms), max: Math.max(e.max, Number(c.ms)) });
    }
    const ranked = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
    for (const [op, e] of ranked) lines.push(`    ${op.padEnd(28)} ${String(e.n).padStart(3)} x  ${seconds(e.ms).padStart(7)} in all, longest ${seconds(e.max)}`);
    // Per resource, in the order they started: what ran side by side and what waited.
    const long = calls.filter((c) => Number(c.ms) >= SLOW_CALL_MS).sort((a, b) => a.t - Number(a.ms) - (b.t - Number(b.ms)));
    if (long.length) lines.push(`  calls of ${seconds(SLOW_CALL_MS)} or more (start-end):`);
    for (const c of long) {
      const from = ((c.t - Number(c.ms) - t0) / 1000).toFixed(1);
      lines.push(`    ${`${from}-${at(c)}`.padEnd(10)} ${seconds(Number(c.ms)).padStart(6)}  ${String(c.provider).replace(/Provider$/, "")}.${String(c.method)}${c.what === undefined ? "" : ` ${String(c.what)}`}`);
    }
  }

  const probes = marks.filter((m) => m.proc === "provider" && m.event === "probe").sort((a, b) => Number(b.ms) - Number(a.ms));
  if (probes.length) {
    lines.push(`  checklist: ${probes.length} probes, the slowest:`);
    for (const p of probes.slice(0, top)) lines.push(`    ${seconds(Number(p.ms)).padStart(6)}  ${String(p.check)} (${p.ok ? "passed" : "failed"}, ${Number(p.tries)} ${Number(p.tries) === 1 ? "try" : "tries"})`);
  }

  const dials = marks.filter((m) => m.event === "ssh-dial");
  if (dials.length) {
    const per = new Map<string, number>();
    for (const d of dials) per.set(d.proc, (per.get(d.proc) ?? 0) + 1);
    lines.push(`  ssh: ${dials.length} connections dialled (${[...per].map(([p, n]) => `${p} ${n}`).join(", ")}), ${seconds(dials.reduce((s, d) => s + Number(d.ms), 0))} dialling`);
  }
  return lines;
}

/**
 * The account of one command: a phase per language-host run (preview, then
 * update), each holding the marks made between its run and the next.
 */
export function whereTimeGoes(marks: readonly Mark[], t0: number, top = 6): string[] {
  const runs = marks.filter((m) => m.proc === "host" && m.event === "run");
  if (runs.length === 0) return ["no trace marks from a language host (was IPV6GW_TRACE passed to the command?)"];
  const lines: string[] = [];
  // Before the program runs: a refresh's reads (up --refresh), which need no program.
  const before = marks.filter((m) => m.t < runs[0].t && !(m.proc === "host" && m.event !== "run"));
  if (before.some((m) => m.proc === "provider" && m.event === "call")) lines.push(...phaseLines("refresh, before the program", before, t0, top));
  runs.forEach((run, i) => {
    const end = runs[i + 1]?.t ?? Infinity;
    const inPhase = marks.filter((m) => m.t >= run.t && m.t < end);
    const title = `${run.dryRun ? "preview" : "update"} (from ${((run.t - t0) / 1000).toFixed(1)} s)`;
    lines.push(...phaseLines(title, inPhase, t0, top));
  });
  return lines;
}
