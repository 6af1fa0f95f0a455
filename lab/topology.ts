// The lab's topology as data: boxes, interfaces, MACs, addresses, links and
// routes for each scenario. Pure: no I/O. Everything the rest of the lab does
// to the network is planned here, and every address comes from a
// documentation range (RFC 5737, RFC 3849, RFC 7042 for MACs).
import { createHash } from "crypto";

export const SCENARIOS = ["direct", "nat", "native"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** LAN clients on the first LAN: two by default; `lab up --clients N` boots up to this many (c1..cN). */
export const DEFAULT_LAN_CLIENTS = 2;
export const MAX_LAN_CLIENTS = 32;

/** A LAN client's name: c1, c2, ... */
export type ClientName = `c${number}`;

// c3 after the fixed boxes: it exists only in the native scenario (on the second LAN) or with
// --clients 3 or more (on the first), like c4..c32; messages list the boxes in this order.
const FIXED_BOX_NAMES = ["gw", "c1", "c2", "isp", "outside", "natbox", "c3"] as const;
export type BoxName = (typeof FIXED_BOX_NAMES)[number] | ClientName;
export const BOX_NAMES: readonly BoxName[] = [...FIXED_BOX_NAMES, ...Array.from({ length: MAX_LAN_CLIENTS - 3 }, (_, i): ClientName => `c${i + 4}`)];

/** Which cached tree a box boots from: the bare base, or base plus the infra layer. */
export type TreeLayer = "base" | "infra";

/** Lab services (units baked into the infra layer, or written per box) that a box enables at boot. */
export type LabService = "wireguard" | "httpd" | "nat" | "dhcp6" | "radvd" | "tsp";

export interface InterfacePlan {
  /** Name inside the box; the rest of the project relies on these. */
  readonly name: string;
  readonly mac: string;
  /** IPv4 address with prefix length, e.g. "192.0.2.1/24". */
  readonly ipv4?: string;
  /** Static IPv6 address with prefix length, added with nodad. */
  readonly ipv6?: string;
  /** Per-interface IPv6 sysctls (net.ipv6.conf.<if>.<key>). */
  readonly ipv6Conf?: Readonly<Record<string, string>>;
}

export interface RoutePlan {
  readonly family: 4 | 6;
  readonly to: string;
  readonly via: string;
  /** Needed when `via` is a link-local address. */
  readonly dev?: string;
}

/** How the host's SSH client reaches a box's sshd. */
export interface SshTarget {
  /** Address to connect to; a link-local one carries its zone ("fe80::1%ipv6gw-lan"). */
  readonly host: string;
  readonly port: number;
  /** Set when the address is only reachable from inside this network namespace. */
  readonly viaNetns?: string;
}

export interface BoxPlan {
  readonly name: BoxName;
  readonly netns: string;
  readonly machineId: string;
  readonly tree: TreeLayer;
  readonly interfaces: readonly InterfacePlan[];
  readonly routes: readonly RoutePlan[];
  /** Sysctls set in the box's network namespace before its interfaces exist. */
  readonly sysctls: Readonly<Record<string, string>>;
  readonly services: readonly LabService[];
  readonly ssh: SshTarget;
}

/** A bridge in the host's network namespace, and the host's own presence on it. */
export interface BridgePlan {
  readonly name: string;
  readonly mac: string;
  readonly hostIpv6?: string;
  readonly hostIpv4?: string;
}

/** A veth pair: one end in a box, the other a port of a host bridge. */
export interface BridgePortLink {
  readonly kind: "bridge-port";
  readonly bridge: string;
  readonly hostSide: string;
  readonly hostSideMac: string;
  readonly box: BoxName;
  readonly ifname: string;
}

/** A veth pair between two boxes. */
export interface BoxPairLink {
  readonly kind: "pair";
  readonly a: { readonly box: BoxName; readonly ifname: string };
  readonly b: { readonly box: BoxName; readonly ifname: string };
}

export type LinkPlan = BridgePortLink | BoxPairLink;

export interface WireguardPlan {
  readonly listenPort: number;
  readonly endpoint: string;
  readonly ispAddress: string;
  readonly gwAddress: string;
  readonly routedPrefix: string;
  readonly lanPrefix: string;
}

/**
 * The native scenario's ISP: Kea delegates prefixes on the isp-gw link and
 * radvd announces that link's /64 (ARCHITECTURE.md, "Growing the lab").
 * Lifetimes are short so a renumbering completes within 2 minutes.
 */
export interface NativePlan {
  /** The isp-gw link: isp's wan0 and gw's wan0. */
  readonly wanInterface: string;
  readonly wanPrefix: string;
  /** isp's static address on the link, where Kea and radvd answer. */
  readonly ispAddress: string;
  readonly ispLinkLocal: string;
  readonly gwLinkLocal: string;
  /** IA_NA addresses Kea hands out on the link (gw's WAN may also use SLAAC). */
  readonly addressPool: { readonly first: string; readonly last: string };
  /** Every delegated prefix comes from this pool, routed by isp to the gw's link-local. */
  readonly pdPool: string;
  /** Each renumbering epoch's pool is the next prefix of this length inside pdPool. */
  readonly epochLength: number;
  /** Length of each delegated prefix. */
  readonly delegatedLength: number;
  /** Seconds (RFC 8415 T1/T2, preferred and valid lifetimes). */
  readonly lifetimes: { readonly renew: number; readonly rebind: number; readonly preferred: number; readonly valid: number };
  /** isp's RAs on the link (radvd), in seconds. */
  readonly ra: { readonly minInterval: number; readonly maxInterval: number; readonly routerLifetime: number };
  /** The second LAN: a bridge on gw's eth1 with c3. */
  readonly lan2: { readonly bridge: string; readonly gwInterface: string };
}

/** An account the TSP broker knows; its slot fixes its tunnel address and delegated /64. */
export interface TspAccountPlan {
  readonly userid: string;
  readonly slot: number;
  /** The client's tunnel end, e.g. "2001:db8:ffff:200::1:2". */
  readonly address: string;
  /** The /64 it is delegated in router mode, e.g. "2001:db8:7777:1::/64". */
  readonly prefix: string;
}

/** The TSP broker (lab/tsp-broker) on isp. */
export interface TspBrokerPlan {
  readonly box: BoxName;
  readonly listen: string;
  readonly port: number;
  readonly tunInterface: string;
  /** Tunnel ends: ::1 is the broker, slot k's client is ::k:2. */
  readonly tunnelPrefix: string;
  readonly serverAddress: string;
  /** Router-mode delegations: slot k gets the /64 number k of this /48. */
  readonly delegationPrefix: string;
  /** Named as DNS server in router-mode offers (the lab runs no DNS server; gw6c 5.1 ignores it). */
  readonly dnsServer: string;
  readonly realm: string;
  readonly user: TspAccountPlan;
  /** Anonymous clients get slots from here up, one per IPv4 source address. */
  readonly anonymousFirstSlot: number;
  /** Keepalive interval offered when the client names none, and the bounds for the one it names (seconds). */
  readonly keepalive: { readonly default: number; readonly min: number; readonly max: number };
  /** A tunnel silent this long (at least 3 keepalive intervals) is removed (seconds). */
  readonly sessionTimeout: number;
}

/** Slot k's client tunnel address in a tunnel /64 written "2001:db8:ffff:200::/64". */
export function tspSlotAddress(tunnelPrefix: string, slot: number): string {
  return `${tspPrefixHead(tunnelPrefix, 64)}::${slot.toString(16)}:2`;
}

/** Slot k's delegated /64 in a /48 written "2001:db8:7777::/48". */
export function tspSlotPrefix(delegationPrefix: string, slot: number): string {
  return `${tspPrefixHead(delegationPrefix, 48)}:${slot.toString(16)}::/64`;
}

function tspPrefixHead(prefix: string, bits: 48 | 64): string {
  const m = /^([0-9a-f:]+?)::\/(\d+)$/i.exec(prefix);
  const groups = m ? m[1].split(":") : [];
  if (!m || Number(m[2]) !== bits || groups.length > bits / 16) {
    throw new Error(`TSP broker plan: expected a /${bits} written like '2001:db8:7777::/${bits}', got '${prefix}'`);
  }
  while (groups.length < bits / 16) groups.push("0");
  return groups.join(":");
}

export interface LabPlan {
  readonly scenario: Scenario;
  /** Clients on the first LAN (c1..cN). */
  readonly clients: number;
  readonly boxes: readonly BoxPlan[];
  readonly bridges: readonly BridgePlan[];
  readonly links: readonly LinkPlan[];
  readonly wireguard: WireguardPlan;
  readonly tsp: TspBrokerPlan;
  readonly outside: { readonly url: string; readonly pingTarget: string; readonly pageLine: string };
  /** Only in the native scenario. */
  readonly native?: NativePlan;
}

/** Every name the lab gives to things in the host's namespace starts with one of these. */
export const HOST_NAME_PREFIXES = ["ipv6gw-", "lab-"] as const;
export const NETNS_PREFIX = "ipv6gw-";
export const LAN_BRIDGE = "ipv6gw-lan";
export const INET_BRIDGE = "ipv6gw-inet";
/** The second LAN (native scenario only), on gw's eth1. */
export const LAN2_BRIDGE = "ipv6gw-lan2";
/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;

/** Documentation MAC (RFC 7042, 00-00-5E-00-53-00..FF) with the given last octet. */
export function docMac(last: number): string {
  if (!Number.isInteger(last) || last < 0 || last > 0xff) throw new Error(`docMac: last octet must be 0..255, got ${last}`);
  return `00:00:5e:00:53:${last.toString(16).padStart(2, "0")}`;
}

/** A box's machine-id: 32 lowercase hex digits, stable per name. */
export function machineIdFor(box: string): string {
  return createHash("sha256").update(`ipv6gw-lab machine-id ${box}`).digest("hex").slice(0, 32);
}

/** The modified EUI-64 interface identifier of a MAC, as four IPv6 groups ("200:5eff:fe00:5311"). */
export function eui64InterfaceId(mac: string): string {
  const bytes = mac.split(":").map((h) => parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 0xff)) {
    throw new Error(`eui64InterfaceId: '${mac}' is not a MAC address like 00:00:5e:00:53:11`);
  }
  const id = [bytes[0] ^ 0x02, bytes[1], bytes[2], 0xff, 0xfe, bytes[3], bytes[4], bytes[5]];
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((id[i] << 8) | id[i + 1]).toString(16));
  return groups.join(":");
}

/** The EUI-64 link-local address of a MAC, e.g. "fe80::200:5eff:fe00:5301". */
export function linkLocalFor(mac: string): string {
  return `fe80::${eui64InterfaceId(mac)}`;
}

/** The SLAAC address a MAC gets in a /64 given as "2001:db8:8888::/64" (EUI-64, no privacy). */
export function slaacAddressFor(prefix64: string, mac: string): string {
  const m = /^([0-9a-f:]+)::\/64$/i.exec(prefix64);
  if (!m) throw new Error(`slaacAddressFor: expected a /64 written as 'xxxx:xxxx:xxxx::/64', got '${prefix64}'`);
  const head = m[1].split(":");
  while (head.length < 4) head.push("0");
  return `${head.join(":")}:${eui64InterfaceId(mac)}`;
}

export function netnsFor(box: BoxName): string {
  return `${NETNS_PREFIX}${box}`;
}

const CLIENT_SYSCTLS = {
  "net.ipv6.conf.all.forwarding": "0",
  "net.ipv6.conf.default.accept_ra": "1",
  "net.ipv6.conf.default.autoconf": "1",
};

/** Sysctls every box gets: EUI-64 addresses (no stable-privacy), no temporary addresses. */
const COMMON_SYSCTLS = {
  "net.ipv6.conf.all.disable_ipv6": "0",
  "net.ipv6.conf.default.disable_ipv6": "0",
  "net.ipv6.conf.all.addr_gen_mode": "0",
  "net.ipv6.conf.default.addr_gen_mode": "0",
  "net.ipv6.conf.all.use_tempaddr": "0",
  "net.ipv6.conf.default.use_tempaddr": "0",
};

const GW_ETH0_MAC = docMac(0x01);
const GW_WAN0_MAC = docMac(0x02);
const GW_ETH1_MAC = docMac(0x03);
const ISP_WAN0_MAC = docMac(0x21);

/**
 * A LAN client. On the second LAN (c3) gw has no IPv4 address, so c3 gets no
 * IPv4 default route: its IPv4 address is only its lab identity.
 */
function lanBox(name: ClientName, macLast: number, ipv4Last: number, bridge = LAN_BRIDGE): BoxPlan {
  const mac = docMac(macLast);
  return {
    name,
    netns: netnsFor(name),
    machineId: machineIdFor(name),
    tree: "base",
    interfaces: [{ name: "eth0", mac, ipv4: `192.0.2.${ipv4Last}/24` }],
    routes: bridge === LAN_BRIDGE ? [{ family: 4, to: "default", via: "192.0.2.1" }] : [],
    sysctls: { ...COMMON_SYSCTLS, ...CLIENT_SYSCTLS, "net.ipv4.ip_forward": "0" },
    services: [],
    ssh: { host: `${linkLocalFor(mac)}%${bridge}`, port: 22 },
  };
}

/** The native scenario's ISP side (see NativePlan). */
export const NATIVE: NativePlan = {
  wanInterface: "wan0",
  wanPrefix: "2001:db8:ffff:1::/64",
  ispAddress: "2001:db8:ffff:1::1/64",
  ispLinkLocal: linkLocalFor(ISP_WAN0_MAC),
  gwLinkLocal: linkLocalFor(GW_WAN0_MAC),
  addressPool: { first: "2001:db8:ffff:1::1000", last: "2001:db8:ffff:1::1fff" },
  pdPool: "2001:db8:9900::/40",
  epochLength: 52,
  delegatedLength: 56,
  // T1 30 s: the gw hears of a renumbering within 30 s of `isp renumber`.
  lifetimes: { renew: 30, rebind: 48, preferred: 60, valid: 120 },
  ra: { minInterval: 3, maxInterval: 10, routerLifetime: 600 },
  lan2: { bridge: LAN2_BRIDGE, gwInterface: "eth1" },
};

/**
 * Client n of the first LAN: its MAC's last octet, its bridge port's, and its IPv4 address's.
 * c1..c3 keep the octets they always had; c4..c32 take ranges no other box uses
 * (0xa4-0xc0 for the boxes, 0xc4-0xe0 for the host side of their links).
 */
export function lanClientOctets(n: number): { mac: number; hostSide: number; ipv4: number } {
  if (!Number.isInteger(n) || n < 1 || n > MAX_LAN_CLIENTS) throw new Error(`lanClientOctets: client number must be 1..${MAX_LAN_CLIENTS}, got ${n}`);
  if (n <= 3) return { mac: 0x10 + n, hostSide: [0x82, 0x83, 0x87][n - 1], ipv4: 10 + n };
  return { mac: 0xa0 + n, hostSide: 0xc0 + n, ipv4: 10 + n };
}

/** Whether a client count can boot in a scenario, and if not, why. Pure. */
export function clientsProblem(scenario: Scenario, clients: number): string | undefined {
  if (!Number.isInteger(clients) || clients < DEFAULT_LAN_CLIENTS || clients > MAX_LAN_CLIENTS) {
    return `--clients must be a whole number from ${DEFAULT_LAN_CLIENTS} to ${MAX_LAN_CLIENTS}, got '${clients}'`;
  }
  if (scenario === "native" && clients !== DEFAULT_LAN_CLIENTS) {
    return `the native scenario has its two LAN clients and c3 on the second LAN; --clients is for the direct and nat scenarios`;
  }
  return undefined;
}

/** The whole lab for one scenario, with this many clients on the first LAN. */
export function planLab(scenario: Scenario, clients = DEFAULT_LAN_CLIENTS): LabPlan {
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new Error(`unknown scenario '${scenario}'; use one of: ${SCENARIOS.join(", ")}`);
  }
  const clientsWrong = clientsProblem(scenario, clients);
  if (clientsWrong) throw new Error(clientsWrong);
  const nat = scenario === "nat";
  const native = scenario === "native";
  const gwWan = nat ? "203.0.113.2/24" : "198.51.100.2/24";
  const gwDefault = nat ? "203.0.113.1" : "198.51.100.1";

  const gw: BoxPlan = {
    name: "gw",
    netns: netnsFor("gw"),
    machineId: machineIdFor("gw"),
    tree: "base",
    interfaces: [
      { name: "eth0", mac: GW_ETH0_MAC, ipv4: "192.0.2.1/24" },
      { name: "wan0", mac: GW_WAN0_MAC, ipv4: gwWan },
      ...(native ? [{ name: NATIVE.lan2.gwInterface, mac: GW_ETH1_MAC }] : []),
    ],
    routes: [{ family: 4, to: "default", via: gwDefault }],
    // Blank: forwarding off, accept_ra left at its default; the project makes the gateway.
    sysctls: { ...COMMON_SYSCTLS, "net.ipv6.conf.all.forwarding": "0", "net.ipv4.ip_forward": "0" },
    services: [],
    ssh: { host: `${linkLocalFor(GW_ETH0_MAC)}%${LAN_BRIDGE}`, port: 22 },
  };

  const isp: BoxPlan = {
    name: "isp",
    netns: netnsFor("isp"),
    machineId: machineIdFor("isp"),
    tree: "infra",
    interfaces: [
      native
        ? {
            name: "wan0",
            mac: ISP_WAN0_MAC,
            ipv4: "198.51.100.1/24",
            ipv6: NATIVE.ispAddress,
            // No DAD: the link-local Kea and radvd use stays valid while the gw reboots.
            ipv6Conf: { accept_ra: "0", autoconf: "0", accept_dad: "0" },
          }
        : { name: "wan0", mac: ISP_WAN0_MAC, ipv4: "198.51.100.1/24" },
      { name: "inet0", mac: docMac(0x22), ipv6: "2001:db8:ffff::fe/64", ipv6Conf: { accept_ra: "0", autoconf: "0" } },
    ],
    // The whole delegation pool goes to the gw's link-local: no per-lease routes to keep (lab/README.md).
    routes: native ? [{ family: 6, to: NATIVE.pdPool, via: NATIVE.gwLinkLocal, dev: NATIVE.wanInterface }] : [],
    sysctls: { ...COMMON_SYSCTLS, "net.ipv6.conf.all.forwarding": "1", "net.ipv6.conf.default.accept_ra": "0" },
    services: native ? ["wireguard", "tsp", "dhcp6", "radvd"] : ["wireguard", "tsp"],
    ssh: { host: "2001:db8:ffff::fe", port: 22 },
  };

  const outside: BoxPlan = {
    name: "outside",
    netns: netnsFor("outside"),
    machineId: machineIdFor("outside"),
    tree: "infra",
    interfaces: [
      { name: "inet0", mac: docMac(0x31), ipv6: "2001:db8:ffff::1/64", ipv6Conf: { accept_ra: "0", autoconf: "0" } },
    ],
    routes: [{ family: 6, to: "default", via: "2001:db8:ffff::fe" }],
    sysctls: { ...COMMON_SYSCTLS, "net.ipv6.conf.default.accept_ra": "0" },
    services: ["httpd"],
    ssh: { host: "2001:db8:ffff::1", port: 22 },
  };

  const lanClients = Array.from({ length: clients }, (_, i): [ClientName, ReturnType<typeof lanClientOctets>] => [`c${i + 1}`, lanClientOctets(i + 1)]);
  const boxes: BoxPlan[] = [gw, ...lanClients.slice(0, 2).map(([name, o]) => lanBox(name, o.mac, o.ipv4)), isp, outside, ...lanClients.slice(2).map(([name, o]) => lanBox(name, o.mac, o.ipv4))];
  const links: LinkPlan[] = [
    { kind: "bridge-port", bridge: LAN_BRIDGE, hostSide: "lab-gw-eth0", hostSideMac: docMac(0x81), box: "gw", ifname: "eth0" },
    ...lanClients.map(([name, o]): LinkPlan => ({ kind: "bridge-port", bridge: LAN_BRIDGE, hostSide: `lab-${name}-eth0`, hostSideMac: docMac(o.hostSide), box: name, ifname: "eth0" })),
    { kind: "bridge-port", bridge: INET_BRIDGE, hostSide: "lab-isp-inet0", hostSideMac: docMac(0x84), box: "isp", ifname: "inet0" },
    { kind: "bridge-port", bridge: INET_BRIDGE, hostSide: "lab-out-inet0", hostSideMac: docMac(0x85), box: "outside", ifname: "inet0" },
  ];

  if (nat) {
    boxes.push({
      name: "natbox",
      netns: netnsFor("natbox"),
      machineId: machineIdFor("natbox"),
      tree: "infra",
      interfaces: [
        { name: "lan0", mac: docMac(0x41), ipv4: "203.0.113.1/24" },
        { name: "wan0", mac: docMac(0x42), ipv4: "198.51.100.3/24" },
      ],
      routes: [{ family: 4, to: "default", via: "198.51.100.1" }],
      sysctls: { ...COMMON_SYSCTLS, "net.ipv4.ip_forward": "1" },
      services: ["nat"],
      // natbox has no link to the host: its sshd is reached from inside its own namespace.
      ssh: { host: "203.0.113.1", port: 22, viaNetns: netnsFor("natbox") },
    });
    links.push(
      { kind: "pair", a: { box: "gw", ifname: "wan0" }, b: { box: "natbox", ifname: "lan0" } },
      { kind: "pair", a: { box: "natbox", ifname: "wan0" }, b: { box: "isp", ifname: "wan0" } },
    );
  } else {
    links.push({ kind: "pair", a: { box: "gw", ifname: "wan0" }, b: { box: "isp", ifname: "wan0" } });
  }
  if (native) {
    boxes.push(lanBox("c3", 0x13, 13, LAN2_BRIDGE));
    links.push(
      { kind: "bridge-port", bridge: LAN2_BRIDGE, hostSide: "lab-gw-eth1", hostSideMac: docMac(0x86), box: "gw", ifname: NATIVE.lan2.gwInterface },
      { kind: "bridge-port", bridge: LAN2_BRIDGE, hostSide: "lab-c3-eth0", hostSideMac: docMac(0x87), box: "c3", ifname: "eth0" },
    );
  }

  return {
    scenario,
    clients,
    boxes,
    // The host is the admin workstation on the LAN, IPv6 link-local only. It
    // gets no IPv4 address there: 192.0.2.0/24 may already be the host's own
    // uplink (it is on the project's machines), and a second connected route
    // would send "lab" traffic to the real network instead.
    bridges: [
      { name: LAN_BRIDGE, mac: docMac(0x10) },
      { name: INET_BRIDGE, mac: docMac(0xf0), hostIpv6: "2001:db8:ffff::10/64" },
      // The second LAN: like the first, the host is there link-local only.
      ...(native ? [{ name: LAN2_BRIDGE, mac: docMac(0x1f) }] : []),
    ],
    links,
    wireguard: {
      listenPort: 51820,
      endpoint: "198.51.100.1:51820",
      ispAddress: "2001:db8:ffff:100::1/64",
      gwAddress: "2001:db8:ffff:100::2/64",
      routedPrefix: "2001:db8:8888::/48",
      lanPrefix: "2001:db8:8888::/64",
    },
    tsp: tspBrokerPlan(),
    outside: { url: "http://[2001:db8:ffff::1]/", pingTarget: "2001:db8:ffff::1", pageLine: "ipv6gw lab: hello from outside" },
    ...(native ? { native: NATIVE } : {}),
  };
}

/** The broker is the same in every scenario: behind NAT it sees natbox's address instead of the gw's. */
function tspBrokerPlan(): TspBrokerPlan {
  const tunnelPrefix = "2001:db8:ffff:200::/64";
  const delegationPrefix = "2001:db8:7777::/48";
  return {
    box: "isp",
    listen: "198.51.100.1",
    port: 3653,
    tunInterface: "tsp0",
    tunnelPrefix,
    serverAddress: "2001:db8:ffff:200::1",
    delegationPrefix,
    dnsServer: "2001:db8:ffff::fe",
    realm: "ipv6gw-lab",
    user: { userid: "todd", slot: 1, address: tspSlotAddress(tunnelPrefix, 1), prefix: tspSlotPrefix(delegationPrefix, 1) },
    anonymousFirstSlot: 256,
    keepalive: { default: 30, min: 5, max: 3600 },
    sessionTimeout: 120,
  };
}

/** Names of every host-side link any scenario creates (for cleanup and tests). */
export function allHostLinkNames(): string[] {
  const names = new Set<string>();
  for (const s of SCENARIOS) {
    const plan = planLab(s, s === "native" ? DEFAULT_LAN_CLIENTS : MAX_LAN_CLIENTS);
    plan.bridges.forEach((b) => names.add(b.name));
    plan.links.forEach((l) => l.kind === "bridge-port" && names.add(l.hostSide));
  }
  return [...names];
}

/** Where `lab restart` keeps a box's links while it renews the box's namespace. */
export function parkingNetnsFor(box: BoxName): string {
  return `${NETNS_PREFIX}park-${box}`;
}

/** Names of every network namespace any scenario creates (boxes', and restart's parking ones). */
export function allNetnsNames(): string[] {
  return [...BOX_NAMES.map(netnsFor), ...BOX_NAMES.map(parkingNetnsFor)];
}

export function isBoxName(name: string): name is BoxName {
  return (BOX_NAMES as readonly string[]).includes(name);
}
