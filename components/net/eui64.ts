// Modified EUI-64 interface identifiers from 48-bit MACs (RFC 4291
// Appendix A), and the SLAAC / link-local addresses they produce. No I/O.

import { bigIntToIpv6, interfaceAddress } from "./ipv6";
import { parseMac } from "./mac";

/**
 * The 8 bytes of the modified EUI-64 identifier of a MAC: `ff:fe` inserted
 * between the OUI and the device part, and the universal/local bit (0x02 of
 * the first byte) inverted. `00:1d:09:76:f5:58` gives `02 1d 09 ff fe 76 f5 58`.
 */
export function eui64Bytes(mac: string): Uint8Array {
  const m = parseMac(mac);
  return Uint8Array.from([m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
}

/** The modified EUI-64 identifier of a MAC as a 64-bit bigint. */
export function eui64InterfaceId(mac: string): bigint {
  return eui64Bytes(mac).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/**
 * The modified EUI-64 identifier as the last four groups of an address, in
 * RFC 5952 style (lower case, no leading zeros): `00:1D:09:76:F5:58` gives
 * `21d:9ff:fe76:f558`. Never contains `::`, since the middle groups hold
 * `ff`/`fe` and cannot be zero.
 */
export function eui64(mac: string): string {
  const b = eui64Bytes(mac);
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(":");
}

/** The EUI-64 link-local address (fe80::/64) of a MAC: `00:90:27:E0:0A:00` gives `fe80::290:27ff:fee0:a00`. */
export function linkLocalFromMac(mac: string): string {
  return bigIntToIpv6((0xfe80n << 112n) | eui64InterfaceId(mac));
}

/**
 * The SLAAC address (EUI-64, no privacy extensions) a host with `mac` forms
 * in `prefix64`, canonical text without length:
 * `slaacAddress("2001:db8:8888::/64", "00:1d:09:76:f5:58")` is
 * `"2001:db8:8888:0:21d:9ff:fe76:f558"`. Throws unless the prefix is a /64.
 */
export function slaacAddress(prefix64: string, mac: string): string {
  return interfaceAddress(prefix64, eui64InterfaceId(mac));
}
