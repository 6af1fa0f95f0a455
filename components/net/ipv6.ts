// IPv6 addresses and prefixes as plain values: parsing (RFC 4291 section 2.2
// text forms), canonical text (RFC 5952), prefix arithmetic. No I/O.
//
// Also home to the IPv4 dotted-quad parser, because IPv6 text may embed one
// (::ffff:192.0.2.1) and renderers with dual-stack inputs need the same rules.

const ALL_ONES_128 = (1n << 128n) - 1n;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

function notAddress(input: string, why: string): never {
  throw new Error(`'${input}' is not an IPv6 address: ${why}`);
}

function notPrefix(input: string, why: string): never {
  throw new Error(`'${input}' is not an IPv6 prefix: ${why}`);
}

/**
 * Parses an IPv4 dotted quad (exactly four decimal octets 0-255, no leading
 * zeros, as inet_pton accepts) to a 32-bit unsigned number.
 * Throws `'<input>' is not an IPv4 address: <why>`.
 */
export function parseIpv4(text: string): number {
  const why = ipv4Problem(text);
  if (why !== undefined) throw new Error(`'${text}' is not an IPv4 address: ${why}`);
  return text.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** True when `text` is an IPv4 dotted quad accepted by {@link parseIpv4}. */
export function isIpv4Address(text: string): boolean {
  return ipv4Problem(text) === undefined;
}

function ipv4Problem(text: string): string | undefined {
  if (typeof text !== "string") return "expected a string";
  const octets = text.split(".");
  if (octets.length !== 4) return `expected 4 dot-separated octets, got ${octets.length}`;
  for (const octet of octets) {
    if (!DECIMAL.test(octet)) return `octet '${octet}' is not a decimal number without leading zeros`;
    if (Number(octet) > 255) return `octet '${octet}' is greater than 255`;
  }
  return undefined;
}

/** Formats a 32-bit unsigned number as an IPv4 dotted quad. */
export function formatIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`IPv4 value must be an integer 0..4294967295, got ${value}`);
  }
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join(".");
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2: full, `::`-compressed, or with an
 * embedded IPv4 dotted quad in the last 32 bits) to 8 16-bit groups.
 * Zone indexes (`%eth0`) and prefix lengths are rejected.
 * Throws `'<input>' is not an IPv6 address: <why>`.
 */
export function parseIpv6(text: string): number[] {
  if (typeof text !== "string") notAddress(String(text), "expected a string");
  const input = text;
  if (input.length === 0) notAddress(input, "it is empty");
  if (/\s/.test(input)) notAddress(input, "it contains whitespace");
  if (input.includes("%")) notAddress(input, "zone indexes ('%...') are not accepted here; remove it");
  if (input.includes("/")) notAddress(input, "it has a prefix length; give the address without '/len'");
  const first = input.indexOf("::");
  if (first !== -1 && input.indexOf("::", first + 1) !== -1) notAddress(input, "'::' may appear only once");

  const splitPieces = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const head = first === -1 ? splitPieces(input) : splitPieces(input.slice(0, first));
  const tail = first === -1 ? [] : splitPieces(input.slice(first + 2));

  const toGroups = (pieces: string[], holdsLast: boolean): number[] => {
    const groups: number[] = [];
    pieces.forEach((piece, i) => {
      if (piece === "") notAddress(input, "it has an empty group (a stray ':')");
      if (piece.includes(".")) {
        if (!holdsLast || i !== pieces.length - 1) {
          notAddress(input, "an embedded IPv4 address may only form the last 32 bits");
        }
        const why = ipv4Problem(piece);
        if (why !== undefined) notAddress(input, `embedded IPv4 '${piece}': ${why}`);
        const v4 = parseIpv4(piece);
        groups.push(v4 >>> 16, v4 & 0xffff);
        return;
      }
      if (!HEX_GROUP.test(piece)) notAddress(input, `group '${piece}' is not 1 to 4 hex digits`);
      groups.push(parseInt(piece, 16));
    });
    return groups;
  };

  // Only the very last piece may be a dotted quad; after a trailing '::' the
  // last 32 bits are zeros, so the head can hold it only without '::'.
  const headGroups = toGroups(head, first === -1);
  const tailGroups = toGroups(tail, true);
  const count = headGroups.length + tailGroups.length;
  if (first === -1) {
    if (count !== 8) notAddress(input, `expected 8 groups, got ${count}`);
    return headGroups;
  }
  if (count > 7) notAddress(input, `'::' must stand for at least one zero group, but ${count} groups are given`);
  return [...headGroups, ...new Array<number>(8 - count).fill(0), ...tailGroups];
}

/** True when `text` is IPv6 text accepted by {@link parseIpv6}. */
export function isIpv6Address(text: string): boolean {
  try {
    parseIpv6(text);
    return true;
  } catch {
    return false;
  }
}

/** 8 groups (each 0..0xffff) to a 128-bit bigint. */
export function groupsToBigInt(groups: readonly number[]): bigint {
  checkGroups(groups);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** A 128-bit bigint to 8 groups. */
export function bigIntToGroups(value: bigint): number[] {
  checkValue(value);
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return groups;
}

/** Parses IPv6 text to a 128-bit bigint (see {@link parseIpv6}). */
export function ipv6ToBigInt(text: string): bigint {
  return groupsToBigInt(parseIpv6(text));
}

/** A 128-bit bigint to canonical RFC 5952 text. */
export function bigIntToIpv6(value: bigint): string {
  return formatIpv6(bigIntToGroups(value));
}

function checkGroups(groups: readonly number[]): void {
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    throw new Error(`IPv6 groups must be 8 integers 0..65535, got [${groups.join(", ")}]`);
  }
}

function checkValue(value: bigint): void {
  if (typeof value !== "bigint" || value < 0n || value > ALL_ONES_128) {
    throw new Error(`IPv6 value must be a bigint 0..2^128-1, got ${String(value)}`);
  }
}

/**
 * Formats 8 groups as RFC 5952 canonical text: lower case, no leading zeros,
 * the longest run of two or more zero groups compressed to `::` (the leftmost
 * on a tie), and IPv4-mapped addresses as `::ffff:a.b.c.d` (section 5).
 */
export function formatIpv6(groups: readonly number[]): string {
  checkGroups(groups);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(groups[6] * 0x10000 + groups[7])}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Canonical RFC 5952 text for any accepted IPv6 text. */
export function canonicalIpv6(text: string): string {
  return formatIpv6(parseIpv6(text));
}

/**
 * Fully expanded text: 8 groups of 4 lower-case hex digits, e.g.
 * `2001:0db8:0001:0002:0000:0000:0000:0000`. A TSP broker must send prefixes
 * this way, because gw6c cuts `TSP_PREFIX` by character count.
 */
export function expandAddress(text: string): string {
  return parseIpv6(text)
    .map((g) => g.toString(16).padStart(4, "0"))
    .join(":");
}

/** An IPv6 prefix: canonical network address and length. */
export interface Ipv6Prefix {
  /** Network address, RFC 5952 canonical text, host bits zero. */
  readonly address: string;
  /** Prefix length 0..128. */
  readonly length: number;
}

/** Options for {@link parsePrefix}. */
export interface ParsePrefixOptions {
  /**
   * Clear host bits instead of rejecting them (`2001:db8::1/64` becomes
   * `2001:db8::/64`). Defaults to `false`: host bits are an error, since a
   * stray address where a network was meant is a common mistake.
   */
  readonly normalize?: boolean;
}

function maskOf(length: number): bigint {
  return length === 0 ? 0n : (ALL_ONES_128 >> BigInt(128 - length)) << BigInt(128 - length);
}

/**
 * Parses `address/length`. Throws `'<input>' is not an IPv6 prefix: <why>`
 * when the text is malformed, the length is outside 0..128, or host bits are
 * set (unless `normalize`).
 */
export function parsePrefix(text: string, options: ParsePrefixOptions = {}): Ipv6Prefix {
  if (typeof text !== "string") notPrefix(String(text), "expected a string");
  const slash = text.indexOf("/");
  if (slash === -1) notPrefix(text, "missing '/length' (e.g. 2001:db8::/64)");
  if (text.indexOf("/", slash + 1) !== -1) notPrefix(text, "more than one '/'");
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (!DECIMAL.test(lengthText) || Number(lengthText) > 128) {
    notPrefix(text, `length '${lengthText}' is not a decimal number 0..128`);
  }
  const length = Number(lengthText);
  let value: bigint;
  try {
    value = ipv6ToBigInt(addressText);
  } catch (e) {
    notPrefix(text, (e as Error).message);
  }
  const network = value & maskOf(length);
  if (network !== value && options.normalize !== true) {
    notPrefix(text, `host bits are set beyond /${length}; use ${bigIntToIpv6(network)}/${length}`);
  }
  return { address: bigIntToIpv6(network), length };
}

/** True when `text` is a prefix {@link parsePrefix} accepts (strict: no host bits). */
export function isIpv6Prefix(text: string): boolean {
  try {
    parsePrefix(text);
    return true;
  } catch {
    return false;
  }
}

/** `address/length` text of a prefix. */
export function formatPrefix(prefix: Ipv6Prefix): string {
  return `${prefix.address}/${prefix.length}`;
}

/** Canonical `address/length` text (see {@link parsePrefix} for `normalize`). */
export function canonicalPrefix(text: string, options: ParsePrefixOptions = {}): string {
  return formatPrefix(parsePrefix(text, options));
}

function toPrefix(prefix: string | Ipv6Prefix): Ipv6Prefix {
  return typeof prefix === "string" ? parsePrefix(prefix) : parsePrefix(formatPrefix(prefix));
}

/** True when `address` lies inside `prefix`. */
export function prefixContains(prefix: string | Ipv6Prefix, address: string): boolean {
  const p = toPrefix(prefix);
  const mask = maskOf(p.length);
  return (ipv6ToBigInt(address) & mask) === ipv6ToBigInt(p.address);
}

/** True when every address of `inner` lies inside `outer` (equal prefixes included). */
export function prefixCovers(outer: string | Ipv6Prefix, inner: string | Ipv6Prefix): boolean {
  const o = toPrefix(outer);
  const i = toPrefix(inner);
  return i.length >= o.length && prefixContains(o, i.address);
}

/**
 * The `index`-th subnet of length `newLength` inside `prefix`, e.g.
 * `subnet("2001:db8:8888::/48", 1, 64)` is `"2001:db8:8888:1::/64"`.
 * Throws when `newLength` is shorter than the prefix or longer than 128, or
 * when `index` does not fit in the `newLength - length` subnet bits.
 */
export function subnet(prefix: string, index: number | bigint, newLength: number): string {
  const p = parsePrefix(prefix);
  if (!Number.isInteger(newLength) || newLength < p.length || newLength > 128) {
    throw new Error(
      `subnet of ${formatPrefix(p)}: 'newLength' must be an integer ${p.length}..128, got ${newLength}; ` +
        `pick a length at least as long as the prefix`,
    );
  }
  const bits = newLength - p.length;
  if (typeof index === "number" && !Number.isSafeInteger(index)) {
    throw new Error(`subnet of ${formatPrefix(p)}: 'index' must be an integer, got ${index}; pass a whole number`);
  }
  const i = BigInt(index);
  const count = 1n << BigInt(bits);
  if (i < 0n || i >= count) {
    throw new Error(
      `subnet of ${formatPrefix(p)}: 'index' must be 0..${count - 1n} for /${newLength} subnets, got ${String(index)}; ` +
        `use a smaller index or a longer newLength`,
    );
  }
  const value = ipv6ToBigInt(p.address) | (i << BigInt(128 - newLength));
  return `${bigIntToIpv6(value)}/${newLength}`;
}

const IID_MAX = (1n << 64n) - 1n;

/**
 * Parses a 64-bit interface identifier given as a bigint, as 4 colon
 * separated groups (`"21d:9ff:fe76:f558"`, as {@link eui64} prints it), or as
 * IPv6 text whose upper 64 bits are zero (`"::1"`).
 */
export function parseInterfaceId(iid: bigint | string): bigint {
  if (typeof iid === "bigint") {
    if (iid < 0n || iid > IID_MAX) {
      throw new Error(`interface identifier must be 0..2^64-1, got ${iid}; pass the low 64 bits only`);
    }
    return iid;
  }
  const groups = iid.split(":");
  if (!iid.includes("::") && groups.length === 4) {
    if (!groups.every((g) => HEX_GROUP.test(g))) {
      throw new Error(`'${iid}' is not an interface identifier: expected 4 groups of 1 to 4 hex digits`);
    }
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  }
  const value = ipv6ToBigInt(iid);
  if (value > IID_MAX) {
    throw new Error(`'${iid}' is not an interface identifier: its upper 64 bits are not zero; give only the host part, e.g. ::1`);
  }
  return value;
}

/**
 * Combines a /64 prefix and a 64-bit interface identifier into an address
 * (canonical text, no length): `interfaceAddress("2001:db8:8888::/64", "::1")`
 * is `"2001:db8:8888::1"`. Throws unless the prefix is exactly /64.
 */
export function interfaceAddress(prefix64: string, iid: bigint | string): string {
  const p = parsePrefix(prefix64);
  if (p.length !== 64) {
    throw new Error(
      `interface address: 'prefix' must be a /64, got ${formatPrefix(p)}; interface identifiers are 64 bits (RFC 4291 section 2.5.1)`,
    );
  }
  return bigIntToIpv6(ipv6ToBigInt(p.address) | parseInterfaceId(iid));
}
