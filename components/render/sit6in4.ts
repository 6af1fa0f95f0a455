// Static 6in4 (protocol 41 over a `sit` device), the Hurricane Electric
// tunnelbroker.net way: an up/down shell script, a systemd oneshot unit
// around it, and HE's endpoint-update URL. Pure.

import { canonicalIpv6, formatPrefix, isIpv4Address, parsePrefix } from "../net/ipv6";
import { MANAGED_HEADER, checkAbsolutePath, checkIfname, renderError } from "./kit";


/** A 6in4 tunnel. */
export interface Sit6in4Tunnel {
  /** Tunnel interface name, 1-15 characters A-Z a-z 0-9 _ . - (not starting with '-'), e.g. `"he-ipv6"`. */
  readonly name: string;
  /** The broker's IPv4 tunnel endpoint ("Server IPv4 Address"). */
  readonly remoteV4: string;
  /** This side's IPv4 source address ("Client IPv4 Address"; behind NAT, the private address). Default: unset (kernel picks). */
  readonly localV4?: string;
  /** This side's tunnel address with length ("Client IPv6 Address"), e.g. `"2001:db8:ffff::2/64"`. */
  readonly clientV6: string;
  /** Outer TTL 1..255. Default `255` (HE's recommendation; the kernel default would inherit). */
  readonly ttl?: number;
  /** Tunnel MTU 1280..1480: the outer IPv4 header takes 20 bytes of a 1500-byte uplink. Default `1480`. */
  readonly mtu?: number;
  /** IPv6 prefixes routed into the tunnel with `ip -6 route replace`. Default `["::/0"]`. */
  readonly routes?: readonly string[];
}

function checkName(what: string, name: string): void {
  checkIfname(what, "name", name, "e.g. he-ipv6");
}

/** A tunnel with defaults applied and addresses canonical. */
export interface ResolvedSit6in4Tunnel {
  /** Tunnel interface name. */
  readonly name: string;
  /** Broker IPv4 endpoint. */
  readonly remoteV4: string;
  /** Local IPv4 source, unset when the kernel picks it. */
  readonly localV4?: string;
  /** Canonical client address with length. */
  readonly clientV6: string;
  /** Outer TTL (default applied). */
  readonly ttl: number;
  /** Tunnel MTU (default applied). */
  readonly mtu: number;
  /** Canonical routed prefixes (default applied). */
  readonly routes: readonly string[];
}

/**
 * Checks a tunnel and applies defaults. Throws
 * `6in4 tunnel "<name>": '<field>' <problem>, got <value>; <fix>`.
 */
export function resolveSit6in4Tunnel(t: Sit6in4Tunnel): ResolvedSit6in4Tunnel {
  checkName("6in4 tunnel", t.name);
  const what = `6in4 tunnel "${t.name}"`;
  if (!isIpv4Address(t.remoteV4)) renderError(what, "remoteV4", "must be an IPv4 address", `'${t.remoteV4}'`, "use the broker's server IPv4 address");
  if (t.localV4 !== undefined && !isIpv4Address(t.localV4)) {
    renderError(what, "localV4", "must be an IPv4 address", `'${t.localV4}'`, "use this box's uplink address, or leave it unset");
  }
  if (t.localV4 !== undefined && t.localV4 === t.remoteV4) {
    renderError(what, "localV4", "must differ from remoteV4", `'${t.localV4}'`, "use this box's own address");
  }
  const slash = typeof t.clientV6 === "string" ? t.clientV6.indexOf("/") : -1;
  let clientV6 = "";
  try {
    if (slash === -1) throw new Error("missing '/length'");
    parsePrefix(t.clientV6, { normalize: true });
    clientV6 = `${canonicalIpv6(t.clientV6.slice(0, slash))}/${t.clientV6.slice(slash + 1)}`;
  } catch (e) {
    renderError(what, "clientV6", "must be an IPv6 address with length", `'${String(t.clientV6)}'`,
      `use the broker's client IPv6 address, e.g. 2001:db8:ffff::2/64 (${(e as Error).message})`);
  }
  const ttl = t.ttl ?? 255;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) renderError(what, "ttl", "must be an integer 1..255", String(ttl), "use 255");
  const mtu = t.mtu ?? 1480;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 1480) {
    renderError(what, "mtu", "must be an integer 1280..1480 (IPv6 minimum; 1500 minus the 20-byte IPv4 header)", String(mtu),
      "use 1480, or less if the uplink MTU is below 1500 (e.g. 1472 over PPPoE)");
  }
  const routes = (t.routes ?? ["::/0"]).map((r, i) => {
    try {
      return formatPrefix(parsePrefix(r));
    } catch (e) {
      return renderError(what, `routes[${i}]`, "must be an IPv6 prefix", `'${r}'`, (e as Error).message);
    }
  });
  if (new Set(routes).size !== routes.length) renderError(what, "routes", "lists a prefix twice", `[${routes.join(", ")}]`, "list each once");
  return { name: t.name, remoteV4: t.remoteV4, localV4: t.localV4, clientV6, ttl, mtu, routes };
}

/**
 * A POSIX sh script taking `up` or `down`. `up` creates the sit tunnel (or
 * changes it if it exists, so re-running converges), sets it up with its MTU,
 * replaces the address and routes; `down` removes routes, address and tunnel,
 * ignoring what is already gone.
 */
export function renderSit6in4Script(tunnel: Sit6in4Tunnel): string {
  const t = resolveSit6in4Tunnel(tunnel);
  const local = t.localV4 !== undefined ? ` local ${t.localV4}` : "";
  const params = `${t.name} mode sit remote ${t.remoteV4}${local} ttl ${t.ttl}`;
  const up = [
    `    if ip link show dev ${t.name} >/dev/null 2>&1; then`,
    `        ip tunnel change ${params}`,
    "    else",
    `        ip tunnel add ${params}`,
    "    fi",
    `    ip link set dev ${t.name} up`,
    `    ip link set dev ${t.name} mtu ${t.mtu}`,
    `    ip -6 addr replace ${t.clientV6} dev ${t.name}`,
    ...t.routes.map((r) => `    ip -6 route replace ${r} dev ${t.name}`),
  ];
  const down = [
    ...[...t.routes].reverse().map((r) => `    ip -6 route del ${r} dev ${t.name} 2>/dev/null || true`),
    `    ip -6 addr del ${t.clientV6} dev ${t.name} 2>/dev/null || true`,
    `    ip link set dev ${t.name} down 2>/dev/null || true`,
    `    ip tunnel del ${t.name} 2>/dev/null || true`,
  ];
  return [
    "#!/bin/sh",
    MANAGED_HEADER,
    `# 6in4 tunnel ${t.name}: ${t.clientV6} over IPv4 ${t.localV4 ?? "(kernel-chosen source)"} -> ${t.remoteV4}.`,
    "# Usage: $0 up|down",
    "set -eu",
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "",
    'case "${1:-}" in',
    "up)",
    "    # Re-running converges: an existing tunnel is changed, address and routes replaced.",
    ...up,
    "    ;;",
    "down)",
    "    # Best effort: what is already gone is fine.",
    ...down,
    "    ;;",
    "*)",
    '    echo "usage: $0 up|down" >&2',
    "    exit 2",
    "    ;;",
    "esac",
    "",
  ].join("\n");
}

/** Options of {@link renderSit6in4Unit}. */
export interface Sit6in4UnitOptions {
  /** Tunnel interface name (for the description). */
  readonly name: string;
  /** Absolute path of the script from {@link renderSit6in4Script}. */
  readonly scriptPath: string;
}

/** A systemd oneshot unit (RemainAfterExit) running `<script> up` on start and `<script> down` on stop, after network-online.target. */
export function renderSit6in4Unit(options: Sit6in4UnitOptions): string {
  checkName("6in4 unit", options.name);
  const what = `6in4 unit "${options.name}"`;
  // The script path goes into ExecStart= unquoted.
  checkAbsolutePath(what, "scriptPath", options.scriptPath, "e.g. /usr/local/sbin/ipv6gw-he-ipv6");

  return [
    MANAGED_HEADER,
    "[Unit]",
    `Description=6in4 tunnel ${options.name} (sit)`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${options.scriptPath} up`,
    `ExecStop=${options.scriptPath} down`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** Options of {@link heUpdateUrl}. */
export interface HeUpdateUrlOptions {
  /** tunnelbroker.net tunnel ID (digits), sent as `hostname`. */
  readonly tunnelId: string | number;
  /** This side's public IPv4. Default: unset, HE uses the request's source address (right behind NAT). */
  readonly myip?: string;
}

/**
 * HE's endpoint-update URL, `https://ipv4.tunnelbroker.net/nic/update?hostname=<id>[&myip=<IPv4>]`.
 * Credentials (username and update key) are not part of it: send them as HTTP basic auth.
 */
export function heUpdateUrl(options: HeUpdateUrlOptions): string {
  const id = String(options.tunnelId);
  if (!/^[0-9]{1,12}$/.test(id)) {
    renderError("HE update URL", "tunnelId", "must be the numeric tunnel ID", `'${id}'`, "copy it from the tunnel's page on tunnelbroker.net");
  }
  let url = `https://ipv4.tunnelbroker.net/nic/update?hostname=${encodeURIComponent(id)}`;
  if (options.myip !== undefined) {
    if (!isIpv4Address(options.myip)) {
      renderError("HE update URL", "myip", "must be an IPv4 address", `'${options.myip}'`, "leave it unset to let HE use the source address");
    }
    url += `&myip=${encodeURIComponent(options.myip)}`;
  }
  return url;
}
