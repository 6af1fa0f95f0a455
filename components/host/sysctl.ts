// A kernel parameter: its runtime value, and a file under /etc/sysctl.d so
// it survives a reboot (systemd-sysctl and procps both read that directory;
// systemd re-applies per-interface keys when the interface appears).

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "./provider-kit";
import { remoteCommandError, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function sysctlSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    key: z
      .string()
      .regex(/^[a-z0-9_]+([./][A-Za-z0-9_.@-]+)+$/, "must be a sysctl key like 'net.ipv6.conf.all.forwarding'")
      .transform((k) => k.replace(/\//g, ".")),
    value: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^[^\n]+$/, "must be one line")),
    persist: z.boolean().default(true),
  });
}

export interface SysctlArgs extends HostResourceArgs {
  /** The key, dotted ("net.ipv6.conf.all.forwarding"). Changing it replaces the resource. */
  readonly key: pulumi.Input<string>;
  /** The value to hold. */
  readonly value: pulumi.Input<string | number>;
  /** Also write /etc/sysctl.d/60-ipv6gw-<key>.conf so a reboot keeps it. Defaults to true. */
  readonly persist?: pulumi.Input<boolean>;
}

interface SysctlState {
  connection: Connection;
  key: string;
  value: string;
  persist: boolean;
  /** The runtime value before we set it, restored on delete. */
  previous?: string;
}

const MANAGED = ["key", "value", "persist"] as const;

export function sysctlFile(key: string): string {
  return `/etc/sysctl.d/60-ipv6gw-${key}.conf`;
}

/** What sysctlFile holds for a persisted value (one line after the header, as sysctl.d(5) reads it). */
export function sysctlFileText(key: string, value: string): string {
  return `# Managed by ipv6gw (Pulumi).\n${key} = ${value}\n`;
}

/** /proc path of a key; interface names may contain dots, so only the known prefix is split. */
export function procPath(key: string): string {
  const m = /^(net\.ipv[46]\.(?:conf|neigh))\.([^.]+(?:\.[^.]+)*?)\.([a-z0-9_]+)$/.exec(key);
  if (m) return `/proc/sys/${m[1].replace(/\./g, "/")}/${m[2]}/${m[3]}`;
  return `/proc/sys/${key.replace(/\./g, "/")}`;
}

/** Prints the value before the change, then sets and (optionally) persists. */
export function applyScript(s: Pick<SysctlState, "key" | "value" | "persist">): string {
  const proc = shq(procPath(s.key));
  const file = shq(sysctlFile(s.key));
  return [
    "set -e",
    `[ -e ${proc} ] || { echo "no such kernel parameter: ${s.key} (${procPath(s.key)} is missing)" >&2; exit 4; }`,
    `cat ${proc}`,
    `printf '%s\\n' ${shq(s.value)} > ${proc}`,
    s.persist
      ? `mkdir -p /etc/sysctl.d\nprintf '%s' ${shq(sysctlFileText(s.key, s.value))} > ${file}.tmp\nmv -f ${file}.tmp ${file}`
      : `rm -f ${file}`,
  ].join("\n");
}

/** Prints the runtime value, then the persisted value (or nothing). Exit 3 if the key does not exist. */
export function readScript(key: string): string {
  const proc = shq(procPath(key));
  const file = shq(sysctlFile(key));
  return `[ -e ${proc} ] || exit 3\ncat ${proc}\n[ -f ${file} ] && sed -n 's/^[^#].*= *//p' ${file} || true`;
}

export function restoreScript(s: Pick<SysctlState, "key" | "previous">): string {
  const proc = shq(procPath(s.key));
  const restore = s.previous === undefined ? ":" : `[ -e ${proc} ] && printf '%s\\n' ${shq(s.previous)} > ${proc} || true`;
  return `set -e\nrm -f ${shq(sysctlFile(s.key))}\n${restore}`;
}

/** Kernel output uses tabs between vector values ("4096\t131072\t6291456"). */
export function normalizeValue(v: string): string {
  return v.trim().split(/\s+/).join(" ");
}

export class SysctlProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new SysctlProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, SysctlProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, sysctlSchema());
  }

  async diff(_id: string, olds: SysctlState, news: SysctlState) {
    return diffManaged({ ...olds, value: normalizeValue(olds.value) }, { ...news, value: normalizeValue(news.value) }, MANAGED, ["key"]);
  }

  async create(inputs: SysctlState) {
    const remote = await this.open(inputs.connection);
    const previous = normalizeValue(await mustRun(remote, `setting ${inputs.key}`, applyScript(inputs)));
    return { id: inputs.key, outs: { ...inputs, previous } };
  }

  async update(_id: string, olds: SysctlState, news: SysctlState) {
    if (!managedChanged({ ...olds, value: normalizeValue(olds.value) }, { ...news, value: normalizeValue(news.value) }, MANAGED)) {
      return { outs: { ...news, previous: olds.previous } };
    }
    const remote = await this.open(news.connection);
    await mustRun(remote, `setting ${news.key}`, applyScript(news));
    return { outs: { ...news, previous: olds.previous } };
  }

  async read(id: string, props: SysctlState) {
    const remote = await this.open(props.connection);
    const result = await remote.run(readScript(props.key));
    if (result.code === 3) return {};
    if (result.code !== 0) throw remoteCommandError(remote.where, `reading ${props.key}`, result);
    const [runtime, persisted] = result.stdout.split("\n");
    // A persisted file holding another value will not survive a reboot as asked: that is drift too.
    const persist = persisted !== undefined && persisted.trim() !== "" && normalizeValue(persisted) === normalizeValue(props.value);
    const live = { value: normalizeValue(runtime), persist };
    const state = withConnection(props, { ...props, ...live });
    const { previous: _p, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: SysctlState) {
    const remote = await this.open(props.connection);
    await mustRun(remote, `restoring ${props.key}`, restoreScript(props));
  }
}

/** A kernel parameter held at a value. */
export class Sysctl extends ReferencedResource {
  declare readonly key: pulumi.Output<string>;
  declare readonly value: pulumi.Output<string>;
  declare readonly persist: pulumi.Output<boolean>;
  /** The value before we set it; delete puts it back. */
  declare readonly previous: pulumi.Output<string>;

  constructor(name: string, args: SysctlArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      SysctlProvider.reference,
      name,
      { ...args, previous: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "Sysctl",
    );
  }
}
