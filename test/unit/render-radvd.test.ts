import { RadvdConf, RadvdInterface, renderRadvdConf } from "../../components/render";
import { expectGolden } from "./golden";

const HEADER = "# Managed by ipv6gw (Pulumi). Changes made here are overwritten.";
const LAN64 = "2001:db8:8888::/64";

function iface(over: Partial<RadvdInterface> = {}): RadvdInterface {
  return { name: "eth0", prefixes: [{ prefix: LAN64, onLink: true, autonomous: true }], ...over };
}

describe.each<[string, string, RadvdConf]>([
  [
    "HOWTO step 13: one autonomous /64 on eth0, everything else radvd's defaults (what gw6c writes)",
    "howto-eth0",
    { interfaces: [{ name: "eth0", prefixes: [{ prefix: "2001:9999:8888::/64", onLink: true, autonomous: true }] }] },
  ],
  [
    "lab LAN: short intervals, MTU 1280 behind a tunnel, lifetimes, RDNSS and DNSSL",
    "lab-lan",
    {
      interfaces: [
        {
          name: "eth0",
          minRtrAdvInterval: 3,
          maxRtrAdvInterval: 10,
          ignoreIfMissing: true,
          linkMtu: 1280,
          defaultLifetime: 30,
          prefixes: [{ prefix: "2001:0DB8:8888:0000::/64", onLink: true, autonomous: true, validLifetime: 3600, preferredLifetime: 1800 }],
          rdnss: ["2001:db8:8888::1"],
          dnssl: ["lab.example", "example.com"],
        },
      ],
    },
  ],
  [
    "renumbering: the new prefix advertised, the old one deprecated with lifetimes 0 (RFC 9096)",
    "renumbering",
    {
      interfaces: [
        {
          name: "eth0",
          prefixes: [
            { prefix: "2001:db8:9999::/64", onLink: true, autonomous: true },
            { prefix: "2001:db8:8888::/64", onLink: true, autonomous: true, deprecated: true },
          ],
        },
      ],
    },
  ],
  [
    "two interfaces given out of order render sorted by name; four DNS servers split 3 + 1, order kept",
    "two-interfaces",
    {
      interfaces: [
        {
          name: "wlan0",
          maxRtrAdvInterval: 30,
          prefixes: [{ prefix: "2001:db8:8888:1::/64", onLink: true, autonomous: true, validLifetime: "infinity", preferredLifetime: "infinity" }],
        },
        {
          name: "eth0",
          prefixes: [{ prefix: LAN64, onLink: true, autonomous: true }],
          rdnss: ["2001:db8::53", "2001:db8::1:53", "2001:db8::2:53", "2001:DB8::3:0053"],
        },
      ],
    },
  ],
  [
    "on-link only: a non-autonomous /56 and a ULA /64, not a default router (lifetime 0)",
    "on-link-only",
    {
      interfaces: [
        {
          name: "br-lan",
          defaultLifetime: 0,
          prefixes: [
            { prefix: "fd3a:91c2:7e05::/64", onLink: true, autonomous: true },
            { prefix: "2001:db8:8800::/56", onLink: true, autonomous: false },
          ],
        },
      ],
    },
  ],
])("radvd.conf golden: %s", (_description, name, model) => {
  it("matches the golden file", () => {
    expectGolden(`radvd/${name}.conf`, renderRadvdConf(model));
  });
});

describe("renderRadvdConf", () => {
  it("starts with the managed-file header and always sends adverts", () => {
    const out = renderRadvdConf({ interfaces: [iface()] });
    expect(out.split("\n")[0]).toBe(HEADER);
    expect(out).toContain("interface eth0 {\n    AdvSendAdvert on;");
    expect(out.endsWith("};\n")).toBe(true);
  });

  it("does not depend on the order of interfaces or prefixes", () => {
    const a = iface({ name: "eth1", prefixes: [{ prefix: "2001:db8:8888:2::/64", onLink: true, autonomous: true }, { prefix: LAN64, onLink: true, autonomous: true }] });
    const b = iface({ name: "eth0" });
    const reversedPrefixes = { ...a, prefixes: [...a.prefixes].reverse() };
    expect(renderRadvdConf({ interfaces: [a, b] })).toBe(renderRadvdConf({ interfaces: [b, reversedPrefixes] }));
  });

  it("keeps RDNSS and DNSSL order (it is preference and search order)", () => {
    const out = renderRadvdConf({ interfaces: [iface({ rdnss: ["2001:db8::2", "2001:db8::1"], dnssl: ["b.example", "a.example"] })] });
    expect(out).toContain("RDNSS 2001:db8::2 2001:db8::1 { };");
    expect(out).toContain("DNSSL b.example a.example { };");
  });

  it("uses radvd's derived defaults when validating: maxRtrAdvInterval 9 alone implies MinRtrAdvInterval 2.97", () => {
    expect(() => renderRadvdConf({ interfaces: [iface({ maxRtrAdvInterval: 9 })] })).toThrow(
      `radvd.conf interface "eth0": 'minRtrAdvInterval' defaults to 0.33 * maxRtrAdvInterval, which must be at least 3 seconds`,
    );
    expect(() => renderRadvdConf({ interfaces: [iface({ maxRtrAdvInterval: 10 })] })).not.toThrow();
  });
});

describe("radvd validation", () => {
  const bad = (over: Partial<RadvdInterface>): RadvdConf => ({ interfaces: [iface(over)] });
  const prefix = (p: Partial<RadvdInterface["prefixes"][number]>): RadvdConf =>
    bad({ prefixes: [{ prefix: LAN64, onLink: true, autonomous: true, ...p }] });

  it.each<[string, RadvdConf, string]>([
    ["no interfaces", { interfaces: [] }, "radvd.conf: 'interfaces' must list at least one interface, got 0; add the LAN interface"],
    ["duplicate interface", { interfaces: [iface(), iface()] }, "'interfaces' lists an interface twice, got 'eth0'; merge the two blocks"],
    ["interface name with a space", bad({ name: "eth 0" }), "radvd.conf interfaces[0]: 'name' must be a Linux interface name"],
    ["interface name too long", bad({ name: "averyveryverylongname" }), "'name' must be a Linux interface name of 1-15 characters"],
    ["interface name with a brace", bad({ name: "eth0{" }), "'name' must be a Linux interface name"],
    ["maxRtrAdvInterval below 4", bad({ maxRtrAdvInterval: 3 }), "'maxRtrAdvInterval' must be between 4 and 1800 seconds (radvd.conf(5)), got 3"],
    ["maxRtrAdvInterval above 1800", bad({ maxRtrAdvInterval: 1801 }), "'maxRtrAdvInterval' must be between 4 and 1800 seconds (radvd.conf(5)), got 1801"],
    ["minRtrAdvInterval below 3", bad({ minRtrAdvInterval: 2, maxRtrAdvInterval: 10 }), "'minRtrAdvInterval' must be at least 3 seconds (radvd.conf(5)), got 2; raise it to 3 or more"],
    ["minRtrAdvInterval above 0.75 * max", bad({ minRtrAdvInterval: 8, maxRtrAdvInterval: 10 }), "'minRtrAdvInterval' must be at most 0.75 * maxRtrAdvInterval (7.5), got 8; lower minRtrAdvInterval or raise maxRtrAdvInterval"],
    ["minRtrAdvInterval above 0.75 * radvd's default max", bad({ minRtrAdvInterval: 451 }), "'minRtrAdvInterval' must be at most 0.75 * maxRtrAdvInterval (450), got 451"],
    ["default min from a small max", bad({ maxRtrAdvInterval: 4 }), "'minRtrAdvInterval' defaults to 0.33 * maxRtrAdvInterval, which must be at least 3 seconds, got 1.32 (0.33 * 4); set minRtrAdvInterval to 3 or raise maxRtrAdvInterval"],
    ["link MTU below 1280", bad({ linkMtu: 1000 }), "'linkMtu' must be 0 (not advertised) or an integer of at least 1280 (the IPv6 minimum MTU), got 1000"],
    ["default lifetime below max interval", bad({ maxRtrAdvInterval: 60, defaultLifetime: 30 }), "'defaultLifetime' must be 0 or an integer between maxRtrAdvInterval (60) and 9000 seconds, got 30"],
    ["default lifetime above 9000", bad({ defaultLifetime: 9001 }), "'defaultLifetime' must be 0 or an integer between maxRtrAdvInterval (600) and 9000 seconds, got 9001"],
    ["autonomous /48", prefix({ prefix: "2001:db8:8888::/48" }), `radvd.conf interface "eth0" prefix "2001:db8:8888::/48": 'prefix' must be a /64 when autonomous is true (SLAAC forms 64-bit interface identifiers), got '2001:db8:8888::/48'; advertise a /64 or set autonomous to false`],
    ["autonomous /80", prefix({ prefix: "2001:db8:8888::/80" }), "'prefix' must be a /64 when autonomous is true"],
    ["host bits in the prefix", prefix({ prefix: "2001:db8:8888::1/64" }), "'prefix' is not a valid IPv6 network prefix, got '2001:db8:8888::1/64'; '2001:db8:8888::1/64' is not an IPv6 prefix: host bits are set beyond /64; use 2001:db8:8888::/64"],
    ["not a prefix", prefix({ prefix: "2001:db8:8888::" }), "'prefix' is not a valid IPv6 network prefix, got '2001:db8:8888::'; '2001:db8:8888::' is not an IPv6 prefix: missing '/length'"],
    ["link-local prefix", prefix({ prefix: "fe80::/64" }), "'prefix' must not be link-local or multicast, got 'fe80::/64'"],
    ["multicast prefix", prefix({ prefix: "ff02::/64", autonomous: false }), "'prefix' must not be link-local or multicast"],
    ["duplicate prefix in two spellings", bad({ prefixes: [{ prefix: LAN64, onLink: true, autonomous: true }, { prefix: "2001:0db8:8888:0::/64", onLink: true, autonomous: true }] }), "'prefixes' lists a prefix twice, got '2001:db8:8888::/64'"],
    ["preferred above valid", prefix({ validLifetime: 3600, preferredLifetime: 7200 }), "'preferredLifetime' must not exceed validLifetime (3600), got 7200; lower preferredLifetime or raise validLifetime"],
    ["preferred above radvd's default valid", prefix({ preferredLifetime: 90000 }), "'preferredLifetime' must not exceed validLifetime (radvd default 86400), got 90000"],
    ["infinite preferred with finite valid", prefix({ validLifetime: 3600, preferredLifetime: "infinity" }), "'preferredLifetime' must not exceed validLifetime (3600), got infinity"],
    ["negative lifetime", prefix({ validLifetime: -1 }), `'validLifetime' must be an integer 0..4294967294 seconds or "infinity", got -1`],
    ["fractional lifetime", prefix({ preferredLifetime: 1.5 }), `'preferredLifetime' must be an integer 0..4294967294 seconds or "infinity", got 1.5`],
    ["deprecated with lifetimes", prefix({ deprecated: true, validLifetime: 7200 }), "'deprecated' excludes validLifetime and preferredLifetime (a deprecated prefix is sent with both 0), got true; remove the lifetimes or set deprecated to false"],
    ["RDNSS IPv4 address", bad({ rdnss: ["192.0.2.53"] }), "'rdnss' must contain IPv6 addresses, got '192.0.2.53'; give DNS servers as IPv6 addresses"],
    ["RDNSS duplicate", bad({ rdnss: ["2001:db8::53", "2001:0db8::0053"] }), "'rdnss' lists a server twice, got '2001:0db8::0053'"],
    ["DNSSL with a space", bad({ dnssl: ["bad domain"] }), "'dnssl' must contain DNS domain names"],
    ["DNSSL label starting with a hyphen", bad({ dnssl: ["-x.example"] }), "'dnssl' must contain DNS domain names"],
    ["DNSSL duplicate in another case", bad({ dnssl: ["Example.com", "example.com"] }), "'dnssl' lists a domain twice, got 'example.com'"],
  ])("rejects %s", (_d, model, fragment) => {
    expect(() => renderRadvdConf(model)).toThrow(fragment);
  });
});
