// The live firewall of a box (ours only), applied safely, on either backend:
// the rules of ours in the ip6tables filter table, or our nftables table
// (ruleset-scripts.ts says what "ours" is for each, and what atomic means).
//
// Preview: the text is checked on the box without touching the live ruleset,
// by loading it into a throwaway network namespace (`unshare --net`), where
// the kernel itself accepts or rejects every rule; a rejection names the rule.
//
// Apply: ours is saved and a rollback is armed on the box (a detached
// `sleep N; <swap the saved version back in>`); the new version is swapped in
// with one `ip6tables-restore --noflush` or one `nft -f`; then a *new* SSH
// connection must get through and disarm the rollback. If it cannot, the box
// restores the old version by itself and the update fails saying so. The
// session doing the work is never cut off by a typo, and there is never a
// moment without a complete ruleset.
//
// Persist: once confirmed, the same text goes where the box loads it at boot
// (the file found there is kept aside and restored on delete), so a
// rolled-back change never reaches the next boot.
//
// Read: ours as the box prints it (no counters), so a refresh shows rules
// added, removed or edited by hand in ours, and `up --refresh` puts ours
// back; rules of others never show. And whether the boot copy still matches.

import * as pulumi from "@pulumi/pulumi";
import { Connection, describeConnection } from "../host/connection";
import { Clock, HostResourceArgs, RemoteOpener, checkInputs, containsUnknown, providerChanged, realClock, sshOpener, withConnection } from "../host/provider-kit";
import { Remote, lastLines, mustRun, namedError, remoteCommandError, shq } from "../host/remote";
import { openFreshRemote } from "../host/ssh-transport";
import { removeScript as restoreFileScript, writeScript as writeFileScript } from "../host/remote-file";
import { chainNamesOf, normalizeSave, ruleNameAtLine } from "./render-ruleset";
import { NFT_TABLE_REF, nftLoadText, nftRuleNameAtLine } from "./render-nft";
import {
  BOOT_COPY_MARK,
  EXIT,
  LIVE_MARK,
  rollbackStatusScript,
  RULESET_BACKENDS,
  RulesetBackend,
  STATE_DIR,
  applyScript,
  confirmScript,
  emptyRules,
  readScript,
  restorePreviousScript,
  validateScript,
} from "./ruleset-scripts";
import { ReferencedResource, providerReference } from "../host/provider-reference";

export { EXIT, ROLLBACK_STATUS_SCRIPT, STATE_DIR, rollbackStatusScript } from "./ruleset-scripts";

/** Seconds a box waits for the confirming connection before it restores the old table. */
export const DEFAULT_ROLLBACK_SECONDS = 60;

export function rulesetSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z
    .object({
      backend: z.enum(RULESET_BACKENDS).default("iptables"),
      rules: z.string(),
      rollbackSeconds: z.number().int().min(10, "must be at least 10 s, or a slow link rolls back a good ruleset").max(3600).default(DEFAULT_ROLLBACK_SECONDS),
      persistPath: z.string().regex(/^\/[^\0]*[^/]$/, "must be an absolute file path").optional(),
      kernelCheck: z.boolean().optional(),
    })
    .superRefine((v, ctx) => {
      const ok = v.backend === "nftables" ? v.rules.startsWith(`${NFT_TABLE_REF} {\n`) && v.rules.trimEnd().endsWith("}") : v.rules.startsWith("*filter\n") && v.rules.trimEnd().endsWith("COMMIT");
      const form = v.backend === "nftables" ? `one nftables table ('${NFT_TABLE_REF} {' ... '}')` : "one ip6tables-restore filter table ('*filter' ... 'COMMIT')";
      if (!ok) ctx.addIssue({ code: "custom", path: ["rules"], message: `must be ${form}` });
    });
}

export interface RulesetArgs extends HostResourceArgs {
  /** Ours, as the renderer of the backend writes it (renderFilterTable, renderNftTable). */
  readonly rules: pulumi.Input<string>;
  /** Seconds the box waits for a new SSH connection to confirm a change before it restores the old rules. Defaults to 60. */
  readonly rollbackSeconds?: pulumi.Input<number>;
  /** Where the box loads the rules at boot (/etc/iptables/rules.v6, /etc/ipv6gw/firewall.nft ...). Defaults to none (not persisted). */
  readonly persistPath?: pulumi.Input<string>;
  /**
   * Have the box's kernel check the rules at check (preview), in a throwaway namespace. Defaults to
   * true; false spares the connection when the box has no tool to check with yet. Apply checks anyway.
   */
  readonly kernelCheck?: pulumi.Input<boolean>;
}

/** The ip6tables backend's arguments (history: the type the Firewall used before it had two backends). */
export type Ip6tablesRulesetArgs = RulesetArgs;

interface RulesetState {
  connection: Connection;
  backend?: RulesetBackend;
  rules: string;
  rollbackSeconds: number;
  persistPath?: string;
  /** False: check skips the kernel (RulesetArgs.kernelCheck). */
  kernelCheck?: boolean;
  /** Ours as found before we first applied; delete puts it back (normally: nothing). */
  previous?: string;
  /** Whether the boot copy holds exactly the live rules. */
  persisted?: boolean;
}

const backendOf = (s: Pick<RulesetState, "backend">): RulesetBackend => s.backend ?? "iptables";

/** What goes in the boot copy: nftables loads it with `nft -f`, so it replaces our table like an apply does. */
export function bootCopy(b: RulesetBackend, rules: string): string {
  return b === "nftables" ? `#!/usr/sbin/nft -f\n# ipv6gw: our table only; loaded at boot by ipv6gw-firewall.service\n${nftLoadText(rules)}` : rules;
}

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

/**
 * Turns nft's complaint ("/dev/stdin:12:3-40: Error: Could not process rule:
 * Operation not supported", then the rule and carets) into "which rule, and
 * why". nft read the table after the one-line replace header, so its line n
 * is the text's line n - 1.
 */
export function explainNftRejection(rules: string, stderr: string): { rule?: string; line?: number; message: string } {
  const m = /^[^\n:]*:(\d+):[\d-]+: Error: (.*)$/m.exec(stderr);
  const line = m ? Number(m[1]) - 1 : undefined;
  const message = m ? m[2].trim() : stderr.split("\n").map((l) => l.trim()).filter(Boolean).join(" ");
  return { rule: line ? nftRuleNameAtLine(rules, line) : undefined, line, message };
}

function rejectionReason(b: RulesetBackend, where: string, rules: string, stderr: string): string {
  const e = b === "nftables" ? explainNftRejection(rules, stderr) : explainRejection(rules, stderr);
  const which = e.rule ? `rule '${e.rule}' (line ${e.line})` : e.line ? `line ${e.line}` : "the ruleset";
  return `${which} is rejected by ${b === "nftables" ? "nftables" : "ip6tables"} on ${where}: ${e.message || "no message"}`;
}

async function validate(remote: Remote, b: RulesetBackend, rules: string): Promise<string | undefined> {
  const result = await remote.run(validateScript(b), { stdin: rules });
  if (result.code === 0) return undefined;
  if (result.code === EXIT.notInstalled) return "not-installed";
  if (result.code === EXIT.noKernelCheck) return `${remote.where}: ${lastLines(result.stderr, 1)}; install util-linux, which every distribution ships`;
  return rejectionReason(b, remote.where, rules, result.stderr || result.stdout);
}

/** Ours as read back from the box, in the renderer's form. */
function normalizeOurs(b: RulesetBackend, text: string): string {
  if (b === "iptables") return normalizeSave(text) || emptyRules(b);
  const lines = text.split("\n").map((l) => l.trimEnd());
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines.length ? lines.join("\n") + "\n" : "";
}

export class RulesetProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new RulesetProvider(sshOpener, openFreshRemote, realClock);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, RulesetProvider);
  constructor(
    private readonly open: RemoteOpener,
    private readonly openFresh: (c: Connection) => Promise<Remote & { close(): void }>,
    private readonly clock: Clock = realClock,
  ) {}

  async check(olds: Record<string, unknown>, news: Record<string, unknown>) {
    const checked = checkInputs(news, rulesetSchema());
    if (checked.failures.length > 0 || containsUnknown(news)) return checked;
    // The table this box's kernel last accepted (state keeps inputs only once applied) needs no second
    // opinion: an unchanged firewall costs a preview, and the up after it, no connection to the gateway.
    if (typeof olds.rules === "string" && olds.rules === news.rules && backendOf(olds as Partial<RulesetState>) === backendOf(news as Partial<RulesetState>)) return checked;
    if (news.kernelCheck === false) return checked;
    // Preview runs check too: a rule the kernel rejects fails here, before anything changes.
    const remote = await this.open(news.connection as Connection);
    const problem = await validate(remote, backendOf(news as Partial<RulesetState>), news.rules as string);
    // Before the stack installs the tool there is nothing to check with: the Firewall says so at preview,
    // and apply checks on the box before it loads anything.
    if (problem && problem !== "not-installed") checked.failures.push({ property: "rules", reason: problem });
    return checked;
  }

  async diff(_id: string, olds: RulesetState, news: RulesetState) {
    const changed = olds.rules !== news.rules || olds.rollbackSeconds !== news.rollbackSeconds || olds.persistPath !== news.persistPath;
    // A boot copy edited or lost by hand is drift too: the next boot would load something else.
    const stale = news.persistPath !== undefined && olds.persisted === false;
    return {
      changes: changed || stale || providerChanged(olds as never, news as never),
      // One resource never moves between backends: the Firewall makes a new one.
      ...(backendOf(olds) !== backendOf(news) ? { replaces: ["backend"] } : {}),
    };
  }

  private async persist(s: RulesetState, keepOriginal: boolean): Promise<void> {
    if (!s.persistPath) return;
    const remote = await this.open(s.connection);
    await mustRun(remote, `writing ${s.persistPath}`, writeFileScript(persistFile(s.persistPath), keepOriginal), { stdin: bootCopy(backendOf(s), s.rules) });
  }

  /** Applies with rollback armed, then confirms over a new connection; returns what was ours before. */
  private async apply(s: RulesetState): Promise<string> {
    const b = backendOf(s);
    const remote = await this.open(s.connection);
    const applied = await remote.run(applyScript(b, s.rollbackSeconds), { stdin: s.rules });
    // The box armed its timer (if it got that far) before this answer arrived: a wait counted from here is never too short.
    const armedBy = this.clock.now();
    if (applied.interrupted) {
      // The connection ended mid-apply: the box may hold the old rules, the new ones with the timer armed, or
      // have rolled back. A new connection finds out, and confirms the new rules if they are live, like any apply.
      const stage = applied.stdout.includes("stage=applied") ? "after loading the new ruleset" : applied.stdout.includes("stage=armed") ? "after arming the rollback" : "early in the apply";
      return this.confirm(s, armedBy, `the SSH connection to ${remote.where} dropped ${stage}`);
    }
    if (applied.code === EXIT.noKernelCheck) throw namedError("FirewallError", `cannot apply the firewall on ${remote.where}: ${lastLines(applied.stderr, 1)}; install util-linux`);
    if (applied.code !== 0) throw namedError("FirewallError", rejectionReason(b, remote.where, s.rules, applied.stderr || applied.stdout));
    const previous = normalizeOurs(b, applied.stdout.slice(applied.stdout.indexOf("stage=applied\n") + "stage=applied\n".length));
    await this.confirm(s, armedBy);
    return previous;
  }

  /**
   * Confirms over a new connection and returns what was ours before.
   * If the box cannot be reached, waits for its own timer to restore the old
   * rules and fails saying so. `dropped` says why the apply's own connection
   * could not finish, when it could not.
   */
  private async confirm(s: RulesetState, armedBy: number, dropped?: string): Promise<string> {
    const b = backendOf(s);
    const conn = { ...s.connection, dialErrorLimit: 2, perDialTimeout: Math.min(s.connection.perDialTimeout ?? 15, 10) };
    const where = describeConnection(conn);
    let why: string;
    try {
      const fresh = await this.openFresh(conn);
      try {
        const r = await fresh.run(confirmScript(b), { timeoutSeconds: 20 });
        if (r.code === 0) return normalizeOurs(b, r.stdout.slice(r.stdout.indexOf("confirmed\n") + "confirmed\n".length));
        if (r.code === EXIT.notLoaded) {
          throw namedError("FirewallError", `${dropped ?? "the apply did not finish"}: the new ruleset was never loaded, so ${where} keeps its previous ruleset and no rollback is pending. Run up again`);
        }
        if (r.code === EXIT.nothingPending) {
          // The box let us in, so there is no rollback to wait for: say so at once.
          throw namedError(
            "FirewallError",
            `${dropped ?? "the apply finished"}, but ${where} has no firewall change pending (the apply stopped before saving it, or something else cleared it), so nothing was confirmed and no rollback is pending. ` +
              `Check its live ruleset (${b === "nftables" ? `nft list ${NFT_TABLE_REF}` : "ip6tables-save -t filter"}), then run up again`,
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
        const [status, live = ""] = (await after.run(rollbackStatusScript(b, b === "iptables" ? chainNamesOf(s.rules) : []))).stdout.split(`${LIVE_MARK}\n`);
        outcome =
          status.trim() === "rolled-back"
            ? `the box restored the previous ruleset after ${s.rollbackSeconds} s and is reachable again`
            : normalizeOurs(b, live.split(`${BOOT_COPY_MARK}\n`)[0]) === s.rules
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
    return { id: backendOf(inputs) === "nftables" ? "nft-ipv6gw" : "ip6tables-filter", outs: { ...inputs, previous, persisted: inputs.persistPath !== undefined } };
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
    const b = backendOf(props);
    const remote = await this.open(props.connection);
    const result = await remote.run(readScript(b, props.persistPath, b === "iptables" ? chainNamesOf(props.rules ?? "") : []));
    if (result.code === 3) return {};
    if (result.code !== 0) throw remoteCommandError(remote.where, `reading the ${b === "nftables" ? `nftables ${NFT_TABLE_REF}` : "ip6tables filter table"}`, result);
    const [live, boot = ""] = result.stdout.split(`${BOOT_COPY_MARK}\n`);
    const rules = normalizeOurs(b, live);
    const persisted = props.persistPath === undefined ? undefined : boot === bootCopy(b, rules);
    const state = withConnection(props, { ...props, rules, persisted });
    const { previous: _p, persisted: _s, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: RulesetState) {
    const b = backendOf(props);
    const remote = await this.open(props.connection);
    await mustRun(remote, `putting back the ${b === "nftables" ? `nftables ${NFT_TABLE_REF}` : "ip6tables rules of ours"} as they were before`, restorePreviousScript(b), { stdin: props.previous || emptyRules(b) });
    if (props.persistPath) await mustRun(remote, `restoring ${props.persistPath}`, restoreFileScript(props.persistPath));
    await remote.run(`rm -rf ${shq(STATE_DIR)}; rmdir /var/lib/ipv6gw /etc/ipv6gw 2>/dev/null || true`);
  }
}

/** Kept under its old name: the ip6tables provider is the same provider. */
export const Ip6tablesRulesetProvider = RulesetProvider;

/** The rules of ours in a box's ip6tables filter table: our chains and the jumps into them. */
export class Ip6tablesRuleset extends ReferencedResource {
  /** Ours as ip6tables-save prints it, one line per rule. */
  declare readonly rules: pulumi.Output<string>;
  declare readonly previous: pulumi.Output<string>;
  /** Whether the boot copy matches the live rules (false after someone edited one of them by hand). */
  declare readonly persisted: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: RulesetArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      RulesetProvider.reference,
      name,
      { ...args, backend: "iptables", previous: undefined, persisted: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:firewall",
      "Ip6tablesRuleset",
    );
  }
}

/** A box's nftables table of ours, `table ip6 ipv6gw`, whole. */
export class NftRuleset extends ReferencedResource {
  /** The table as `nft -s list` prints it, one line per rule. */
  declare readonly rules: pulumi.Output<string>;
  declare readonly previous: pulumi.Output<string>;
  /** Whether the boot copy matches the live table (false after someone edited one of them by hand). */
  declare readonly persisted: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: RulesetArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      RulesetProvider.reference,
      name,
      { ...args, backend: "nftables", previous: undefined, persisted: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:firewall",
      "NftRuleset",
    );
  }
}
