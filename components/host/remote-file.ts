// A whole file on a box: content, mode and owner. Written atomically (temp
// file + rename, so a reader never sees half a file); the file that was there
// before is kept aside and put back on delete.

import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "./provider-kit";
import { remoteCommandError, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

/** Where originals are kept while we own a file. */
export const BACKUP_DIR = "/var/lib/ipv6gw/backup";

export function remoteFileSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    path: z
      .string()
      .regex(/^\/[^\0]*[^/]$/, "must be an absolute path to a file (starts with '/', does not end with '/')")
      .refine((p) => !p.split("/").includes(".."), "must not contain '..'"),
    content: z.string(),
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, "must be an octal mode like '0644'")
      .default("0644")
      .transform(normalizeMode),
    owner: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, "must be a user name").default("root"),
    group: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, "must be a group name").default("root"),
    validate: z.string().includes("%s", { message: "must contain %s where the path of the new file goes" }).optional(),
  });
}

export interface RemoteFileArgs extends HostResourceArgs {
  /** Absolute path of the file. Changing it replaces the resource. */
  readonly path: pulumi.Input<string>;
  /** The whole content. Pass a secret to keep it encrypted in state. */
  readonly content: pulumi.Input<string>;
  /** Octal mode. Defaults to "0644". */
  readonly mode?: pulumi.Input<string>;
  /** Owning user. Defaults to "root". */
  readonly owner?: pulumi.Input<string>;
  /** Owning group. Defaults to "root". */
  readonly group?: pulumi.Input<string>;
  /**
   * A command that checks the new content before it replaces the file, with
   * %s for its temporary path ("radvd --configtest -C %s"). If it fails, the
   * old file stays and the update fails with the command's output. Defaults to none.
   */
  readonly validate?: pulumi.Input<string>;
}

interface FileState {
  connection: Connection;
  path: string;
  content: string;
  mode: string;
  owner: string;
  group: string;
  validate?: string;
  sha256?: string;
  /** Whether a file was there before we took it over (and is kept in BACKUP_DIR). */
  hadOriginal?: boolean;
}

const MANAGED = ["path", "content", "mode", "owner", "group"] as const;

export function normalizeMode(mode: string): string {
  return mode.padStart(4, "0").slice(-4);
}

export function backupPathFor(path: string): string {
  return `${BACKUP_DIR}/${crypto.createHash("sha256").update(path).digest("hex")}`;
}

/** Writes stdin to `path` atomically; prints "original" if it kept an earlier file aside. */
export function writeScript(f: Pick<FileState, "path" | "mode" | "owner" | "group" | "validate">, keepOriginal: boolean): string {
  const p = shq(f.path);
  const b = shq(backupPathFor(f.path));
  return [
    "set -e",
    `mkdir -p "$(dirname ${p})"`,
    keepOriginal
      ? `if [ -e ${p} ] && [ ! -e ${b} ]; then mkdir -p ${shq(BACKUP_DIR)}; cp -a ${p} ${b}; fi; [ -e ${b} ] && echo original || true`
      : ":",
    `tmp=$(mktemp ${shq(f.path + ".ipv6gw.XXXXXX")})`,
    `trap 'rm -f "$tmp"' EXIT`,
    `cat > "$tmp"`,
    `chmod ${f.mode} "$tmp"`,
    `chown ${shq(f.owner)}:${shq(f.group)} "$tmp"`,
    f.validate ? `${f.validate.split("%s").join('"$tmp"')} >&2 || { echo "refusing to install ${f.path}: the check above failed" >&2; exit 1; }` : ":",
    `mv -f "$tmp" ${p}`,
    "trap - EXIT",
  ].join("\n");
}

/** Prints "<mode> <owner> <group>" then the content, or exits 3 if there is no file. */
export function readScript(path: string): string {
  const p = shq(path);
  return `[ -f ${p} ] || exit 3\nstat -c '%a %U %G' ${p}\ncat ${p}`;
}

/** Puts the original back, or removes the file if there was none. */
export function removeScript(path: string): string {
  const p = shq(path);
  const b = shq(backupPathFor(path));
  // Our own directories go when the last file in them does.
  return `set -e\nif [ -e ${b} ]; then mv -f ${b} ${p}; else rm -f ${p}; fi\nrmdir ${shq(BACKUP_DIR)} /var/lib/ipv6gw 2>/dev/null || true`;
}

/** Splits readScript's output; undefined when the file is absent. */
export function parseRead(code: number, stdout: string): Pick<FileState, "mode" | "owner" | "group" | "content"> | undefined {
  if (code === 3) return undefined;
  const nl = stdout.indexOf("\n");
  const [mode, owner, group] = stdout.slice(0, nl).trim().split(/\s+/);
  return { mode: normalizeMode(mode), owner, group, content: stdout.slice(nl + 1) };
}

function sha256(content: string): string {
  return crypto.createHash("sha256").update(content).digest("hex");
}

export class RemoteFileProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new RemoteFileProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, RemoteFileProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, remoteFileSchema());
  }

  async diff(_id: string, olds: FileState, news: FileState) {
    return diffManaged(olds as never, news as never, MANAGED, ["path"]);
  }

  async create(inputs: FileState) {
    const remote = await this.open(inputs.connection);
    const out = await mustRun(remote, `writing ${inputs.path}`, writeScript(inputs, true), { stdin: inputs.content });
    const outs: FileState = { ...inputs, sha256: sha256(inputs.content), hadOriginal: out.trim() === "original" };
    return { id: inputs.path, outs };
  }

  async update(_id: string, olds: FileState, news: FileState) {
    if (!managedChanged(olds as never, news as never, MANAGED)) return { outs: { ...news, sha256: olds.sha256, hadOriginal: olds.hadOriginal } };
    const remote = await this.open(news.connection);
    await mustRun(remote, `writing ${news.path}`, writeScript(news, false), { stdin: news.content });
    return { outs: { ...news, sha256: sha256(news.content), hadOriginal: olds.hadOriginal } };
  }

  async read(id: string, props: FileState) {
    const remote = await this.open(props.connection);
    const result = await remote.run(readScript(props.path));
    if (result.code !== 0 && result.code !== 3) throw remoteCommandError(remote.where, `reading ${props.path}`, result);
    const live = parseRead(result.code, result.stdout);
    if (!live) return {};
    const state: FileState = withConnection(props, { ...props, ...live, sha256: sha256(live.content) });
    const { sha256: _s, hadOriginal: _h, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: FileState) {
    const remote = await this.open(props.connection);
    await mustRun(remote, `restoring ${props.path}`, removeScript(props.path));
  }
}

/** A file on a box, owned whole. */
export class RemoteFile extends ReferencedResource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  declare readonly mode: pulumi.Output<string>;
  declare readonly owner: pulumi.Output<string>;
  declare readonly group: pulumi.Output<string>;
  /** SHA-256 of the content: a cheap trigger for restarts. */
  declare readonly sha256: pulumi.Output<string>;
  /** Whether a file was there before; it comes back on delete. */
  declare readonly hadOriginal: pulumi.Output<boolean>;

  constructor(name: string, args: RemoteFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      RemoteFileProvider.reference,
      name,
      { ...args, sha256: undefined, hadOriginal: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "RemoteFile",
    );
  }
}
