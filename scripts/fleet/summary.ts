// One summary for a fleet preview: a line per site, then what each site has
// to say (rules, violations, errors), then the verdict; as text for the
// terminal and as Markdown for the pull request, each site's full preview
// folded below it. Pure.

import { SiteResult, fails } from "./site-result";

export interface FleetRun {
  readonly sites: readonly SiteResult[];
  readonly seconds: number;
  readonly concurrency: number;
  readonly refresh: boolean;
  /** "ipv6gw 0.1.0", or undefined when the pack did not run. */
  readonly policyPack?: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "ok", "2 advisory", or what makes the site fail. */
export function verdict(r: SiteResult): string {
  const kinds = [...new Set(r.errors.map((e) => e.kind))];
  const mandatory = r.violations.filter((v) => v.level === "mandatory").length;
  const reasons = [
    ...kinds.map((k) => (k === "unreachable" ? "box unreachable" : k === "config" ? "bad config" : "error")),
    ...(mandatory ? [`${plural(mandatory, "mandatory violation")}`] : []),
  ];
  return reasons.length ? `FAILS: ${reasons.join(", ")}` : "ok";
}

function ruleList(r: SiteResult): string {
  const parts = [...r.rules.added.map((n) => `+${n}`), ...r.rules.removed.map((n) => `-${n}`), ...r.rules.changed.map((n) => `~${n}`)];
  if (parts.length > 6) return `${parts.slice(0, 5).join(" ")} (+${parts.length - 5} more)`;
  return parts.join(" ") || "-";
}

function policyCell(r: SiteResult): string {
  const m = r.violations.filter((v) => v.level === "mandatory").length;
  const a = r.violations.length - m;
  return [m ? `${m} mandatory` : "", a ? `${a} advisory` : ""].filter(Boolean).join(", ") || "-";
}

/** A preview that failed with an error planned nothing: its counts would only be what registered before the error. */
const counts = (r: SiteResult) => (r.errors.length ? ["-", "-", "-"] : [r.changes.add, r.changes.change, r.changes.delete].map(String));

function table(run: FleetRun): string[][] {
  return [["site", "add", "change", "delete", "firewall rules", "policies", "result"], ...run.sites.map((r) => [r.stack, ...counts(r), ruleList(r), policyCell(r), verdict(r)])];
}

function header(run: FleetRun): string {
  const how = [`${plural(run.sites.length, "site")}`, `${run.concurrency} at a time`, run.refresh ? "refreshed from the boxes" : "from state", run.policyPack ? `policy pack ${run.policyPack}` : "no policy pack"];
  return `Fleet preview: ${how.join(", ")}; ${run.seconds.toFixed(1)} s`;
}

function closing(run: FleetRun): string {
  const failing = run.sites.filter(fails);
  return failing.length === 0
    ? `All ${plural(run.sites.length, "site")} preview cleanly${run.sites.some((r) => r.violations.length) ? " (advisory findings above)" : ""}.`
    : `${failing.length} of ${plural(run.sites.length, "site")} fail: ${failing.map((r) => `${r.stack} (${verdict(r).replace(/^FAILS: /, "")})`).join("; ")}.`;
}

/** The details of one site: rules by name, violations, errors. */
function details(r: SiteResult): string[] {
  const lines: string[] = [];
  if (r.rules.added.length) lines.push(`rules added: ${r.rules.added.join(", ")}`);
  if (r.rules.removed.length) lines.push(`rules removed: ${r.rules.removed.join(", ")}`);
  if (r.rules.changed.length) lines.push(`rules changed: ${r.rules.changed.join(", ")}`);
  for (const v of r.violations) lines.push(`${v.level} ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`);
  for (const e of r.errors) lines.push(`${e.kind === "unreachable" ? "box unreachable" : e.kind === "config" ? "bad config" : "error"}: ${e.message}`);
  return lines;
}

export function renderText(run: FleetRun): string {
  const rows = table(run);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = [header(run), "", ...rows.map((r) => r.map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd())];
  for (const r of run.sites) {
    const d = details(r);
    if (d.length) out.push("", `${r.stack}:`, ...d.map((l) => `  ${l}`));
  }
  out.push("", closing(run));
  return out.join("\n") + "\n";
}

/** GitHub's limit for a comment is 65536 characters; each site's folded preview gets a share of what is left. */
const COMMENT_LIMIT = 60000;
export const COMMENT_MARKER = "<!-- ipv6gw-fleet-preview -->";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const fence = (s: string) => s.replace(/```/g, "`\u200b``");

export function renderMarkdown(run: FleetRun): string {
  const rows = table(run);
  const head = [
    COMMENT_MARKER,
    `### ${header(run)}`,
    "",
    `| ${rows[0].join(" | ")} |`,
    `|${rows[0].map((_, i) => (i >= 1 && i <= 3 ? " ---: " : " --- ")).join("|")}|`,
    ...rows.slice(1).map((r) => `| ${r.map(cell).join(" | ")} |`),
    "",
    `**${closing(run)}**`,
  ];
  const sections = run.sites.map((r) => ({ r, notes: details(r).map((l) => `- ${cell(l)}`) }));
  const fixed = [...head, ...sections.flatMap((s) => [`#### ${s.r.stack}`, ...s.notes])].join("\n").length;
  const share = Math.max(500, Math.floor((COMMENT_LIMIT - fixed) / Math.max(1, run.sites.length)) - 200);
  const body = sections.flatMap(({ r, notes }) => {
    const output = r.output.length > share ? `${r.output.slice(0, share)}\n... (${r.output.length - share} more characters: run npm run preview -- --stack ${r.stack})` : r.output;
    return ["", `#### ${r.stack}: ${cell(verdict(r))}`, ...notes, "", `<details><summary>${r.stack}: full preview</summary>`, "", "```diff", fence(output.trimEnd()), "```", "", "</details>"];
  });
  return [...head, ...body].join("\n") + "\n";
}
