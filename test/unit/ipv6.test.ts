import {
  bigIntToIpv6,
  canonicalIpv6,
  canonicalPrefix,
  expandAddress,
  formatIpv4,
  formatIpv6,
  interfaceAddress,
  ipv6ToBigInt,
  isIpv4Address,
  isIpv6Address,
  isIpv6Prefix,
  parseInterfaceId,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  prefixContains,
  prefixCovers,
  subnet,
} from "../../components/net";

describe("parseIpv6", () => {
  it.each<[string, string, number[]]>([
    ["full form", "2001:0db8:0000:0000:0000:ff00:0042:8329", [0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329]],
    ["compressed middle", "2001:db8::ff00:42:8329", [0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329]],
    ["unspecified", "::", [0, 0, 0, 0, 0, 0, 0, 0]],
    ["loopback", "::1", [0, 0, 0, 0, 0, 0, 0, 1]],
    ["trailing ::", "2001:db8::", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]],
    [":: for a single group", "1:2:3:4:5:6:7::", [1, 2, 3, 4, 5, 6, 7, 0]],
    ["upper case", "FE80::ABCD", [0xfe80, 0, 0, 0, 0, 0, 0, 0xabcd]],
    ["IPv4-mapped", "::ffff:192.0.2.1", [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]],
    ["embedded IPv4 without ::", "64:ff9b:0:0:0:0:198.51.100.7", [0x64, 0xff9b, 0, 0, 0, 0, 0xc633, 0x6407]],
  ])("%s: %s", (_d, text, groups) => {
    expect(parseIpv6(text)).toEqual(groups);
  });

  it.each<[string, string, string]>([
    ["empty", "", "it is empty"],
    ["two ::", "1::2::3", "'::' may appear only once"],
    ["triple colon", "1:::2", "'::' may appear only once"],
    ["too many groups", "1:2:3:4:5:6:7:8:9", "expected 8 groups, got 9"],
    ["too few groups", "1:2:3:4:5:6:7", "expected 8 groups, got 7"],
    [":: standing for nothing", "1:2:3:4::5:6:7:8", "'::' must stand for at least one zero group"],
    ["bad hex", "2001:db8::g", "group 'g' is not 1 to 4 hex digits"],
    ["group too long", "2001:db8::12345", "group '12345' is not 1 to 4 hex digits"],
    ["leading single colon", ":1::2", "empty group"],
    ["trailing single colon", "1::2:", "empty group"],
    ["IPv4 not last", "::1.2.3.4:1", "embedded IPv4 address may only form the last 32 bits"],
    ["IPv4 before trailing ::", "1.2.3.4::", "embedded IPv4 address may only form the last 32 bits"],
    ["short IPv4", "::ffff:1.2.3", "expected 4 dot-separated octets"],
    ["IPv4 octet too big", "::ffff:1.2.3.256", "greater than 255"],
    ["IPv4 leading zero", "::ffff:1.2.3.04", "without leading zeros"],
    ["zone index", "fe80::1%eth0", "zone indexes"],
    ["prefix length", "2001:db8::/64", "prefix length"],
    ["whitespace", " ::1", "whitespace"],
  ])("rejects %s: %s", (_d, text, fragment) => {
    expect(() => parseIpv6(text)).toThrow(`'${text}' is not an IPv6 address: `);
    expect(() => parseIpv6(text)).toThrow(fragment);
    expect(isIpv6Address(text)).toBe(false);
  });
});

describe("canonical text (RFC 5952)", () => {
  it.each<[string, string, string]>([
    ["leading zeros dropped (4.1)", "2001:0db8::0001", "2001:db8::1"],
    ["longest run compressed (4.2.1)", "2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["single zero group not compressed (4.2.2)", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["longest run wins (4.2.3)", "2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["leftmost run on a tie (4.2.3)", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["lower case (4.3)", "2001:DB8::AAAA", "2001:db8::aaaa"],
    ["all zeros", "0:0:0:0:0:0:0:0", "::"],
    ["loopback", "0:0:0:0:0:0:0:1", "::1"],
    ["run at the end", "0:0:1:0:0:0:0:0", "0:0:1::"],
    ["IPv4-mapped in dotted form (5)", "::ffff:c000:201", "::ffff:192.0.2.1"],
    ["NAT64 stays hex", "64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["HOWTO gateway address", "2001:9999:8888:0000::1", "2001:9999:8888::1"],
    ["HOWTO client address", "2001:9999:8888:0:21d:9ff:fe76:f558", "2001:9999:8888:0:21d:9ff:fe76:f558"],
  ])("%s: %s -> %s", (_d, input, expected) => {
    expect(canonicalIpv6(input)).toBe(expected);
  });

  it("agrees with the WHATWG URL serializer on random addresses (independent oracle)", () => {
    // Deterministic xorshift so a failure reproduces; zero-heavy groups exercise compression.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let n = 0; n < 2000; n++) {
      const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? next() & 0xffff : 0));
      if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) continue; // URL prints mapped addresses in hex
      const full = groups.map((g) => g.toString(16)).join(":");
      const viaUrl = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      expect(formatIpv6(groups)).toBe(viaUrl);
      expect(parseIpv6(formatIpv6(groups))).toEqual(groups);
    }
  });
});

describe("expandAddress (what a TSP broker must send)", () => {
  it.each<[string, string]>([
    ["2001:db8:1:2::", "2001:0db8:0001:0002:0000:0000:0000:0000"],
    ["::", "0000:0000:0000:0000:0000:0000:0000:0000"],
    ["2001:DB8::A", "2001:0db8:0000:0000:0000:0000:0000:000a"],
  ])("%s", (input, expected) => {
    expect(expandAddress(input)).toBe(expected);
  });
});

describe("bigint conversion", () => {
  it("round-trips the extremes", () => {
    expect(ipv6ToBigInt("::1")).toBe(1n);
    expect(ipv6ToBigInt("8000::")).toBe(1n << 127n);
    expect(bigIntToIpv6((1n << 128n) - 1n)).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    expect(bigIntToIpv6(0x20010db8n << 96n)).toBe("2001:db8::");
  });
  it.each<[string, bigint]>([
    ["negative", -1n],
    ["129 bits", 1n << 128n],
  ])("rejects %s", (_d, v) => {
    expect(() => bigIntToIpv6(v)).toThrow("IPv6 value must be a bigint 0..2^128-1");
  });
});

describe("IPv4 helpers", () => {
  it("parses and formats dotted quads", () => {
    expect(parseIpv4("198.51.100.2")).toBe(0xc6336402);
    expect(formatIpv4(0xc6336402)).toBe("198.51.100.2");
    expect(isIpv4Address("0.0.0.0")).toBe(true);
  });
  it.each<[string, string]>([
    ["1.2.3", "expected 4 dot-separated octets, got 3"],
    ["1.2.3.4.5", "expected 4 dot-separated octets, got 5"],
    ["256.1.1.1", "octet '256' is greater than 255"],
    ["01.1.1.1", "octet '01' is not a decimal number without leading zeros"],
    ["a.b.c.d", "octet 'a' is not a decimal number"],
  ])("rejects %s", (text, fragment) => {
    expect(() => parseIpv4(text)).toThrow(`'${text}' is not an IPv4 address: ${fragment}`);
  });
});

describe("prefixes", () => {
  it.each<[string, string, string]>([
    ["canonicalizes the address", "2001:0DB8:8888:0000::/64", "2001:db8:8888::/64"],
    ["default route", "::/0", "::/0"],
    ["host route", "2001:db8::1/128", "2001:db8::1/128"],
    ["/48", "2001:db8:8888::/48", "2001:db8:8888::/48"],
  ])("%s: %s", (_d, input, expected) => {
    expect(canonicalPrefix(input)).toBe(expected);
    expect(isIpv6Prefix(input)).toBe(true);
  });

  it("rejects host bits unless asked to normalize", () => {
    expect(() => parsePrefix("2001:db8::1/64")).toThrow(
      "'2001:db8::1/64' is not an IPv6 prefix: host bits are set beyond /64; use 2001:db8::/64",
    );
    expect(parsePrefix("2001:db8::1/64", { normalize: true })).toEqual({ address: "2001:db8::", length: 64 });
    expect(parsePrefix("2001:db8:8888:1234::/48", { normalize: true })).toEqual({ address: "2001:db8:8888::", length: 48 });
  });

  it.each<[string, string, string]>([
    ["no length", "2001:db8::", "missing '/length'"],
    ["length too long", "2001:db8::/129", "length '129' is not a decimal number 0..128"],
    ["leading zero length", "2001:db8::/064", "length '064'"],
    ["empty length", "2001:db8::/", "length ''"],
    ["two slashes", "2001:db8::/64/64", "more than one '/'"],
    ["bad address", "2001:xyz::/64", "group 'xyz' is not 1 to 4 hex digits"],
  ])("rejects %s: %s", (_d, text, fragment) => {
    expect(() => parsePrefix(text)).toThrow(`'${text}' is not an IPv6 prefix: `);
    expect(() => parsePrefix(text)).toThrow(fragment);
  });

  it.each<[string, string, boolean]>([
    ["2001:db8:8888::/64", "2001:db8:8888:0:21d:9ff:fe76:f558", true],
    ["2001:db8:8888::/64", "2001:db8:8888:1::1", false],
    ["2001:db8:8888::/48", "2001:db8:8888:ffff::1", true],
    ["::/0", "2001:db8::1", true],
    ["2001:db8::1/128", "2001:db8::1", true],
    ["2001:db8::1/128", "2001:db8::2", false],
    ["fe80::/10", "febf::1", true],
    ["fe80::/10", "fec0::1", false],
  ])("prefixContains(%s, %s) = %s", (prefix, address, expected) => {
    expect(prefixContains(prefix, address)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ["::/0", "2001:db8::/48", true],
    ["2001:db8:8888::/48", "2001:db8:8888:5::/64", true],
    ["2001:db8:8888::/64", "2001:db8:8888::/48", false],
    ["2001:db8:8888::/48", "2001:db8:8889::/64", false],
    ["2001:db8::/64", "2001:db8::/64", true],
  ])("prefixCovers(%s, %s) = %s", (outer, inner, expected) => {
    expect(prefixCovers(outer, inner)).toBe(expected);
  });
});

describe("subnet", () => {
  it.each<[string, number | bigint, number, string]>([
    ["2001:db8:8888::/48", 0, 64, "2001:db8:8888::/64"],
    ["2001:db8:8888::/48", 1, 64, "2001:db8:8888:1::/64"],
    ["2001:db8:8888::/48", 0xffff, 64, "2001:db8:8888:ffff::/64"],
    ["2001:db8:8888::/48", 3, 56, "2001:db8:8888:300::/56"],
    ["2001:db8::/32", 0x8888n, 48, "2001:db8:8888::/48"],
    ["2001:db8:8888::/64", 0, 64, "2001:db8:8888::/64"],
  ])("subnet(%s, %s, %s) = %s", (prefix, index, len, expected) => {
    expect(subnet(prefix, index, len)).toBe(expected);
  });

  it.each<[string, number | bigint, number, string]>([
    ["index past the end", 0x10000, 64, "'index' must be 0..65535 for /64 subnets, got 65536"],
    ["negative index", -1, 64, "'index' must be 0..65535"],
    ["fractional index", 1.5, 64, "'index' must be an integer, got 1.5"],
    ["newLength shorter than the prefix", 0, 32, "'newLength' must be an integer 48..128, got 32"],
    ["newLength over 128", 0, 129, "'newLength' must be an integer 48..128, got 129"],
  ])("rejects %s", (_d, index, len, fragment) => {
    expect(() => subnet("2001:db8:8888::/48", index, len)).toThrow(`subnet of 2001:db8:8888::/48: ${fragment}`);
  });
});

describe("interfaceAddress", () => {
  it.each<[string, bigint | string, string]>([
    ["2001:db8:8888::/64", "::1", "2001:db8:8888::1"],
    ["2001:db8:8888::/64", 1n, "2001:db8:8888::1"],
    ["2001:9999:8888::/64", "21d:9ff:fe76:f558", "2001:9999:8888:0:21d:9ff:fe76:f558"],
    ["2001:db8:8888:5::/64", 0x0200_5eff_fe00_5311n, "2001:db8:8888:5:200:5eff:fe00:5311"],
  ])("%s + %s", (prefix, iid, expected) => {
    expect(interfaceAddress(prefix, iid)).toBe(expected);
  });

  it.each<[string, string, bigint | string, string]>([
    ["a /48 prefix", "2001:db8:8888::/48", "::1", "'prefix' must be a /64, got 2001:db8:8888::/48"],
    ["an iid with upper bits", "2001:db8:8888::/64", "1::1", "its upper 64 bits are not zero"],
    ["a 65-bit iid", "2001:db8:8888::/64", 1n << 64n, "interface identifier must be 0..2^64-1"],
    ["a malformed iid", "2001:db8:8888::/64", "21d:9ff:fe76:xyz", "expected 4 groups of 1 to 4 hex digits"],
  ])("rejects %s", (_d, prefix, iid, fragment) => {
    expect(() => interfaceAddress(prefix, iid)).toThrow(fragment);
  });

  it("parses interface ids in every accepted form to the same value", () => {
    expect(parseInterfaceId("21d:9ff:fe76:f558")).toBe(0x021d09fffe76f558n);
    expect(parseInterfaceId("::21d:9ff:fe76:f558")).toBe(0x021d09fffe76f558n);
    expect(parseInterfaceId(0x021d09fffe76f558n)).toBe(0x021d09fffe76f558n);
  });
});
