// Runs the checklist's probes over SSH and keeps the results in state.
// Create and update run them (so `up` fails when the site does not work, the
// results still recorded); a refresh re-runs them on demand (npm run check)
// without changing anything. Probes only change when `triggers` (hashes of
// what they test) change, so a converged stack previews no changes.

import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs, Connection, connectionSchema } from "../host/connection";
import { Clock, RemoteOpener, UNKNOWN, containsUnknown, providerChanged, zodFailures, realClock, sameValue, sshOpener } from "../host/provider-kit";
import { lastLines } from "../host/remote";
import { traceMark } from "../trace";
import { Probe } from "./probes";
import { ReferencedResource, providerReference } from "../host/provider-reference";

export interface ProbeResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface ProbeState {
  connections: Record<string, Connection>;
  probes: Probe[];
  triggers: unknown[];
  results?: ProbeResult[];
  passed?: boolean;
}

/** A failing probe is tried again every SOON_MS for its first SOON_TRIES tries (2 s), then every RETRY_MS. */
const SOON_MS = 250;
const SOON_TRIES = 8;
const RETRY_MS = 2000;

export class SiteProbeProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new SiteProbeProvider(sshOpener, realClock);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, SiteProbeProvider);
  constructor(
    private readonly open: RemoteOpener,
    private readonly clock: Clock = realClock,
  ) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    const failures: { property: string; reason: string }[] = [];
    // At preview the probes (built from a prefix the tunnel learns) or a connection may be unknown: check what is known.
    // The boxes' names are the connections' keys, known even when a connection is not.
    if (news.connections !== UNKNOWN && news.connections && typeof news.connections === "object") {
      for (const [box, c] of Object.entries(news.connections as Record<string, unknown>)) {
        if (containsUnknown(c)) continue;
        const parsed = connectionSchema().safeParse(c);
        if (!parsed.success) failures.push(...zodFailures(parsed.error).map((f) => ({ property: `connections.${box}.${f.property}`, reason: f.reason })));
      }
    }
    if (news.probes === UNKNOWN || news.connections === UNKNOWN || !Array.isArray(news.probes)) return { inputs: news, failures };
    const connections = (news.connections ?? {}) as Record<string, unknown>;
    const earlier = new Set<unknown>();
    for (const p of news.probes as (Probe | typeof UNKNOWN)[]) {
      if (p === UNKNOWN) continue;
      if (!containsUnknown(p.on) && !(p.on in connections)) failures.push({ property: "probes", reason: `probe "${p.name}" runs on "${p.on}", which has no connection` });
      // Only an earlier probe: then no probe can wait on one that waits on it.
      if (p.stdinFrom !== undefined && !containsUnknown(p.stdinFrom) && !earlier.has(p.stdinFrom)) {
        failures.push({ property: "probes", reason: `probe "${p.name}" reads the output of "${p.stdinFrom}", which is not an earlier probe` });
      }
      if (p.after !== undefined && !containsUnknown(p.after) && !earlier.has(p.after)) {
        failures.push({ property: "probes", reason: `probe "${p.name}" runs after "${p.after}", which is not an earlier probe` });
      }
      earlier.add(p.name);
    }
    return { inputs: news, failures };
  }

  async diff(_id: string, olds: ProbeState, news: ProbeState) {
    const changed = !sameValue(olds.triggers, news.triggers) || !sameValue(olds.probes, news.probes);
    // A refresh that found the site failing (a box rebuilt blank, say) makes the next up check again.
    return { changes: changed || olds.passed === false || providerChanged(olds as never, news as never) };
  }

  /** Runs one probe (stdin: what the probe it reads from printed); with `patient`, retries until its retrySeconds are up (the site may still be settling). */
  private async runOne(s: ProbeState, p: Probe, patient: boolean, stdin?: string): Promise<ProbeResult & { stdout?: string }> {
    const deadline = this.clock.now() + (patient ? p.retrySeconds * 1000 : 0);
    let detail = "";
    const started = Date.now();
    const done = (ok: boolean, tries: number) => traceMark("provider", "probe", { check: p.name, ok, tries, ms: Date.now() - started });
    // Often at first (most failures are an address still in DAD, a handshake under way: a second or
    // two), then every 2 s.
    for (let tries = 1; ; tries++) {
      const pause = tries <= SOON_TRIES ? SOON_MS : RETRY_MS;
      try {
        const remote = await this.open(s.connections[p.on]);
        const r = await remote.run(p.script, { timeoutSeconds: 60, ...(stdin === undefined ? {} : { stdin }) });
        if (r.code === 0) {
          done(true, tries);
          return { check: p.name, ok: true, detail: lastLines(r.stdout, 2), stdout: r.stdout };
        }
        detail = lastLines(r.stderr || r.stdout, 4) || `exit ${r.code}`;
      } catch (e) {
        detail = (e as Error).message;
      }
      if (this.clock.now() >= deadline) {
        done(false, tries);
        return { check: p.name, ok: false, detail };
      }
      // The last try falls on the deadline.
      await this.clock.sleep(Math.min(pause, deadline - this.clock.now()));
    }
  }

  /**
   * Probes on different boxes run side by side; each box's run in order. A
   * probe that reads another's output, or runs after another, waits for it
   * (always an earlier one, so no two wait on each other) and is not run if
   * that one failed. (A probe with both waits for the one it reads.)
   */
  private async runAll(s: ProbeState, patient: boolean): Promise<ProbeResult[]> {
    const byBox = new Map<string, Probe[]>();
    for (const p of s.probes) byBox.set(p.on, [...(byBox.get(p.on) ?? []), p]);
    const done = new Map<string, { settle: (r: ProbeResult & { stdout?: string }) => void; result: Promise<ProbeResult & { stdout?: string }> }>();
    for (const p of s.probes) {
      let settle!: (r: ProbeResult & { stdout?: string }) => void;
      const result = new Promise<ProbeResult & { stdout?: string }>((resolve) => (settle = resolve));
      done.set(p.name, { settle, result });
    }
    const results = new Map<Probe, ProbeResult>();
    await Promise.all(
      [...byBox.values()].map(async (list) => {
        for (const p of list) {
          const needs = p.stdinFrom ?? p.after;
          const from = needs === undefined ? undefined : await done.get(needs)?.result;
          const r =
            needs === undefined
              ? await this.runOne(s, p, patient)
              : from?.ok
                ? await this.runOne(s, p, patient, p.stdinFrom === undefined ? undefined : (from.stdout ?? ""))
                : { check: p.name, ok: false, detail: `not run: "${needs}" ${from ? "failed" : "is not a probe"}` };
          results.set(p, { check: r.check, ok: r.ok, detail: r.detail });
          done.get(p.name)!.settle(r);
        }
      }),
    );
    return s.probes.map((p) => results.get(p)!);
  }

  private async verify(s: ProbeState, id: string) {
    const results = await this.runAll(s, true);
    const passed = results.every((r) => r.ok);
    const outs = { ...s, results, passed };
    if (!passed) {
      const failed = results.filter((r) => !r.ok).map((r) => `  - ${r.check}: ${r.detail.replace(/\n/g, " | ")}`);
      // Created, but failed to initialize: the engine keeps the results in state and fails the update.
      const e = new Error(`${failed.length} site check(s) failed:\n${failed.join("\n")}`) as Error & { id?: string; properties?: unknown; reasons?: string[] };
      e.id = id;
      e.properties = outs;
      e.reasons = failed;
      throw e;
    }
    return outs;
  }

  async create(inputs: ProbeState) {
    const id = "site-checks";
    return { id, outs: await this.verify(inputs, id) };
  }

  async update(id: string, _olds: ProbeState, news: ProbeState) {
    return { outs: await this.verify(news, id) };
  }

  /** A refresh observes the site as it is: each probe once, no waiting for it to settle. */
  async read(id: string, props: ProbeState) {
    const results = await this.runAll(props, false);
    return { id, props: { ...props, results, passed: results.every((r) => r.ok) } };
  }

  async delete() {
    // Probes change nothing on the boxes.
  }
}

export interface SiteProbeArgs {
  /** Where each probe runs: "gateway", "outside", client names. */
  readonly connections: pulumi.Input<Record<string, pulumi.Input<ConnectionArgs>>>;
  readonly probes: pulumi.Input<Probe[]>;
  /** Hashes of what the probes test: the probes run again when one changes. */
  readonly triggers: pulumi.Input<unknown[]>;
}

export class SiteProbe extends ReferencedResource {
  declare readonly results: pulumi.Output<ProbeResult[]>;
  declare readonly passed: pulumi.Output<boolean>;

  constructor(name: string, args: SiteProbeArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      SiteProbeProvider.reference,
      name,
      { ...args, results: undefined, passed: undefined },
      { ...opts, additionalSecretOutputs: ["connections", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:checks",
      "SiteProbe",
    );
  }
}
