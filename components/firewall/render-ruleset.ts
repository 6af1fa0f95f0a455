// Filter table <-> ip6tables-restore text. The text is also what previews
// show: one line per rule, so adding a rule shows one added line. Chain lines
// carry no counters; `normalizeSave` brings `ip6tables-save` output to the
// same form, so a live ruleset and a declared one compare line for line.

import { FilterTable, ruleArguments } from "./rule";

const BUILTIN = ["INPUT", "FORWARD", "OUTPUT"] as const;

export function renderFilterTable(table: FilterTable): string {
  const lines = ["*filter"];
  for (const c of BUILTIN) lines.push(`:${c} ${table.policies[c]}`);
  const ours = [...table.chains].sort((a, b) => a.name.localeCompare(b.name));
  for (const c of ours) lines.push(`:${c.name} -`);
  for (const c of BUILTIN) for (const r of table.builtin[c]) lines.push(`-A ${c} ${ruleArguments(r)}`);
  for (const c of ours) for (const r of c.rules) lines.push(`-A ${c.name} ${ruleArguments(r)}`);
  lines.push("COMMIT");
  return lines.join("\n") + "\n";
}

/**
 * The filter table of `ip6tables-save` output in our form: no comments, no
 * counters, no trailing blanks. Empty when the box has no filter table yet.
 */
export function normalizeSave(save: string): string {
  const out: string[] = [];
  let inFilter = false;
  for (const raw of save.split("\n")) {
    const line = raw.trimEnd();
    if (line.startsWith("#") || line === "") continue;
    if (line.startsWith("*")) {
      inFilter = line === "*filter";
      if (inFilter) out.push(line);
      continue;
    }
    if (!inFilter) continue;
    out.push(line.startsWith(":") ? line.replace(/\s+\[\d+:\d+\]$/, "") : line);
    if (line === "COMMIT") inFilter = false;
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/** A filter table with nothing in it: what a blank box has. */
export const EMPTY_FILTER_TABLE = "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\nCOMMIT\n";

/** The rule name on line `line` (1-based) of a rendered table, from its comment. */
export function ruleNameAtLine(text: string, line: number): string | undefined {
  const l = text.split("\n")[line - 1];
  return l ? /--comment "ipv6gw:([a-z0-9-]+)"/.exec(l)?.[1] : undefined;
}
