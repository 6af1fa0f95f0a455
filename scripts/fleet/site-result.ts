// What one site's preview says, from the engine's events: resources to add,
// change and delete, firewall rules added, removed and changed by name (from
// the Firewall's rule model, or the ruleset text of a Firewall recorded
// before it had one), policy violations, and errors. Pure: events in, a
// result out, so it is tested with recorded events.

import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import { FIREWALL_TYPE } from "../../components/firewall/firewall-inputs";
import { FilterTable, FirewallRule, tableRuleNames } from "../../components/firewall/rule";

export type ErrorKind = "unreachable" | "config" | "error";

export interface Violation {
  readonly policy: string;
  readonly level: "mandatory" | "advisory";
  readonly message: string;
  /** The resource's name, when the violation is about one. */
  readonly resource?: string;
}

export interface SiteResult {
  readonly stack: string;
  readonly changes: { readonly add: number; readonly change: number; readonly delete: number };
  readonly rules: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] };
  readonly violations: readonly Violation[];
  readonly errors: readonly { readonly kind: ErrorKind; readonly message: string }[];
  /** The CLI's own preview output, with its diff. */
  readonly output: string;
  readonly seconds: number;
}

/** Whether the site blocks the change: errors, or a mandatory violation. */
export function fails(r: SiteResult): boolean {
  return r.errors.length > 0 || r.violations.some((v) => v.level === "mandatory");
}

/** Box unreachable, stack config wrong, or anything else. */
export function classifyError(message: string): ErrorKind {
  if (/cannot reach .* after \d+ attempt|EHOSTUNREACH|ENETUNREACH|ECONNREFUSED|ETIMEDOUT|Timed out while waiting for handshake|getaddrinfo/.test(message)) return "unreachable";
  if (/^stack config has|ipv6gw:[a-zA-Z]|lab file .* is missing|no stack named|stack .* not found/i.test(message)) return "config";
  return "error";
}

const RULE_COMMENT = /ipv6gw:([a-z0-9][a-z0-9-]*)/g;
const RULESET_TYPE = /^pulumi-nodejs:dynamic\/ipv6gw:firewall:[A-Za-z0-9]*Ruleset$/;

function rulesByName(table: FilterTable): Map<string, FirewallRule> {
  return new Map([...table.builtin.INPUT, ...table.builtin.FORWARD, ...table.builtin.OUTPUT, ...table.chains.flatMap((c) => c.rules)].map((r) => [r.name, r]));
}

/** Names in a ruleset's text (each rule carries its name in a comment), for state recorded before the rule model. */
function namesInText(text: unknown): string[] | undefined {
  return typeof text === "string" ? [...text.matchAll(RULE_COMMENT)].map((m) => m[1]) : undefined;
}

/** Collects one site's events. */
export class SiteEvents {
  private readonly ops = new Map<string, number>();
  private summary?: OpMap;
  private tables: { old?: FilterTable; new?: FilterTable } = {};
  private texts: { old?: string[]; new?: string[] } = {};
  private readonly violations: Violation[] = [];
  private readonly errors: string[] = [];

  constructor(readonly stack: string) {}

  add(e: EngineEvent): void {
    if (e.summaryEvent) this.summary = e.summaryEvent.resourceChanges;
    const pre = e.resourcePreEvent?.metadata;
    if (pre) {
      this.ops.set(pre.op, (this.ops.get(pre.op) ?? 0) + 1);
      if (pre.type === FIREWALL_TYPE) {
        this.tables = { old: pre.old?.inputs?.table as FilterTable | undefined, new: pre.new?.inputs?.table as FilterTable | undefined };
      }
      if (RULESET_TYPE.test(pre.type)) {
        this.texts = { old: namesInText(pre.old?.outputs?.rules ?? pre.old?.inputs?.rules), new: namesInText(pre.new?.inputs?.rules) };
      }
    }
    const p = e.policyEvent;
    if (p) {
      // The SDK puts the policy's description on the line before the violation.
      const lines = p.message.trim().split("\n");
      this.violations.push({
        policy: p.policyName,
        level: p.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
        message: (lines.length > 1 ? lines.slice(1) : lines).join(" ").trim(),
        resource: p.resourceUrn ? p.resourceUrn.split("::").pop() : undefined,
      });
    }
    const d = e.diagnosticEvent;
    if (d && d.severity === "error") {
      // color: "never" keeps escape codes out; a program's own colored text may still carry some.
      const message = d.message.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").trim();
      // The engine's closing line adds nothing to the errors or violations before it.
      if (!/^(preview|update) failed$/.test(message) && !this.errors.includes(message)) this.errors.push(message);
    }
  }

  /** A failure the events did not explain (the CLI could not even start the preview): the CLI's last words. */
  fail(message: string): void {
    if (this.errors.length > 0 || this.violations.some((v) => v.level === "mandatory")) return;
    const stderr = /\bstderr: ([\s\S]*?)(\n\s*err\?:|$)/.exec(message)?.[1] ?? message;
    this.errors.push(stderr.trim().split("\n").slice(-5).join("\n"));
  }

  result(output: string, seconds: number): SiteResult {
    const count = (op: string) => this.summary?.[op as keyof OpMap] ?? this.ops.get(op) ?? 0;
    return {
      stack: this.stack,
      changes: { add: count("create"), change: count("update") + count("replace"), delete: count("delete") },
      rules: this.ruleChanges(),
      violations: this.violations,
      errors: this.errors.map((message) => ({ kind: classifyError(message), message })),
      output,
      seconds,
    };
  }

  private ruleChanges(): SiteResult["rules"] {
    const { old, new: now } = this.tables;
    if (now && old?.chains) {
      const before = rulesByName(old);
      const after = rulesByName(now);
      return {
        added: tableRuleNames(now).filter((n) => !before.has(n)),
        removed: tableRuleNames(old).filter((n) => !after.has(n)),
        changed: tableRuleNames(now).filter((n) => before.has(n) && JSON.stringify(before.get(n)) !== JSON.stringify(after.get(n))),
      };
    }
    // A Firewall recorded before it had a rule model, or a new one: compare the rulesets' names.
    const was = old?.chains ? tableRuleNames(old) : (this.texts.old ?? []);
    const is = now ? tableRuleNames(now) : (this.texts.new ?? []);
    return { added: is.filter((n) => !was.includes(n)), removed: was.filter((n) => !is.includes(n)), changed: [] };
  }
}
