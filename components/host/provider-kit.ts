// Shared pieces of our dynamic providers: input checking with zod, the
// connection every host resource carries, and minimal diffs.

import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs, Connection, connectionSchema } from "./connection";
import { referencedClass } from "./provider-reference";
import { Remote } from "./remote";
import { openRemote } from "./ssh-transport";

/** What every host resource takes: where the box is. */
export interface HostResourceArgs {
  /** How to reach the box; see ConnectionArgs. Its secrets stay secret in state. */
  readonly connection: pulumi.Input<ConnectionArgs>;
}

/** Opens (or reuses) a session to a box. Providers take one so tests can pass a fake. */
export type RemoteOpener = (connection: Connection) => Promise<Remote>;

export const sshOpener: RemoteOpener = openRemote;

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** Maps a zod result to Pulumi check failures, one per offending property. */
export function zodFailures(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } | undefined): CheckFailure[] {
  if (!error) return [];
  return error.issues.map((i) => ({ property: i.path.map(String).join(".") || "(inputs)", reason: i.message }));
}

/** A zod schema as checkInputs uses it: `reportInput` puts each issue's offending value on it. */
interface CheckSchema<T> {
  safeParse(
    v: unknown,
    params?: { reportInput?: boolean },
  ): { success: true; data: T } | { success: false; error: { issues: readonly { code?: string; path: readonly PropertyKey[]; message: string; input?: unknown }[] } };
}

/**
 * Checks `news` against the resource's schema plus the connection schema.
 * Values unknown at preview (before a dependency exists) are not checked;
 * known values beside them still are.
 */
export function checkInputs<T>(news: Record<string, unknown>, schema: CheckSchema<T>): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const connection = connectionSchema().safeParse(news.connection, { reportInput: true });
  if (!connection.success) {
    failures.push(...zodFailures(knownIssues(news.connection, connection.error)).map((f) => ({ property: `connection.${f.property}`, reason: f.reason })));
  }
  const { connection: _c, __provider: _p, ...rest } = news;
  const parsed = schema.safeParse(rest, { reportInput: true });
  if (!parsed.success) failures.push(...zodFailures(knownIssues(rest, parsed.error)));
  // Defaults and normalizations only apply to known values: with an unknown, the engine's inputs stay as they are.
  else if (!containsUnknown(rest)) return { inputs: { ...news, ...(parsed.data as object) }, failures };
  return { inputs: news, failures };
}

/**
 * The issues that hold whatever the unknown values turn out to be: an issue
 * is dropped when its value is unknown, contains one, or lies under one.
 */
function knownIssues<I extends { code?: string; path: readonly PropertyKey[]; input?: unknown }>(root: unknown, error: { issues: readonly I[] }): { issues: I[] } {
  const underUnknown = (path: readonly PropertyKey[]): boolean => {
    let v = root;
    for (const k of path) {
      if (v === UNKNOWN) return true;
      v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
    }
    return containsUnknown(v);
  };
  // A record key is always known (only values can be unknown): a bad one is reported whatever its value.
  return { issues: error.issues.filter((i) => !containsUnknown(i.input) && (i.code === "invalid_key" || !underUnknown(i.path))) };
}

/** The engine's placeholder for values not known until apply. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/**
 * Time as providers see it. Tests pass a fake, so a rollback's wait or a
 * probe's retries take no real time.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Structural equality for JSON-like values; key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** The listed properties whose values differ between state and the new inputs. */
export function changedProperties(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => !sameValue(olds[k], news[k]));
}

/**
 * Whether the provider stored in state must be replaced by the new one. The
 * engine keeps running a resource's read and delete with the provider stored
 * in its state (pulumi/pulumi#6490), so provider code stored by an older
 * version must be replaced through an update, which then leaves the box
 * alone (see `managedChanged`). Two references to the same class are the same
 * provider, whatever their loader's text (provider-reference.ts).
 */
export function providerChanged(olds: Record<string, unknown>, news: Record<string, unknown>): boolean {
  if (typeof news.__provider !== "string" || olds.__provider === news.__provider) return false;
  const was = referencedClass(olds.__provider);
  return was === undefined || was !== referencedClass(news.__provider);
}

/**
 * A diff over the properties a resource manages. The connection is how we
 * reach the box, not what is on it, so it never causes an update.
 */
export function diffManaged(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  managed: readonly string[],
  replaceOn: readonly string[] = [],
  deleteBeforeReplace = false,
): pulumi.dynamic.DiffResult {
  const changed = changedProperties(olds, news, managed);
  const replaces = changed.filter((k) => replaceOn.includes(k));
  return {
    changes: changed.length > 0 || providerChanged(olds, news),
    replaces,
    deleteBeforeReplace: replaces.length > 0 && deleteBeforeReplace,
  };
}

/** Whether an update has anything to do on the box, or only stores new provider code. */
export function managedChanged(olds: Record<string, unknown>, news: Record<string, unknown>, managed: readonly string[]): boolean {
  return changedProperties(olds, news, managed).length > 0;
}

/** The connection to store back with live state after a read. */
export function withConnection<T extends object>(props: { connection?: unknown }, live: T): T & { connection: unknown } {
  return { ...live, connection: props.connection };
}
