// RFC 4193 section 3.2.2 Global ID generation for Unique Local Addresses.
// Deterministic for given inputs: the caller supplies the time and EUI-64,
// and is expected to persist the result (one generation per site is enough).

import { createHash } from "crypto";
import { bigIntToIpv6 } from "./ipv6";

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;

const TWO_32 = 0x1_0000_0000;

/** A 64-bit NTP timestamp (RFC 5905): whole seconds since 1900 and a 32-bit binary fraction. */
export interface NtpTimestamp {
  /** Seconds since 1900-01-01T00:00:00Z, modulo 2^32 (NTP era number dropped). */
  readonly seconds: number;
  /** Fraction of a second in units of 2^-32 s, 0..2^32-1. */
  readonly fraction: number;
}

/**
 * The NTP timestamp of a Date. Milliseconds become the fraction
 * (`floor(ms * 2^32 / 1000)`). From 2036-02-07 the seconds wrap into NTP
 * era 1, as on the wire. Throws for invalid dates and dates before 1900.
 */
export function ntpTimestamp(date: Date): NtpTimestamp {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) {
    throw new Error(`ULA: 'date' must be a valid Date, got ${String(date)}; pass e.g. new Date()`);
  }
  const totalMs = ms + NTP_UNIX_OFFSET_SECONDS * 1000;
  if (totalMs < 0) {
    throw new Error(`ULA: 'date' must not be before 1900 (the NTP epoch), got ${date.toISOString()}; use the current time`);
  }
  const wholeSeconds = Math.floor(totalMs / 1000);
  const millis = totalMs - wholeSeconds * 1000;
  return { seconds: wholeSeconds % TWO_32, fraction: Math.floor((millis * TWO_32) / 1000) };
}

/** A timestamp as the 64-bit big-endian NTP format value (seconds in the high 32 bits). */
export function ntpTimestampToBigInt(ts: NtpTimestamp): bigint {
  checkU32(ts.seconds, "ntpTime.seconds");
  checkU32(ts.fraction, "ntpTime.fraction");
  return (BigInt(ts.seconds) << 32n) | BigInt(ts.fraction);
}

function checkU32(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
    throw new Error(`ULA: '${field}' must be an integer 0..4294967295, got ${value}; use ntpTimestamp(date)`);
  }
}

/** Inputs of the RFC 4193 Global ID algorithm. */
export interface UlaInput {
  /** Time of generation: a 64-bit NTP timestamp (bigint, seconds in the high 32 bits) or its two halves. */
  readonly ntpTime: bigint | NtpTimestamp;
  /**
   * An EUI-64 identifier of the generating system: 8 bytes, or text as 16 hex
   * digits, 8 octets separated by `:`/`-`, or 4 groups of up to 4 hex digits
   * (the output of `eui64()`). RFC 4193 allows one derived from a MAC (see
   * `eui64Bytes`).
   */
  readonly eui64: Uint8Array | string;
}

function ntpBytes(ntpTime: bigint | NtpTimestamp): Buffer {
  const value = typeof ntpTime === "bigint" ? ntpTime : ntpTimestampToBigInt(ntpTime);
  if (value < 0n || value >= 1n << 64n) {
    throw new Error(`ULA: 'ntpTime' must be a 64-bit unsigned value, got ${value}; use ntpTimestamp(date)`);
  }
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(value);
  return buf;
}

function eui64ToBytes(eui64: Uint8Array | string): Buffer {
  if (typeof eui64 !== "string") {
    if (eui64.length !== 8) {
      throw new Error(`ULA: 'eui64' must be 8 bytes, got ${eui64.length}; pass a 64-bit identifier, e.g. eui64Bytes(mac)`);
    }
    return Buffer.from(eui64);
  }
  const bad = (): never => {
    throw new Error(
      `ULA: 'eui64' must be 16 hex digits, 8 octets or 4 groups of hex digits, got '${eui64}'; e.g. 021d09fffe76f558`,
    );
  };
  let hex: string;
  if (/^[0-9a-fA-F]{16}$/.test(eui64)) hex = eui64;
  else if (/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){7}$/.test(eui64)) hex = eui64.replace(/[:-]/g, "");
  else if (/^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(eui64)) hex = eui64.split(":").map((g) => g.padStart(4, "0")).join("");
  else hex = bad();
  return Buffer.from(hex, "hex");
}

/**
 * The 40-bit Global ID: the least significant 40 bits of
 * SHA-1(NTP timestamp (8 bytes, big-endian) ++ EUI-64 (8 bytes)).
 */
export function ulaGlobalId(input: UlaInput): bigint {
  const digest = createHash("sha1")
    .update(Buffer.concat([ntpBytes(input.ntpTime), eui64ToBytes(input.eui64)]))
    .digest();
  return digest.subarray(15).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/**
 * The ULA /48 for the inputs: `fd00::/8` with the L bit set, followed by the
 * 40-bit Global ID, e.g. `fd3a:91c2:7e05::/48`. Same inputs, same prefix.
 */
export function ulaPrefix(input: UlaInput): string {
  const value = (0xfdn << 120n) | (ulaGlobalId(input) << 80n);
  return `${bigIntToIpv6(value)}/48`;
}
