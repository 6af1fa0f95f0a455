// What gw6c 5.1 needs around it on a modern box, and what it leaves behind
// when it dies. Pure renderers of two scripts:
//
// - a template hook installed as <installDir>/template/<template>.sh, gw6c's
//   own template moved beside it as <template>.gw6c.sh: it records the TSP_*
//   environment gw6c hands the template (the prefix, the interfaces) before
//   running gw6c's template unchanged, and forgets it after a teardown;
// - a helper the service runs: `prestart` clears a dead gw6c's leftovers by
//   running gw6c's own teardown with the recorded environment, creates
//   radvd's runtime directory (Debian 12 has none unless radvd's unit made
//   it, and gw6c's radvd writes its pid file there), and backs off before
//   each start after a failed one (10, 20, 40 ... 600 s, from scratch once a
//   tunnel came up); `cleanup` does the first part alone (after a stop, on
//   destroy); `prefix` prints the LAN /64 of the live tunnel, and nothing for
//   a stale address a dead gw6c left.
//
// Why: gw6c 5.1's template aborts on the first failing command and scrapes
// old-format ifconfig output, so after one failed run its address stays on
// the LAN and every restart fails at `ifconfig <lan> add` ("File exists");
// only SIGHUP runs its teardown, which a crashed gw6c never gets.

import { MANAGED_HEADER, checkAbsolutePath, renderError } from "./kit";

/** Runtime state: on tmpfs, so it goes with a reboot, as what it describes does. */
export const GW6C_RUNTIME_DIR = "/run/ipv6gw-gw6c";

/** Marks our hook, so a rebuild knows gw6c's own template from ours. */
export const TEMPLATE_HOOK_MARK = "ipv6gw-gw6c-template-hook";

export interface Gw6cRuntimeOptions {
  /** gw6c's install directory (gw6_dir). */
  readonly installDir: string;
  /** gw6c.conf's `template`. Default "linux". */
  readonly template?: string;
}

function paths(what: string, o: Gw6cRuntimeOptions) {
  checkAbsolutePath(what, "installDir", o.installDir, "use a plain path such as /usr/local/gw6c");
  const template = o.template ?? "linux";
  if (!/^[a-z0-9]+$/.test(template)) renderError(what, "template", "must be a gw6c template name", `'${template}'`, "e.g. linux");
  return { hook: `${o.installDir}/template/${template}.sh`, original: `${o.installDir}/template/${template}.gw6c.sh` };
}

/** The template hook gw6c runs as its template. */
export function renderGw6cTemplateHook(o: Gw6cRuntimeOptions): string {
  const p = paths("gw6c template hook", o);
  return `#!/bin/sh
${MANAGED_HEADER}
# ${TEMPLATE_HOOK_MARK}: records what gw6c hands its template (TSP_*), then
# runs gw6c's own template (${p.original}) unchanged, with gw6c's arguments.
d=${GW6C_RUNTIME_DIR}
if [ "$TSP_OPERATION" = TSP_TUNNEL_CREATION ]; then
  mkdir -p "$d" && chmod 0700 "$d"
  # One TSP_NAME='value' per line, quoted for sh, so the helper can source it.
  env | grep '^TSP_[A-Z0-9_]*=' | sed "s/'/'\\\\\\\\''/g; s/=/='/; s/\\$/'/" > "$d/tsp.env.tmp" && mv -f "$d/tsp.env.tmp" "$d/tsp.env"
fi
/bin/sh ${p.original} "$@"
rc=$?
case "$TSP_OPERATION" in
  # A tunnel came up: the restart back-off starts over.
  TSP_TUNNEL_CREATION) [ "$rc" -eq 0 ] && rm -f "$d/failures" ;;
  # gw6c tore its tunnel down itself: nothing is left to clean.
  TSP_TUNNEL_TEARDOWN) rm -f "$d/tsp.env" ;;
esac
exit "$rc"
`;
}

export interface Gw6cHelperOptions extends Gw6cRuntimeOptions {
  /** Router mode: gw6c's template starts radvd, which needs its runtime directory. */
  readonly router: boolean;
  /** Where gw6c logs (the teardown's output goes there too). */
  readonly logFile: string;
}

/** The helper script (`prestart`, `cleanup`, `prefix`). */
export function renderGw6cHelper(o: Gw6cHelperOptions): string {
  const what = "gw6c helper";
  const p = paths(what, o);
  checkAbsolutePath(what, "logFile", o.logFile, "e.g. /usr/local/gw6c/logs/gw6c.log");
  return `#!/bin/sh
${MANAGED_HEADER}
# gw6c's runtime helper: prestart | cleanup | prefix (see components/render/gw6c-runtime.ts).
d=${GW6C_RUNTIME_DIR}
template=${p.original}

# What a dead gw6c left (the LAN address, routes, its radvd): removed by gw6c's
# own teardown, run with what the template hook recorded. A live gw6c keeps it.
cleanup() {
  [ -f "$d/tsp.env" ] || return 0
  pidof gw6c >/dev/null 2>&1 && return 0
  if [ -f "$template" ]; then
    (set -a; . "$d/tsp.env"; TSP_OPERATION=TSP_TUNNEL_TEARDOWN; /bin/sh "$template") >> ${o.logFile} 2>&1 || true
  fi
  rm -f "$d/tsp.env"
  echo "ipv6gw: removed what a gw6c that is gone left behind" >> ${o.logFile}
}

case "$1" in
  prestart)
    mkdir -p "$d" && chmod 0700 "$d"
    cleanup
${o.router ? `    # gw6c's template starts radvd with -u radvd -p /var/run/radvd/radvd.pid (Debian's radvd user is in group nogroup).
    install -d -o radvd -g "$(id -gn radvd)" -m 0755 /run/radvd || exit 1
` : ""}    # Back off after failed starts, so a broker is not hammered (and does not ban us).
    n=$(cat "$d/failures" 2>/dev/null || echo 0)
    case "$n" in ''|*[!0-9]*) n=0 ;; esac
    if [ "$n" -gt 0 ]; then
      s=10; i=1; while [ "$i" -lt "$n" ] && [ "$s" -lt 600 ]; do s=$((s * 2)); i=$((i + 1)); done
      [ "$s" -gt 600 ] && s=600
      echo "ipv6gw: start $((n + 1)) after a failed one: waiting $s s" >> ${o.logFile}
      sleep "$s"
    fi
    echo $((n + 1)) > "$d/failures"
    ;;
  cleanup)
    cleanup
    ;;
  prefix)
    # The LAN /64 of the live tunnel only: a recorded prefix, a running gw6c, and its address on the LAN.
    [ -f "$d/tsp.env" ] && pidof gw6c >/dev/null 2>&1 || exit 1
    (set -a; . "$d/tsp.env"; [ -n "$TSP_PREFIX" ] || exit 1
      [ -n "$(ip -6 -o addr show dev "$TSP_HOME_INTERFACE" to "$TSP_PREFIX::1/128" 2>/dev/null)" ] || exit 1
      echo "$TSP_PREFIX::/64")
    ;;
  *)
    echo "usage: $0 prestart|cleanup|prefix" >&2
    exit 2
    ;;
esac
`;
}
