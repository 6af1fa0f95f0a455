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
import { Firewall, firewallBoxProblems, firewallSettingsProblems, firewallSettingsShape } from "./firewall/firewall";
import { GatewayHost, gatewaySettingsProblems, gatewaySettingsShape } from "./gateway/gateway-host";
import { gatewayProblems } from "./gateway/preflight";
import { ConnectionArgs } from "./host/connection";
import { HostFactsData } from "./host/host-facts";
import { Ipv6Client, clientSettingsShape, ipv6ClientProblems } from "./lan/ipv6-client";
import { LanAddress } from "./lan/lan-address";
import { Radvd, radvdProblems, radvdSettingsShape } from "./lan/radvd";
import { UlaPrefix } from "./lan/ula-prefix";
import { interfaceAddress, parsePrefix, prefixCovers, subnet } from "./net/ipv6";
import { prefixProblem } from "./net/values";
import { Problem, parseArgs, problem, under } from "./problems";
import { factsValue, inputOf, ipv6Prefix, port, prefix64, slug, strictObject } from "./schema-kit";
import { Gw6cTunnel, gw6cSettingsShape, gw6cTunnelProblems } from "./tunnel/gw6c-tunnel";
import { Sit6in4Tunnel, heUpdateSettingsShape, sit6in4SettingsShape, sit6in4TunnelProblems } from "./tunnel/sit6in4-tunnel";
import { TunnelOutputs } from "./tunnel/tunnel";
import { WireguardTunnel, wireguardSettingsShape, wireguardTunnelProblems } from "./tunnel/wireguard-tunnel";

/** The LAN as a site's owner describes it (the stack file's `lan`). */
export const lanSettingsShape = {
  prefix: prefix64.optional().describe("the /64 advertised on the LAN; default the first /64 of the routed prefix (or gw6c's expectedPrefix)"),
  ula: z
    .union([z.boolean(), ipv6Prefix.refine((p) => prefixProblem(p) !== undefined || (parsePrefix(p).length === 48 && prefixCovers("fc00::/7", p)), "must be a ULA /48 inside fc00::/7 (RFC 4193)")])
    .default(false)
    .describe("also advertise an RFC 4193 ULA /64: true generates a /48 once, or give the /48"),
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
  ]),
  lan: strictObject(lanSettingsShape).prefault({}),
  radvd: strictObject(radvdSettingsShape).prefault({}),
  firewall: strictObject(firewallSettingsShape).prefault({}),
  clients: z.array(strictObject({ name: slug, ...clientSettingsShape, connection, facts: factsValue })).default([]),
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
  gateway: { lanInterface: string; uplinkInterface?: string; uplinkAutoconf: boolean };
  tunnel: { kind: "wireguard" | "sit6in4"; routedPrefix?: string } | { kind: "gw6c"; hostType: "host" | "router"; expectedPrefix?: string };
  lan: { prefix?: string; ula: boolean | string };
  firewall: Pick<SiteSettings["firewall"], "preset" | "rules" | "backend">;
  clients: readonly { name: string }[];
};

/** The LAN /64 when it is known without asking the box. */
export function staticLanPrefix(s: Pick<SettingsView, "lan" | "tunnel">): string | undefined {
  if (s.lan.prefix) return s.lan.prefix;
  switch (s.tunnel.kind) {
    case "wireguard":
    case "sit6in4":
      return s.tunnel.routedPrefix ? subnet(s.tunnel.routedPrefix, 0, 64) : undefined;
    case "gw6c":
      return s.tunnel.expectedPrefix;
  }
}

/**
 * What is wrong across the sections of a site's settings, found without any
 * box: shared by the stack file's schema and the component. Pure.
 */
export function siteSettingsProblems(s: SettingsView): Problem[] {
  const problems: Problem[] = [...under(["gateway"], gatewaySettingsProblems(s.gateway)), ...under(["firewall"], firewallSettingsProblems(s.firewall))];
  const names = new Set<string>();
  s.clients.forEach((c, i) => {
    if (names.has(c.name)) problems.push(problem(["clients", i, "name"], `'${c.name}' is used twice`));
    if ((RESERVED_CLIENT_NAMES as readonly string[]).includes(c.name)) problems.push(problem(["clients", i, "name"], `'${c.name}' is reserved for the checklist's own vantage point; pick another name`));
    names.add(c.name);
  });
  const t = s.tunnel;
  if ((t.kind === "wireguard" || t.kind === "sit6in4") && t.routedPrefix && s.lan.prefix && !prefixCovers(t.routedPrefix, s.lan.prefix)) {
    problems.push(problem(["lan", "prefix"], `is ${s.lan.prefix}, outside the tunnel's routed prefix ${t.routedPrefix}: the far end routes only that prefix here, so the LAN would be unreachable; pick a /64 inside it`));
  }
  if (t.kind === "gw6c") {
    if (t.hostType === "host" && !s.lan.prefix) problems.push(problem(["tunnel", "hostType"], "host mode gets no prefix for the LAN; use hostType router, or give lan.prefix"));
    if (t.expectedPrefix && s.lan.prefix && t.expectedPrefix !== s.lan.prefix) {
      problems.push(problem(["lan", "prefix"], `is ${s.lan.prefix} but tunnel.expectedPrefix says the broker delegates ${t.expectedPrefix}; give one of them`));
    }
  }
  if (s.firewall.preset === "rfc4890" && !staticLanPrefix(s)) {
    problems.push(problem(["firewall", "preset"], "rfc4890 needs the LAN prefix at preview for its anti-spoofing rules (BCP 38): give lan.prefix or the tunnel's expectedPrefix"));
  }
  return problems;
}

/** Everything wrong with a site's (parsed) args and its boxes. Pure. */
export function siteProblems(s: SiteSettings): Problem[] {
  const plan = planSite(s);
  const facts = s.gateway.facts as HostFactsData;
  const t = s.tunnel;
  const needs = { lanInterface: plan.lanInterface, uplinkInterface: s.gateway.uplinkInterface, tunnel: t.kind, gw6cTunnelMode: t.kind === "gw6c" ? t.tunnelMode : undefined };
  const tunnelProblems =
    t.kind === "wireguard"
      ? wireguardTunnelProblems({ ...t, facts, lanPrefix: s.lan.prefix })
      : t.kind === "gw6c"
        ? gw6cTunnelProblems({ ...t, facts, lanInterface: plan.lanInterface })
        : sit6in4TunnelProblems({ ...t, facts, lanPrefix: s.lan.prefix });
  return [
    ...siteSettingsProblems(s),
    ...under(["gateway"], gatewayProblems(facts, needs)),
    ...under(["firewall"], firewallBoxProblems(facts, s.firewall.backend)),
    ...under(["tunnel"], tunnelProblems),
    ...(plan.radvd ? under(["radvd"], radvdProblems({ ...s.radvd, lanInterface: plan.lanInterface })) : []),
    ...s.clients.flatMap((c, i) => under(["clients", i], ipv6ClientProblems(c))),
  ];
}

/** What the site builds, decided from its settings alone. */
export interface SitePlan {
  readonly lanInterface: string;
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

/** The site's plan. Pure. */
export function planSite(s: Pick<SiteSettings, "gateway" | "tunnel" | "lan" | "checks">): SitePlan {
  const known = staticLanPrefix(s);
  const tunnelOwnsLan = s.tunnel.kind === "gw6c" && s.tunnel.hostType === "router";
  return {
    lanInterface: s.gateway.lanInterface,
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
  /** The /64 advertised on the LAN. */
  readonly lanPrefix: pulumi.Output<string>;
  /** The gateway's own LAN address. */
  readonly gatewayAddress: pulumi.Output<string>;
  /** The ULA /48, when asked for. */
  readonly ulaPrefix?: pulumi.Output<string>;
  /** Each client's expected SLAAC address. */
  readonly clientAddresses: pulumi.Output<Record<string, string>>;
  /** The firewall ruleset, one line per rule. */
  readonly firewallRules: pulumi.Output<string>;
  /** The checklist's results, when checks are on. */
  readonly checkResults?: pulumi.Output<ProbeResult[]>;
  readonly checksPassed?: pulumi.Output<boolean>;
  readonly tunnel: TunnelOutputs;

  constructor(name: string, args: Ipv6SiteArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = parseSiteArgs(name, args);
    const plan = planSite(s);
    super("ipv6gw:site:Ipv6Site", name, {}, opts);
    const conn = s.gateway.connection;
    const facts = s.gateway.facts as HostFactsData;
    const lanInterface = plan.lanInterface;

    // Steps 16-19 first: nothing global reaches the LAN before the firewall stands.
    const firewall = new Firewall(`${name}-firewall`, { ...s.firewall, connection: conn, facts, lanInterface, lanPrefixes: plan.firewallLanPrefixes }, childOf(this, opts));
    const gateway = new GatewayHost(
      `${name}-gateway`,
      { ...s.gateway, tunnel: s.tunnel.kind, gw6cTunnelMode: s.tunnel.kind === "gw6c" ? s.tunnel.tunnelMode : undefined, firewallBootUnit: firewall.bootUnit },
      childOf(this, opts, firewall.ruleset),
    );
    const after = [firewall.ruleset, gateway.forwarding];
    const tunnel = this.buildTunnel(name, s, plan, opts, after);
    this.tunnel = tunnel;
    const lanPrefix = plan.staticLanPrefix ? pulumi.output(plan.staticLanPrefix) : tunnel.lanPrefix;
    if (!plan.staticLanPrefix && pulumi.runtime.isDryRun()) {
      pulumi.log.info(`the LAN prefix is learned at apply: gw6c puts the /64 the broker delegates on ${lanInterface}, and the clients' addresses and the checks follow from it`, this);
    }
    this.lanPrefix = lanPrefix;
    this.gatewayAddress = lanPrefix.apply((p) => interfaceAddress(p, 1n));

    const lanDeps: pulumi.Resource[] = [...after, tunnel.service];
    if (plan.lanAddress) {
      const address = new LanAddress(
        `${name}-lan-address`,
        { connection: conn, serviceManager: facts.serviceManager || "sysv", interface: lanInterface, address: this.gatewayAddress.apply((a) => `${a}/64`) },
        childOf(this, opts, ...lanDeps),
      );
      lanDeps.push(address.service);
    }
    const prefixes: pulumi.Output<string>[] = [lanPrefix];
    if (plan.ula !== undefined) {
      const mac = facts.interfaces.find((i) => i.name === lanInterface)?.mac ?? "";
      this.ulaPrefix = plan.ula === "generate" ? new UlaPrefix(`${name}-ula`, { mac }, childOf(this, opts)).prefix : pulumi.output(plan.ula);
      prefixes.push(this.ulaPrefix.apply((p) => subnet(p, 0, 64)));
    }
    let radvdConfig: pulumi.Output<string> = pulumi.output("(gw6c runs radvd)");
    if (plan.radvd) {
      const radvd = new Radvd(`${name}-radvd`, { ...s.radvd, connection: conn, lanInterface, prefixes }, childOf(this, opts, ...lanDeps));
      radvdConfig = radvd.config;
      lanDeps.push(radvd.service);
    }

    const clients = s.clients.map(
      ({ name: client, ...c }) => [client, c, new Ipv6Client(`${name}-client-${client}`, { ...c, lanPrefix }, childOf(this, opts))] as const,
    );
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
          lanPrefix,
          tunnel: { kind: s.tunnel.kind, interface: tunnel.interface, running: tunnel.running },
          clients: clients.map(([client, c, made]) => ({ name: client, connection: c.connection, interface: c.interface, expectedAddress: made.expectedAddress })),
          outside: s.checks.outside,
          outsidePingAllowed: s.firewall.icmpv6,
          // Run the checklist again whenever what it tests changes.
          triggers: [firewall.rules, radvdConfig, lanPrefix, tunnel.interface, ...clients.map(([, , made]) => made.expectedAddress)],
        },
        childOf(this, opts, ...lanDeps, ...clients.map(([, , made]) => made)),
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
    });
  }

  private buildTunnel(name: string, s: SiteSettings, plan: SitePlan, opts: pulumi.ComponentResourceOptions | undefined, after: pulumi.Resource[]): TunnelOutputs & { service: pulumi.Resource } {
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
    }
  }
}
