// The HOWTO's checklist (steps 12, 14, 22-23, 25) as probe scripts: each runs
// on one box and exits 0 when the check holds. Pure: builders only. Every
// value reaches the script through shq, in commands and in messages alike.

import { shq } from "../host/remote";

export interface Probe {
  /** What is checked, as the user reads it: "gw: radvd running". */
  readonly name: string;
  /** Which box runs it: "gateway", "outside" or a client's name. */
  readonly on: string;
  readonly script: string;
  /** Keep trying for this long before calling it failed (SLAAC and handshakes take seconds). */
  readonly retrySeconds: number;
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

export const ping = (target: string): string => `ping -6 -n -c 2 -W 3 -- ${shq(target)} >/dev/null 2>&1 ${orFail(`no answer to ping6 ${target}`)}`;

export const noPing = (target: string): string =>
  `if ping -6 -n -c 2 -W 3 -- ${shq(target)} >/dev/null 2>&1; then echo ${shq(`${target} answers ping6 from outside`)} >&2; exit 1; fi`;

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
