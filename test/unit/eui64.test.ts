import {
  eui64,
  eui64Bytes,
  eui64InterfaceId,
  formatMac,
  isMac,
  linkLocalFromMac,
  normalizeMac,
  parseMac,
  slaacAddress,
} from "../../components/net";

describe("MAC addresses", () => {
  it.each<[string, string, string]>([
    ["HOWTO client, upper case", "00:1D:09:76:F5:58", "00:1d:09:76:f5:58"],
    ["dash separators", "00-90-27-E0-0A-00", "00:90:27:e0:0a:00"],
    ["already normal", "00:00:5e:00:53:11", "00:00:5e:00:53:11"],
    ["mixed case", "aA:bB:cC:dD:eE:fF", "aa:bb:cc:dd:ee:ff"],
  ])("normalizes %s: %s", (_d, input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
    expect(isMac(input)).toBe(true);
  });

  it.each<[string, string, string]>([
    ["mixed separators", "00:1d-09:76:f5:58", "it mixes ':' and '-' separators"],
    ["five octets", "00:1d:09:76:f5", "expected six 2-digit hex octets"],
    ["seven octets", "00:1d:09:76:f5:58:01", "expected six 2-digit hex octets"],
    ["one-digit octet", "0:1d:09:76:f5:58", "expected six 2-digit hex octets"],
    ["no separators", "001d0976f558", "expected six 2-digit hex octets"],
    ["dotted Cisco form", "001d.0976.f558", "expected six 2-digit hex octets"],
    ["non-hex", "00:1d:09:76:f5:5g", "expected six 2-digit hex octets"],
    ["empty", "", "expected six 2-digit hex octets"],
  ])("rejects %s: %s", (_d, input, fragment) => {
    expect(() => parseMac(input)).toThrow(`'${input}' is not a MAC address: ${fragment}`);
    expect(isMac(input)).toBe(false);
  });

  it("formats bytes", () => {
    expect(formatMac(Uint8Array.from([0, 0x1d, 9, 0x76, 0xf5, 0x58]))).toBe("00:1d:09:76:f5:58");
    expect(() => formatMac(Uint8Array.from([1, 2, 3]))).toThrow("a MAC address has 6 bytes, got 3");
  });
});

describe("modified EUI-64 (RFC 4291 Appendix A)", () => {
  it.each<[string, string, string, string]>([
    // The HOWTO's own pairs (steps 2 and 22).
    ["HOWTO client (step 22)", "00:1D:09:76:F5:58", "21d:9ff:fe76:f558", "fe80::21d:9ff:fe76:f558"],
    ["HOWTO gateway (step 2)", "00:90:27:E0:0A:00", "290:27ff:fee0:a00", "fe80::290:27ff:fee0:a00"],
    // RFC 7042 documentation MACs used in the lab.
    ["lab client c1", "00:00:5e:00:53:11", "200:5eff:fe00:5311", "fe80::200:5eff:fe00:5311"],
    ["lab client c2", "00:00:5e:00:53:12", "200:5eff:fe00:5312", "fe80::200:5eff:fe00:5312"],
    // A locally administered MAC: the U/L bit flips the other way and the first group becomes 0.
    ["locally administered", "02:00:00:00:00:01", "0:ff:fe00:1", "fe80::ff:fe00:1"],
    ["all ones", "ff:ff:ff:ff:ff:ff", "fdff:ffff:feff:ffff", "fe80::fdff:ffff:feff:ffff"],
  ])("%s: %s", (_d, mac, iid, linkLocal) => {
    expect(eui64(mac)).toBe(iid);
    expect(linkLocalFromMac(mac)).toBe(linkLocal);
  });

  it("inserts ff:fe and inverts only the universal/local bit", () => {
    expect(Array.from(eui64Bytes("00:1d:09:76:f5:58"))).toEqual([0x02, 0x1d, 0x09, 0xff, 0xfe, 0x76, 0xf5, 0x58]);
    expect(Array.from(eui64Bytes("02:1d:09:76:f5:58"))).toEqual([0x00, 0x1d, 0x09, 0xff, 0xfe, 0x76, 0xf5, 0x58]);
    expect(Array.from(eui64Bytes("01:00:00:00:00:00"))[0]).toBe(0x03); // group bit untouched
    expect(eui64InterfaceId("00:1d:09:76:f5:58")).toBe(0x021d09fffe76f558n);
  });

  it.each<[string, string, string, string]>([
    ["HOWTO (step 22)", "2001:9999:8888::/64", "00:1D:09:76:F5:58", "2001:9999:8888:0:21d:9ff:fe76:f558"],
    ["lab c1", "2001:db8:8888::/64", "00:00:5e:00:53:11", "2001:db8:8888:0:200:5eff:fe00:5311"],
    ["lab c2", "2001:db8:8888::/64", "00:00:5e:00:53:12", "2001:db8:8888:0:200:5eff:fe00:5312"],
    ["brief example", "2001:db8:8888::/64", "00:1d:09:76:f5:58", "2001:db8:8888:0:21d:9ff:fe76:f558"],
    ["non-zero subnet id", "2001:db8:8888:ab::/64", "00:00:5e:00:53:11", "2001:db8:8888:ab:200:5eff:fe00:5311"],
  ])("SLAAC address, %s", (_d, prefix, mac, expected) => {
    expect(slaacAddress(prefix, mac)).toBe(expected);
  });

  it.each<[string, string, string, string]>([
    ["a /48", "2001:db8:8888::/48", "00:00:5e:00:53:11", "'prefix' must be a /64"],
    ["host bits in the prefix", "2001:db8:8888::1/64", "00:00:5e:00:53:11", "host bits are set beyond /64"],
    ["a bad MAC", "2001:db8:8888::/64", "00:00:5e:00:53", "'00:00:5e:00:53' is not a MAC address"],
  ])("slaacAddress rejects %s", (_d, prefix, mac, fragment) => {
    expect(() => slaacAddress(prefix, mac)).toThrow(fragment);
  });
});
