// A whole site: the HOWTO, every step, as one component.
//
// Order is the HOWTO's (steps 15-20): the firewall is in place before
// forwarding is on and before the tunnel brings a global prefix, so the LAN
// is never reachable from outside unfiltered.
//
// Construction is parse, check, plan, create. Every mistake in the args and
// everything the boxes cannot do is found before the first resource (this
// component included) is registered, because the engine starts applying
// resources while the program still runs: a late error would leave the box
// half-built. The plan (planSite) is pure; the constructor only creates what
// it says.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "./child-options";
import { Checks, checksSettingsShape } from "./checks/checks";
import { ProbeResult } from "./checks/site-probe";
import { Firewall, firewallBoxProblems, firewallPackages, firewallSettingsProblems, firewallSettingsShape } from "./firewall/firewall";
import { GatewayHost, gatewaySettingsProblems, gatewaySettingsShape } from "./gateway/gateway-host";
import { gatewayProblems } from "./gateway/preflight";
import { ConnectionArgs } from "./host/connection";
import { HostFactsData } from "./host/host-facts";
import { Packages } from "./host/packages";
import { Ipv6Client, clientSettingsShape, ipv6ClientProblems } from "./lan/ipv6-client";
import { LanAddress } from "./lan/lan-address";
import { RADVD_PACKAGES, Radvd, radvdProblems, radvdSettingsShape } from "./lan/radvd";
import { UlaPrefix } from "./lan/ula-prefix";
import { interfaceAddress, parsePrefix, prefixCovers, subnet } from "./net/ipv6";
import { prefixProblem } from "./net/values";
import { Problem, parseArgs, problem, under } from "./problems";
import { factsValue, ifname, inputOf, ipv6Prefix, port, prefix64, slug, strictObject } from "./schema-kit";
import { DHCPV6_PD_PACKAGES, Dhcpv6PdOutputs, Dhcpv6PdUplink, dhcpv6PdBoxProblems, dhcpv6PdSettingsProblems, dhcpv6PdSettingsShape } from "./tunnel/dhcpv6-pd-uplink";
import { Gw6cTunnel, gw6cPackages, gw6cSettingsShape, gw6cTunnelProblems } from "./tunnel/gw6c-tunnel";
import { Sit6in4Tunnel, heUpdateSettingsShape, sit6in4Packages, sit6in4SettingsShape, sit6in4TunnelProblems } from "./tunnel/sit6in4-tunnel";
import { TunnelOutputs } from "./tunnel/tunnel";
import { WireguardTunnel, wireguardPackages, wireguardSettingsShape, wireguardTunnelProblems } from "./tunnel/wireguard-tunnel";

/** The LAN as a site's owner describes it (the stack file's `lan`). */
export const lanSettingsShape = {
  prefix: prefix64.optional().describe("the /64 advertised on the LAN; default the first /64 of the routed prefix (or gw6c's expectedPrefix)"),
  ula: z
    .union([z.boolean(), ipv6Prefix.refine((p) => prefixProblem(p) !== undefined || (parsePrefix(p).length === 48 && prefixCovers("fc00::/7", p)), "must be a ULA /48 inside fc00::/7 (RFC 4193)")])
    .default(false)
    .describe("also advertise an RFC 4193 ULA /64: true generates a /48 once, or give the /48"),
};

/** What the site knows of a client beyond the client itself: its name, and the LAN it is on. */
export const siteClientShape = {
  name: slug,
  lan: ifname.optional().describe("the gateway's interface of the LAN this client is on; default the first LAN"),
};

/** Names a client cannot take: the checklist's other vantage points. */
export const RESERVED_CLIENT_NAMES = ["gateway", "outside"] as const;

const connection = inputOf<ConnectionArgs>("the connection");

export const ipv6SiteArgsSchema = strictObject({
  gateway: strictObject({ ...gatewaySettingsShape, connection, facts: factsValue }),
  tunnel: z.discriminatedUnion("kind", [
    strictObject({ ...wireguardSettingsShape, privateKey: inputOf<string>("the gateway's WireGuard private key (a secret)") }),
    strictObject({ ...gw6cSettingsShape, password: inputOf<string>("the broker account's password (a secret)").optional() }),
    strictObject({ ...sit6in4SettingsShape, heUpdate: strictObject({ ...heUpdateSettingsShape, updateKey: inputOf<string>("the tunnel's update key (a secret)") }).optional() }),
    strictObject(dhcpv6PdSettingsShape),
  ]),
  lan: strictObject(lanSettingsShape).prefault({}),
  radvd: strictObject(radvdSettingsShape).prefault({}),
  firewall: strictObject(firewallSettingsShape).prefault({}),
  clients: z.array(strictObject({ ...siteClientShape, ...clientSettingsShape, connection, facts: factsValue })).default([]),
  checks: strictObject({ ...checksSettingsShape, outside: strictObject({ connection, port: port.default(80) }).optional() })
    .optional()
    .describe("the HOWTO's checklist after every change; omit to skip"),
});

export type Ipv6SiteArgs = z.input<typeof ipv6SiteArgsSchema>;
export type SiteSettings = z.output<typeof ipv6SiteArgsSchema>;
export type TunnelSpec = Ipv6SiteArgs["tunnel"];
export type ClientSpec = NonNullable<Ipv6SiteArgs["clients"]>[number];

/** The parts of a site's settings these checks look at: the same in the stack file and in the library's args. */
type SettingsView = {
  gateway: { lanInterface?: string; uplinkInterface?: string; uplinkAutoconf: boolean };
  tunnel:
    | { kind: "wireguard" | "sit6in4"; routedPrefix?: string }
    | { kind: "gw6c"; hostType: "host" | "router"; expectedPrefix?: string }
    | ({ kind: "dhcpv6-pd" } & Parameters<typeof dhcpv6PdSettingsProblems>[0]);
  lan: { prefix?: string; ula: boolean | string };
  firewall: Pick<SiteSettings["firewall"], "preset" | "rules" | "backend">;
  clients: readonly { name: string; lan?: string }[];
};

/** The gateway's LAN interface when it has one LAN (the HOWTO's if_prefix). */
export const DEFAULT_LAN_INTERFACE = "eth0";

/** The LAN interfaces, first one first: a native uplink's LANs, or the one LAN. Pure. */
export function siteLanInterfaces(s: Pick<SettingsView, "gateway" | "tunnel">): string[] {
  return s.tunnel.kind === "dhcpv6-pd" ? s.tunnel.lans.map((l) => l.interface) : [s.gateway.lanInterface ?? DEFAULT_LAN_INTERFACE];
}

/** The LAN /64 when it is known without asking the box. */
export function staticLanPrefix(s: Pick<SettingsView, "lan" | "tunnel">): string | undefined {
  if (s.lan.prefix) return s.lan.prefix;
  switch (s.tunnel.kind) {
    case "wireguard":
    case "sit6in4":
      return s.tunnel.routedPrefix ? subnet(s.tunnel.routedPrefix, 0, 64) : undefined;
    case "gw6c":
      return s.tunnel.expectedPrefix;
    case "dhcpv6-pd":
      // Read on the box, where it may change at the ISP's will.
      return undefined;
  }
}

/** What a native uplink rules out in the rest of the settings. Pure. */
function nativeProblems(s: SettingsView & { tunnel: { kind: "dhcpv6-pd" } }): Problem[] {
  const t = s.tunnel;
  const problems = under(["tunnel"], dhcpv6PdSettingsProblems(t));
  if (s.gateway.lanInterface !== undefined) {
    problems.push(problem(["gateway", "lanInterface"], `cannot be set with tunnel.kind dhcpv6-pd: its LANs are tunnel.lans; move '${s.gateway.lanInterface}' there as { interface: ${s.gateway.lanInterface}, subnetId: 0 }`));
  }
  if (s.gateway.uplinkInterface !== undefined && s.gateway.uplinkInterface !== t.wanInterface) {
    problems.push(problem(["gateway", "uplinkInterface"], `is '${s.gateway.uplinkInterface}' but tunnel.wanInterface is '${t.wanInterface}': give one of them (the WAN is tunnel.wanInterface)`));
  }
  if (s.gateway.uplinkAutoconf) {
    problems.push(problem(["gateway", "uplinkAutoconf"], "must stay off with tunnel.kind dhcpv6-pd: dhcpcd takes the ISP's router advertisements on the WAN itself"));
  }
  if (s.lan.prefix !== undefined) {
    problems.push(problem(["lan", "prefix"], "cannot be set with tunnel.kind dhcpv6-pd: each LAN's /64 is its subnet id's in the prefix the ISP delegates (tunnel.lans[i].subnetId)"));
  }
  return problems;
}

/**
 * What is wrong across the sections of a site's settings, found without any
 * box: shared by the stack file's schema and the component. Pure.
 */
export function siteSettingsProblems(s: SettingsView): Problem[] {
  const lans = siteLanInterfaces(s);
  const native = s.tunnel.kind === "dhcpv6-pd";
  const problems: Problem[] = [
    ...under(["gateway"], gatewaySettingsProblems({ ...s.gateway, lanInterface: native ? undefined : lans[0] })),
    ...under(["firewall"], firewallSettingsProblems(s.firewall)),
  ];
  const names = new Set<string>();
  s.clients.forEach((c, i) => {
    if (names.has(c.name)) problems.push(problem(["clients", i, "name"], `'${c.name}' is used twice`));
    if ((RESERVED_CLIENT_NAMES as readonly string[]).includes(c.name)) problems.push(problem(["clients", i, "name"], `'${c.name}' is reserved for the checklist's own vantage point; pick another name`));
    names.add(c.name);
    if (c.lan !== undefined && !lans.includes(c.lan)) {
      problems.push(problem(["clients", i, "lan"], `is '${c.lan}', which is not a LAN of this gateway (${lans.join(", ")}): name the gateway's interface of the client's LAN`));
    }
  });
  const t = s.tunnel;
  if (t.kind === "dhcpv6-pd") problems.push(...nativeProblems({ ...s, tunnel: t }));
  if ((t.kind === "wireguard" || t.kind === "sit6in4") && t.routedPrefix && s.lan.prefix && !prefixCovers(t.routedPrefix, s.lan.prefix)) {
    problems.push(problem(["lan", "prefix"], `is ${s.lan.prefix}, outside the tunnel's routed prefix ${t.routedPrefix}: the far end routes only that prefix here, so the LAN would be unreachable; pick a /64 inside it`));
  }
  if (t.kind === "gw6c") {
    if (t.hostType === "host" && !s.lan.prefix) problems.push(problem(["tunnel", "hostType"], "host mode gets no prefix for the LAN; use hostType router, or give lan.prefix"));
    if (t.expectedPrefix && s.lan.prefix && t.expectedPrefix !== s.lan.prefix) {
      problems.push(problem(["lan", "prefix"], `is ${s.lan.prefix} but tunnel.expectedPrefix says the broker delegates ${t.expectedPrefix}; give one of them`));
    }
  }
  if (s.firewall.preset === "rfc4890" && !staticLanPrefix(s) && !native) {
    problems.push(problem(["firewall", "preset"], "rfc4890 needs the LAN prefix at preview for its anti-spoofing rules (BCP 38): give lan.prefix or the tunnel's expectedPrefix"));
  }
  return problems;
}

/** Everything wrong with a site's (parsed) args and its boxes. Pure. */
export function siteProblems(s: SiteSettings): Problem[] {
  const plan = planSite(s);
  const facts = s.gateway.facts as HostFactsData;
  const t = s.tunnel;
  const needs = { lanInterface: plan.native ? undefined : plan.lanInterface, uplinkInterface: s.gateway.uplinkInterface, tunnel: t.kind, gw6cTunnelMode: t.kind === "gw6c" ? t.tunnelMode : undefined };
  const settings = siteSettingsProblems(s);
  const tunnelProblems =
    t.kind === "wireguard"
      ? wireguardTunnelProblems({ ...t, facts, lanPrefix: s.lan.prefix })
      : t.kind === "gw6c"
        ? gw6cTunnelProblems({ ...t, facts, lanInterface: plan.lanInterface })
        : t.kind === "sit6in4"
          ? sit6in4TunnelProblems({ ...t, facts, lanPrefix: s.lan.prefix })
          : // Its settings' own problems are among the site's already.
            dhcpv6PdBoxProblems({ ...t, facts, radvd: s.radvd });
  return [
    ...settings,
    ...under(["gateway"], gatewayProblems(facts, needs)),
    ...under(["firewall"], firewallBoxProblems(facts, s.firewall.backend)),
    ...under(["tunnel"], tunnelProblems),
    ...(plan.radvd ? under(["radvd"], radvdProblems({ ...s.radvd, lanInterface: plan.lanInterface })) : []),
    ...s.clients.flatMap((c, i) => under(["clients", i], ipv6ClientProblems(c))),
  ];
}

/** What the site builds, decided from its settings alone. */
export interface SitePlan {
  /** The first LAN's interface (the only one unless the uplink is native). */
  readonly lanInterface: string;
  /** Every LAN interface, first one first. */
  readonly lanInterfaces: string[];
  /** A native uplink (DHCPv6-PD): the LANs' /64s and their RAs follow the ISP's prefix, read on the box. */
  readonly native: boolean;
  /** The LAN /64 when known at preview; otherwise the tunnel learns it at apply. */
  readonly staticLanPrefix?: string;
  /** The LAN prefixes the firewall's anti-spoofing rules name (rfc4890). */
  readonly firewallLanPrefixes?: string[];
  /** Whether the tunnel client runs radvd and puts <prefix>::1 on the LAN itself (gw6c in router mode). */
  readonly tunnelOwnsLan: boolean;
  /** Whether we run radvd and hold the gateway's LAN address. */
  readonly radvd: boolean;
  readonly lanAddress: boolean;
  /** A ULA /48 to generate, one given, or none. */
  readonly ula: "generate" | string | undefined;
  readonly checks: boolean;
}

/** Everything the gateway's components install, for one package transaction. Pure. */
export function gatewayPackages(s: Pick<SiteSettings, "tunnel" | "firewall">, plan: Pick<SitePlan, "radvd">, facts: HostFactsData): string[] {
  const t = s.tunnel;
  const tunnel =
    t.kind === "wireguard" ? wireguardPackages(facts)
    : t.kind === "gw6c" ? gw6cPackages(facts, t.hostType === "router")
    : t.kind === "sit6in4" ? sit6in4Packages(Boolean(t.heUpdate))
    : [...DHCPV6_PD_PACKAGES];
  return [...new Set([...firewallPackages(facts, s.firewall.backend), ...tunnel, ...(plan.radvd ? RADVD_PACKAGES : [])])].sort();
}

/** The site's plan. Pure. */
export function planSite(s: Pick<SiteSettings, "gateway" | "tunnel" | "lan" | "checks">): SitePlan {
  const known = staticLanPrefix(s);
  const native = s.tunnel.kind === "dhcpv6-pd";
  // gw6c in router mode, and a native uplink, put the LAN address up and run the RAs themselves.
  const tunnelOwnsLan = (s.tunnel.kind === "gw6c" && s.tunnel.hostType === "router") || native;
  const lanInterfaces = siteLanInterfaces(s);
  return {
    lanInterface: lanInterfaces[0],
    lanInterfaces,
    native,
    staticLanPrefix: known,
    firewallLanPrefixes: known ? [known] : undefined,
    tunnelOwnsLan,
    radvd: !tunnelOwnsLan,
    lanAddress: !tunnelOwnsLan,
    ula: s.lan.ula === false ? undefined : s.lan.ula === true ? "generate" : s.lan.ula,
    checks: s.checks !== undefined,
  };
}

/** Parses a site's args and checks them against its boxes; throws one error listing every problem. */
export function parseSiteArgs(name: string, args: Ipv6SiteArgs): SiteSettings {
  return parseArgs(`Ipv6Site "${name}"`, ipv6SiteArgsSchema, args, siteProblems);
}

export class Ipv6Site extends pulumi.ComponentResource {
  /** The /64 advertised on the (first) LAN. */
  readonly lanPrefix: pulumi.Output<string>;
  /** The gateway's own address on the (first) LAN. */
  readonly gatewayAddress: pulumi.Output<string>;
  /** The ULA /48, when asked for. */
  readonly ulaPrefix?: pulumi.Output<string>;
  /** Each client's expected SLAAC address ("" while its LAN holds no prefix). */
  readonly clientAddresses: pulumi.Output<Record<string, string>>;
  /** The firewall ruleset, one line per rule. */
  readonly firewallRules: pulumi.Output<string>;
  /** The checklist's results, when checks are on. */
  readonly checkResults?: pulumi.Output<ProbeResult[]>;
  readonly checksPassed?: pulumi.Output<boolean>;
  /** A native uplink: the prefix the ISP delegated, as the gateway holds it ("" when none). */
  readonly delegatedPrefix?: pulumi.Output<string>;
  /** A native uplink: each LAN's /64, by interface, as the gateway holds it. */
  readonly lanPrefixes?: pulumi.Output<Record<string, string>>;
  readonly tunnel: TunnelOutputs;

  constructor(name: string, args: Ipv6SiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = parseSiteArgs(name, args);
    const plan = planSite(s);
    super("ipv6gw:site:Ipv6Site", name, {}, opts);
    const conn = s.gateway.connection;
    const facts = s.gateway.facts as HostFactsData;
    const lanInterface = plan.lanInterface;

    // The gateway's packages in one transaction, before anything else reaches the box (installing
    // configures no network); each component's own Packages takes over what it names and removes it as
    // before (Packages' hand-over). The policy pack judges the Firewall when it registers, so the
    // transaction is registered only once the Firewall is: a refused ruleset stops `up` before it.
    let handOver!: (p: Packages) => void;
    const packages = new Promise<Packages>((resolve) => (handOver = resolve));
    // Steps 16-19 first: nothing global reaches the LAN before the firewall stands.
    const firewall = new Firewall(
      `${name}-firewall`,
      {
        ...s.firewall,
        connection: conn,
        facts,
        lanInterface,
        ...(plan.lanInterfaces.length > 1 ? { lanInterfaces: plan.lanInterfaces } : {}),
        ...(s.tunnel.kind === "dhcpv6-pd" ? { dhcpv6ClientInterface: s.tunnel.wanInterface } : {}),
        lanPrefixes: plan.firewallLanPrefixes,
        packagesAfter: packages,
      },
      childOf(this, opts),
    );
    const firewallRegistered = new Promise<void>((resolve) => firewall.urn.apply(() => resolve()));
    const names = gatewayPackages(s, plan, facts);
    handOver(new Packages(`${name}-gateway-packages`, { connection: conn, names: firewallRegistered.then(() => names), handOver: true }, childOf(this, opts)));
    if (plan.native && s.firewall.preset === "rfc4890" && pulumi.runtime.isDryRun()) {
      pulumi.log.warn("rfc4890 without its anti-spoofing rules (BCP 38): they name the LAN prefix, which the ISP delegates and may change", this);
    }
    const gateway = new GatewayHost(
      `${name}-gateway`,
      {
        ...s.gateway,
        lanInterface: plan.native ? undefined : lanInterface,
        tunnel: s.tunnel.kind,
        gw6cTunnelMode: s.tunnel.kind === "gw6c" ? s.tunnel.tunnelMode : undefined,
        firewallBootUnit: firewall.bootUnit,
      },
      childOf(this, opts, firewall.ruleset),
    );
    // Destroy goes the other way: radvd and the tunnel are gone before forwarding goes off (a router
    // advertising while not forwarding would have the gateway configure itself from its own RAs).
    const after = [firewall.ruleset, ...gateway.forwardingOn];
    if (plan.ula !== undefined) {
      const mac = facts.interfaces.find((i) => i.name === lanInterface)?.mac ?? "";
      this.ulaPrefix = plan.ula === "generate" ? new UlaPrefix(`${name}-ula`, { mac }, childOf(this, opts)).prefix : pulumi.output(plan.ula);
    }
    const tunnel = this.buildTunnel(name, s, plan, opts, after, firewall.bootUnit);
    this.tunnel = tunnel;
    const native = "lanPrefixes" in tunnel ? (tunnel as Dhcpv6PdOutputs) : undefined;
    const lanPrefix = plan.staticLanPrefix ? pulumi.output(plan.staticLanPrefix) : tunnel.lanPrefix;
    if (!plan.staticLanPrefix && pulumi.runtime.isDryRun()) {
      pulumi.log.info(
        native
          ? `the LANs' /64s are read on the gateway: dhcpcd puts the ones the ISP delegates on ${plan.lanInterfaces.join(", ")}, and the outputs follow them (pulumi refresh reads them again)`
          : `the LAN prefix is learned at apply: gw6c puts the /64 the broker delegates on ${lanInterface}, and the clients' addresses and the checks follow from it`,
        this,
      );
    }
    this.lanPrefix = lanPrefix;
    // With no delegation held (a lease run out), there is no address to show.
    this.gatewayAddress = lanPrefix.apply((p) => (p ? interfaceAddress(p, 1n) : ""));
    if (native) {
      this.delegatedPrefix = native.prefix;
      this.lanPrefixes = native.lanPrefixes;
    }

    // The LAN side starts once the firewall and forwarding stand (nothing global on the LAN before
    // the firewall). With its prefix in the config it need not wait for the tunnel too. Only the
    // starts wait: the packages and files (inert until started) go on the box meanwhile. The
    // address and radvd come up side by side (radvd advertises from the link-local address), and
    // the checks wait for all of them.
    const lanDeps: pulumi.Resource[] = plan.staticLanPrefix ? [...after] : [...after, tunnel.service];
    const lanUp: pulumi.Resource[] = [...after, tunnel.service];
    // What the LAN side's files wait for: the site's one package transaction (radvd's config is checked by radvd).
    const lanFiles = childOf(this, opts, packages);
    if (plan.lanAddress) {
      const address = new LanAddress(
        `${name}-lan-address`,
        { connection: conn, serviceManager: facts.serviceManager || "sysv", interface: lanInterface, address: this.gatewayAddress.apply((a) => `${a}/64`), startAfter: lanDeps },
        lanFiles,
      );
      lanUp.push(address.service);
    }
    const prefixes: pulumi.Output<string>[] = [lanPrefix];
    if (this.ulaPrefix) prefixes.push(this.ulaPrefix.apply((p) => subnet(p, 0, 64)));
    let radvdConfig: pulumi.Output<string> = pulumi.output(native ? "(the native uplink runs radvd)" : "(gw6c runs radvd)");
    if (plan.radvd) {
      const radvd = new Radvd(`${name}-radvd`, { ...s.radvd, connection: conn, lanInterface, prefixes, startAfter: lanDeps }, lanFiles);
      radvdConfig = radvd.config;
      lanUp.push(radvd.service);
    }

    // A native site's clients wait for the delegation: a failed first up leaves them untouched.
    const clients = s.clients.map(({ name: client, lan, ...c }) => {
      const on = lan ?? lanInterface;
      const prefix = native ? native.lanPrefixes.apply((p) => p[on] ?? "") : lanPrefix;
      return [client, c, new Ipv6Client(`${name}-client-${client}`, { ...c, lanPrefix: prefix }, native ? childOf(this, opts, tunnel.service) : childOf(this, opts)), on] as const;
    });
    this.clientAddresses = pulumi.all(Object.fromEntries(clients.map(([client, , c]) => [client, c.expectedAddress])));
    this.firewallRules = firewall.rules;

    if (s.checks) {
      const checks = new Checks(
        `${name}-checks`,
        {
          pingTarget: s.checks.pingTarget,
          httpUrl: s.checks.httpUrl,
          gateway: conn,
          lanInterface,
          tunnel: { kind: s.tunnel.kind, interface: tunnel.interface, running: tunnel.running },
          outside: s.checks.outside,
          outsidePingAllowed: s.firewall.icmpv6,
          ...(native
            ? {
                // Prefix-agnostic: each probe finds the delegated /64 on the boxes, so a renumbering changes no input.
                delegatedLans: plan.lanInterfaces,
                clients: clients.map(([client, c, made, on]) => ({ name: client, connection: c.connection, interface: c.interface, lan: on, mac: made.mac })),
                triggers: [firewall.rules, native.configHash, tunnel.interface],
              }
            : {
                lanPrefix,
                clients: clients.map(([client, c, made]) => ({ name: client, connection: c.connection, interface: c.interface, expectedAddress: made.expectedAddress })),
                // Run the checklist again whenever what it tests changes.
                triggers: [firewall.rules, radvdConfig, lanPrefix, tunnel.interface, ...clients.map(([, , made]) => made.expectedAddress)],
              }),
        },
        childOf(this, opts, ...lanUp, ...clients.map(([, , made]) => made)),
      );
      this.checkResults = checks.results;
      this.checksPassed = checks.passed;
    }

    this.registerOutputs({
      lanPrefix: this.lanPrefix,
      gatewayAddress: this.gatewayAddress,
      ulaPrefix: this.ulaPrefix,
      clientAddresses: this.clientAddresses,
      firewallRules: this.firewallRules,
      checkResults: this.checkResults,
      checksPassed: this.checksPassed,
      delegatedPrefix: this.delegatedPrefix,
      lanPrefixes: this.lanPrefixes,
    });
  }

  private buildTunnel(
    name: string,
    s: SiteSettings,
    plan: SitePlan,
    opts: pulumi.ComponentResourceOptions | undefined,
    after: pulumi.Resource[],
    firewallBootUnit: string | undefined,
  ): TunnelOutputs & { service: pulumi.Resource } {
    const base = { connection: s.gateway.connection, facts: s.gateway.facts };
    const options = childOf(this, opts, ...after);
    const t = s.tunnel;
    switch (t.kind) {
      case "wireguard":
        return new WireguardTunnel(`${name}-tunnel`, { ...base, ...t, lanPrefix: s.lan.prefix }, options);
      case "gw6c":
        return new Gw6cTunnel(`${name}-tunnel`, { ...base, ...t, lanInterface: plan.lanInterface }, options);
      case "sit6in4":
        return new Sit6in4Tunnel(`${name}-tunnel`, { ...base, ...t, lanPrefix: s.lan.prefix }, options);
      case "dhcpv6-pd":
        return new Dhcpv6PdUplink(`${name}-tunnel`, { ...base, ...t, radvd: s.radvd, ula: this.ulaPrefix, firewallBootUnit }, options);
    }
  }
}
