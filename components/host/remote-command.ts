// A one-shot action on a box (build gw6c from source, restart a daemon,
// probe), shaped like @pulumi/command's `remote.Command`: `create`, `update`,
// `delete`, `triggers` (replace on change) and `stdin`. We carry our own
// because that provider cannot be built here (its Go module is not served by
// the module proxy), and we add what it lacks: an optional `present` probe, so
// a refresh can tell that the action's effect is gone from the box (a box
// rebuilt under old state) and `up` runs it again.

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { HostResourceArgs, RemoteOpener, checkInputs, managedChanged, providerChanged, sameValue, sshOpener } from "./provider-kit";
import { mustRun, namedError, remoteCommandError } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function remoteCommandSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    create: z.string().min(1, "is required: the script to run"),
    update: z.string().optional(),
    delete: z.string().optional(),
    present: z.string().optional(),
    triggers: z.array(z.unknown()).default([]),
    stdin: z.string().optional(),
    stdinFile: z.string().optional(),
    timeoutSeconds: z.number().int().positive().default(600),
  });
}

export interface RemoteCommandArgs extends HostResourceArgs {
  /** Script (POSIX sh, as root) run when the resource is created or replaced. */
  readonly create: pulumi.Input<string>;
  /** Script run when other inputs change. Defaults to running `create` again. */
  readonly update?: pulumi.Input<string>;
  /** Script run when the resource is deleted. Defaults to nothing. */
  readonly delete?: pulumi.Input<string>;
  /**
   * Script that exits 0 while the action's effect is on the box. Refresh runs
   * it; a non-zero exit marks the resource gone, so `up` runs `create` again.
   * Defaults to none (the effect is assumed to last, as with remote.Command).
   */
  readonly present?: pulumi.Input<string>;
  /** Any values; a change replaces the resource (runs `delete`, then `create`). */
  readonly triggers?: pulumi.Input<unknown[]>;
  /** Bytes for the scripts' stdin: how secrets are passed. */
  readonly stdin?: pulumi.Input<string>;
  /**
   * A local file (on the machine running pulumi) streamed as stdin instead,
   * read when the script runs, so large payloads (a source tarball) stay out
   * of state. Put its hash in `triggers` to act on a new version.
   */
  readonly stdinFile?: pulumi.Input<string>;
  /** Seconds each script may run. Defaults to 600. */
  readonly timeoutSeconds?: pulumi.Input<number>;
}

interface CommandState {
  connection: Connection;
  create: string;
  update?: string;
  delete?: string;
  present?: string;
  triggers: unknown[];
  stdin?: string;
  stdinFile?: string;
  timeoutSeconds: number;
  stdout?: string;
  stderr?: string;
}

const SCRIPTS = ["create", "update", "delete", "present", "stdin", "stdinFile", "timeoutSeconds"] as const;

function stdinOf(s: Pick<CommandState, "stdin" | "stdinFile">): string | Buffer | undefined {
  if (s.stdinFile === undefined) return s.stdin;
  const fs = require("fs") as typeof import("fs");
  try {
    return fs.readFileSync(s.stdinFile);
  } catch (e) {
    throw namedError("RemoteCommandError", `cannot read stdinFile ${s.stdinFile} on this machine: ${(e as Error).message}`);
  }
}

export class RemoteCommandProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new RemoteCommandProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, RemoteCommandProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, remoteCommandSchema());
  }

  async diff(_id: string, olds: CommandState, news: CommandState) {
    const replace = !sameValue(olds.triggers, news.triggers);
    const changed = managedChanged(olds as never, news as never, SCRIPTS);
    return { changes: replace || changed || providerChanged(olds as never, news as never), replaces: replace ? ["triggers"] : [], deleteBeforeReplace: true };
  }

  private async exec(s: CommandState, script: string, what: string) {
    const remote = await this.open(s.connection);
    const result = await remote.run(script, { stdin: stdinOf(s), timeoutSeconds: s.timeoutSeconds });
    if (result.code !== 0) throw remoteCommandError(remote.where, what, result);
    return { stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
  }

  async create(inputs: CommandState) {
    const out = await this.exec(inputs, inputs.create, "create script");
    return { id: `cmd-${Date.now().toString(36)}`, outs: { ...inputs, ...out } };
  }

  async update(_id: string, olds: CommandState, news: CommandState) {
    if (!managedChanged(olds as never, news as never, SCRIPTS)) return { outs: { ...news, stdout: olds.stdout, stderr: olds.stderr } };
    const out = await this.exec(news, news.update ?? news.create, news.update ? "update script" : "create script");
    return { outs: { ...news, ...out } };
  }

  async read(id: string, props: CommandState) {
    if (!props.present) return { id, props };
    const remote = await this.open(props.connection);
    const result = await remote.run(props.present, { timeoutSeconds: props.timeoutSeconds });
    return result.code === 0 ? { id, props } : {};
  }

  async delete(_id: string, props: CommandState) {
    if (!props.delete) return;
    const remote = await this.open(props.connection);
    await mustRun(remote, "delete script", props.delete, { stdin: props.stdinFile ? undefined : props.stdin, timeoutSeconds: props.timeoutSeconds });
  }
}

/** A one-shot action on a box; see the file comment. */
export class RemoteCommand extends ReferencedResource {
  /** The last run script's stdout (trailing newline trimmed). */
  declare readonly stdout: pulumi.Output<string>;
  declare readonly stderr: pulumi.Output<string>;

  constructor(name: string, args: RemoteCommandArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      RemoteCommandProvider.reference,
      name,
      { ...args, stdout: undefined, stderr: undefined },
      { ...opts, additionalSecretOutputs: ["connection", "stdin", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "RemoteCommand",
    );
  }
}
