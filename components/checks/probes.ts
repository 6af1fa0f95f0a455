// The HOWTO's checklist (steps 12, 14, 22-23, 25) as probe scripts: each runs
// on one box and exits 0 when the check holds. Pure: builders only. Every
// value reaches the script through shq, in commands and in messages alike.

import { shq } from "../host/remote";
import { AWK_IPV6_FUNCTIONS } from "../render/awk-ipv6";

export interface Probe {
  /** What is checked, as the user reads it: "gw: radvd running". */
  readonly name: string;
  /** Which box runs it: "gateway", "outside" or a client's name. */
  readonly on: string;
  readonly script: string;
  /** Keep trying for this long before calling it failed (SLAAC and handshakes take seconds). */
  readonly retrySeconds: number;
  /**
   * The name of an earlier probe whose output this one reads on stdin (a
   * value only the boxes know, such as a delegated /64); it runs after that
   * probe passed, and fails without running if it did not. Default none.
   */
  readonly stdinFrom?: string;
  /**
   * The name of an earlier probe this one needs to have passed (a check that
   * cannot hold without it, such as reaching a client from outside before
   * the client holds its address): it runs after that one passed, and fails
   * without running if it did not. Default none.
   */
  readonly after?: string;
}

/** `|| { echo <message> >&2; exit 1; }`, the message quoted. */
const orFail = (message: string, extra = ""): string => `|| { echo ${shq(message)} >&2;${extra} exit 1; }`;

export const running = (process: string): string => `pidof ${shq(process)} >/dev/null ${orFail(`${process} is not running`)}`;

export const unitActive = (unit: string): string => `systemctl is-active --quiet ${shq(unit)} ${orFail(`${unit} is not active`)}`;

export const interfaceUp = (ifname: string): string =>
  `ip link show dev ${shq(ifname)} 2>/dev/null | grep -q 'state UP\\|state UNKNOWN\\|,UP' ${orFail(`${ifname} is missing or down`)}`;

export const wireguardHandshake = (ifname: string): string =>
  `wg show ${shq(ifname)} latest-handshakes | awk '$2 > 0 { ok = 1 } END { exit !ok }' ${orFail(`no WireGuard handshake on ${ifname} yet`)}`;

/** A global, non-tentative address on an interface (address with length, "2001:db8:8888::1/64"). */
export const hasAddress = (ifname: string, address: string): string =>
  `ip -6 -o addr show dev ${shq(ifname)} scope global -tentative | grep -q -- ${shq(` ${address} `)} ${orFail(`${ifname} has no ${address} (or it is still tentative):`, ` ip -6 -o addr show dev ${shq(ifname)} >&2;`)}`;

export const forwardingOn = `[ "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ] ${orFail("IPv6 forwarding is off")}`;

/**
 * ping6 until the first answer: an echo every 0.2 s, for at most `seconds`.
 * A lost echo costs 0.2 s, not a retry; an answer ends it at once.
 */
const pingUntilAnswered = (seconds: number) => `ping -6 -n -c 1 -i 0.2 -w ${seconds}`;
const PING = pingUntilAnswered(3);
/** Silence means no answer to ten echoes over 2 s. */
const NO_PING = pingUntilAnswered(2);

export const ping = (target: string): string => `${PING} -- ${shq(target)} >/dev/null 2>&1 ${orFail(`no answer to ping6 ${target}`)}`;

export const noPing = (target: string): string =>
  `if ${NO_PING} -- ${shq(target)} >/dev/null 2>&1; then echo ${shq(`${target} answers ping6 from outside`)} >&2; exit 1; fi`;

export const httpGet = (url: string): string => `curl -fsS -m 10 -o /dev/null -- ${shq(url)}`;

/**
 * A TCP connection to address:port must be refused with ICMPv6
 * administratively prohibited, which Linux reports as EACCES
 * ("Permission denied", as the HOWTO's telnet showed in step 25).
 */
export const tcpAdmProhibited = (address: string, port: number): string =>
  [
    `out=$(timeout 10 bash -c ${shq(`exec 3<>/dev/tcp/${address}/${port}`)} 2>&1); rc=$?`,
    `case "$out" in *"Permission denied"*) exit 0 ;; esac`,
    `[ $rc -eq 0 ] && { echo ${shq(`TCP ${port} on ${address} accepted a connection from outside`)} >&2; exit 1; }`,
    `echo ${shq(`TCP ${port} on ${address} failed otherwise than adm-prohibited:`)} "\${out:-timed out}" >&2; exit 1`,
  ].join("\n");

/**
 * Prints the /64 of the delegated address (dynamic, preferred, not
 * tentative) a LAN interface holds, e.g. "2001:db8:9900::/64": the
 * gateway's ::1 that dhcpcd put there. Names no prefix itself.
 */
export const delegatedLanPrefix = (ifname: string): string =>
  [
    `p=$(ip -6 -o addr show dev ${shq(ifname)} scope global dynamic -deprecated -tentative | awk '`,
    AWK_IPV6_FUNCTIONS,
    `{ for (i = 1; i < NF; i++) if ($i == "inet6") { split($(i + 1), a, "/"); if (a[2] == 64 && substr(expand(a[1]), 21) == "0000:0000:0000:0001") { print net64(a[1]); exit } } }')`,
    `[ -n "$p" ] ${orFail(`${ifname} holds no delegated /64 (its ::1 from the DHCPv6 client, preferred):`, ` ip -6 -o addr show dev ${shq(ifname)} scope global >&2;`)}`,
    'echo "$p"',
  ].join("\n");

/**
 * Reads a /64 on stdin (delegatedLanPrefix's output) and checks that the
 * interface holds <that /64>:<iid> (iid as four full groups, its EUI-64),
 * preferred and not tentative; prints the address.
 */
export const holdsEui64In = (ifname: string, iid: string): string =>
  [
    `read -r net || { echo "no /64 came from the gateway's probe" >&2; exit 1; }`,
    `a=$(ip -6 -o addr show dev ${shq(ifname)} scope global -deprecated -tentative | awk -v net="$net" -v iid=${shq(iid)} '`,
    AWK_IPV6_FUNCTIONS,
    `BEGIN { split(net, n, "/"); want = substr(expand(n[1]), 1, 19) ":" iid }`,
    `{ for (i = 1; i < NF; i++) if ($i == "inet6") { split($(i + 1), a, "/"); if (expand(a[1]) == want) { print a[1]; exit } } }')`,
    `[ -n "$a" ] || { echo "${ifname} holds no preferred address with interface id ${iid} in $net:" >&2; ip -6 -o addr show dev ${shq(ifname)} scope global >&2; exit 1; }`,
    'echo "$a"',
  ].join("\n");

/** Reads an address on stdin (holdsEui64In's output); only hex digits and colons pass into the commands below. */
const readAddress = `read -r addr; case "$addr" in ""|*[!0-9a-fA-F:]*) echo "no address came from the client's probe (got '$addr')" >&2; exit 1 ;; esac`;

/** tcpAdmProhibited for the address on stdin. */
export const tcpAdmProhibitedStdin = (port: number): string =>
  [
    readAddress,
    `out=$(timeout 10 bash -c "exec 3<>/dev/tcp/$addr/${port}" 2>&1); rc=$?`,
    `case "$out" in *"Permission denied"*) exit 0 ;; esac`,
    `[ $rc -eq 0 ] && { echo "TCP ${port} on $addr accepted a connection from outside" >&2; exit 1; }`,
    `echo "TCP ${port} on $addr failed otherwise than adm-prohibited:" "\${out:-timed out}" >&2; exit 1`,
  ].join("\n");

/** ping for the address on stdin. */
export const pingStdin = [readAddress, `${PING} -- "$addr" >/dev/null 2>&1 || { echo "no answer to ping6 $addr" >&2; exit 1; }`].join("\n");

/** noPing for the address on stdin. */
export const noPingStdin = [readAddress, `if ${NO_PING} -- "$addr" >/dev/null 2>&1; then echo "$addr answers ping6 from outside" >&2; exit 1; fi`].join("\n");
