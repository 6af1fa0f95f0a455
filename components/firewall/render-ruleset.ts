// Filter table -> the part of the ip6tables filter table that is ours, as
// ip6tables-save prints it: our chains, the rules in them, and the rules of
// ours (jumps) in the built-in chains, each with its comment. The text is
// also what previews show: one line per rule, so adding a rule shows one
// added line. Chain lines carry no counters, and built-in chains and their
// policies are not ours: Docker, fail2ban, libvirt and the distribution keep
// theirs (see iptables-ours.ts for how it is swapped in and read back).

import { FilterTable, chainsByName, ruleArguments } from "./rule";

const BUILTIN = ["INPUT", "FORWARD", "OUTPUT"] as const;

export function renderFilterTable(table: FilterTable): string {
  const lines = ["*filter"];
  const ours = chainsByName(table);
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

/** Nothing of ours: what a box has before the first apply and after destroy. */
export const EMPTY_FILTER_TABLE = "*filter\nCOMMIT\n";

/** Our chains in a rendered (or read back) text: the `:NAME -` lines. */
export function chainNamesOf(text: string): string[] {
  return text
    .split("\n")
    .map((l) => /^:([A-Za-z0-9_.-]+) /.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && !(BUILTIN as readonly string[]).includes(c));
}

/** The rule name on line `line` (1-based) of a rendered table, from its comment. */
export function ruleNameAtLine(text: string, line: number): string | undefined {
  const l = text.split("\n")[line - 1];
  return l ? /--comment "?ipv6gw:([a-z0-9-]+)"?/.exec(l)?.[1] : undefined;
}
