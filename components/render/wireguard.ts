// wg-quick configuration for a WireGuard tunnel to a host with a routed IPv6
// prefix (e.g. a VPS), plus the systemd drop-in that makes wg-quick@ use a
// userspace implementation on kernels without the wireguard module. Pure.
//
// Routes are explicit: Table=off stops wg-quick from deriving routes and
// policy rules from AllowedIPs (for ::/0 it would add fwmark rules), and
// PostUp/PreDown add and remove exactly the routes asked for.
//
// PrivateKey and PresharedKey are secrets: rendered (store the file 0600),
// never put in an error message.

import { canonicalIpv6, formatPrefix, isIpv4Address, isIpv6Address, parseIpv4, parsePrefix, prefixCovers } from "../net/ipv6";
import { MANAGED_HEADER, renderError } from "./kit";


/** One `[Peer]`. */
export interface WgQuickPeer {
  /** PublicKey: the peer's 44-character base64 key. */
  readonly publicKey: string;
  /** PresharedKey (secret): optional 44-character base64 key. Default: none. */
  readonly presharedKey?: string;
  /** Endpoint: `host:port`, host being IPv4, `[IPv6]` or a DNS name. Required: the gateway dials out. */
  readonly endpoint: string;
  /** AllowedIPs: prefixes (IPv4 or IPv6, host bits zero) routed to and accepted from this peer. At least one. */
  readonly allowedIps: readonly string[];
  /** PersistentKeepalive, seconds, 0 (off)..65535. Default `25`, which keeps NAT/CGNAT mappings open. */
  readonly persistentKeepalive?: number;
}

/** A wg-quick configuration (`/etc/wireguard/<if>.conf`). */
export interface WgQuickConf {
  /** PrivateKey (secret): this side's 44-character base64 key. */
  readonly privateKey: string;
  /** Address: interface addresses with length, e.g. `"2001:db8:ffff::2/64"` (IPv4 allowed). At least one. */
  readonly addresses: readonly string[];
  /** ListenPort 1..65535. Default: unset (a random port, fine for the dialling side). */
  readonly listenPort?: number;
  /** MTU 1280..65535. Default: unset (wg-quick derives it from the route to the endpoint). */
  readonly mtu?: number;
  /**
   * IPv6 prefixes routed into the tunnel by PostUp (`ip -6 route replace P dev %i`)
   * and removed by PreDown. Each must lie inside some peer's AllowedIPs.
   * Default `["::/0"]` (the tunnel is the IPv6 default route).
   */
  readonly routes?: readonly string[];
  /** Peers; at least one, distinct public keys. Rendered in the given order. */
  readonly peers: readonly WgQuickPeer[];
}

const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function fail(field: string, problem: string, got: string, fix: string): never {
  return renderError("wg-quick config", field, problem, got, fix);
}

function checkKey(field: string, key: string, secret: boolean): void {
  if (typeof key !== "string" || !KEY.test(key)) {
    const got = secret ? `a value of ${typeof key === "string" ? key.length : 0} characters` : `'${String(key)}'`;
    fail(field, "must be a WireGuard key: 44 characters of base64 encoding 32 bytes", got, "use the output of `wg genkey` / `wg pubkey`");
  }
}

function checkInt(field: string, v: number, min: number, max: number, fix: string): void {
  if (!Number.isInteger(v) || v < min || v > max) fail(field, `must be an integer ${min}..${max}`, String(v), fix);
}

/**
 * Parses `addr/len` for IPv4 or IPv6 and returns canonical text. `strict`
 * (prefixes) rejects host bits; otherwise (interface addresses) they are kept.
 */
function ipPrefix(field: string, text: string, strict: boolean): string {
  const slash = typeof text === "string" ? text.indexOf("/") : -1;
  if (slash === -1) fail(field, "must be address/length", `'${String(text)}'`, "add the prefix length, e.g. /64 or /32");
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (isIpv4Address(addr)) {
    if (!/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) fail(field, "has an IPv4 length outside 0..32", `'${text}'`, "fix the length");
    const len = Number(lenText);
    const value = parseIpv4(addr);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    if (strict && ((value & mask) >>> 0) !== value) {
      fail(field, `has host bits set beyond /${len}`, `'${text}'`, "give the network address of the prefix");
    }
    return `${addr}/${len}`;
  }
  if (isIpv6Address(addr)) {
    try {
      const network = formatPrefix(parsePrefix(text, { normalize: !strict }));
      // An interface address keeps its host part; only the network form is normalized.
      return strict ? network : `${canonicalIpv6(addr)}/${lenText}`;
    } catch (e) {
      return fail(field, "is not a valid IPv6 prefix", `'${text}'`, (e as Error).message);
    }
  }
  return fail(field, "must start with an IPv4 or IPv6 address", `'${text}'`, "e.g. 2001:db8::/48 or 10.0.0.0/24");
}

function checkEndpoint(field: string, endpoint: string): void {
  const bad = (why: string): never =>
    fail(field, why, `'${String(endpoint)}'`, "use host:port with an IPv4 address, [IPv6] in brackets, or a DNS name");
  if (typeof endpoint !== "string") bad("must be host:port");
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]+)$/.exec(endpoint);
  if (!m) bad(endpoint.split(":").length > 2 ? "must put an IPv6 host in brackets" : "must be host:port");
  const [, v6, host, port] = m as RegExpExecArray;
  if (v6 !== undefined && !isIpv6Address(v6)) bad("has an invalid IPv6 address in brackets");
  if (host !== undefined && !isIpv4Address(host)) {
    const isName = /[A-Za-z]/.test(host) && host.length <= 253 && host.replace(/\.$/, "").split(".").every((l) => DNS_LABEL.test(l));
    if (!isName) bad("has a host that is neither an IPv4 address nor a DNS name");
  }
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) bad("has a port outside 1..65535");
}

/**
 * Checks a wg-quick model: keys are 44-character base64 WireGuard keys (the
 * private and preshared keys are never echoed), endpoints are host:port,
 * AllowedIPs are prefixes, routes are IPv6 prefixes covered by some peer's
 * AllowedIPs. Throws `wg-quick config: '<field>' <problem>, got <value>; <fix>`.
 */
export function validateWgQuickConf(model: WgQuickConf): void {
  checkKey("privateKey", model.privateKey, true);
  if (!Array.isArray(model.addresses) || model.addresses.length === 0) {
    fail("addresses", "must list at least one interface address", "none", "add the tunnel address, e.g. 2001:db8:ffff::2/64");
  }
  model.addresses.forEach((a, i) => ipPrefix(`addresses[${i}]`, a, false));
  if (model.listenPort !== undefined) checkInt("listenPort", model.listenPort, 1, 65535, "use a UDP port or leave it unset");
  if (model.mtu !== undefined) checkInt("mtu", model.mtu, 1280, 65535, "IPv6 needs at least 1280; leave it unset to let wg-quick decide");
  if (!Array.isArray(model.peers) || model.peers.length === 0) fail("peers", "must list at least one peer", "none", "add the far end");
  const seen = new Set<string>();
  const allowed: string[] = [];
  model.peers.forEach((peer, i) => {
    const f = `peers[${i}]`;
    checkKey(`${f}.publicKey`, peer.publicKey, false);
    if (peer.publicKey === model.privateKey) {
      fail(`${f}.publicKey`, "equals this side's private key", "the private key", "use the peer's public key (`wg pubkey` on the peer)");
    }
    if (seen.has(peer.publicKey)) fail(`${f}.publicKey`, "is used by two peers", `'${peer.publicKey}'`, "list each peer once");
    seen.add(peer.publicKey);
    if (peer.presharedKey !== undefined) checkKey(`${f}.presharedKey`, peer.presharedKey, true);
    checkEndpoint(`${f}.endpoint`, peer.endpoint);
    if (!Array.isArray(peer.allowedIps) || peer.allowedIps.length === 0) {
      fail(`${f}.allowedIps`, "must list at least one prefix", "none", "e.g. ::/0 for a default route through this peer");
    }
    peer.allowedIps.forEach((p: string, j: number) => allowed.push(ipPrefix(`${f}.allowedIps[${j}]`, p, true)));
    if (peer.persistentKeepalive !== undefined) {
      checkInt(`${f}.persistentKeepalive`, peer.persistentKeepalive, 0, 65535, "use 25 behind NAT, or 0 to turn it off");
    }
  });
  const allowedV6 = allowed.filter((p) => p.includes(":"));
  (model.routes ?? ["::/0"]).forEach((r, i) => {
    const field = `routes[${i}]`;
    const route = ipPrefix(field, r, true);
    if (!route.includes(":")) fail(field, "must be an IPv6 prefix (routes are added with ip -6)", `'${r}'`, "route IPv4 elsewhere");
    if (!allowedV6.some((a) => prefixCovers(a, route))) {
      fail(field, "is not inside any peer's allowedIps, so WireGuard would drop its packets", `'${r}'`,
        "add it (or a covering prefix) to a peer's allowedIps");
    }
  });
}

/**
 * Renders a wg-quick config: `[Interface]` (PrivateKey, Address, ListenPort,
 * MTU, Table=off, one PostUp/PreDown pair per route) and one `[Peer]` per
 * peer (PublicKey, PresharedKey, Endpoint, AllowedIPs, PersistentKeepalive).
 * Addresses and prefixes are written canonically. Validates first
 * ({@link validateWgQuickConf}). Contains the private key: store it 0600.
 */
export function renderWgQuickConf(model: WgQuickConf): string {
  validateWgQuickConf(model);
  const routes = (model.routes ?? ["::/0"]).map((r, i) => ipPrefix(`routes[${i}]`, r, true));
  const lines = [MANAGED_HEADER, "[Interface]", `PrivateKey = ${model.privateKey}`,
    `Address = ${model.addresses.map((a, i) => ipPrefix(`addresses[${i}]`, a, false)).join(", ")}`];
  if (model.listenPort !== undefined) lines.push(`ListenPort = ${model.listenPort}`);
  if (model.mtu !== undefined) lines.push(`MTU = ${model.mtu}`);
  lines.push("# Routes are explicit: no routes or policy rules derived from AllowedIPs.", "Table = off");
  for (const r of routes) lines.push(`PostUp = ip -6 route replace ${r} dev %i`);
  // PreDown must not fail: wg-quick aborts "down" on an error, and the kernel drops the routes with the interface anyway.
  for (const r of routes) lines.push(`PreDown = ip -6 route del ${r} dev %i || true`);
  model.peers.forEach((peer, i) => {
    lines.push("", "[Peer]", `PublicKey = ${peer.publicKey}`);
    if (peer.presharedKey !== undefined) lines.push(`PresharedKey = ${peer.presharedKey}`);
    lines.push(`Endpoint = ${peer.endpoint}`);
    lines.push(`AllowedIPs = ${peer.allowedIps.map((p, j) => ipPrefix(`peers[${i}].allowedIps[${j}]`, p, true)).join(", ")}`);
    lines.push(`PersistentKeepalive = ${peer.persistentKeepalive ?? 25}`);
  });
  return `${lines.join("\n")}\n`;
}

/** Userspace WireGuard implementations wg-quick can run when the kernel has no wireguard module. */
export type WgUserspaceImplementation = "wireguard-go" | "boringtun-cli";

/** Where {@link renderWgQuickUserspaceDropIn}'s output belongs. */
export const WG_QUICK_USERSPACE_DROPIN_PATH = "/etc/systemd/system/wg-quick@.service.d/60-ipv6gw-userspace.conf";

/** Options of {@link renderWgQuickUserspaceDropIn}. */
export interface WgQuickUserspaceOptions {
  /** Implementation binary on PATH. Default `"wireguard-go"` (packaged by Debian). */
  readonly implementation?: WgUserspaceImplementation;
}

/**
 * A systemd drop-in for `wg-quick@.service` on kernels without the wireguard
 * module: sets WG_QUICK_USERSPACE_IMPLEMENTATION, so `ip link add type
 * wireguard` failing falls through to the userspace daemon over /dev/net/tun.
 * For wireguard-go it also sets WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
 * (releases before 2021 refuse to start on Linux without it; later ones only
 * warn). For boringtun-cli it sets WG_SUDO=1, which keeps boringtun from
 * dropping root, which wg-quick needs to configure the device after start.
 */
export function renderWgQuickUserspaceDropIn(options: WgQuickUserspaceOptions = {}): string {
  const impl = options.implementation ?? "wireguard-go";
  const lines = [MANAGED_HEADER, "# This kernel has no wireguard module: wg-quick runs a userspace implementation over /dev/net/tun.", "[Service]",
    `Environment=WG_QUICK_USERSPACE_IMPLEMENTATION=${impl}`];
  switch (impl) {
    case "wireguard-go":
      lines.push("# wireguard-go releases before 2021 refuse to run on Linux without this.",
        "Environment=WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1");
      break;
    case "boringtun-cli":
      lines.push("# Keep root: wg-quick configures the device after boringtun has started.", "Environment=WG_SUDO=1");
      break;
    default: {
      const never: never = impl;
      fail("implementation", "must be wireguard-go or boringtun-cli", `'${String(never)}'`, "pick one of those");
    }
  }
  return `${lines.join("\n")}\n`;
}
