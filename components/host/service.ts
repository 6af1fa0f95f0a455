// A service enabled at boot and running (or deliberately not), under systemd,
// OpenRC or SysV init. A change of `restartTrigger` (say a config file's
// hash) restarts it. Delete puts back the enabled/running state it found.

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { DETECT_SERVICE_MANAGER, SERVICE_MANAGERS, ServiceManager, noServiceManager } from "./platform";
import { HostResourceArgs, RemoteOpener, checkInputs, diffManaged, managedChanged, sshOpener, withConnection } from "./provider-kit";
import { Remote, remoteCommandError, lastLines, mustRun, shq } from "./remote";
import { ReferencedResource, providerReference } from "./provider-reference";

export function serviceSchema() {
  const { z } = require("zod") as typeof import("zod");
  return z.object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/, "is not a service name"),
    enabled: z.boolean().default(true),
    running: z.union([z.boolean(), z.literal("unmanaged")]).default(true),
    manager: z.enum(["auto", ...SERVICE_MANAGERS]).default("auto"),
    restartTrigger: z.string().default(""),
  });
}

export interface ServiceArgs extends HostResourceArgs {
  /** Unit or init script name ("radvd", "gw6c"). Changing it replaces the resource. */
  readonly name: pulumi.Input<string>;
  /** Start at boot. Defaults to true. */
  readonly enabled?: pulumi.Input<boolean>;
  /**
   * Running now. Defaults to true. "unmanaged" leaves it as it is: for
   * services that only load state at boot (netfilter-persistent), where a
   * start or stop would act on live state we manage elsewhere.
   */
  readonly running?: pulumi.Input<boolean | "unmanaged">;
  /** Service manager. Defaults to "auto" (detected on the box). */
  readonly manager?: pulumi.Input<"auto" | ServiceManager>;
  /** Any string; when it changes, a running service is restarted (pass a config file's sha256). Defaults to "". */
  readonly restartTrigger?: pulumi.Input<string>;
}

interface ServiceState {
  connection: Connection;
  name: string;
  enabled: boolean;
  running: boolean | "unmanaged";
  manager: "auto" | ServiceManager;
  restartTrigger: string;
  usedManager?: ServiceManager;
  /** What we found before taking over, put back on delete. */
  previous?: { enabled: boolean; running: boolean };
}

/** How long a systemd service may take to become active before the apply fails. */
export const START_TIMEOUT_SECONDS = 90;

function managedKeys(s: Pick<ServiceState, "running">): string[] {
  return s.running === "unmanaged" ? ["name", "enabled", "restartTrigger"] : ["name", "enabled", "running", "restartTrigger"];
}

/** Prints "enabled=<0|1> running=<0|1>", or exits 3 when the service does not exist. */
export function statusScript(manager: ServiceManager, name: string): string {
  const n = shq(name);
  switch (manager) {
    case "systemd":
      return [
        `load=$(systemctl show -p LoadState --value ${n} 2>/dev/null)`,
        `[ "$load" = loaded ] || exit 3`,
        `case "$(systemctl is-enabled ${n} 2>/dev/null)" in enabled|enabled-runtime|static|alias|indirect|generated) e=1;; *) e=0;; esac`,
        `systemctl is-active --quiet ${n} && r=1 || r=0`,
        `echo "enabled=$e running=$r"`,
      ].join("\n");
    case "openrc":
      return [
        `[ -x /etc/init.d/${name} ] || exit 3`,
        `rc-update show default 2>/dev/null | grep -qE "^ *${name} " && e=1 || e=0`,
        `rc-service ${n} status >/dev/null 2>&1 && r=1 || r=0`,
        `echo "enabled=$e running=$r"`,
      ].join("\n");
    case "sysv":
      return [
        `[ -x /etc/init.d/${name} ] || exit 3`,
        "lvl=$(runlevel 2>/dev/null | awk '{print $2}'); case \"$lvl\" in [0-9]) ;; *) lvl=3;; esac",
        `ls /etc/rc$lvl.d/S[0-9][0-9]${name} >/dev/null 2>&1 && e=1 || e=0`,
        `/etc/init.d/${name} status >/dev/null 2>&1 && r=1 || r=0`,
        `echo "enabled=$e running=$r"`,
      ].join("\n");
  }
}

/** Brings the service to the wanted state; `restart` restarts it when it should run. */
export function applyScript(manager: ServiceManager, name: string, enabled: boolean, running: boolean | "unmanaged", restart: boolean): string {
  const n = shq(name);
  const lines = ["set -e"];
  switch (manager) {
    case "systemd":
      // A reload only when this unit's files changed since systemd read them (or it has not read
      // them): each takes a quarter second, and services applied side by side queue on it. The
      // boot-time links need none (systemd reads them at boot), hence --no-reload; and none at all
      // when they are there already (for a unit with a SysV script as well, Debian's systemctl
      // runs update-rc.d: half a second).
      lines.push(
        `st=$(systemctl show -p LoadState -p NeedDaemonReload ${n})`,
        `if ! printf '%s\n' "$st" | grep -qx LoadState=loaded || printf '%s\n' "$st" | grep -qx NeedDaemonReload=yes; then systemctl daemon-reload; fi`,
        `[ "$(systemctl is-enabled ${n} 2>/dev/null)" = ${enabled ? "enabled" : "disabled"} ] || systemctl ${enabled ? "enable" : "disable"} --quiet --no-reload ${n}`,
      );
      if (running === false) lines.push(`systemctl stop ${n}`);
      if (running === true) {
        // Not blocking on the job: a daemon that forks only once it is ready (gw6c after the
        // broker answers) would hold the deployment forever. Wait a bounded time, then say why.
        // The state counts once the unit's job is done (the job is queued before systemctl
        // returns): until then "active" may be the instance a restart replaces, and "inactive"
        // a start waiting on a dependency. Polled every 0.1 s: a deployment starts services in turn.
        lines.push(
          `systemctl ${restart ? "restart" : "start"} --no-block ${n}`,
          `end=$(($(date +%s) + ${START_TIMEOUT_SECONDS})); while [ "$(date +%s)" -lt "$end" ]; do`,
          `  if ! systemctl show -p Job ${n} | grep -q '^Job=[0-9]'; then`,
          `    case "$(systemctl is-active ${n})" in active) exit 0 ;; failed|inactive) exit 1 ;; esac`,
          "  fi",
          "  sleep 0.1",
          "done",
          `echo "still not active after ${START_TIMEOUT_SECONDS} s ($(systemctl is-active ${n}))" >&2; exit 1`,
        );
      }
      break;
    case "openrc":
      lines.push(enabled ? `rc-update add ${n} default >/dev/null` : `rc-update del ${n} default >/dev/null 2>&1 || true`);
      if (running !== "unmanaged") lines.push(running ? `rc-service ${n} ${restart ? "restart" : "start"}` : `rc-service ${n} stop`);
      break;
    case "sysv":
      lines.push(
        enabled
          ? `if command -v chkconfig >/dev/null 2>&1; then chkconfig --add ${n}; chkconfig ${n} on; else update-rc.d ${n} defaults >/dev/null; update-rc.d ${n} enable >/dev/null; fi`
          : `if command -v chkconfig >/dev/null 2>&1; then chkconfig ${n} off; else update-rc.d ${n} disable >/dev/null 2>&1 || true; fi`,
      );
      if (running === "unmanaged") break;
      lines.push(
        running
          ? restart
            ? `/etc/init.d/${name} restart`
            : `/etc/init.d/${name} status >/dev/null 2>&1 || /etc/init.d/${name} start`
          : `/etc/init.d/${name} status >/dev/null 2>&1 && /etc/init.d/${name} stop || true`,
      );
      break;
  }
  return lines.join("\n");
}

/** Why a service failed, from its manager's own log. */
export function diagnoseScript(manager: ServiceManager, name: string): string {
  if (manager === "systemd") return `systemctl status --no-pager -l ${shq(name)} 2>&1 | tail -n 15; journalctl -u ${shq(name)} -n 15 --no-pager 2>&1`;
  return `/etc/init.d/${name} status 2>&1 | tail -n 15`;
}

export function parseStatus(stdout: string): { enabled: boolean; running: boolean } {
  const m = /enabled=([01]) running=([01])/.exec(stdout);
  if (!m) throw new Error(`unexpected service status output: ${JSON.stringify(stdout)}`);
  return { enabled: m[1] === "1", running: m[2] === "1" };
}

async function detectManager(remote: Remote, wanted: ServiceState["manager"]): Promise<ServiceManager> {
  if (wanted !== "auto") return wanted;
  const found = (await mustRun(remote, "detecting the service manager", DETECT_SERVICE_MANAGER)).trim();
  if (!(SERVICE_MANAGERS as readonly string[]).includes(found)) throw noServiceManager(remote.where);
  return found as ServiceManager;
}

async function status(remote: Remote, manager: ServiceManager, name: string) {
  const result = await remote.run(statusScript(manager, name));
  if (result.code === 3) return undefined;
  if (result.code !== 0) throw remoteCommandError(remote.where, `reading the state of service ${name}`, result);
  return parseStatus(result.stdout);
}

async function converge(remote: Remote, manager: ServiceManager, s: ServiceState, restart: boolean): Promise<void> {
  const result = await remote.run(applyScript(manager, s.name, s.enabled, s.running, restart));
  if (result.code === 0) return;
  const why = await remote.run(diagnoseScript(manager, s.name));
  throw new Error(
    `service ${s.name} on ${remote.where} could not be ${s.running === false ? "stopped" : "started"} (${manager}): ` +
      `${lastLines(result.stderr || result.stdout, 6)}\n${lastLines(why.stdout, 20)}`,
  );
}

export class ServiceProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new ServiceProvider(sshOpener);
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, ServiceProvider);
  constructor(private readonly open: RemoteOpener) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    return checkInputs(news, serviceSchema());
  }

  async diff(_id: string, olds: ServiceState, news: ServiceState) {
    return diffManaged(olds as never, news as never, managedKeys(news), ["name"]);
  }

  async create(inputs: ServiceState) {
    const remote = await this.open(inputs.connection);
    const manager = await detectManager(remote, inputs.manager);
    let previous = await status(remote, manager, inputs.name);
    if (!previous && manager === "systemd") {
      // A unit file just written by another resource stays unknown to systemd until it reloads when
      // the unit was looked up before (another unit's Requires= names it, say).
      await mustRun(remote, "reloading systemd's units", "systemctl daemon-reload");
      previous = await status(remote, manager, inputs.name);
    }
    if (!previous) {
      throw new Error(`service ${inputs.name} does not exist on ${remote.where} (${manager}): install its package or unit file first`);
    }
    await converge(remote, manager, inputs, false);
    return { id: inputs.name, outs: { ...inputs, usedManager: manager, previous } };
  }

  async update(_id: string, olds: ServiceState, news: ServiceState) {
    if (!managedChanged(olds as never, news as never, managedKeys(news))) return { outs: { ...news, usedManager: olds.usedManager, previous: olds.previous } };
    const remote = await this.open(news.connection);
    const manager = olds.usedManager ?? (await detectManager(remote, news.manager));
    await converge(remote, manager, news, olds.restartTrigger !== news.restartTrigger && olds.running === true);
    return { outs: { ...news, usedManager: manager, previous: olds.previous } };
  }

  async read(id: string, props: ServiceState) {
    const remote = await this.open(props.connection);
    const manager = props.usedManager ?? (await detectManager(remote, props.manager));
    const live = await status(remote, manager, props.name);
    if (!live) return {};
    const state = withConnection(props, { ...props, ...live, running: props.running === "unmanaged" ? "unmanaged" : live.running });
    const { usedManager: _u, previous: _p, ...inputs } = state;
    return { id, props: state, inputs };
  }

  async delete(_id: string, props: ServiceState) {
    if (!props.usedManager) return;
    const remote = await this.open(props.connection);
    // The unit may be gone already (its package removed first): then there is nothing to put back.
    if (!(await status(remote, props.usedManager, props.name))) return;
    const before = props.previous ?? { enabled: false, running: false };
    const running = props.running === "unmanaged" ? "unmanaged" : before.running;
    await converge(remote, props.usedManager, { ...props, enabled: before.enabled, running }, false);
  }
}

/** A service held enabled/running (or not). */
export class Service extends ReferencedResource {
  declare readonly name: pulumi.Output<string>;
  declare readonly enabled: pulumi.Output<boolean>;
  declare readonly running: pulumi.Output<boolean | "unmanaged">;
  declare readonly usedManager: pulumi.Output<ServiceManager>;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ServiceProvider.reference,
      name,
      { ...args, usedManager: undefined, previous: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "Service",
    );
  }
}
