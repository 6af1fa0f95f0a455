// radvd.conf renderer: a typed model to radvd.conf(5) text. Pure.
//
// Only what is set in the model is written; radvd applies its own defaults to
// the rest (radvd defaults.h), and validation uses those same defaults so a
// config radvd would refuse at start fails here, at preview.

import { canonicalIpv6, formatPrefix, ipv6ToBigInt, isIpv6Address, parsePrefix, prefixCovers } from "../net/ipv6";
import { MANAGED_HEADER, checkIfname, renderError } from "./kit";

const INDENT = "    ";

/** radvd's built-in defaults that validation depends on (radvd defaults.h, radvd.conf(5)). */
export const RADVD_DEFAULTS = Object.freeze({
  /** MaxRtrAdvInterval when unset, seconds. */
  maxRtrAdvInterval: 600,
  /** MinRtrAdvInterval when unset is this factor times MaxRtrAdvInterval. */
  minRtrAdvIntervalFactor: 0.33,
  /** AdvDefaultLifetime when unset is this factor times MaxRtrAdvInterval (at most 5400, inside radvd's limit). */
  defaultLifetimeFactor: 3,
  /** AdvValidLifetime when unset, seconds. */
  validLifetime: 86400,
  /** AdvPreferredLifetime when unset, seconds. */
  preferredLifetime: 14400,
});

/** A prefix advertised on an interface (radvd `prefix P/len { ... };`). */
export interface RadvdPrefix {
  /** Network prefix, e.g. `"2001:db8:8888::/64"`; host bits must be zero. Rendered in canonical form. */
  readonly prefix: string;
  /** AdvOnLink: hosts may treat the prefix as on-link. Required (radvd's default is on). */
  readonly onLink: boolean;
  /** AdvAutonomous: hosts may form SLAAC addresses from it. Required; `true` needs a /64. */
  readonly autonomous: boolean;
  /** AdvValidLifetime in seconds or `"infinity"`. Unset: radvd's 86400. Excludes `deprecated`. */
  readonly validLifetime?: number | "infinity";
  /** AdvPreferredLifetime in seconds or `"infinity"`, at most the valid lifetime. Unset: radvd's 14400. Excludes `deprecated`. */
  readonly preferredLifetime?: number | "infinity";
  /**
   * `true` renders AdvValidLifetime and AdvPreferredLifetime 0, withdrawing an
   * old prefix after renumbering (RFC 9096). Defaults to `false`. Excludes
   * explicit lifetimes.
   */
  readonly deprecated?: boolean;
  /**
   * DecrementLifetimes: radvd counts both lifetimes down in real time from
   * the values given (which must be finite) and stops advertising the prefix
   * once the preferred one reaches 0: for a prefix leased from upstream.
   * Defaults to `false`. Excludes `deprecated`.
   */
  readonly decrementLifetimes?: boolean;
}

/** One `interface NAME { ... };` block. AdvSendAdvert is always on. */
export interface RadvdInterface {
  /** Interface name, e.g. `"eth0"` (1-15 characters of A-Z a-z 0-9 _ . @ -). Unique in the config. */
  readonly name: string;
  /** MinRtrAdvInterval, seconds, >= 3 and <= 0.75 * MaxRtrAdvInterval. Unset: radvd uses 0.33 * MaxRtrAdvInterval. */
  readonly minRtrAdvInterval?: number;
  /** MaxRtrAdvInterval, seconds, 4..1800. Unset: radvd's 600. */
  readonly maxRtrAdvInterval?: number;
  /** IgnoreIfMissing: keep running while the interface is absent. Unset: radvd's default (on in radvd 2.x). */
  readonly ignoreIfMissing?: boolean;
  /** AdvLinkMTU: 0 (not advertised) or >= 1280. Unset: not advertised. */
  readonly linkMtu?: number;
  /** AdvDefaultLifetime, seconds: 0 (not a default router) or MaxRtrAdvInterval..9000. Unset: 3 * MaxRtrAdvInterval. */
  readonly defaultLifetime?: number;
  /** Prefixes to advertise (may be empty: then only a default route is offered). Rendered sorted by address and length. */
  readonly prefixes: readonly RadvdPrefix[];
  /** RDNSS (RFC 8106) DNS server addresses, in preference order. Default: none. */
  readonly rdnss?: readonly string[];
  /** DNSSL search domains, in search order. Default: none. */
  readonly dnssl?: readonly string[];
}

/** The whole radvd.conf. */
export interface RadvdConf {
  /** At least one interface; rendered sorted by name, since order has no meaning to radvd. */
  readonly interfaces: readonly RadvdInterface[];
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const MAX_U32 = 0xffffffff;
// radvd sends 0xffffffff for "infinity"; a finite lifetime must stay below it.
const MAX_FINITE_LIFETIME = MAX_U32 - 1;
// Up to three addresses per RDNSS line: older radvd releases accept no more.
const RDNSS_PER_LINE = 3;


function onOff(value: boolean): string {
  return value ? "on" : "off";
}

function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => DNS_LABEL.test(label));
}

function lifetimeValue(v: number | "infinity"): number {
  return v === "infinity" ? MAX_U32 : v;
}

function checkLifetime(where: string, field: string, v: number | "infinity" | undefined): void {
  if (v === undefined || v === "infinity") return;
  if (!Number.isInteger(v) || v < 0 || v > MAX_FINITE_LIFETIME) {
    renderError(where, field, `must be an integer 0..${MAX_FINITE_LIFETIME} seconds or "infinity"`, String(v), "fix the value");
  }
}

function validatePrefix(where: string, p: RadvdPrefix): void {
  let parsed;
  try {
    parsed = parsePrefix(p.prefix);
  } catch (e) {
    renderError(where, "prefix", "is not a valid IPv6 network prefix", `'${p.prefix}'`, (e as Error).message);
  }
  const text = formatPrefix(parsed);
  if (prefixCovers("fe80::/10", text) || prefixCovers("ff00::/8", text)) {
    renderError(where, "prefix", "must not be link-local or multicast", `'${p.prefix}'`, "advertise a global or unique local prefix");
  }
  if (p.autonomous && parsed.length !== 64) {
    renderError(where, "prefix", "must be a /64 when autonomous is true (SLAAC forms 64-bit interface identifiers)", `'${p.prefix}'`,
      "advertise a /64 or set autonomous to false");
  }
  if (p.deprecated === true && (p.validLifetime !== undefined || p.preferredLifetime !== undefined)) {
    renderError(where, "deprecated", "excludes validLifetime and preferredLifetime (a deprecated prefix is sent with both 0)", "true",
      "remove the lifetimes or set deprecated to false");
  }
  if (p.decrementLifetimes === true && (p.deprecated === true || p.validLifetime === undefined || p.preferredLifetime === undefined || p.validLifetime === "infinity" || p.preferredLifetime === "infinity")) {
    renderError(where, "decrementLifetimes", "needs finite validLifetime and preferredLifetime to count down, and excludes deprecated", "true",
      "give both lifetimes in seconds, or set decrementLifetimes to false");
  }
  checkLifetime(where, "validLifetime", p.validLifetime);
  checkLifetime(where, "preferredLifetime", p.preferredLifetime);
  const valid = lifetimeValue(p.validLifetime ?? RADVD_DEFAULTS.validLifetime);
  const preferred = lifetimeValue(p.preferredLifetime ?? RADVD_DEFAULTS.preferredLifetime);
  if (preferred > valid) {
    renderError(where, "preferredLifetime", `must not exceed validLifetime (${p.validLifetime ?? `radvd default ${valid}`})`,
      String(p.preferredLifetime ?? `radvd default ${preferred}`), "lower preferredLifetime or raise validLifetime");
  }
}

function validateInterface(iface: RadvdInterface, index: number): void {
  checkIfname(`radvd.conf interfaces[${index}]`, "name", iface.name, "use the LAN interface name, e.g. eth0");
  const where = `radvd.conf interface "${iface.name}"`;
  const max = iface.maxRtrAdvInterval ?? RADVD_DEFAULTS.maxRtrAdvInterval;
  if (iface.maxRtrAdvInterval !== undefined && !(Number.isFinite(max) && max >= 4 && max <= 1800)) {
    renderError(where, "maxRtrAdvInterval", "must be between 4 and 1800 seconds (radvd.conf(5))", String(iface.maxRtrAdvInterval),
      "pick a value in that range");
  }
  const min = iface.minRtrAdvInterval ?? RADVD_DEFAULTS.minRtrAdvIntervalFactor * max;
  if (!Number.isFinite(min) || min < 3) {
    renderError(where, "minRtrAdvInterval",
      iface.minRtrAdvInterval === undefined
        ? `defaults to 0.33 * maxRtrAdvInterval, which must be at least 3 seconds`
        : "must be at least 3 seconds (radvd.conf(5))",
      String(iface.minRtrAdvInterval ?? `${min} (0.33 * ${max})`),
      iface.minRtrAdvInterval === undefined ? "set minRtrAdvInterval to 3 or raise maxRtrAdvInterval" : "raise it to 3 or more");
  }
  if (min > 0.75 * max) {
    renderError(where, "minRtrAdvInterval", `must be at most 0.75 * maxRtrAdvInterval (${0.75 * max})`, String(min),
      "lower minRtrAdvInterval or raise maxRtrAdvInterval");
  }
  if (iface.linkMtu !== undefined &&
    !(Number.isInteger(iface.linkMtu) && (iface.linkMtu === 0 || (iface.linkMtu >= 1280 && iface.linkMtu <= MAX_U32)))) {
    renderError(where, "linkMtu", "must be 0 (not advertised) or an integer of at least 1280 (the IPv6 minimum MTU)",
      String(iface.linkMtu), "use the LAN link MTU, e.g. 1500, or 1280 behind a tunnel");
  }
  if (iface.defaultLifetime !== undefined) {
    const d = iface.defaultLifetime;
    if (!Number.isInteger(d) || (d !== 0 && (d < max || d > 9000))) {
      renderError(where, "defaultLifetime", `must be 0 or an integer between maxRtrAdvInterval (${max}) and 9000 seconds`, String(d),
        "use 0 to not be a default router, or a value in that range");
    }
  }
  if (!Array.isArray(iface.prefixes)) {
    renderError(where, "prefixes", "must be a list (it may be empty)", String(iface.prefixes), "pass [] or the prefixes to advertise");
  }
  const seen = new Set<string>();
  for (const p of iface.prefixes) {
    validatePrefix(`${where} prefix "${p.prefix}"`, p);
    const key = formatPrefix(parsePrefix(p.prefix));
    if (seen.has(key)) renderError(where, "prefixes", "lists a prefix twice", `'${key}'`, "list each prefix once");
    seen.add(key);
  }
  const rdnss = new Set<string>();
  for (const server of iface.rdnss ?? []) {
    if (!isIpv6Address(server)) {
      renderError(where, "rdnss", "must contain IPv6 addresses", `'${server}'`, "give DNS servers as IPv6 addresses, e.g. 2001:db8::53");
    }
    const c = canonicalIpv6(server);
    if (rdnss.has(c)) renderError(where, "rdnss", "lists a server twice", `'${server}'`, "list each server once");
    rdnss.add(c);
  }
  const dnssl = new Set<string>();
  for (const domain of iface.dnssl ?? []) {
    if (!isDnsName(domain)) {
      renderError(where, "dnssl", "must contain DNS domain names (letters, digits, hyphens; labels up to 63, names up to 253 characters)",
        `'${domain}'`, "give search domains like example.com");
    }
    if (dnssl.has(domain.toLowerCase())) renderError(where, "dnssl", "lists a domain twice", `'${domain}'`, "list each domain once");
    dnssl.add(domain.toLowerCase());
  }
}

/**
 * Checks a radvd model against radvd.conf(5) and radvd's own start-up checks.
 * Throws `radvd.conf ...: '<field>' <problem>, got <value>; <fix>` on the first problem.
 */
export function validateRadvdConf(model: RadvdConf): void {
  if (!Array.isArray(model.interfaces) || model.interfaces.length === 0) {
    renderError("radvd.conf", "interfaces", "must list at least one interface", String(model.interfaces?.length ?? model.interfaces),
      "add the LAN interface to advertise on");
  }
  const names = new Set<string>();
  model.interfaces.forEach((iface, i) => {
    validateInterface(iface, i);
    if (names.has(iface.name)) {
      renderError("radvd.conf", "interfaces", "lists an interface twice", `'${iface.name}'`, "merge the two blocks into one");
    }
    names.add(iface.name);
  });
}

function renderPrefix(p: RadvdPrefix): string[] {
  const lines = [`prefix ${formatPrefix(parsePrefix(p.prefix))} {`, `${INDENT}AdvOnLink ${onOff(p.onLink)};`,
    `${INDENT}AdvAutonomous ${onOff(p.autonomous)};`];
  if (p.deprecated === true) {
    lines.push(`${INDENT}# Withdrawn (RFC 9096): hosts stop using it.`);
    lines.push(`${INDENT}AdvValidLifetime 0;`, `${INDENT}AdvPreferredLifetime 0;`);
  } else {
    if (p.validLifetime !== undefined) lines.push(`${INDENT}AdvValidLifetime ${p.validLifetime};`);
    if (p.preferredLifetime !== undefined) lines.push(`${INDENT}AdvPreferredLifetime ${p.preferredLifetime};`);
    if (p.decrementLifetimes === true) lines.push(`${INDENT}DecrementLifetimes on;`);
  }
  lines.push("};");
  return lines;
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function renderInterface(iface: RadvdInterface): string[] {
  const body: string[] = ["AdvSendAdvert on;"];
  if (iface.ignoreIfMissing !== undefined) body.push(`IgnoreIfMissing ${onOff(iface.ignoreIfMissing)};`);
  if (iface.minRtrAdvInterval !== undefined) body.push(`MinRtrAdvInterval ${iface.minRtrAdvInterval};`);
  if (iface.maxRtrAdvInterval !== undefined) body.push(`MaxRtrAdvInterval ${iface.maxRtrAdvInterval};`);
  if (iface.defaultLifetime !== undefined) body.push(`AdvDefaultLifetime ${iface.defaultLifetime};`);
  if (iface.linkMtu !== undefined) body.push(`AdvLinkMTU ${iface.linkMtu};`);
  const prefixes = [...iface.prefixes].sort((a, b) => {
    const pa = parsePrefix(a.prefix);
    const pb = parsePrefix(b.prefix);
    return compareBigInt(ipv6ToBigInt(pa.address), ipv6ToBigInt(pb.address)) || pa.length - pb.length;
  });
  for (const p of prefixes) body.push(...renderPrefix(p));
  const rdnss = (iface.rdnss ?? []).map(canonicalIpv6);
  for (let i = 0; i < rdnss.length; i += RDNSS_PER_LINE) {
    body.push(`RDNSS ${rdnss.slice(i, i + RDNSS_PER_LINE).join(" ")} { };`);
  }
  if ((iface.dnssl ?? []).length > 0) body.push(`DNSSL ${(iface.dnssl ?? []).join(" ")} { };`);
  return [`interface ${iface.name} {`, ...body.map((l) => INDENT + l), "};"];
}

/**
 * Renders radvd.conf: the managed-file header, then one block per interface
 * (sorted by name) with AdvSendAdvert on, the interface options that are set,
 * prefixes (sorted), RDNSS (up to three addresses per line, order kept) and
 * DNSSL (order kept). Validates first (see {@link validateRadvdConf}).
 */
export function renderRadvdConf(model: RadvdConf): string {
  validateRadvdConf(model);
  const interfaces = [...model.interfaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const blocks = interfaces.map((iface) => renderInterface(iface).join("\n"));
  return `${MANAGED_HEADER}\n\n${blocks.join("\n\n")}\n`;
}
