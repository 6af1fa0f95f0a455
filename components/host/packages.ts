// Distribution packages that must be installed. Installs what is missing with
// the box's own package manager, reports installed versions, and on delete
// removes only what it installed, so the box ends as it was.
//
// A box's packages in one transaction: a Packages with `handOver` installs a
// whole plan at once (a site's, for its gateway) and owns none of it. It puts
// what it installed on the box's hand-over list, and each Packages that names
// a package on the list takes it over: it then owns it as if it had installed
// it, and removes it on delete as before. So removal keeps the order of the
// resources that use a package, and what nobody took over goes with the
// hand-over resource.

import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { PACKAGE_MANAGERS, PackageManager, DETECT_PACKAGE_MANAGER, noPackageManager } from "./platform";
import { HostResourceArgs, RemoteOpener, checkInputs, managedChanged, providerChanged, sshOpener, withConnection } from "./provider-kit";
import { Remote, remoteCommandError, lastLines, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function packagesSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    names: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._/:@=-]*$/, "is not a package name"))
      .min(1, "list at least one package")
      .transform((n) => [...new Set(n)].sort()),
    manager: z.enum(["auto", ...PACKAGE_MANAGERS]).default("auto"),
    handOver: z.boolean().default(false),
  });
}

export interface PackagesArgs extends HostResourceArgs {
  /** Package names in the box's own distribution. Order does not matter. */
  readonly names: pulumi.Input<pulumi.Input<string>[]>;
  /** The package manager. Defaults to "auto" (detected on the box). */
  readonly manager?: pulumi.Input<"auto" | PackageManager>;
  /**
   * Install them for other Packages resources to take over (see the file
   * comment): this one owns none of them. Defaults to false.
   */
  readonly handOver?: pulumi.Input<boolean>;
}

interface PackagesState {
  connection: Connection;
  names: string[];
  manager: "auto" | PackageManager;
  /** The manager that was used. */
  usedManager?: PackageManager;
  /** Installed version per name; "" when missing. */
  versions?: Record<string, string>;
  handOver?: boolean;
  /** What this resource installed or took over (and removes on delete). */
  installed?: string[];
  /** A hand-over resource: what it installed and put on the hand-over list. */
  handedOver?: string[];
}

/** The box's hand-over list (one name per line), and its lock (in /run/lock: never removed while in use). */
export const HANDOVER_DIR = "/var/lib/ipv6gw/packages";
const HANDOVER_LOCK = "/run/lock/ipv6gw-packages.lock";

/** Where the list lives (tests point it elsewhere). */
export interface HandOverPaths {
  readonly dir: string;
  readonly lock: string;
}
const ON_THE_BOX: HandOverPaths = { dir: HANDOVER_DIR, lock: HANDOVER_LOCK };

/** Puts names on the hand-over list. */
export function handOverScript(names: readonly string[], at: HandOverPaths = ON_THE_BOX): string {
  const list = shq(`${at.dir}/handed-over`);
  return [
    "set -e",
    `mkdir -p ${shq(at.dir)} ${shq(path.posix.dirname(at.lock))}`,
    `exec 9>${shq(at.lock)}`,
    "flock 9",
    `touch ${list}`,
    `{ cat ${list}; printf '%s\\n' ${names.map(shq).join(" ")}; } | LC_ALL=C sort -u > ${list}.new`,
    `mv -f ${list}.new ${list}`,
  ].join("\n");
}

/**
 * Takes names off the hand-over list and prints those that were on it. An
 * emptied list goes, with its directory and ours above it if they are empty.
 */
export function takeOverScript(names: readonly string[], at: HandOverPaths = ON_THE_BOX): string {
  const list = shq(`${at.dir}/handed-over`);
  return [
    `[ -f ${list} ] || exit 0`,
    "set -e",
    `exec 9>${shq(at.lock)}`,
    "flock 9",
    `for p in ${names.map(shq).join(" ")}; do if grep -qxF -e "$p" ${list}; then echo "$p"; fi; done > ${list}.taken`,
    `grep -vxF -f ${list}.taken ${list} > ${list}.new || true`,
    `mv -f ${list}.new ${list}`,
    `cat ${list}.taken`,
    `rm -f ${list}.taken`,
    `if [ ! -s ${list} ]; then rm -f ${list}; rmdir ${shq(at.dir)} ${shq(path.posix.dirname(at.dir))} 2>/dev/null || true; fi`,
  ].join("\n");
}

/** Takes names off the hand-over list; returns those that were on it. */
async function takeOver(remote: Remote, names: readonly string[]): Promise<string[]> {
  const out = await mustRun(remote, "taking over packages from the hand-over list", takeOverScript(names));
  return out.split("\n").filter((n) => names.includes(n));
}

/** Prints "name<TAB>version" per package; the version is empty when it is not installed. */
export function queryScript(manager: PackageManager, names: readonly string[]): string {
  const list = names.map(shq).join(" ");
  const loop = (body: string) => `for p in ${list}; do\n${body}\ndone`;
  switch (manager) {
    case "apt":
      return loop(
        `  s=$(dpkg-query -W -f='\${Status} \${Version}' "$p" 2>/dev/null || true)\n  case "$s" in "install ok installed "*) printf '%s\\t%s\\n' "$p" "\${s#install ok installed }";; *) printf '%s\\t\\n' "$p";; esac`,
      );
    case "dnf":
    case "yum":
    case "urpmi":
      return loop(`  v=$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$p" 2>/dev/null) || v=""\n  printf '%s\\t%s\\n' "$p" "$v"`);
    case "emerge":
      return loop(`  v=$(portageq best_version / "$p" 2>/dev/null || true)\n  printf '%s\\t%s\\n' "$p" "\${v##*/}"`);
    case "apk":
      return loop(`  v=$(apk list -I "$p" 2>/dev/null | awk 'NR==1{print $1}')\n  printf '%s\\t%s\\n' "$p" "\${v#"$p"-}"`);
  }
}

/**
 * Each package manager's install and remove commands; the package names
 * follow. apt waits for the dpkg lock (held by unattended-upgrades, say)
 * instead of failing at once.
 */
const COMMANDS: Record<PackageManager, { readonly install: string; readonly remove: string }> = {
  apt: { install: "apt-get -o DPkg::Lock::Timeout=600 install -y -q", remove: "apt-get -o DPkg::Lock::Timeout=600 purge -y -q --autoremove" },
  dnf: { install: "dnf install -y", remove: "dnf remove -y" },
  yum: { install: "yum install -y", remove: "yum remove -y" },
  urpmi: { install: "urpmi --auto", remove: "urpme --auto" },
  emerge: { install: "emerge --noreplace", remove: "emerge --depclean" },
  apk: { install: "apk add", remove: "apk del" },
};

/** Where our package operations on a box take turns (two Packages of one box may run at once; dpkg runs one). */
const MANAGER_LOCK = "/run/lock/ipv6gw-package-manager.lock";
const TAKE_TURNS = `exec 8>${MANAGER_LOCK}; flock 8`;

export function installScript(manager: PackageManager, names: readonly string[]): string {
  const command = `${COMMANDS[manager].install} ${names.map(shq).join(" ")}`;
  if (manager !== "apt") return `${TAKE_TURNS}\n${command}`;
  // Package lists may be missing or stale: refresh them once if the first try cannot find a package.
  return [
    TAKE_TURNS,
    "export DEBIAN_FRONTEND=noninteractive",
    `${command} 2>/tmp/ipv6gw-apt.err && exit 0`,
    `grep -qE 'Unable to locate package|has no installation candidate' /tmp/ipv6gw-apt.err || { cat /tmp/ipv6gw-apt.err >&2; exit 1; }`,
    "apt-get -o DPkg::Lock::Timeout=600 update -q >&2",
    command,
  ].join("\n");
}

export function removeScript(manager: PackageManager, names: readonly string[]): string {
  const command = `${COMMANDS[manager].remove} ${names.map(shq).join(" ")}`;
  return manager === "apt" ? `${TAKE_TURNS}\nexport DEBIAN_FRONTEND=noninteractive\n${command}` : `${TAKE_TURNS}\n${command}`;
}

export function parseVersions(stdout: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const [name, version = ""] = line.split("\t");
    versions[name] = version.trim();
  }
  return versions;
}

async function detectManager(remote: Remote, wanted: PackagesState["manager"]): Promise<PackageManager> {
  if (wanted !== "auto") return wanted;
  const found = (await mustRun(remote, "detecting the package manager", DETECT_PACKAGE_MANAGER)).trim();
  if (!(PACKAGE_MANAGERS as readonly string[]).includes(found)) throw noPackageManager(remote.where);
  return found as PackageManager;
}

async function versionsOf(remote: Remote, manager: PackageManager, names: readonly string[]) {
  return parseVersions(await mustRun(remote, "querying installed packages", queryScript(manager, names)));
}

/** Installs what is missing of `names`; returns what it installed and the versions after. */
async function ensure(remote: Remote, manager: PackageManager, names: readonly string[]) {
  const before = await versionsOf(remote, manager, names);
  const missing = names.filter((n) => !before[n]);
  if (missing.length === 0) return { installed: [] as string[], versions: before };
  const result = await remote.run(installScript(manager, missing), { timeoutSeconds: 3600 });
  const after = await versionsOf(remote, manager, names);
  const still = missing.filter((n) => !after[n]);
  if (still.length > 0) {
    throw new Error(
      `package(s) ${still.map((n) => `'${n}'`).join(", ")} could not be installed with ${manager} on ${remote.where}: ` +
        `${lastLines(result.stderr || result.stdout, 6) || "no output"}. Check the names for this distribution and that its repositories are reachable`,
    );
  }
  if (result.code !== 0) throw remoteCommandError(remote.where, `installing ${missing.join(" ")}`, result);
  return { installed: missing, versions: after };
}

export class PackagesProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new PackagesProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, PackagesProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, packagesSchema());
  }

  async diff(_id: string, olds: PackagesState, news: PackagesState) {
    const missing = Object.values(olds.versions ?? {}).some((v) => v === "");
    const changed = JSON.stringify(olds.names) !== JSON.stringify(news.names) || olds.manager !== news.manager || Boolean(olds.handOver) !== news.handOver;
    return { changes: changed || missing || providerChanged(olds as never, news as never), replaces: [] };
  }

  async create(inputs: PackagesState) {
    const remote = await this.open(inputs.connection);
    const manager = await detectManager(remote, inputs.manager);
    const { installed, versions } = await ensure(remote, manager, inputs.names);
    const id = `packages:${inputs.names.join(",")}`;
    if (inputs.handOver) {
      if (installed.length > 0) await mustRun(remote, "handing packages over", handOverScript(installed));
      return { id, outs: { ...inputs, usedManager: manager, versions, installed: [], handedOver: installed } };
    }
    const taken = await takeOver(remote, inputs.names);
    return { id, outs: { ...inputs, usedManager: manager, versions, installed: [...new Set([...installed, ...taken])].sort() } };
  }

  async update(_id: string, olds: PackagesState, news: PackagesState) {
    const missing = Object.values(olds.versions ?? {}).some((v) => v === "");
    if (!missing && !managedChanged(olds as never, news as never, ["names", "manager", "handOver"])) {
      return { outs: { ...news, usedManager: olds.usedManager, versions: olds.versions, installed: olds.installed, handedOver: olds.handedOver } };
    }
    const remote = await this.open(news.connection);
    const manager = await detectManager(remote, news.manager);
    const { installed, versions } = await ensure(remote, manager, news.names);
    if (news.handOver) {
      if (installed.length > 0) await mustRun(remote, "handing packages over", handOverScript(installed));
      // What it handed over and no longer plans goes, unless another resource took it over meanwhile.
      const handed = [...new Set([...(olds.handedOver ?? []), ...installed])];
      const gone = await takeOver(remote, handed.filter((n) => !news.names.includes(n)));
      if (gone.length > 0) await mustRun(remote, `removing ${gone.join(" ")}`, removeScript(manager, gone), { timeoutSeconds: 3600 });
      return { outs: { ...news, usedManager: manager, versions, installed: [], handedOver: handed.filter((n) => news.names.includes(n)) } };
    }
    const taken = await takeOver(remote, news.names);
    const ours = [...new Set([...(olds.installed ?? []), ...installed, ...taken])].sort();
    const dropped = ours.filter((n) => !news.names.includes(n));
    if (dropped.length > 0) await mustRun(remote, `removing ${dropped.join(" ")}`, removeScript(manager, dropped), { timeoutSeconds: 3600 });
    return { outs: { ...news, usedManager: manager, versions, installed: ours.filter((n) => news.names.includes(n)) } };
  }

  async read(id: string, props: PackagesState) {
    const remote = await this.open(props.connection);
    const manager = props.usedManager ?? (await detectManager(remote, props.manager));
    const versions = await versionsOf(remote, manager, props.names);
    return { id, props: withConnection(props, { ...props, versions }) };
  }

  async delete(_id: string, props: PackagesState) {
    if (!props.usedManager || !(props.installed?.length || props.handedOver?.length)) return;
    const remote = await this.open(props.connection);
    // A hand-over resource removes what nobody took over.
    const ours = props.handedOver?.length ? [...(props.installed ?? []), ...(await takeOver(remote, props.handedOver))] : props.installed!;
    if (ours.length === 0) return;
    await mustRun(remote, `removing ${ours.join(" ")}`, removeScript(props.usedManager, ours), { timeoutSeconds: 3600 });
  }
}

/** Packages that must be installed on a box. */
export class Packages extends ReferencedResource {
  declare readonly names: pulumi.Output<string[]>;
  declare readonly usedManager: pulumi.Output<PackageManager>;
  /** Installed version per package ("" while missing). */
  declare readonly versions: pulumi.Output<Record<string, string>>;
  /** What this resource installed or took over; delete removes exactly these. */
  declare readonly installed: pulumi.Output<string[]>;
  /** A hand-over resource: what it installed and left for others to take over. */
  declare readonly handedOver: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: PackagesArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      PackagesProvider.reference,
      name,
      { ...args, usedManager: undefined, versions: undefined, installed: undefined, handedOver: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "Packages",
    );
  }
}
