// The shell the safe apply runs on a box, for each backend: how to check a
// ruleset without touching the live one, save what is ours, swap ours for a
// new version in one transaction, and print what is ours now. Pure: text in,
// script text out. ruleset.ts runs them.
//
// What "ours" and "atomic" mean per backend:
// - nftables: our table `ip6 ipv6gw`, whole. One `nft -f` creates it if
//   missing, deletes it and loads the new one in one kernel transaction;
//   every other table is outside the transaction.
// - iptables: our chains, their rules and our jump rules in INPUT/FORWARD
//   (see iptables-ours.ts). One `ip6tables-restore --noflush` swaps them: one
//   transaction with the nf_tables backend, one table replace under the
//   xtables lock (-w) with legacy. Built-in chains' policies and every other
//   chain and rule are left as they are, at the moment of each swap.
// Rollback restores ours as it was before the apply, the same way, and
// nothing else: a Docker or fail2ban rule added meanwhile stays.

import { shq } from "../host/remote";
import { IPTABLES_OURS_AWK } from "./iptables-ours";
import { NFT_REPLACE_HEADER, NFT_TABLE_REF } from "./render-nft";

export const RULESET_BACKENDS = ["iptables", "nftables"] as const;
export type RulesetBackend = (typeof RULESET_BACKENDS)[number];

export const STATE_DIR = "/var/lib/ipv6gw/firewall";

/** Exit codes of the scripts below, for the provider to tell outcomes apart. */
export const EXIT = { notInstalled: 6, noKernelCheck: 5, rolledBack: 7, notLoaded: 8, nothingPending: 9 } as const;

const D = STATE_DIR;

/** ip6tables-restore adding to the table, waiting for the xtables lock where the version has one (1.6.2 and later). */
const IPT_SWAP = "ip6tables-restore $(ip6tables-restore --help 2>&1 | grep -q -e --wait && echo -w) --noflush";
const PLAN_AWK = `${D}/plan.awk`;

/** The tool whose presence means the backend can be used. */
export function backendTool(b: RulesetBackend): string {
  return b === "nftables" ? "nft" : "ip6tables-restore";
}

/** What nothing of ours looks like, as the backend's read prints it. */
export function emptyRules(b: RulesetBackend): string {
  return b === "nftables" ? "" : "*filter\nCOMMIT\n";
}

const UNSHARE_CHECK = `command -v unshare >/dev/null 2>&1 && unshare --net true 2>/dev/null || { echo "unshare --net is not available (util-linux missing, or not permitted in this container), so the kernel cannot check the ruleset in a throwaway namespace" >&2; exit ${EXIT.noKernelCheck}; }`;

/**
 * Checks the rules in `file` without touching the live ruleset: the kernel
 * itself, in a private network namespace that is thrown away (a parser
 * alone does not ask the kernel: `nft -c` passes a rule the kernel refuses
 * in a chain reached from the input hook). Without a scratch namespace the
 * check cannot be made, and that is an error, not a silent pass.
 */
export function checkLines(b: RulesetBackend, file: string): string[] {
  if (b === "nftables") {
    return [UNSHARE_CHECK, `{ echo ${shq(NFT_REPLACE_HEADER)}; cat ${file}; } | unshare --net nft -f -`];
  }
  return [`ip6tables-restore --test < ${file}`, UNSHARE_CHECK, `unshare --net sh -c 'ip6tables-restore < "$1"' sh ${file}`];
}

/**
 * One command (no single quotes: it also runs inside `sh -c '...'`) that
 * replaces ours on the box with the rules in `file` (an absolute path), in
 * one transaction. iptables needs plan.awk in the state directory.
 */
export function replaceOursCommand(b: RulesetBackend, file: string): string {
  if (b === "nftables") return `{ echo "${NFT_REPLACE_HEADER}"; cat ${file}; } | nft -f -`;
  return `[ -f ${PLAN_AWK} ] && ip6tables-save -t filter | awk -v mode=plan -v want=${file} -f ${PLAN_AWK} | ${IPT_SWAP}`;
}

/** Prints ours, as the renderer writes it (iptables: the chains `wantFile` declares count as ours). */
function liveOursCommand(b: RulesetBackend, wantFile: string): string {
  if (b === "nftables") return `nft -s list ${NFT_TABLE_REF} 2>/dev/null`;
  return `ip6tables-save -t filter | awk -v mode=ours -v want=${wantFile} -f ${PLAN_AWK}`;
}

/** Checks a ruleset on stdin without applying it. */
export function validateScript(b: RulesetBackend): string {
  return [
    "set -e",
    `command -v ${backendTool(b)} >/dev/null 2>&1 || { echo "${backendTool(b)} is not installed" >&2; exit ${EXIT.notInstalled}; }`,
    "f=$(mktemp)",
    `trap 'rm -f "$f"' EXIT`,
    `cat > "$f"`,
    ...checkLines(b, '"$f"'),
  ].join("\n");
}

/**
 * Kills the rollback timer of an earlier apply, if its recorded process is
 * still that timer (after a reboot the PID may belong to anything else).
 */
const DISARM = [
  `if [ -f "$d/rollback.pid" ]; then`,
  `  p=$(cat "$d/rollback.pid")`,
  `  grep -qs "${D}/rollback.rules" "/proc/$p/cmdline" && kill -- -"$p" 2>/dev/null || true`,
  "fi",
];

const FILES = ["pending.rules", "rollback.rules", "rollback.status", "rollback.pid", "plan.awk"].map((f) => `"$d/${f}"`).join(" ");

/**
 * Checks stdin, saves ours, arms the rollback, swaps stdin in; prints a line
 * per stage reached, then what was ours before. Whatever an earlier apply
 * left (a crashed one's timer, files) is cleared first, so it cannot undo or
 * change this one.
 */
export function applyScript(b: RulesetBackend, rollbackSeconds: number): string {
  const restore = replaceOursCommand(b, `${D}/rollback.rules`);
  return [
    "set -e",
    `d=${shq(D)}`,
    `mkdir -p "$d"`,
    ...DISARM,
    `rm -f ${FILES}`,
    ...(b === "iptables" ? [`printf '%s' ${shq(IPTABLES_OURS_AWK)} > "$d/plan.awk"`] : []),
    `cat > "$d/pending.rules"`,
    // Checked again here because preview could not check it before the stack installed the tool.
    ...checkLines(b, `"$d/pending.rules"`),
    b === "nftables"
      ? `nft -s list ${NFT_TABLE_REF} > "$d/rollback.rules" 2>/dev/null || : > "$d/rollback.rules"`
      : `ip6tables-save -t filter | awk -v mode=ours -v want=/dev/null -f "$d/plan.awk" > "$d/rollback.rules"`,
    `setsid sh -c 'sleep ${rollbackSeconds}; ${restore} && echo rolled-back > ${D}/rollback.status; rm -f ${D}/pending.rules ${D}/rollback.pid ${D}/plan.awk' </dev/null >/dev/null 2>&1 &`,
    `echo $! > "$d/rollback.pid"`,
    "echo stage=armed",
    replaceOursCommand(b, `"$d/pending.rules"`),
    "echo stage=applied",
    `cat "$d/rollback.rules"`,
  ].join("\n");
}

/**
 * Disarms the rollback: run over a new connection, it proves the box still
 * lets us in. It also tells where an apply whose connection dropped stands:
 * already rolled back (exit 7), never loaded (8: the old rules are live, the
 * timer disarmed), or loaded (0: now confirmed, followed by what was ours
 * before). It leaves no file behind.
 */
export function confirmScript(b: RulesetBackend): string {
  return [
    `d=${D}`,
    `[ -f "$d/rollback.status" ] && { cat "$d/rollback.status"; rm -f "$d"/*; exit ${EXIT.rolledBack}; }`,
    `[ -f "$d/pending.rules" ] || { echo "no firewall change is pending on this box"; exit ${EXIT.nothingPending}; }`,
    `live=$(${liveOursCommand(b, '"$d/pending.rules"')})`,
    `want=$(cat "$d/pending.rules")`,
    ...DISARM,
    `rm -f "$d/pending.rules" "$d/rollback.pid"`,
    `[ "$live" = "$want" ] || { echo "the new ruleset was never loaded: the previous one is live"; rm -f "$d/rollback.rules" "$d/plan.awk"; exit ${EXIT.notLoaded}; }`,
    `echo confirmed; cat "$d/rollback.rules"; rm -f "$d/rollback.rules" "$d/plan.awk"`,
  ].join("\n");
}

/** Run over a new connection once the box's timer has run out: prints "rolled-back" if it restored the old rules, and clears what the apply left. */
export const ROLLBACK_STATUS_SCRIPT = `cat ${D}/rollback.status 2>/dev/null; rm -f ${D}/rollback.status ${D}/rollback.rules ${D}/plan.awk`;

export const BOOT_COPY_MARK = "#ipv6gw-boot-copy";

export const LIVE_MARK = "#ipv6gw-live";

/** ROLLBACK_STATUS_SCRIPT, then ours as live now (so a box that rebooted meanwhile is told apart from one that rolled back). */
export function rollbackStatusScript(b: RulesetBackend, chains: readonly string[]): string {
  return [ROLLBACK_STATUS_SCRIPT, `echo ${shq(LIVE_MARK)}`, readScript(b, undefined, chains)].join("\n");
}

/** Prints ours, then a separator, then the boot copy (if any); exit 3 when the backend's tool is missing. */
export function readScript(b: RulesetBackend, persistPath: string | undefined, chains: readonly string[]): string {
  const live =
    b === "nftables"
      ? [`command -v nft >/dev/null 2>&1 || exit 3`, `nft -s list ${NFT_TABLE_REF} 2>/dev/null || true`]
      : [
          `command -v ip6tables-save >/dev/null 2>&1 || exit 3`,
          `ip6tables-save -t filter | awk -v mode=ours -v want= -v chains=${shq(chains.filter((c) => /^[A-Za-z0-9_.-]+$/.test(c)).join(" "))} ${shq(IPTABLES_OURS_AWK)}`,
        ];
  return [...live, `echo ${shq(BOOT_COPY_MARK)}`, persistPath ? `cat ${shq(persistPath)} 2>/dev/null || true` : "true"].join("\n");
}

/** Puts back what was ours before the first apply (stdin), removing ours now; nothing to do without the tool. */
export function restorePreviousScript(b: RulesetBackend): string {
  if (b === "nftables") return [`command -v nft >/dev/null 2>&1 || exit 0`, `{ echo ${shq(NFT_REPLACE_HEADER)}; cat; } | nft -f -`].join("\n");
  return [
    `command -v ip6tables-restore >/dev/null 2>&1 || exit 0`,
    "w=$(mktemp)",
    `trap 'rm -f "$w"' EXIT`,
    `cat > "$w"`,
    `ip6tables-save -t filter | awk -v mode=plan -v want="$w" ${shq(IPTABLES_OURS_AWK)} | ${IPT_SWAP}`,
  ].join("\n");
}
