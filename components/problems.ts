// A problem with how a site or a component was asked to build: where in its
// arguments (a key path, empty for the box as a whole) and what is wrong,
// with the fix. Every component's contract has a pure `...Problems` function
// returning these; the site's preflight collects them with its own prefix.

import { z } from "zod";
import { configError } from "./user-error";

export interface Problem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export const problem = (path: readonly (string | number)[], message: string): Problem => ({ path, message });

/** The same problems, under `prefix` ("gateway", "clients", 0 ...). */
export function under(prefix: readonly (string | number)[], problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ path: [...prefix, ...p.path], message: p.message }));
}

/** "a.b[0].c", as `pulumi config set --path` writes it. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/** One line per problem: "<root>.<path>: <message>", or "<root>: <message>" for the whole. */
export function problemLines(root: string, problems: readonly Problem[]): string[] {
  return problems.map((p) => {
    const path = formatPath(p.path);
    const sep = root === "" || path === "" || path.startsWith("[") ? "" : ".";
    return `${root}${sep}${path}: ${p.message}`;
  });
}

/** "a.b: <message>" (as the stack file's errors read), or the message alone for a problem with the whole. */
export function describeProblem(p: Problem): string {
  return p.path.length === 0 ? p.message : `${formatPath(p.path)}: ${p.message}`;
}

/** Problems from a failed zod parse. */
export function zodProblems(error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }));
}

/**
 * Parses `args` with a component's schema, or throws one error that lists
 * every problem with its key path: "<what> cannot be built as asked:\n  - ...".
 * Called before the component registers anything.
 */
export function parseArgs<S extends z.ZodType>(what: string, schema: S, args: unknown, check?: (parsed: z.output<S>) => readonly Problem[]): z.output<S> {
  const result = schema.safeParse(args);
  const problems = result.success ? (check?.(result.data) ?? []) : zodProblems(result.error);
  if (problems.length > 0) throw configError(`${what} cannot be built as asked:\n${problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`);
  return (result as { data: z.output<S> }).data;
}

/** Runs a renderer's own validation and turns what it throws into a problem (with the renderer's message). */
export function attempt(validate: () => unknown, path: readonly (string | number)[] = []): Problem[] {
  try {
    validate();
    return [];
  } catch (e) {
    return [problem(path, (e as Error).message)];
  }
}
