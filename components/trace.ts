// Timing marks for the bench (npm run bench): when IPV6GW_TRACE names a
// file, each process of a pulumi command (language host, program, dynamic
// provider) appends one JSON line per mark, stamped with the wall clock they
// share. Unset (always, outside the bench), a mark costs one environment
// lookup and writes nothing.
//
// Self-contained (requires inside): the provider reference stored in state
// holds traceMark's source text (host/provider-reference.ts), and the
// language host loads this before anything else.

/** Appends `{ t, pid, proc, event, ...detail }` to $IPV6GW_TRACE; `at` defaults to now (ms since the epoch). */
export function traceMark(proc: string, event: string, detail: Record<string, unknown> = {}, at?: number): void {
  const file = process.env.IPV6GW_TRACE;
  if (!file) return;
  const { performance } = require("perf_hooks") as typeof import("perf_hooks");
  const t = at ?? performance.timeOrigin + performance.now();
  try {
    (require("fs") as typeof import("fs")).appendFileSync(file, JSON.stringify({ t, pid: process.pid, proc, event, ...detail }) + "\n");
  } catch {
    // A trace that cannot be written never fails a deployment.
  }
}

/** When this process started (ms since the epoch), for a mark of its start. */
export function processStart(): number {
  return (require("perf_hooks") as typeof import("perf_hooks")).performance.timeOrigin;
}

/** Which process of a pulumi command this is: the dynamic-provider plugin, or the program. */
export function processRole(): string {
  return /dynamic-provider/.test(process.argv[1] ?? "") ? "provider" : "program";
}
