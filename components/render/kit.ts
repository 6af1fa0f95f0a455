// What every renderer shares: the header of files we manage, the one error
// format ("<what>: '<field>' <problem>, got <value>; <fix>"), and checks of
// the kinds of values renderers put into files and scripts (the rules live in
// net/values.ts). Pure.

import { absolutePathProblem, ifnameProblem } from "../net/values";

/** First line of every file we write on a box. */
export const MANAGED_HEADER = "# Managed by ipv6gw (Pulumi). Changes made here are overwritten.";

/** Throws "<what>: '<field>' <problem>, got <got>; <fix>". */
export function renderError(what: string, field: string, problem: string, got: string, fix: string): never {
  return renderErrorAt(what, `'${field}'`, problem, got, fix);
}

/** renderError with the subject written out ("'authMethod' (auth_method)"). */
export function renderErrorAt(what: string, subject: string, problem: string, got: string, fix: string): never {
  throw new Error(`${what}: ${subject} ${problem}, got ${got}; ${fix}`);
}

/** A Linux interface name (net/values: ifnameProblem). */
export function checkIfname(what: string, field: string, name: unknown, example = "e.g. eth0"): void {
  const why = ifnameProblem(name as string);
  if (why) renderError(what, field, why, `'${String(name)}'`, example);
}

/** An absolute path of plain characters: it goes into unit files and scripts unquoted. */
export function checkAbsolutePath(what: string, field: string, path: unknown, example: string): void {
  const why = absolutePathProblem(path as string);
  if (why) renderError(what, field, why, `'${String(path)}'`, example);
}

/** An integer min..max. */
export function checkInteger(what: string, field: string, v: unknown, min: number, max: number, fix: string): void {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) renderError(what, field, `must be an integer ${min}..${max}`, String(v), fix);
}
