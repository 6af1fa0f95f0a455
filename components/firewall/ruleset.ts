// The live ip6tables filter table of a box, applied safely.
//
// Preview: the text is checked on the box without touching the live ruleset,
// first by `ip6tables-restore --test` (syntax, matches, targets), then by
// loading it into a throwaway network namespace (`unshare --net`), where the
// kernel itself accepts or rejects every rule; a rejection names the rule.
//
// Apply: the current table is saved and a rollback is armed on the box (a
// detached `sleep N; ip6tables-restore <saved>`); the new table is loaded in
// one `ip6tables-restore`; then a *new* SSH connection must get through and
// disarm the rollback. If it cannot, the box restores the old table by itself
// and the update fails saying so. The session doing the work is never cut
// off by a typo, and there is never a moment without a complete ruleset.
//
// Persist: once confirmed, the same text goes where the distribution loads
// rules at boot (the file found there is kept aside and restored on delete),
// so a rolled-back change never reaches the next boot.
//
// Read: `ip6tables-save -t filter` without counters, so a refresh shows rules
// added, removed or edited by hand, and `up --refresh` puts ours back; and
// whether the boot copy still matches.

import * as pulumi from "@pulumi/pulumi";
import { Connection, describeConnection } from "../host/connection";
import { Clock, HostResourceArgs, RemoteOpener, checkInputs, containsUnknown, providerChanged, realClock, sshOpener, withConnection } from "../host/provider-kit";
import { Remote, lastLines, mustRun, namedError, remoteCommandError, shq } from "../host/remote";
import { openFreshRemote } from "../host/ssh-transport";
import { removeScript as restoreFileScript, writeScript as writeFileScript } from "../host/remote-file";
import { EMPTY_FILTER_TABLE, normalizeSave, ruleNameAtLine } from "./render-ruleset";

export const STATE_DIR = "/var/lib/ipv6gw/firewall";

/** Seconds a box waits for the confirming connection before it restores the old table. */
export const DEFAULT_ROLLBACK_SECONDS = 60;

export function rulesetSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    rules: z
      .string()
      .refine((t) => t.startsWith("*filter\n") && t.trimEnd().endsWith("COMMIT"), "must be one ip6tables-restore filter table ('*filter' ... 'COMMIT')"),
    rollbackSeconds: z.number().int().min(10, "must be at least 10 s, or a slow link rolls back a good ruleset").max(3600).default(DEFAULT_ROLLBACK_SECONDS),
    persistPath: z.string().regex(/^\/[^\0]*[^/]$/, "must be an absolute file path").optional(),
  });
}

export interface Ip6tablesRulesetArgs extends HostResourceArgs {
  /** The whole filter table as ip6tables-restore text (see renderFilterTable). */
  readonly rules: pulumi.Input<string>;
  /** Seconds the box waits for a new SSH connection to confirm a change before it restores the old table. Defaults to 60. */
  readonly rollbackSeconds?: pulumi.Input<number>;
  /** Where the distribution loads rules at boot (/etc/iptables/rules.v6 ...). Defaults to none (not persisted). */
  readonly persistPath?: pulumi.Input<string>;
}

interface RulesetState {
  connection: Connection;
  rules: string;
  rollbackSeconds: number;
  persistPath?: string;
  /** The table found before we first applied ours; delete restores it. */
  previous?: string;
  /** Whether the boot copy holds exactly the live table. */
  persisted?: boolean;
}

/** Exit codes of the scripts below, for the provider to tell outcomes apart. */
export const EXIT = { notInstalled: 6, noKernelCheck: 5, rolledBack: 7, notLoaded: 8, nothingPending: 9 } as const;

/** Checks a table on stdin without applying it: parser first, then the kernel in a scratch namespace. */
export function validateScript(): string {
  return [
    "set -e",
    `command -v ip6tables-restore >/dev/null 2>&1 || { echo "ip6tables-restore is not installed" >&2; exit ${EXIT.notInstalled}; }`,
    "f=$(mktemp)",
    `trap 'rm -f "$f"' EXIT`,
    `cat > "$f"`,
    ...checkTable('"$f"'),
  ].join("\n");
}

/**
 * Checks the table in `file` without touching the live ruleset: the parser
 * first, then the kernel itself in a private network namespace that is thrown
 * away (the parser does not ask the kernel). Without a scratch namespace the
 * check cannot be made, and that is an error, not a silent pass.
 */
function checkTable(file: string): string[] {
  return [
    `ip6tables-restore --test < ${file}`,
    `command -v unshare >/dev/null 2>&1 && unshare --net true 2>/dev/null || { echo "unshare --net is not available (util-linux missing, or not permitted in this container), so the kernel cannot check the ruleset in a throwaway namespace" >&2; exit ${EXIT.noKernelCheck}; }`,
    `unshare --net sh -c 'ip6tables-restore < "$1"' sh ${file}`,
  ];
}

/**
 * Kills the rollback timer of an earlier apply, if its recorded process is
 * still that timer (after a reboot the PID may belong to anything else).
 */
const DISARM = [
  `if [ -f "$d/rollback.pid" ]; then`,
  `  p=$(cat "$d/rollback.pid")`,
  `  grep -qs "${STATE_DIR}/rollback.rules" "/proc/$p/cmdline" && kill -- -"$p" 2>/dev/null || true`,
  "fi",
];

/**
 * Checks stdin, saves the live table, arms the rollback, applies stdin; prints
 * a line per stage reached, then the saved table. Whatever an earlier apply
 * left (a crashed one's timer, files) is cleared first, so it cannot undo or
 * change this one.
 */
export function applyScript(rollbackSeconds: number): string {
  const d = shq(STATE_DIR);
  return [
    "set -e",
    `d=${d}`,
    `mkdir -p "$d"`,
    ...DISARM,
    `rm -f "$d/pending.rules" "$d/rollback.rules" "$d/rollback.status" "$d/rollback.pid"`,
    `cat > "$d/pending.rules"`,
    // Checked again here because preview could not check it before the stack installed ip6tables.
    ...checkTable(`"$d/pending.rules"`),
    `ip6tables-save -t filter > "$d/rollback.rules"`,
    // A box that never used ip6tables has no filter table to save: its state is the empty table.
    `grep -q '^\\*filter' "$d/rollback.rules" || printf '%s' ${shq(EMPTY_FILTER_TABLE)} > "$d/rollback.rules"`,
    `setsid sh -c 'sleep ${rollbackSeconds}; ip6tables-restore < ${STATE_DIR}/rollback.rules && echo rolled-back > ${STATE_DIR}/rollback.status; rm -f ${STATE_DIR}/pending.rules ${STATE_DIR}/rollback.pid' </dev/null >/dev/null 2>&1 &`,
    `echo $! > "$d/rollback.pid"`,
    "echo stage=armed",
    `ip6tables-restore < "$d/pending.rules"`,
    "echo stage=applied",
    `cat "$d/rollback.rules"`,
  ].join("\n");
}

/**
 * Disarms the rollback: run over a new connection, it proves the box still
 * lets us in. It also tells where an apply whose connection dropped stands:
 * already rolled back (exit 7), never loaded (8: the old table is live, the
 * timer disarmed), or loaded (0: now confirmed). It leaves no file behind.
 */
export const CONFIRM_SCRIPT = [
  `d=${STATE_DIR}`,
  `[ -f "$d/rollback.status" ] && { cat "$d/rollback.status"; rm -f "$d"/*; exit ${EXIT.rolledBack}; }`,
  `[ -f "$d/pending.rules" ] || { echo "no firewall change is pending on this box"; exit ${EXIT.nothingPending}; }`,
  // The live table in the form the rules were written in: no comments, no counters.
  `live=$(ip6tables-save -t filter | sed -e '/^#/d' -e 's/ \\[[0-9]*:[0-9]*\\]$//')`,
  `want=$(sed -e '/^#/d' "$d/pending.rules")`,
  ...DISARM,
  `rm -f "$d/pending.rules" "$d/rollback.pid"`,
  `[ "$live" = "$want" ] || { echo "the new ruleset was never loaded: the previous one is live"; rm -f "$d/rollback.rules"; exit ${EXIT.notLoaded}; }`,
  // The table that was live before, for the provider to keep (delete restores it).
  `echo confirmed; cat "$d/rollback.rules"; rm -f "$d/rollback.rules"`,
].join("\n");

/** Prints the live filter table, then a separator, then the boot copy (if any). */
export function readScript(persistPath?: string): string {
  return [
    `command -v ip6tables-save >/dev/null 2>&1 || exit 3`,
    "ip6tables-save -t filter",
    `echo ${shq(BOOT_COPY_MARK)}`,
    persistPath ? `cat ${shq(persistPath)} 2>/dev/null || true` : "true",
  ].join("\n");
}

const BOOT_COPY_MARK = "#ipv6gw-boot-copy";

const persistFile = (path: string) => ({ path, mode: "0600", owner: "root", group: "root" });

/** Turns ip6tables-restore's complaint into "which rule, and why". */
export function explainRejection(rules: string, stderr: string): { rule?: string; line?: number; message: string } {
  const m = /Error occurred at line: (\d+)/.exec(stderr) ?? /line (\d+): /.exec(stderr);
  const line = m ? Number(m[1]) : undefined;
  const message = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^Try `ip6tables-restore -h'/.test(l) && !/^Error occurred at line/.test(l))
    .join(" ");
  return { rule: line ? ruleNameAtLine(rules, line) : undefined, line, message };
}

function rejectionReason(where: string, rules: string, stderr: string): string {
  const e = explainRejection(rules, stderr);
  const which = e.rule ? `rule '${e.rule}' (line ${e.line})` : e.line ? `line ${e.line}` : "the ruleset";
  return `${which} is rejected by ip6tables on ${where}: ${e.message || "no message"}`;
}

async function validate(remote: Remote, rules: string): Promise<string | undefined> {
  const result = await remote.run(validateScript(), { stdin: rules });
  if (result.code === 0) return undefined;
  if (result.code === EXIT.notInstalled) return "not-installed";
  if (result.code === EXIT.noKernelCheck) return `${remote.where}: ${lastLines(result.stderr, 1)}; install util-linux, which every distribution ships`;
  return rejectionReason(remote.where, rules, result.stderr || result.stdout);
}

/** Run over a new connection once the box's timer has run out: prints "rolled-back" if it restored the old table. */
const LIVE_MARK = "#ipv6gw-live";

/** After the rollback timer: its status, then the live table (so a box that rebooted meanwhile is told apart). */
export const ROLLBACK_STATUS_SCRIPT = `cat ${STATE_DIR}/rollback.status 2>/dev/null; rm -f ${STATE_DIR}/rollback.status ${STATE_DIR}/rollback.rules; echo ${LIVE_MARK}; ip6tables-save -t filter 2>/dev/null || true`;

export class Ip6tablesRulesetProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new Ip6tablesRulesetProvider(sshOpener, openFreshRemote, realClock);
  constructor(
    private readonly open: RemoteOpener,
    private readonly openFresh: (c: Connection) => Promise<Remote & { close(): void }>,
    private readonly clock: Clock = realClock,
  ) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    const checked = checkInputs(news, rulesetSchema());
    if (checked.failures.length > 0 || containsUnknown(news)) return checked;
    // Preview runs check too: a rule the kernel rejects fails here, before anything changes.
    const remote = await this.open(news.connection as Connection);
    const problem = await validate(remote, news.rules as string);
    // Before the stack installs ip6tables there is nothing to check with: the Firewall says so at preview,
    // and apply checks on the box before it loads anything.
    if (problem && problem !== "not-installed") checked.failures.push({ property: "rules", reason: problem });
    return checked;
  }

  async diff(_id: string, olds: RulesetState, news: RulesetState) {
    const changed = olds.rules !== news.rules || olds.rollbackSeconds !== news.rollbackSeconds || olds.persistPath !== news.persistPath;
    // A boot copy edited or lost by hand is drift too: the next boot would load something else.
    const stale = news.persistPath !== undefined && olds.persisted === false;
    return { changes: changed || stale || providerChanged(olds as never, news as never) };
  }

  private async persist(s: RulesetState, keepOriginal: boolean): Promise<void> {
    if (!s.persistPath) return;
    const remote = await this.open(s.connection);
    await mustRun(remote, `writing ${s.persistPath}`, writeFileScript(persistFile(s.persistPath), keepOriginal), { stdin: s.rules });
  }

  /** Applies with rollback armed, then confirms over a new connection; returns the table that was live before. */
  private async apply(s: RulesetState): Promise<string> {
    const remote = await this.open(s.connection);
    const applied = await remote.run(applyScript(s.rollbackSeconds), { stdin: s.rules });
    // The box armed its timer (if it got that far) before this answer arrived: a wait counted from here is never too short.
    const armedBy = this.clock.now();
    if (applied.interrupted) {
      // The connection ended mid-apply: the box may hold the old table, the new one with the timer armed, or
      // have rolled back. A new connection finds out, and confirms the new table if it is live, like any apply.
      const stage = applied.stdout.includes("stage=applied") ? "after loading the new ruleset" : applied.stdout.includes("stage=armed") ? "after arming the rollback" : "early in the apply";
      return this.confirm(s, armedBy, `the SSH connection to ${remote.where} dropped ${stage}`);
    }
    if (applied.code === EXIT.noKernelCheck) throw namedError("FirewallError", `cannot apply the firewall on ${remote.where}: ${lastLines(applied.stderr, 1)}; install util-linux`);
    if (applied.code !== 0) throw namedError("FirewallError", rejectionReason(remote.where, s.rules, applied.stderr || applied.stdout));
    const previous = normalizeSave(applied.stdout);
    await this.confirm(s, armedBy);
    return previous;
  }

  /**
   * Confirms over a new connection and returns the table that was live before.
   * If the box cannot be reached, waits for its own timer to restore the old
   * table and fails saying so. `dropped` says why the apply's own connection
   * could not finish, when it could not.
   */
  private async confirm(s: RulesetState, armedBy: number, dropped?: string): Promise<string> {
    const conn = { ...s.connection, dialErrorLimit: 2, perDialTimeout: Math.min(s.connection.perDialTimeout ?? 15, 10) };
    const where = describeConnection(conn);
    let why: string;
    try {
      const fresh = await this.openFresh(conn);
      try {
        const r = await fresh.run(CONFIRM_SCRIPT, { timeoutSeconds: 20 });
        if (r.code === 0) return normalizeSave(r.stdout);
        if (r.code === EXIT.notLoaded) {
          throw namedError("FirewallError", `${dropped ?? "the apply did not finish"}: the new ruleset was never loaded, so ${where} keeps its previous ruleset and no rollback is pending. Run up again`);
        }
        if (r.code === EXIT.nothingPending) {
          // The box let us in, so there is no rollback to wait for: say so at once.
          throw namedError(
            "FirewallError",
            `${dropped ?? "the apply finished"}, but ${where} has no firewall change pending (the apply stopped before saving it, or something else cleared it), so nothing was confirmed and no rollback is pending. Check its live ruleset (ip6tables-save -t filter), then run up again`,
          );
        }
        if (r.code === EXIT.rolledBack) {
          throw namedError("FirewallRolledBack", `${dropped ?? "the confirmation came too late"}: ${where} had already restored its previous ruleset after ${s.rollbackSeconds} s (${r.stdout.trim()}). Run up again`);
        }
        why = lastLines(r.stderr || r.stdout, 4) || `exit ${r.code}`;
      } finally {
        fresh.close();
      }
    } catch (err) {
      if (err instanceof Error && (err.name === "FirewallError" || err.name === "FirewallRolledBack")) throw err;
      why = err instanceof Error ? err.message : String(err);
    }
    // Let the box's own timer run out, then tell the user where things stand.
    await this.clock.sleep(Math.max(0, armedBy + s.rollbackSeconds * 1000 + 3000 - this.clock.now()));
    let outcome = "the box should have restored the previous ruleset, but it cannot be reached to check: check it by hand";
    try {
      const after = await this.openFresh({ ...conn, dialErrorLimit: 3 });
      try {
        const [status, live = ""] = (await after.run(ROLLBACK_STATUS_SCRIPT)).stdout.split(`${LIVE_MARK}\n`);
        outcome =
          status.trim() === "rolled-back"
            ? `the box restored the previous ruleset after ${s.rollbackSeconds} s and is reachable again`
            : normalizeSave(live) === s.rules
              ? "the box is reachable again and runs the new ruleset, unconfirmed, with no rollback recorded (did it reboot?)"
              : "the box is reachable again with a ruleset other than the new one and no rollback recorded (did it reboot? at boot it loads its persisted copy, which the new ruleset never replaced)";
      } finally {
        after.close();
      }
    } catch {
      // Unreachable even after the rollback: say so with the generic outcome.
    }
    const what = dropped ? `${dropped}, and a new SSH connection could not get in either` : "after loading the new ruleset a new SSH connection could not confirm it";
    throw namedError(
      "FirewallRolledBack",
      `firewall change on ${where} rolled back: ${what} (${why}); ${outcome}. ` +
        "Fix the rules that block the management connection (the address and port the stack connects to), then run up again",
    );
  }

  async create(inputs: RulesetState) {
    const previous = await this.apply(inputs);
    await this.persist(inputs, true);
    return { id: "ip6tables-filter", outs: { ...inputs, previous, persisted: inputs.persistPath !== undefined } };
  }

  async update(_id: string, olds: RulesetState, news: RulesetState) {
    if (olds.rules !== news.rules) await this.apply(news);
    if (olds.persistPath && olds.persistPath !== news.persistPath) {
      await mustRun(await this.open(news.connection), `restoring ${olds.persistPath}`, restoreFileScript(olds.persistPath));
    }
    await this.persist(news, olds.persistPath !== news.persistPath);
    return { outs: { ...news, previous: olds.previous, persisted: news.persistPath !== undefined } };
  }

  async read(id: string, props: RulesetState) {
    const remote = await this.open(props.connection);
    const result = await remote.run(readScript(props.persistPath));
    if (result.code === 3) return {};
    if (result.code !== 0) throw remoteCommandError(remote.where, "reading the ip6tables filter table", result);
    const [live, boot = ""] = result.stdout.split(`${BOOT_COPY_MARK}\n`);
    const rules = normalizeSave(live) || EMPTY_FILTER_TABLE;
    const persisted = props.persistPath === undefined ? undefined : normalizeSave(boot) === rules;
    const state = withConnection(props, { ...props, rules, persisted });
    const { previous: _p, persisted: _s, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: RulesetState) {
    const remote = await this.open(props.connection);
    await mustRun(remote, "restoring the previous ip6tables filter table", `ip6tables-restore`, { stdin: props.previous || EMPTY_FILTER_TABLE });
    if (props.persistPath) await mustRun(remote, `restoring ${props.persistPath}`, restoreFileScript(props.persistPath));
    await remote.run(`rm -rf ${shq(STATE_DIR)}; rmdir /var/lib/ipv6gw 2>/dev/null || true`);
  }
}

/** The box's whole ip6tables filter table. */
export class Ip6tablesRuleset extends pulumi.dynamic.Resource {
  /** The table as ip6tables-restore text, one line per rule. */
  declare readonly rules: pulumi.Output<string>;
  declare readonly previous: pulumi.Output<string>;
  /** Whether the boot copy matches the live table (false after someone edited one of them by hand). */
  declare readonly persisted: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: Ip6tablesRulesetArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      Ip6tablesRulesetProvider.instance,
      name,
      { ...args, previous: undefined, persisted: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:firewall",
      "Ip6tablesRuleset",
    );
  }
}
