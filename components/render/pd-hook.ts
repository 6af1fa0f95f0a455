// The hook that makes the LANs' router advertisements follow the delegated
// prefix, and the units around it. Pure: settings in, script and unit text
// out. The prefix itself appears in none of them: the hook reads it on the
// box, at run time, so a renumbering changes nothing Pulumi declares.
//
// dhcpcd runs the hook on its events (bound, renewed, rebound, expired...);
// ipv6gw-radvd.service runs `render` before radvd starts; a timer runs it
// every REFRESH_SECONDS. Each run:
//   1. reads the /64s dhcpcd put on each LAN (`ip -6 addr ... dynamic`), with
//      the lease's remaining preferred and valid lifetimes the kernel counts;
//   2. remembers, in STATE (on disk: a reboot does not forget), every /64 it
//      advertised, whether the LAN still holds it, and until when a host may
//      hold an address in it;
//   3. writes radvd's config: a /64 the LAN holds is advertised with the
//      lifetimes the lease has left (at most RFC 9096's limits), counted
//      down by radvd itself (DecrementLifetimes; once the preferred one is
//      0 radvd leaves the prefix out, and hosts count down what they heard),
//      still the LAN's while the lease is valid past its preferred lifetime;
//      a /64 it advertised but the LAN no longer holds after a dhcpcd event
//      (renumbered, or the lease ran out) with lifetimes 0 (RFC 9096 3.5),
//      so hosts stop using it at once
//      (a render between events, at boot or by the timer, leaves such a /64
//      out instead: only dhcpcd says a prefix is gone), until the last
//      valid lifetime it advertised has run out (and for three advertising
//      intervals at least, so every host hears it); a LAN with no delegated /64
//      gets router lifetime 0 (RFC 7084 G-4);
//   4. has radvd check the config and reload it (SIGHUP; a reload sends no
//      router lifetime 0, a restart would).
//
// radvd counts lifetimes down in whole seconds per advertisement, dropping
// the fraction each time, so between two runs its lifetimes can run ahead of
// the lease by under a second per advertisement (at most one every 3 s).
// Each run starts it LIFETIME_MARGIN_SECONDS below what the lease has left,
// which covers that drift until the next run: no host ever holds an address
// longer than the lease (RFC 9096 L-15).

import { RADVD_DEFAULTS, RadvdConf, RadvdInterface, renderRadvdConf } from "./radvd-conf";
import { MANAGED_HEADER, checkAbsolutePath, checkIfname, checkInteger, renderError } from "./kit";
import { parsePrefix, prefixCovers } from "../net/ipv6";
import { shq } from "../host/remote";
import { AWK_IPV6_FUNCTIONS } from "./awk-ipv6";

/** RFC 9096 section 4's ND_PREFERRED_LIMIT and ND_VALID_LIMIT: the most an RA promises for a delegated /64. */
export const RFC9096_PREFERRED_LIMIT = 2700;
export const RFC9096_VALID_LIMIT = 5400;
/** How often the timer renders, at most: it bounds radvd's count-down drift. */
export const REFRESH_SECONDS = 60;
/** What each render takes off the lease's remaining lifetimes (see the file comment). */
export const LIFETIME_MARGIN_SECONDS = Math.ceil(REFRESH_SECONDS / 3) + 2;

export const PD_HOOK_PATH = "/usr/local/lib/ipv6gw/pd-hook";
export const PD_RUN_DIR = "/run/ipv6gw";
export const PD_RADVD_CONF = `${PD_RUN_DIR}/radvd.conf`;
export const PD_STATE_DIR = "/var/lib/ipv6gw/pd";
export const PD_STATE_FILE = `${PD_STATE_DIR}/advertised`;
export const PD_RADVD_UNIT = "ipv6gw-radvd.service";
export const PD_REFRESH_UNIT = "ipv6gw-pd-refresh";

/**
 * How long a withdrawn /64 stays in the RAs with lifetimes 0 at least: three
 * of the slowest LAN's advertisement intervals, so every host hears it.
 */
export function staleHoldSeconds(lans: readonly Pick<RadvdInterface, "maxRtrAdvInterval">[]): number {
  return 3 * Math.max(...lans.map((l) => l.maxRtrAdvInterval ?? RADVD_DEFAULTS.maxRtrAdvInterval));
}

/** dhcpcd's reasons (dhcpcd-run-hooks(8)) after which what a LAN holds may have changed. */
export const PD_HOOK_REASONS = ["BOUND6", "RENEW6", "REBIND6", "REBOOT6", "DELEGATED6", "EXPIRE6", "RELEASE6", "TIMEOUT"] as const;

export interface PdHookModel {
  /**
   * radvd's settings per LAN, without the delegated prefix: the interface
   * name, intervals, RDNSS/DNSSL, and static prefixes (a ULA /64), which
   * must be unique local (the delegated /64s sort before them).
   */
  readonly lans: readonly RadvdInterface[];
  /** The most a current /64's RA promises (RFC 9096 limits by default). */
  readonly preferredLimit: number;
  readonly validLimit: number;
  /** Where things go on the box (defaults above); tests point them elsewhere. */
  readonly radvdConf?: string;
  readonly stateFile?: string;
  readonly runDir?: string;
}

/** Throws "<what>: '<field>' <problem>, got <value>; <fix>" on the first problem. */
export function validatePdHook(m: PdHookModel): void {
  const what = "the prefix-delegation hook";
  if (m.lans.length === 0) renderError(what, "lans", "must name at least one LAN", "none", "give the LAN interfaces");
  checkInteger(what, "preferredLimit", m.preferredLimit, LIFETIME_MARGIN_SECONDS + 1, 0xfffffffe, `at least ${LIFETIME_MARGIN_SECONDS + 1} s (RFC 9096: ${RFC9096_PREFERRED_LIMIT})`);
  checkInteger(what, "validLimit", m.validLimit, m.preferredLimit, 0xfffffffe, `at least the preferred limit (RFC 9096: ${RFC9096_VALID_LIMIT})`);
  for (const [field, path] of [["radvdConf", m.radvdConf], ["stateFile", m.stateFile], ["runDir", m.runDir]] as const) {
    if (path !== undefined) checkAbsolutePath(what, field, path, "an absolute path");
  }
  m.lans.forEach((lan, i) => {
    checkIfname(what, `lans[${i}].name`, lan.name);
    for (const p of lan.prefixes) {
      if (!prefixCovers("fc00::/7", parsePrefix(p.prefix))) renderError(what, `lans[${i}].prefixes`, "may only hold unique local prefixes (the delegated /64s come from the box)", `'${p.prefix}'`, "give the ULA /64 only");
    }
  });
  // radvd's own rules, for every state the hook can write: with a delegated /64 and without.
  renderRadvdConf({ interfaces: m.lans.map((l) => ({ ...l, prefixes: [...l.prefixes, { prefix: "2001:db8::/64", onLink: true, autonomous: true, validLifetime: 1, preferredLifetime: 1, decrementLifetimes: true }] })) });
  renderRadvdConf({ interfaces: m.lans.map((l) => ({ ...l, defaultLifetime: 0 })) });
}

/** A LAN's radvd block split where the delegated /64s go: before the static prefixes, RDNSS and DNSSL. */
export function radvdBlockParts(lan: RadvdInterface): { head: string[]; headNoRouter: string[]; tail: string[] } {
  const split = (iface: RadvdInterface) => {
    const lines = renderRadvdConf({ interfaces: [iface] }).split("\n");
    const start = lines.findIndex((l) => l.startsWith("interface "));
    const end = lines.lastIndexOf("};");
    const at = lines.findIndex((l, i) => i > start && (/^ {4}(prefix|RDNSS|DNSSL) /.test(l) || i === end));
    return { head: lines.slice(start, at), tail: lines.slice(at, end + 1) };
  };
  const withRouter = split(lan);
  return { head: withRouter.head, headNoRouter: split({ ...lan, defaultLifetime: 0 }).head, tail: withRouter.tail };
}

/** What a run would write, as a radvd model: for tests, and the contract the shell below implements. */
export function pdRadvdModel(
  m: Pick<PdHookModel, "lans">,
  advertised: Readonly<Record<string, readonly { prefix: string; current: boolean; preferred: number; valid: number }[]>>,
): RadvdConf {
  return {
    interfaces: m.lans.map((lan) => {
      const mine = advertised[lan.name] ?? [];
      return {
        ...lan,
        ...(mine.some((p) => p.current) ? {} : { defaultLifetime: 0 }),
        prefixes: [
          ...mine.map((p) =>
            p.current
              ? { prefix: p.prefix, onLink: true, autonomous: true, validLifetime: p.valid, preferredLifetime: p.preferred, decrementLifetimes: true }
              : { prefix: p.prefix, onLink: true, autonomous: true, deprecated: true },
          ),
          ...lan.prefixes,
        ],
      };
    }),
  };
}

/**
 * The awk program of step 2: STATE ("<lan> <prefix> <until> current|stale") and the held
 * addresses ("<lan> <ip -o line>") in; the prefixes to advertise
 * ("<lan> <sort key> <prefix> current|stale <preferred> <valid>") to
 * `records`, the new STATE to `state`. POSIX awk (Debian's is mawk).
 */
const AWK = String.raw`
${AWK_IPV6_FUNCTIONS}
function secs(v) { sub(/sec$/, "", v); return v == "forever" ? -1 : v + 0 }
function cap(v, lim) { return (v < 0 || v > lim) ? lim : v }
function later(a, b) { return a > b ? a : b }
FILENAME == ARGV[1] { if (NF == 4) { until[$1 " " $2] = $3 + 0; was[$1 " " $2] = $4 }; next }
{
  addr = ""; p = 0; v = 0
  for (i = 2; i < NF; i++) {
    if ($i == "inet6") addr = $(i + 1)
    else if ($i == "valid_lft") v = secs($(i + 1))
    else if ($i == "preferred_lft") p = secs($(i + 1))
  }
  if (split(addr, a, "/") != 2 || a[2] != 64) next
  full = expand(a[1]); net = net64(a[1])
  k = $1 " " net
  # Held is current, deprecated too (preferred 0): its lease is still valid and routed, so hosts keep
  # their addresses and the LAN its default router until the lease runs out.
  pc = cap(p, plim) - margin; vc = cap(v, vlim) - margin
  if (pc < 0) pc = 0
  if (vc < pc) vc = pc
  current[k] = pc " " vc; key[k] = substr(full, 1, 19)
  until[k] = later(until[k], now + vc)
}
END {
  for (k in until) {
    split(k, f, " ")
    if (k in current) {
      kind = "current"
      printf "%s %s %s current %s\n", f[1], key[k], f[2], current[k] > records
    } else if (was[k] == "current" && !event && until[k] > now) {
      # While its lease lasts only dhcpcd withdraws a /64: a render between its events (at boot before
      # the lease is back, the timer) leaves one the LAN no longer holds out of the RAs, the addresses
      # of its hosts untouched. Once the lease has run out, any render withdraws it (dhcpcd may be late).
      printf "%s %s %d current\n", f[1], f[2], until[k] > state
      continue
    } else {
      kind = "stale"
      # Just withdrawn: lifetimes 0 for long enough that every host hears it.
      if (was[k] == "current") until[k] = later(until[k], now + hold)
      if (until[k] <= now) continue
      s = f[2]; sub(/\/64$/, "", s)
      printf "%s %s %s stale 0 0\n", f[1], substr(expand(s), 1, 19), f[2] > records
    }
    printf "%s %s %d %s\n", f[1], f[2], until[k], kind > state
  }
}
`.trim();

/** `cat` of literal lines (the heredoc's terminator at column 0, as sh wants it). */
function heredoc(indent: string, lines: readonly string[]): string[] {
  return [`${indent}cat <<'EOF'`, ...lines, "EOF"];
}

/** The hook script (POSIX sh, root): see the file comment. */
export function renderPdHook(m: PdHookModel): string {
  validatePdHook(m);
  // The program goes to awk in single quotes.
  if (AWK.includes("'")) throw new Error("pd-hook: the awk program must not contain a single quote");
  const conf = m.radvdConf ?? PD_RADVD_CONF;
  const state = m.stateFile ?? PD_STATE_FILE;
  const run = m.runDir ?? PD_RUN_DIR;
  const lans = [...m.lans].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const blocks = lans.flatMap((lan, i) => {
    const parts = radvdBlockParts(lan);
    return [
      ...(i > 0 ? ["  echo"] : []),
      `  if [ -e "$work/${lan.name}.current" ]; then`,
      ...heredoc("    ", parts.head),
      "  else",
      "    # No delegated /64 here: hosts must not route through us (RFC 7084 G-4).",
      ...heredoc("    ", parts.headNoRouter),
      "  fi",
      `  if [ -e "$work/${lan.name}.prefixes" ]; then cat "$work/${lan.name}.prefixes"; fi`,
      ...heredoc("  ", parts.tail),
    ];
  });
  return [
    "#!/bin/sh",
    MANAGED_HEADER,
    "# The LANs' router advertisements follow the delegated prefix (RFC 9096).",
    "# Run by dhcpcd on its events, and as `pd-hook render` by ipv6gw-radvd.service",
    `# and ${PD_REFRESH_UNIT}.timer. The delegated prefix is read here, on the box.`,
    "set -u",
    'case "${1:-}" in',
    "  render) event=0 ;;",
    '  "") event=1; case "${reason:-}" in',
    `       ${PD_HOOK_REASONS.join("|")}) ;;`,
    "       *) exit 0 ;; # the ISP's RAs and the like change no LAN",
    "     esac ;;",
    '  *) echo "usage: $0 [render]" >&2; exit 2 ;;',
    "esac",
    `lans="${lans.map((l) => l.name).join(" ")}"`,
    `mkdir -p ${run} ${state.slice(0, state.lastIndexOf("/")) || "/"}`,
    `exec 9>${run}/pd-hook.lock`,
    "flock 9",
    `work=$(mktemp -d ${run}/pd-hook.XXXXXX) || exit 1`,
    `trap 'rm -rf "$work"' EXIT`,
    "now=$(date +%s)",
    "# 1. the delegated /64s each LAN holds, with the lease's remaining lifetimes",
    'for lan in $lans; do ip -6 -o addr show dev "$lan" scope global dynamic 2>/dev/null | sed "s/^/$lan /"; done > "$work/held"',
    `[ -f ${state} ] || : > ${state}`,
    "# 2. what to advertise, and the new record of what was advertised",
    `awk -v now="$now" -v event="$event" -v plim=${m.preferredLimit} -v vlim=${m.validLimit} -v margin=${LIFETIME_MARGIN_SECONDS} -v hold=${staleHoldSeconds(m.lans)} -v records="$work/records" -v state="$work/state" '`,
    AWK,
    `' ${state} "$work/held" || exit 1`,
    ': >> "$work/records"; : >> "$work/state"',
    "# 3. radvd's config, prefixes in address order",
    'LC_ALL=C sort "$work/records" | while read -r lan key prefix kind p v; do',
    '  if [ "$kind" = current ]; then',
    '    : > "$work/$lan.current"',
    `    printf '    prefix %s {\\n        AdvOnLink on;\\n        AdvAutonomous on;\\n        AdvValidLifetime %s;\\n        AdvPreferredLifetime %s;\\n        DecrementLifetimes on;\\n    };\\n' "$prefix" "$v" "$p"`,
    "  else",
    `    printf '    prefix %s {\\n        AdvOnLink on;\\n        AdvAutonomous on;\\n        # Withdrawn (RFC 9096): hosts stop using it.\\n        AdvValidLifetime 0;\\n        AdvPreferredLifetime 0;\\n    };\\n' "$prefix"`,
    '  fi >> "$work/$lan.prefixes"',
    "done",
    "{",
    `  echo ${shq(MANAGED_HEADER)}`,
    "  echo",
    ...blocks,
    '} > "$work/radvd.conf"',
    "# 4. radvd checks it, then reloads (a config it refused would stop it)",
    'if ! radvd --configtest --config "$work/radvd.conf" > "$work/check" 2>&1; then',
    '  echo "ipv6gw pd-hook: radvd refuses the new config, the old one stays:" >&2; cat "$work/check" "$work/radvd.conf" >&2; exit 1',
    "fi",
    `mv -f "$work/radvd.conf" ${conf}`,
    // One line in the journal when what is advertised changes (not on every count-down).
    `LC_ALL=C sort "$work/state" > "$work/state.sorted"`,
    `if [ "$(cut -d' ' -f1,2,4 ${state})" != "$(cut -d' ' -f1,2,4 "$work/state.sorted")" ]; then`,
    `  echo "ipv6gw pd-hook (\${reason:-$1}): advertising $(awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $4 }' "$work/state.sorted")" >&2`,
    "fi",
    `mv -f "$work/state.sorted" ${state}.new && mv -f ${state}.new ${state}`,
    `if systemctl -q is-active ${PD_RADVD_UNIT}; then systemctl reload ${PD_RADVD_UNIT}; fi`,
    "",
  ].join("\n");
}

/** radvd as a unit of ours: its config comes from the hook, written just before it starts. */
export function renderPdRadvdUnit(p: { dhcpcdUnit: string; hookPath?: string; radvdConf?: string }): string {
  const hook = p.hookPath ?? PD_HOOK_PATH;
  const conf = p.radvdConf ?? PD_RADVD_CONF;
  checkAbsolutePath(PD_RADVD_UNIT, "hookPath", hook, PD_HOOK_PATH);
  checkAbsolutePath(PD_RADVD_UNIT, "radvdConf", conf, PD_RADVD_CONF);
  return [
    MANAGED_HEADER,
    "[Unit]",
    "Description=ipv6gw: router advertisements on the LANs, following the delegated prefix (radvd)",
    `After=${p.dhcpcdUnit} network-pre.target`,
    "",
    "[Service]",
    `ExecStartPre=${hook} render`,
    `ExecStart=/usr/sbin/radvd --nodaemon --logmethod stderr_clean --config ${conf} --pidfile ${PD_RUN_DIR}/radvd.pid`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=5",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The timer that renders every REFRESH_SECONDS: radvd's count-down stays within the margin, and lifetimes within the RFC 9096 limits. */
export function renderPdRefreshUnits(hookPath = PD_HOOK_PATH): { service: string; timer: string } {
  checkAbsolutePath(`${PD_REFRESH_UNIT}.service`, "hookPath", hookPath, PD_HOOK_PATH);
  return {
    service: [MANAGED_HEADER, "[Unit]", "Description=ipv6gw: router advertisements follow what the delegated prefix has left", "", "[Service]", "Type=oneshot", `ExecStart=${hookPath} render`, ""].join("\n"),
    timer: [
      MANAGED_HEADER,
      "[Unit]",
      `Description=ipv6gw: refresh the LANs' router advertisements every ${REFRESH_SECONDS} s`,
      "",
      "[Timer]",
      `OnActiveSec=${REFRESH_SECONDS}`,
      `OnUnitActiveSec=${REFRESH_SECONDS}`,
      // Late runs would let radvd's count-down drift past the margin.
      "AccuracySec=1s",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"),
  };
}
