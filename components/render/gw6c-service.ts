// Service definitions for gw6c 5.1 installed under an install dir (the
// HOWTO's /usr/local/gw6c): a systemd unit, a RedHat/CentOS/Mandriva SysV
// init script, a Gentoo OpenRC script, and the HOWTO's cron watchdog. Pure.
//
// gw6c facts these encode (gw6c-and-tsp.md section 3):
// - it reads gw6c.conf, its log and broker-list files relative to the CWD;
// - it forks into the background only after a successful negotiation and
//   retries in the foreground until then;
// - only SIGHUP runs its teardown (tunnel, routes, radvd); SIGTERM leaves
//   them behind;
// - in router mode it starts its own radvd, so the distro's must not run.

import { MANAGED_HEADER, checkAbsolutePath, renderError } from "./kit";


/** Default install directory, as in the HOWTO (`make ... install installdir=/usr/local/gw6c`). */
export const GW6C_DEFAULT_INSTALL_DIR = "/usr/local/gw6c";

/** Where gw6c lives on the box. */
export interface Gw6cServicePaths {
  /** Install directory; also the working directory. Default {@link GW6C_DEFAULT_INSTALL_DIR}. */
  readonly installDir?: string;
  /** gw6c.conf path. Default `<installDir>/etc/gw6c.conf` (the HOWTO moves it out of bin/). */
  readonly configPath?: string;
  /**
   * The runtime helper (render/gw6c-runtime.ts): run with `prestart` before
   * each start (clears a dead gw6c's leftovers, prepares radvd's runtime
   * directory, backs off after failures) and `cleanup` after each stop.
   * Default: none.
   */
  readonly helperPath?: string;
}

/** Resolved paths: install dir, config file and binary (`<installDir>/bin/gw6c`). */
export interface ResolvedGw6cPaths {
  /** Install and working directory. */
  readonly installDir: string;
  /** gw6c.conf path passed with `-f`. */
  readonly configPath: string;
  /** `<installDir>/bin/gw6c`. */
  readonly binary: string;
  readonly helperPath?: string;
}



// Paths end up unquoted in unit files and shell scripts: keep them plain.
function checkPath(what: string, field: string, path: string): void {
  checkAbsolutePath(what, field, path, "use a plain path such as /usr/local/gw6c");
}

/** Applies defaults and checks the paths (absolute, plain characters). */
export function resolveGw6cPaths(what: string, paths: Gw6cServicePaths): ResolvedGw6cPaths {
  const installDir = paths.installDir ?? GW6C_DEFAULT_INSTALL_DIR;
  checkPath(what, "installDir", installDir);
  const configPath = paths.configPath ?? `${installDir}/etc/gw6c.conf`;
  checkPath(what, "configPath", configPath);
  if (paths.helperPath !== undefined) checkPath(what, "helperPath", paths.helperPath);
  return { installDir, configPath, binary: `${installDir}/bin/gw6c`, helperPath: paths.helperPath };
}

/** Options of {@link renderGw6cSystemdUnit}. */
export interface Gw6cSystemdUnitOptions extends Gw6cServicePaths {
  /** RestartSec: seconds before a restart after a failure (the helper's prestart adds its back-off). Default `10`. */
  readonly restartSec?: number;
  /** StartLimitIntervalSec: window for StartLimitBurst, seconds. Default `3600`. */
  readonly startLimitIntervalSec?: number;
  /** StartLimitBurst: starts allowed per window before systemd gives up (so a broker is not hammered). Default `5`. */
  readonly startLimitBurst?: number;
  /** Add `Conflicts=radvd.service` because gw6c runs its own radvd (router mode). Default `true`; set `false` for host mode. */
  readonly ownsRadvd?: boolean;
}

function checkCount(what: string, field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    renderError(what, field, `must be an integer ${min}..${max}`, String(v), "pick a value in that range");
  }
}

/**
 * A systemd unit for gw6c: Type=forking with TimeoutStartSec=infinity (gw6c
 * forks only once the broker answered), WorkingDirectory=installDir,
 * ExecStart=`<bin> -f <conf>`, KillSignal=SIGHUP with KillMode=mixed (only
 * gw6c gets SIGHUP and tears down; radvd, which would read SIGHUP as a
 * reload, is killed afterwards), Restart=on-failure with back-off limits,
 * ordered after network-online.target, Conflicts=radvd.service.
 */
export function renderGw6cSystemdUnit(options: Gw6cSystemdUnitOptions = {}): string {
  const what = "gw6c systemd unit";
  const p = resolveGw6cPaths(what, options);
  const restartSec = options.restartSec ?? 10;
  const interval = options.startLimitIntervalSec ?? 3600;
  const burst = options.startLimitBurst ?? 5;
  checkCount(what, "restartSec", restartSec, 1, 86400);
  checkCount(what, "startLimitIntervalSec", interval, 1, 604800);
  checkCount(what, "startLimitBurst", burst, 1, 1000);
  const lines = [
    MANAGED_HEADER,
    "[Unit]",
    "Description=gw6c IPv6 tunnel client (TSP)",
    "Documentation=man:gw6c(8) man:gw6c.conf(5)",
    "Wants=network-online.target",
    "After=network-online.target",
  ];
  if (options.ownsRadvd ?? true) {
    lines.push("# In router mode gw6c starts its own radvd; the distribution's radvd must not run beside it.", "Conflicts=radvd.service");
  }
  lines.push(
    "# Back off instead of hammering the broker (brokers ban clients that reconnect in a loop).",
    `StartLimitIntervalSec=${interval}`,
    `StartLimitBurst=${burst}`,
    "",
    "[Service]",
    "# gw6c 5.1 forks into the background only after the broker negotiation succeeded,",
    "# retrying in the foreground until then, however long that takes.",
    "Type=forking",
    "TimeoutStartSec=infinity",
    "# gw6c resolves its log and broker-list files against the working directory.",
    `WorkingDirectory=${p.installDir}`,
    ...(p.helperPath
      ? ["# Clears what a dead gw6c left (its LAN address would make the template fail), prepares radvd's runtime directory,", "# and backs off after failed starts.", `ExecStartPre=${p.helperPath} prestart`]
      : []),
    `ExecStart=${p.binary} -f ${p.configPath}`,
    ...(p.helperPath ? ["# After any stop, a crash included: remove what gw6c's own teardown did not.", `ExecStopPost=${p.helperPath} cleanup`] : []),
    "# Only SIGHUP runs gw6c's teardown (tunnel, routes, radvd); SIGTERM would leave them behind.",
    "KillSignal=SIGHUP",
    "# SIGHUP to gw6c alone (radvd in this cgroup would take it as a reload); what is left afterwards gets SIGKILL.",
    "KillMode=mixed",
    "Restart=on-failure",
    `RestartSec=${restartSec}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  );
  return `${lines.join("\n")}\n`;
}

/** Options of the init scripts. */
export interface Gw6cInitScriptOptions extends Gw6cServicePaths {
  /** Seconds to wait for gw6c's teardown after SIGHUP before reporting failure. Default `30`. */
  readonly stopTimeoutSec?: number;
}

/**
 * A RedHat/CentOS/Mandriva SysV init script (chkconfig and LSB headers,
 * self-contained POSIX sh): `start` stops the distro radvd, runs gw6c from
 * the install dir (it returns once the tunnel is up) and checks it is still
 * alive two seconds later (the HOWTO's step 13 trap: radvd failing kills
 * gw6c after "OK"); `stop` sends SIGHUP and waits; `restart`; `status`
 * (LSB exit codes).
 */
export function renderGw6cSysvInit(options: Gw6cInitScriptOptions = {}): string {
  const what = "gw6c SysV init script";
  const p = resolveGw6cPaths(what, options);
  const timeout = options.stopTimeoutSec ?? 30;
  checkCount(what, "stopTimeoutSec", timeout, 1, 3600);
  return `#!/bin/sh
${MANAGED_HEADER}
#
# gw6c         Gateway6 client: IPv6 tunnel to a TSP broker
#
# chkconfig: 2345 56 24
# description: gw6c negotiates an IPv6 tunnel with a TSP broker and, in \\
#              router mode, starts its own radvd for the LAN.
# processname: gw6c
# config: ${p.configPath}
#
### BEGIN INIT INFO
# Provides:          gw6c
# Required-Start:    $network $local_fs $remote_fs
# Required-Stop:     $network $local_fs $remote_fs
# Should-Start:      $syslog
# Should-Stop:       $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: Gateway6 client (IPv6 tunnel to a TSP broker)
# Description:       gw6c negotiates an IPv6 tunnel with a TSP broker and, in
#                    router mode, starts its own radvd for the LAN.
### END INIT INFO

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH

GW6C_DIR=${p.installDir}
GW6C_BIN=${p.binary}
GW6C_CONF=${p.configPath}
STOP_TIMEOUT=${timeout}

gw6c_start() {
    if [ ! -x "$GW6C_BIN" ]; then
        echo "gw6c: $GW6C_BIN is missing or not executable" >&2
        return 5
    fi
    if [ ! -r "$GW6C_CONF" ]; then
        echo "gw6c: $GW6C_CONF is missing" >&2
        return 6
    fi
    if pidof gw6c >/dev/null 2>&1; then
        echo "gw6c is already running"
        return 0
    fi
    # In router mode gw6c starts its own radvd; the distribution's must not run beside it.
    if [ -x /etc/init.d/radvd ]; then
        /etc/init.d/radvd stop >/dev/null 2>&1 || true
    fi
${p.helperPath ? `    # What a dead gw6c left would make its template fail; radvd needs its runtime directory.
    ${p.helperPath} prestart || return 1
` : ""}    printf 'Starting gw6c: '
    # gw6c 5.1 forks only after the broker answered, so this waits for the tunnel.
    if ! (cd "$GW6C_DIR" && "$GW6C_BIN" -f "$GW6C_CONF"); then
        echo "FAILED (see the gw6c log)"
        return 1
    fi
    # If radvd fails, gw6c dies just after forking: check it is still there.
    sleep 2
    if ! pidof gw6c >/dev/null 2>&1; then
        echo "FAILED (gw6c exited after setup; see the gw6c log)"
        return 1
    fi
    echo "OK"
    return 0
}

gw6c_stop() {
    if pidof gw6c >/dev/null 2>&1; then
        printf 'Stopping gw6c: '
        # Only SIGHUP runs gw6c's teardown (tunnel, routes, radvd).
        kill -HUP $(pidof gw6c)
        waited=0
        while pidof gw6c >/dev/null 2>&1; do
            if [ "$waited" -ge "$STOP_TIMEOUT" ]; then
                echo "FAILED (still running after $STOP_TIMEOUT seconds)"
                return 1
            fi
            sleep 1
            waited=$((waited + 1))
        done
        echo "OK"
    else
        echo "gw6c is not running"
    fi
${p.helperPath ? `    # What a gw6c that died (rather than stopped) left behind.
    ${p.helperPath} cleanup
` : ""}    return 0
}

gw6c_status() {
    pids=$(pidof gw6c 2>/dev/null)
    if [ -n "$pids" ]; then
        echo "gw6c (pid $pids) is running"
        return 0
    fi
    echo "gw6c is stopped"
    return 3
}

case "$1" in
    start)
        gw6c_start
        ;;
    stop)
        gw6c_stop
        ;;
    restart|force-reload)
        gw6c_stop && gw6c_start
        ;;
    status)
        gw6c_status
        ;;
    *)
        echo "Usage: $0 {start|stop|restart|status}" >&2
        exit 2
        ;;
esac
exit $?
`;
}

/**
 * A Gentoo OpenRC script (`#!/sbin/openrc-run`): `depend() { need net; }`,
 * start stops the distro radvd and runs gw6c from the install dir, stop
 * sends SIGHUP via start-stop-daemon and waits for the teardown.
 */
export function renderGw6cOpenrc(options: Gw6cInitScriptOptions = {}): string {
  const what = "gw6c OpenRC script";
  const p = resolveGw6cPaths(what, options);
  const timeout = options.stopTimeoutSec ?? 30;
  checkCount(what, "stopTimeoutSec", timeout, 1, 3600);
  return `#!/sbin/openrc-run
${MANAGED_HEADER}

description="Gateway6 client: IPv6 tunnel to a TSP broker"

gw6c_dir="${p.installDir}"
command="${p.binary}"
gw6c_conf="${p.configPath}"

depend() {
    need net
}

start_pre() {
    if [ ! -r "$gw6c_conf" ]; then
        eerror "$gw6c_conf is missing"
        return 1
    fi
    # In router mode gw6c starts its own radvd; the distribution's must not run beside it.
    if [ -x /etc/init.d/radvd ]; then
        /etc/init.d/radvd --quiet stop >/dev/null 2>&1 || true
    fi
${p.helperPath ? `    # What a dead gw6c left would make its template fail; radvd needs its runtime directory.
    ${p.helperPath} prestart
` : ""}}

start() {
    ebegin "Starting gw6c"
    # gw6c 5.1 forks only after the broker answered, so this waits for the tunnel.
    cd "$gw6c_dir" && "$command" -f "$gw6c_conf"
    eend $?
}

stop() {
    ebegin "Stopping gw6c"
    # Only SIGHUP runs gw6c's teardown (tunnel, routes, radvd).
    start-stop-daemon --stop --exec "$command" --retry HUP/${timeout}
    rc=$?
${p.helperPath ? `    ${p.helperPath} cleanup
` : ""}    eend $rc
}
`;
}

import type { ServiceManager } from "../host/platform";
export type { ServiceManager };

const SERVICE_NAME = /^[A-Za-z0-9_.@-]+$/;

/**
 * The command that restarts service `name` under `manager`:
 * `systemctl restart NAME`, `/etc/init.d/NAME restart`, or
 * `/sbin/rc-service NAME restart` (absolute, since cron's PATH lacks /sbin).
 */
export function serviceRestartCommand(manager: ServiceManager, name: string): string {
  if (typeof name !== "string" || !SERVICE_NAME.test(name)) {
    renderError("service restart command", "name", "must be a service name of characters A-Z a-z 0-9 _ . @ -", `'${String(name)}'`, "e.g. gw6c");
  }
  switch (manager) {
    case "systemd":
      return `systemctl restart ${name}`;
    case "sysv":
      return `/etc/init.d/${name} restart`;
    case "openrc":
      return `/sbin/rc-service ${name} restart`;
    default: {
      const never: never = manager;
      return renderError("service restart command", "manager", "must be systemd, sysv or openrc", `'${String(never)}'`, "pick one of those");
    }
  }
}

/** Options of {@link gw6cWatchdog}. */
export interface Gw6cWatchdogOptions {
  /** Command run when gw6c is not running, e.g. from {@link serviceRestartCommand}. Required; one line, no `%`. */
  readonly restartCommand: string;
  /** Cron schedule (5 fields). Default `"0 * * * *"` (hourly, as in the HOWTO). */
  readonly schedule?: string;
  /** pidof binary. Default `"/sbin/pidof"` (the HOWTO's; absolute because cron's PATH is short). */
  readonly pidofPath?: string;
}

/** A crontab entry: when, and what. */
export interface CronJob {
  readonly schedule: string;
  readonly command: string;
}

/**
 * The HOWTO's step 24 watchdog: at `0 * * * *`,
 * `/sbin/pidof gw6c >/dev/null || <restart command>`.
 */
export function gw6cWatchdog(options: Gw6cWatchdogOptions): CronJob {
  const what = "gw6c watchdog cron line";
  const schedule = options.schedule ?? "0 * * * *";
  const pidof = options.pidofPath ?? "/sbin/pidof";
  const cmd = options.restartCommand;
  if (typeof cmd !== "string" || cmd.trim() === "" || /[\r\n]/.test(cmd)) {
    renderError(what, "restartCommand", "must be a non-empty single-line command", JSON.stringify(cmd), "use serviceRestartCommand(manager, \"gw6c\")");
  }
  if (cmd.includes("%")) {
    renderError(what, "restartCommand", "must not contain '%' (cron turns it into a newline)", `'${cmd}'`, "escape it as \\% or avoid it");
  }
  if (!/^(\S+\s+){4}\S+$/.test(schedule.trim()) || /[\r\n%]/.test(schedule)) {
    renderError(what, "schedule", "must be five cron fields", `'${schedule}'`, "e.g. \"0 * * * *\"");
  }
  checkPath(what, "pidofPath", pidof);
  return { schedule: schedule.trim(), command: `${pidof} gw6c >/dev/null || ${cmd.trim()}` };
}

/** The watchdog as one crontab line. */
export function gw6cWatchdogCronLine(options: Gw6cWatchdogOptions): string {
  const job = gw6cWatchdog(options);
  return `${job.schedule} ${job.command}`;
}
