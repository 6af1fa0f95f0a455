// The two rulesets the Firewall offers, as filter-table models.
//
// "howto" is the HOWTO's step 17 ruleset, exactly: one IPV6-INPUT chain that
// INPUT and FORWARD both jump to; loopback, (optionally) all ICMPv6, ESP and
// RELATED/ESTABLISHED accepted; NEW accepted only from the LAN interface; the
// rest rejected with icmp6-adm-prohibited.
//
// "rfc4890" is what a gateway of 2026 should run: separate INPUT and FORWARD
// chains; ICMPv6 per RFC 4890 (4.4 on INPUT, 4.3 on FORWARD), so neighbour
// discovery never depends on an option; IPsec (ESP, AH, IKE) let through per
// RFC 6092 REC-21/22/24; invalid packets dropped (REC-10); BCP 38 both ways
// (REC-5/6); unsolicited inbound echo-request only when asked; TCP MSS
// clamped on forwarded SYNs for tunnels with a small MTU.

import { FilterTable, FirewallRule } from "./rule";

export const PRESETS = ["howto", "rfc4890"] as const;
export type Preset = (typeof PRESETS)[number];

/** Where user rules go: after the established/related accept, before NEW from the LAN and the final reject. */
export interface PresetOptions {
  readonly lanInterface: string;
  /**
   * Every LAN interface, when there are several (a native uplink's LANs):
   * NEW is accepted from each, so the LANs reach the outside and each
   * other. Default [lanInterface]; with one LAN the rules keep their names.
   */
  readonly lanInterfaces?: readonly string[];
  /**
   * The WAN interface where a DHCPv6 client runs (a native uplink): the
   * server's replies are let in (they are NEW to conntrack: the request went
   * to a multicast address), and the ISP's RAs and neighbour discovery
   * whatever the icmpv6 option. Default none.
   */
  readonly dhcpv6ClientInterface?: string;
  /** howto: accept all ICMPv6 (the HOWTO's optional line). rfc4890: accept unsolicited echo-request from outside. */
  readonly icmpv6: boolean;
  /** rfc4890 only: the LAN prefix(es) for BCP 38; omit to skip the anti-spoofing rules. */
  readonly lanPrefixes?: readonly string[];
  /** rfc4890 only: clamp TCP MSS on forwarded SYNs. */
  readonly clampMss?: boolean;
  /** User rules for INPUT ("input"), FORWARD ("forward") or both. */
  readonly inputRules: readonly FirewallRule[];
  readonly forwardRules: readonly FirewallRule[];
}

export const HOWTO_CHAIN = "IPV6-INPUT";

/** A rule name's part for an interface: lower case, anything but letters and digits as '-'. */
export function interfaceSlug(ifname: string): string {
  return ifname.toLowerCase().replace(/[^a-z0-9]/g, "-");
}

/** NEW from each LAN: "<name>" with one LAN (as the HOWTO), "<name>-<interface>" with several. */
function lanNew(name: string, o: PresetOptions, legacyStateMatch: boolean): FirewallRule[] {
  const lans = o.lanInterfaces?.length ? o.lanInterfaces : [o.lanInterface];
  return lans.map((lan) => ({
    name: lans.length === 1 ? name : `${name}-${interfaceSlug(lan)}`,
    action: "accept",
    inInterface: lan,
    state: ["new"],
    ...(legacyStateMatch ? { legacyStateMatch: true } : {}),
  }));
}

/**
 * What a DHCPv6 client on the WAN needs: the server's replies (UDP 547 to
 * 546 from a link-local address, RFC 8415 7.2) and, unless ICMPv6 is already
 * accepted, the ISP's router advertisements and neighbour discovery (hop
 * limit 255: from the link itself).
 */
function dhcpv6ClientRules(o: PresetOptions, prefix: string, ndAccepted: boolean): FirewallRule[] {
  const wan = o.dhcpv6ClientInterface;
  if (!wan) return [];
  const nd = (name: string, type: string): FirewallRule => ({ name: `${prefix}wan-${name}`, action: "accept", inInterface: wan, protocol: "icmpv6", icmpv6Type: type, hopLimit: 255 });
  return [
    { name: `${prefix}wan-dhcpv6-reply`, action: "accept", inInterface: wan, source: "fe80::/10", protocol: "udp", sourcePort: 547, port: 546 },
    ...(ndAccepted ? [] : [nd("router-advertisement", "router-advertisement"), nd("neighbour-solicitation", "neighbour-solicitation"), nd("neighbour-advertisement", "neighbour-advertisement")]),
  ];
}

export function howtoPreset(o: PresetOptions): FilterTable {
  const rules: FirewallRule[] = [
    { name: "loopback", action: "accept", inInterface: "lo" },
    ...(o.icmpv6 ? [{ name: "icmpv6", action: "accept", protocol: "icmpv6" } as const] : []),
    { name: "esp", action: "accept", protocol: "esp" },
    { name: "established", action: "accept", state: ["related", "established"], legacyStateMatch: true },
    ...dhcpv6ClientRules(o, "", o.icmpv6),
    ...o.inputRules,
    ...lanNew("lan-new", o, true),
    { name: "reject", action: "reject", rejectWith: "icmp6-adm-prohibited" },
  ];
  return {
    policies: { INPUT: "ACCEPT", FORWARD: "ACCEPT", OUTPUT: "ACCEPT" },
    builtin: {
      INPUT: [{ name: "input", action: "jump", jumpTo: HOWTO_CHAIN }],
      FORWARD: [{ name: "forward", action: "jump", jumpTo: HOWTO_CHAIN }],
      OUTPUT: [],
    },
    chains: [{ name: HOWTO_CHAIN, rules }],
  };
}

const icmp = (name: string, type: string | number, extra: Partial<FirewallRule> = {}): FirewallRule => ({
  name,
  action: "accept",
  protocol: "icmpv6",
  icmpv6Type: type,
  ...extra,
});

/** RFC 4890 4.3.1: never dropped in transit (errors of every code, echo). */
function transitIcmp(o: PresetOptions): FirewallRule[] {
  return [
    icmp("icmp-unreachable", "destination-unreachable"),
    icmp("icmp-too-big", "packet-too-big"),
    icmp("icmp-time-exceeded", "time-exceeded"),
    icmp("icmp-parameter-problem", "parameter-problem"),
    icmp("icmp-echo-reply", "echo-reply"),
    ...(o.icmpv6 ? [icmp("icmp-echo-request", "echo-request", { limit: "10/sec", limitBurst: 20 })] : []),
  ];
}

/** RFC 4890 4.4.1: never dropped to the box itself; ND, MLD, SEND and MRD are link-local (hop limit 255, or a link-local source). */
function localIcmp(o: PresetOptions): FirewallRule[] {
  return [
    ...transitIcmp(o),
    icmp("nd-router-solicitation", "router-solicitation", { hopLimit: 255 }),
    icmp("nd-router-advertisement", "router-advertisement", { hopLimit: 255 }),
    icmp("nd-neighbour-solicitation", "neighbour-solicitation", { hopLimit: 255 }),
    icmp("nd-neighbour-advertisement", "neighbour-advertisement", { hopLimit: 255 }),
    icmp("nd-inverse-solicitation", "inverse-nd-solicitation", { hopLimit: 255 }),
    icmp("nd-inverse-advertisement", "inverse-nd-advertisement", { hopLimit: 255 }),
    icmp("mld-query", "mld-query", { source: "fe80::/10" }),
    icmp("mld-report", "mld-report", { source: "fe80::/10" }),
    icmp("mld-done", "mld-done", { source: "fe80::/10" }),
    icmp("mldv2-report", "mldv2-report", { source: "fe80::/10" }),
    // SEND's certification path messages (hop limit 255, RFC 3971) and multicast router discovery (link-local, RFC 4286).
    icmp("send-cert-solicitation", "certification-path-solicitation", { hopLimit: 255 }),
    icmp("send-cert-advertisement", "certification-path-advertisement", { hopLimit: 255 }),
    icmp("mrd-advertisement", "multicast-router-advertisement", { source: "fe80::/10" }),
    icmp("mrd-solicitation", "multicast-router-solicitation", { source: "fe80::/10" }),
    icmp("mrd-termination", "multicast-router-termination", { source: "fe80::/10" }),
  ];
}

function ipsec(prefix: string): FirewallRule[] {
  return [
    { name: `${prefix}esp`, action: "accept", protocol: "esp" },
    { name: `${prefix}ah`, action: "accept", protocol: "ah" },
    { name: `${prefix}ike`, action: "accept", protocol: "udp", port: 500 },
    { name: `${prefix}ike-nat-t`, action: "accept", protocol: "udp", port: 4500 },
  ];
}

export function rfc4890Preset(o: PresetOptions): FilterTable {
  const lan = o.lanInterface;
  const bcp38 = (o.lanPrefixes ?? []).flatMap((p, i): FirewallRule[] => {
    const n = (o.lanPrefixes ?? []).length > 1 ? `-${i + 1}` : "";
    return [{ name: `fwd-spoofed-in${n}`, action: "drop", inInterface: `!${lan}`, source: p }];
  });
  const egress: FirewallRule[] =
    o.lanPrefixes && o.lanPrefixes.length === 1
      ? [{ name: "fwd-spoofed-out", action: "drop", inInterface: lan, source: `!${o.lanPrefixes[0]}` }]
      : [];
  const input: FirewallRule[] = [
    { name: "in-loopback", action: "accept", inInterface: "lo" },
    ...localIcmp(o).map((r) => ({ ...r, name: `in-${r.name}` })),
    { name: "in-invalid", action: "drop", state: ["invalid"] },
    { name: "in-established", action: "accept", state: ["related", "established"] },
    ...ipsec("in-"),
    ...dhcpv6ClientRules(o, "in-", true),
    ...o.inputRules,
    ...lanNew("in-lan-new", o, false),
    { name: "in-reject", action: "reject", rejectWith: "icmp6-adm-prohibited" },
  ];
  const forward: FirewallRule[] = [
    ...(o.clampMss ? [{ name: "fwd-clamp-mss", action: "clamp-mss", protocol: "tcp", tcpFlags: "SYN,RST SYN" } as const] : []),
    { name: "fwd-invalid", action: "drop", state: ["invalid"] },
    { name: "fwd-established", action: "accept", state: ["related", "established"] },
    ...bcp38,
    ...egress,
    ...transitIcmp(o).map((r) => ({ ...r, name: `fwd-${r.name}` })),
    ...ipsec("fwd-"),
    ...o.forwardRules,
    ...lanNew("fwd-lan-new", o, false),
    { name: "fwd-reject", action: "reject", rejectWith: "icmp6-adm-prohibited" },
  ];
  return {
    policies: { INPUT: "ACCEPT", FORWARD: "ACCEPT", OUTPUT: "ACCEPT" },
    builtin: {
      INPUT: [{ name: "input", action: "jump", jumpTo: "ipv6gw-input" }],
      FORWARD: [{ name: "forward", action: "jump", jumpTo: "ipv6gw-forward" }],
      OUTPUT: [],
    },
    chains: [
      { name: "ipv6gw-forward", rules: forward },
      { name: "ipv6gw-input", rules: input },
    ],
  };
}
