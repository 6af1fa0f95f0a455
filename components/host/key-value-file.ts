// Some KEY=value lines of a file we do not own (/etc/sysconfig/network,
// ifcfg-eth0): set or remove only those keys, leave every other line alone,
// and on delete put back the values that were there.

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "./provider-kit";
import { Remote, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function keyValueFileSchema() {
  const { z } = require("zod") as typeof import("zod");
  const key = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "is not a shell variable name");
  return z.object({
    path: z.string().regex(/^\/[^\0]*[^/]$/, "must be an absolute file path"),
    // Written unquoted into files a shell sources (ifcfg): only characters that are inert in a shell word.
    set: z.record(key, z.string().regex(/^[A-Za-z0-9_.,:/@%+=-]*$/, "must be letters, digits and _ . , : / @ % + = - only (the file is sourced by sh, unquoted)")).default({}),
    remove: z.array(key).default([]),
  });
}

export interface KeyValueFileArgs extends HostResourceArgs {
  /** The file; created if missing. Changing it replaces the resource. */
  readonly path: pulumi.Input<string>;
  /** Keys to hold at these values. */
  readonly set?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Keys that must be absent. */
  readonly remove?: pulumi.Input<pulumi.Input<string>[]>;
}

interface KvState {
  connection: Connection;
  path: string;
  set: Record<string, string>;
  remove: string[];
  /** Each managed key's line before we touched it (null: absent). */
  previous?: Record<string, string | null>;
  /** Whether the file did not exist before: delete removes it if nothing else was added to it. */
  createdFile?: boolean;
}

const MANAGED = ["path", "set", "remove"] as const;

/** Prints the lines of the given keys, in file order. */
export function readScript(path: string, keys: readonly string[]): string {
  return `[ -f ${shq(path)} ] || exit 0\ngrep -E ${shq(`^(${keys.join("|")})=`)} ${shq(path)} || true`;
}

/** Rewrites the file atomically with keys set (replacing the first occurrence, dropping others) and removed. */
export function editScript(path: string, set: Record<string, string | null>): string {
  const p = shq(path);
  const awkProgram = [
    "BEGIN { n = split(keys, k, \" \"); for (i = 1; i <= n; i++) { split(k[i], kv, \"=\"); want[kv[1]] = substr(k[i], length(kv[1]) + 2); has[kv[1]] = 1 } }",
    "{ split($0, f, \"=\"); key = f[1] }",
    "(key in has) { if (!(key in done) && want[key] != \"\\001\") print key \"=\" want[key]; done[key] = 1; next }",
    "{ print }",
    "END { for (key in has) if (!(key in done) && want[key] != \"\\001\") print key \"=\" want[key] }",
  ].join("\n");
  // A key mapped to null is removed; \001 marks it inside awk.
  const keys = Object.entries(set)
    .map(([k, v]) => `${k}=${v === null ? "\u0001" : v}`)
    .join(" ");
  return [
    "set -e",
    `mkdir -p "$(dirname ${p})"; [ -f ${p} ] || : > ${p}`,
    `tmp=$(mktemp ${shq(path + ".ipv6gw.XXXXXX")})`,
    `trap 'rm -f "$tmp"' EXIT`,
    `awk -v keys=${shq(keys)} ${shq(awkProgram)} ${p} > "$tmp"`,
    `chmod --reference=${p} "$tmp"; chown --reference=${p} "$tmp"`,
    `mv -f "$tmp" ${p}`,
    "trap - EXIT",
  ].join("\n");
}

/**
 * KEY=value lines to values, surrounding quotes dropped. The last occurrence
 * wins, as for the shell scripts that source these files: a line appended by
 * hand overrides ours, and a refresh must see that.
 */
export function parseValues(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i <= 0) continue;
    const raw = line.slice(i + 1).trim();
    values[line.slice(0, i)] = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  }
  return values;
}

async function current(remote: Remote, path: string, keys: readonly string[]): Promise<Record<string, string>> {
  if (keys.length === 0) return {};
  return parseValues(await mustRun(remote, `reading ${path}`, readScript(path, keys)));
}

function desired(s: Pick<KvState, "set" | "remove">): Record<string, string | null> {
  return { ...s.set, ...Object.fromEntries(s.remove.map((k) => [k, null])) };
}

export class KeyValueFileProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new KeyValueFileProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, KeyValueFileProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, keyValueFileSchema());
  }

  async diff(_id: string, olds: KvState, news: KvState) {
    return diffManaged(olds as never, news as never, MANAGED, ["path"]);
  }

  async create(inputs: KvState) {
    const remote = await this.open(inputs.connection);
    const keys = Object.keys(desired(inputs));
    const existed = (await remote.run(`[ -e ${shq(inputs.path)} ]`)).code === 0;
    const found = await current(remote, inputs.path, keys);
    const previous = Object.fromEntries(keys.map((k) => [k, found[k] ?? null]));
    await mustRun(remote, `editing ${inputs.path}`, editScript(inputs.path, desired(inputs)));
    return { id: inputs.path, outs: { ...inputs, previous, createdFile: !existed } };
  }

  async update(_id: string, olds: KvState, news: KvState) {
    if (!managedChanged(olds as never, news as never, MANAGED)) return { outs: { ...news, previous: olds.previous, createdFile: olds.createdFile } };
    const remote = await this.open(news.connection);
    const previous = { ...olds.previous };
    const keys = Object.keys(desired(news)).filter((k) => !(k in previous));
    const found = await current(remote, news.path, keys);
    for (const k of keys) previous[k] = found[k] ?? null;
    // Keys no longer managed go back to what they were.
    const released = Object.fromEntries(Object.keys(desired(olds)).filter((k) => !(k in desired(news))).map((k) => [k, previous[k] ?? null]));
    await mustRun(remote, `editing ${news.path}`, editScript(news.path, { ...released, ...desired(news) }));
    return { outs: { ...news, previous, createdFile: olds.createdFile } };
  }

  async read(id: string, props: KvState) {
    const remote = await this.open(props.connection);
    const live = await current(remote, props.path, Object.keys(desired(props)));
    const set = Object.fromEntries(Object.keys(props.set).filter((k) => k in live).map((k) => [k, live[k]]));
    const remove = props.remove.filter((k) => !(k in live));
    const state = withConnection(props, { ...props, set, remove });
    const { previous: _p, createdFile: _c, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: KvState) {
    const remote = await this.open(props.connection);
    const restore = Object.fromEntries(Object.keys(desired(props)).map((k) => [k, props.previous?.[k] ?? null]));
    await mustRun(remote, `restoring ${props.path}`, editScript(props.path, restore));
    if (props.createdFile) await remote.run(`[ -s ${shq(props.path)} ] || rm -f ${shq(props.path)}`);
  }
}

/** KEY=value lines held in a file we do not own. */
export class KeyValueFile extends ReferencedResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly set: pulumi.Output<Record<string, string>>;
  declare readonly remove: pulumi.Output<string[]>;

  constructor(name: string, args: KeyValueFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      KeyValueFileProvider.reference,
      name,
      { ...args, previous: undefined, createdFile: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "KeyValueFile",
    );
  }
}
