import { createHash } from "crypto";
import {
  eui64,
  eui64Bytes,
  ipv6ToBigInt,
  ntpTimestamp,
  ntpTimestampToBigInt,
  parsePrefix,
  ulaGlobalId,
  ulaPrefix,
} from "../../components/net";

// RFC 4193 section 3.2.2 computed here independently, with the byte layout spelled out:
// key = NTP seconds (4 bytes BE) ++ NTP fraction (4 bytes BE) ++ EUI-64 (8 bytes);
// Global ID = last 5 bytes of SHA-1(key); prefix = fd ++ Global ID ++ 0 (80 bits).
function referencePrefix(seconds: number, fraction: number, eui: Buffer): { prefix: string; globalIdHex: string } {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seconds, 0);
  key.writeUInt32BE(fraction, 4);
  eui.copy(key, 8);
  const digest = createHash("sha1").update(key).digest();
  const globalIdHex = digest.subarray(15, 20).toString("hex");
  const hex = `fd${globalIdHex}`;
  // Canonical text from the WHATWG URL serializer, not from the module under test.
  const text = new URL(`http://[${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}::]/`).hostname.slice(1, -1);
  return { prefix: `${text}/48`, globalIdHex };
}

const EUI_HOWTO = Buffer.from("021d09fffe76f558", "hex"); // from 00:1d:09:76:f5:58
const EUI_LAB = Buffer.from("02005efffe005311", "hex"); // from 00:00:5e:00:53:11

describe("ntpTimestamp", () => {
  it.each<[string, string, number, number]>([
    ["Unix epoch", "1970-01-01T00:00:00.000Z", 2208988800, 0],
    ["NTP epoch", "1900-01-01T00:00:00.000Z", 0, 0],
    ["half a second", "1970-01-01T00:00:00.500Z", 2208988800, 0x80000000],
    ["one millisecond", "2008-01-24T12:00:00.001Z", 3410164800, 4294967],
    ["last second of era 0", "2036-02-07T06:28:15.000Z", 0xffffffff, 0],
    ["era 1 wraps to 0", "2036-02-07T06:28:16.000Z", 0, 0],
  ])("%s", (_d, iso, seconds, fraction) => {
    expect(ntpTimestamp(new Date(iso))).toEqual({ seconds, fraction });
  });

  it.each<[string, Date, string]>([
    ["an invalid date", new Date("not a date"), "'date' must be a valid Date"],
    ["a date before 1900", new Date("1899-12-31T23:59:59Z"), "'date' must not be before 1900"],
  ])("rejects %s", (_d, date, fragment) => {
    expect(() => ntpTimestamp(date)).toThrow(fragment);
  });

  it("packs seconds into the high 32 bits", () => {
    expect(ntpTimestampToBigInt({ seconds: 1, fraction: 2 })).toBe((1n << 32n) | 2n);
    expect(() => ntpTimestampToBigInt({ seconds: 2 ** 32, fraction: 0 })).toThrow("'ntpTime.seconds' must be an integer 0..4294967295");
  });
});

describe("ulaPrefix (RFC 4193 section 3.2.2)", () => {
  it.each<[string, number, number, Buffer]>([
    ["HOWTO MAC, 2008-01-24 (HOWTO Rev 0)", 3410164800, 4294967, EUI_HOWTO],
    ["lab MAC, Unix epoch", 2208988800, 0, EUI_LAB],
    ["lab MAC, max fraction", 3913056000, 0xffffffff, EUI_LAB],
    ["zero inputs", 0, 0, Buffer.alloc(8)],
  ])("matches the independent computation: %s", (_d, seconds, fraction, eui) => {
    const expected = referencePrefix(seconds, fraction, eui);
    expect(ulaPrefix({ ntpTime: { seconds, fraction }, eui64: eui })).toBe(expected.prefix);
    expect(ulaGlobalId({ ntpTime: { seconds, fraction }, eui64: eui })).toBe(BigInt(`0x${expected.globalIdHex}`));
  });

  it("has the ULA shape: fd00::/8 with L=1, a /48, 40 bits from the SHA-1 tail, zeros after", () => {
    for (let i = 0; i < 50; i++) {
      const seconds = 3900000000 + i * 7919;
      const prefix = ulaPrefix({ ntpTime: { seconds, fraction: i }, eui64: EUI_LAB });
      const parsed = parsePrefix(prefix);
      expect(parsed.length).toBe(48);
      expect(prefix.startsWith("fd")).toBe(true);
      const value = ipv6ToBigInt(parsed.address);
      expect(value >> 120n).toBe(0xfdn);
      expect(value & ((1n << 80n) - 1n)).toBe(0n);
      expect((value >> 80n) & ((1n << 40n) - 1n)).toBe(BigInt(`0x${referencePrefix(seconds, i, EUI_LAB).globalIdHex}`));
    }
  });

  it("is deterministic and depends on both inputs", () => {
    const a = ulaPrefix({ ntpTime: { seconds: 3913056000, fraction: 1 }, eui64: EUI_LAB });
    expect(ulaPrefix({ ntpTime: { seconds: 3913056000, fraction: 1 }, eui64: EUI_LAB })).toBe(a);
    expect(ulaPrefix({ ntpTime: { seconds: 3913056000, fraction: 2 }, eui64: EUI_LAB })).not.toBe(a);
    expect(ulaPrefix({ ntpTime: { seconds: 3913056000, fraction: 1 }, eui64: EUI_HOWTO })).not.toBe(a);
  });

  it("accepts the time as a bigint and the EUI-64 in every documented form", () => {
    const ts = ntpTimestamp(new Date("2024-01-01T00:00:00.250Z"));
    const expected = referencePrefix(ts.seconds, ts.fraction, EUI_HOWTO).prefix;
    const forms: (Uint8Array | string)[] = [
      eui64Bytes("00:1d:09:76:f5:58"),
      "021d09fffe76f558",
      "02:1d:09:ff:fe:76:f5:58",
      "02-1d-09-ff-fe-76-f5-58",
      eui64("00:1d:09:76:f5:58"), // "21d:9ff:fe76:f558"
    ];
    for (const form of forms) {
      expect(ulaPrefix({ ntpTime: ts, eui64: form })).toBe(expected);
      expect(ulaPrefix({ ntpTime: ntpTimestampToBigInt(ts), eui64: form })).toBe(expected);
    }
  });

  it.each<[string, bigint | { seconds: number; fraction: number }, Uint8Array | string, string]>([
    ["a 7-byte EUI-64", 0n, new Uint8Array(7), "'eui64' must be 8 bytes, got 7"],
    ["a short hex EUI-64", 0n, "021d09fffe76f5", "'eui64' must be 16 hex digits"],
    ["a MAC instead of an EUI-64", 0n, "00:1d:09:76:f5:58", "'eui64' must be 16 hex digits, 8 octets or 4 groups"],
    ["a negative time", -1n, EUI_LAB, "'ntpTime' must be a 64-bit unsigned value"],
    ["a 65-bit time", 1n << 64n, EUI_LAB, "'ntpTime' must be a 64-bit unsigned value"],
    ["a fractional second count", { seconds: 1.5, fraction: 0 }, EUI_LAB, "'ntpTime.seconds' must be an integer"],
  ])("rejects %s", (_d, ntpTime, eui, fragment) => {
    expect(() => ulaPrefix({ ntpTime, eui64: eui })).toThrow(fragment);
  });
});
