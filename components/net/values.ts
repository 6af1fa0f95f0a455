// What each kind of value a stack may hand to a box looks like: interface
// names, host names, ports, URLs, paths, keys. Each check returns why a text
// is not such a value, or undefined when it is. Pure, no zod, so the stack
// schema, the renderers and the dynamic providers (which Pulumi serializes)
// all use the same rules.
//
// The rules are those of the thing that reads the value (the kernel for
// interface names, RFC 1123 for host names) narrowed to characters that are
// inert in a shell word, a config file line and a ruleset: a value that passes
// never needs quoting to keep its meaning, and is quoted anyway.

import { isIpv4Address, isIpv6Address, parsePrefix } from "./ipv6";

/** Linux's IFNAMSIZ - 1. */
export const MAX_IFNAME = 15;

const IFNAME_RULE = "must be a Linux interface name of 1-15 characters: letters, digits, '_', '.' and '-', not starting with '-' (e.g. eth0, wg0, br-lan)";

/**
 * A Linux interface name: 1-15 bytes, not "." or "..", none of '/', ':' or
 * whitespace (the kernel's dev_valid_name), and here only A-Z a-z 0-9 _ . -
 * and no leading '-' (it would read as an option to ip, ifconfig, radvd).
 * '@' is legal to the kernel, but `ip` prints "eth0@if3" for a veth's peer.
 */
export function ifnameProblem(text: string): string | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(text) || text === "." || text === "..") return IFNAME_RULE;
  if (text.length > MAX_IFNAME) return `${IFNAME_RULE}; it has ${text.length}`;
  return undefined;
}

/**
 * An interface match in a firewall rule: an interface name, optionally
 * negated with a leading '!' and/or ending in '+' (any name with that start).
 */
export function ifnameMatchProblem(text: string): string | undefined {
  if (typeof text !== "string") return "is not an interface name";
  const bare = text.replace(/^!/, "");
  const stem = bare.endsWith("+") ? bare.slice(0, -1) : bare;
  if (stem === "" && bare === "+") return undefined;
  return ifnameProblem(stem);
}

/** A DNS label per RFC 1123: 1-63 letters, digits and '-', not starting or ending with '-'. */
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A DNS name (RFC 1123): labels of letters, digits and '-', dots between, at most 253 characters; a trailing dot is allowed. */
export function domainNameProblem(text: string): string | undefined {
  if (typeof text !== "string" || text.length === 0) return "is empty; give a DNS name such as example.net";
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length > 253) return `is ${name.length} characters long; DNS names have at most 253`;
  if (!name.split(".").every((l) => LABEL.test(l))) {
    return "is not a DNS name: labels of letters, digits and '-' separated by dots (e.g. broker.example.net)";
  }
  return undefined;
}

/** A host: an IPv6 address, an IPv4 address or a DNS name with at least one letter. */
export function hostProblem(text: string): string | undefined {
  if (typeof text !== "string" || text.length === 0) return "is required: give an address or a host name";
  if (isIpv6Address(text) || isIpv4Address(text)) return undefined;
  if (/^[0-9.]+$/.test(text)) return "is not an IPv4 address (four numbers 0-255 without leading zeros)";
  if (text.includes(":")) return "is not an IPv6 address";
  return domainNameProblem(text);
}

/**
 * A host an SSH client dials: a host, or an IPv6 link-local address with its
 * zone ("fe80::1%eth0"), which only makes sense on the machine running pulumi.
 */
export function sshHostProblem(text: string): string | undefined {
  if (typeof text === "string") {
    const zone = /^(fe80:[0-9a-fA-F:]*)%([A-Za-z0-9_.-]{1,15})$/i.exec(text);
    if (zone) return isIpv6Address(zone[1]) ? undefined : "is not an IPv6 link-local address with a zone";
  }
  return hostProblem(text);
}

/** A TCP/UDP port 1-65535. */
export function portProblem(value: number): string | undefined {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? undefined : "is not a port: use a whole number 1-65535";
}

/** A port or an inclusive range "low:high" (ip6tables' form). */
export function portOrRangeProblem(value: number | string): string | undefined {
  if (typeof value === "number") return portProblem(value);
  const m = /^([0-9]{1,5}):([0-9]{1,5})$/.exec(String(value));
  if (!m) return "is not a port or a range: use 22 or '1024:2048'";
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  if (portProblem(lo) || portProblem(hi)) return "has a port outside 1-65535";
  if (lo > hi) return `is an empty range: ${lo} is above ${hi}`;
  return undefined;
}

/** `host:port`, the host an IPv4 address, a DNS name or an IPv6 address in brackets. */
export function hostPortProblem(text: string): string | undefined {
  const m = typeof text === "string" ? /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text) : null;
  if (!m) return "must be host:port, e.g. 198.51.100.1:51820 or [2001:db8::1]:51820";
  const [, v6, host, port] = m;
  if (v6 !== undefined && !isIpv6Address(v6)) return `has '${v6}' in brackets, which is not an IPv6 address`;
  if (host !== undefined) {
    const why = hostProblem(host);
    if (why) return `has a host that ${why}`;
  }
  return portProblem(Number(port)) ? "has a port outside 1-65535" : undefined;
}

/**
 * An http or https URL: scheme, host (IPv6 in brackets), optional port, and a
 * path of URL-safe characters (no quotes, spaces, '$', '`', '\\' or control characters).
 */
export function httpUrlProblem(text: string): string | undefined {
  const m = typeof text === "string" ? /^(https?):\/\/(\[[^\]]*\]|[^/:[\]]+)(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~!&()*+,;=:@%/?#-]*)?$/.exec(text) : null;
  if (!m) return "is not an http(s) URL like http://[2001:db8:ffff::1]/ (no spaces, quotes, '$' or '`')";
  const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  if (m[2].startsWith("[") ? !isIpv6Address(host) : hostProblem(host) !== undefined) return `has host '${host}', which is not an address or a DNS name`;
  if (m[3] !== undefined && portProblem(Number(m[3]))) return "has a port outside 1-65535";
  return undefined;
}

/** An absolute path on a box: '/' then A-Z a-z 0-9 _ . + - /, no '..', no trailing '/'. */
export function absolutePathProblem(text: string): string | undefined {
  const ok = typeof text === "string" && /^\/[A-Za-z0-9_.+/-]*$/.test(text) && !text.split("/").includes("..") && !(text.length > 1 && text.endsWith("/"));
  if (!ok) return "must be an absolute path of characters A-Z a-z 0-9 _ . + - / without '..' or a trailing '/'";
  return text.length > 4096 ? "must be at most 4096 characters long" : undefined;
}

/** A single file or directory name: A-Z a-z 0-9 _ . + -, not "." or "..". */
export function fileNameProblem(text: string): string | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9_.+-]{1,255}$/.test(text) || text === "." || text === "..") {
    return "must be a file name of letters, digits and _ . + - (no '/')";
  }
  return undefined;
}

/**
 * A path on the machine running pulumi (a key file, a source tarball): it
 * never reaches a box as text, but it is still one printable line.
 */
export function localPathProblem(text: string): string | undefined {
  if (typeof text !== "string" || text.length === 0) return "is empty; give a path";
  if (text.length > 4096) return "is longer than 4096 characters";
  if (!/^[\x20-\x7e]+$/.test(text)) return "must be one line of printable ASCII";
  return undefined;
}

/** A WireGuard key: 44 characters of base64 encoding 32 bytes (`wg genkey`, `wg pubkey`). */
export function wireguardKeyProblem(text: string): string | undefined {
  return typeof text === "string" && /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(text)
    ? undefined
    : "is not a WireGuard key: 44 characters of base64 encoding 32 bytes (the output of wg genkey / wg pubkey)";
}

/** A login name as useradd accepts it (and `$` at the end for machine accounts). */
export function loginNameProblem(text: string): string | undefined {
  return typeof text === "string" && /^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(text) ? undefined : "is not a login name (letters, digits, _ . -; at most 32 characters)";
}

/** A name we give things (rules, clients, sites): lower-case letters, digits and '-', starting with a letter or digit. */
export function slugProblem(text: string): string | undefined {
  return typeof text === "string" && /^[a-z0-9][a-z0-9-]{0,62}$/.test(text) ? undefined : "must be lower-case letters, digits and '-' (at most 63), e.g. ssh-from-office";
}

/** An IPv6 address, or a prefix with its length ("2001:db8::1", "2001:db8::/48"); optionally negated with '!'. */
export function addressMatchProblem(text: string, negatable = true): string | undefined {
  if (typeof text !== "string") return "is not an IPv6 address or prefix";
  const bare = negatable ? text.replace(/^!/, "") : text;
  if (bare.includes("/")) {
    try {
      parsePrefix(bare);
      return undefined;
    } catch (e) {
      return (e as Error).message.replace(/^'[^']*' /, "");
    }
  }
  return isIpv6Address(bare) ? undefined : "is not an IPv6 address or prefix (e.g. 2001:db8::1 or 2001:db8::/48)";
}

/** An interface address with its prefix length: "2001:db8:ffff:100::2/64". */
export function interfaceAddressProblem(text: string): string | undefined {
  const m = typeof text === "string" ? /^([^/]+)\/([0-9]{1,3})$/.exec(text) : null;
  if (!m || !isIpv6Address(m[1]) || Number(m[2]) > 128) return "must be an IPv6 address with its prefix length, e.g. 2001:db8:ffff:100::2/64";
  return undefined;
}

/** An IPv4 dotted quad (see parseIpv4). */
export function ipv4Problem(text: string): string | undefined {
  return isIpv4Address(text) ? undefined : "is not an IPv4 address (four numbers 0-255 without leading zeros, e.g. 198.51.100.1)";
}

/** An IPv6 address without length or zone. */
export function ipv6Problem(text: string): string | undefined {
  return isIpv6Address(text) ? undefined : "is not an IPv6 address (e.g. 2001:db8:ffff::1)";
}

/** An IPv6 prefix with host bits zero. */
export function prefixProblem(text: string): string | undefined {
  try {
    parsePrefix(text);
    return undefined;
  } catch (e) {
    return typeof text === "string" ? (e as Error).message.replace(/^'[^']*' /, "") : "is not an IPv6 prefix like 2001:db8:8888::/48";
  }
}

/** The closest of `known` to `typo` (edit distance at most a third of its length), for "did you mean" hints. */
export function closestName(typo: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(typo.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.ceil(typo.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
