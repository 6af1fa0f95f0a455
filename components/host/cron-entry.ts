// One line in a user's crontab, as the HOWTO's watchdog is (step 24:
// `crontab -l -u root | grep gw6c`). The line is owned through a marker
// comment above it, so other lines are left alone and delete removes ours.

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "./provider-kit";
import { Remote, remoteCommandError, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function cronEntrySchema() {
  const { z } = require("zod") as typeof import("zod");
  const field = "(\\*|[0-9,*/-]+|[A-Za-z]{3})";
  return z.object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and '-'"),
    schedule: z
      .string()
      .trim()
      .regex(new RegExp(`^(@(reboot|hourly|daily|weekly|monthly|yearly|annually)|${field}( ${field}){4})$`), "must be five cron fields ('0 * * * *') or an @keyword"),
    command: z.string().min(1).regex(/^[^\n%]+$/, "must be one line without '%' (cron turns % into newlines)"),
    user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, "must be a user name").default("root"),
  });
}

export interface CronEntryArgs extends HostResourceArgs {
  /** Marker name, unique per user crontab. Changing it replaces the resource. */
  readonly name: pulumi.Input<string>;
  /** When: five cron fields or an @keyword. */
  readonly schedule: pulumi.Input<string>;
  /** What to run (one line). */
  readonly command: pulumi.Input<string>;
  /** Whose crontab. Defaults to "root". Changing it replaces the resource. */
  readonly user?: pulumi.Input<string>;
}

interface CronState {
  connection: Connection;
  name: string;
  schedule: string;
  command: string;
  user: string;
}

const MANAGED = ["name", "schedule", "command", "user"] as const;

export function marker(name: string): string {
  return `# ipv6gw:${name}`;
}

/** The user's crontab without our block for `name` (marker line + the line after it). */
function withoutOurs(user: string, name: string): string {
  return `{ crontab -u ${shq(user)} -l 2>/dev/null || true; } | awk -v m=${shq(marker(name))} 'skip{skip=0;next} $0==m{skip=1;next} {print}'`;
}

const NEED_CRON = `command -v crontab >/dev/null 2>&1 || { echo "crontab not found: install cron (Debian: cron, Fedora/CentOS: cronie)" >&2; exit 5; }`;

export function installScript(c: Pick<CronState, "name" | "schedule" | "command" | "user">): string {
  return [
    "set -e",
    NEED_CRON,
    `{ ${withoutOurs(c.user, c.name)}; printf '%s\\n%s %s\\n' ${shq(marker(c.name))} ${shq(c.schedule)} ${shq(c.command)}; } | crontab -u ${shq(c.user)} -`,
  ].join("\n");
}

export function removeScript(c: Pick<CronState, "name" | "user">): string {
  return ["set -e", NEED_CRON, `${withoutOurs(c.user, c.name)} | crontab -u ${shq(c.user)} -`].join("\n");
}

/** Prints the line after our marker; exits 3 when it is absent. */
export function readScript(c: Pick<CronState, "name" | "user">): string {
  return [
    NEED_CRON,
    `line=$(crontab -u ${shq(c.user)} -l 2>/dev/null | awk -v m=${shq(marker(c.name))} 'found{print;exit} $0==m{found=1}')`,
    `[ -n "$line" ] || exit 3`,
    `printf '%s\\n' "$line"`,
  ].join("\n");
}

/** Splits a crontab line into schedule and command. */
export function parseLine(line: string): { schedule: string; command: string } {
  const t = line.trim();
  const m = t.startsWith("@") ? /^(\S+)\s+(.*)$/.exec(t) : /^(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.*)$/.exec(t);
  if (!m) return { schedule: "", command: t };
  return { schedule: m[1].replace(/\s+/g, " "), command: m[2] };
}

async function readEntry(remote: Remote, c: CronState) {
  const result = await remote.run(readScript(c));
  if (result.code === 3) return undefined;
  if (result.code !== 0) throw remoteCommandError(remote.where, `reading ${c.user}'s crontab`, result);
  return parseLine(result.stdout);
}

export class CronEntryProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new CronEntryProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, CronEntryProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, cronEntrySchema());
  }

  async diff(_id: string, olds: CronState, news: CronState) {
    return diffManaged(olds as never, news as never, MANAGED, ["name", "user"], true);
  }

  async create(inputs: CronState) {
    const remote = await this.open(inputs.connection);
    await mustRun(remote, `adding cron entry ${inputs.name}`, installScript(inputs));
    return { id: `${inputs.user}:${inputs.name}`, outs: inputs };
  }

  async update(_id: string, olds: CronState, news: CronState) {
    if (!managedChanged(olds as never, news as never, MANAGED)) return { outs: news };
    const remote = await this.open(news.connection);
    await mustRun(remote, `updating cron entry ${news.name}`, installScript(news));
    return { outs: news };
  }

  async read(id: string, props: CronState) {
    const remote = await this.open(props.connection);
    const live = await readEntry(remote, props);
    if (!live) return {};
    const state = withConnection(props, { ...props, ...live });
    return { id, props: state, inputs: state };
  }

  async delete(_id: string, props: CronState) {
    const remote = await this.open(props.connection);
    await mustRun(remote, `removing cron entry ${props.name}`, removeScript(props));
  }
}

/** A crontab line owned by the stack. */
export class CronEntry extends ReferencedResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly schedule: pulumi.Output<string>;
  declare readonly command: pulumi.Output<string>;
  declare readonly user: pulumi.Output<string>;

  constructor(name: string, args: CronEntryArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      CronEntryProvider.reference,
      name,
      { ...args },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "CronEntry",
    );
  }
}
