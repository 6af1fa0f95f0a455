// A whole site: the HOWTO, every step, as one component.
//
// Order is the HOWTO's (steps 15-20): the firewall is in place before
// forwarding is on and before the tunnel brings a global prefix, so the LAN
// is never reachable from outside unfiltered. Everything is checked before
// the first resource is registered, because the engine starts applying
// resources while the program still runs: a late error would leave the box
// half-built.

import * as pulumi from "@pulumi/pulumi";
import { Checks } from "./checks/checks";
import { ProbeResult } from "./checks/site-probe";
import { Firewall, UserRule, firewallTable } from "./firewall/firewall";
import { Preset } from "./firewall/presets";
import { GatewayHost } from "./gateway/gateway-host";
import { ConnectionArgs } from "./host/connection";
import { HostFactsData } from "./host/host-facts";
import { persistencePlan } from "./firewall/persistence";
import { Ipv6Client } from "./lan/ipv6-client";
import { LanAddress } from "./lan/lan-address";
import { Radvd, radvdModel } from "./lan/radvd";
import { UlaPrefix } from "./lan/ula-prefix";
import { interfaceAddress, subnet } from "./net/ipv6";
import { GatewayNeeds, gatewayProblems } from "./preflight";
import { validateGw6cConf } from "./render/gw6c-conf";
import { validateRadvdConf } from "./render/radvd-conf";
import { resolveSit6in4Tunnel } from "./render/sit6in4";
import { validateWgQuickConf } from "./render/wireguard";
import { Gw6cTunnel, Gw6cTunnelArgs } from "./tunnel/gw6c-tunnel";
import { Sit6in4Tunnel, Sit6in4TunnelArgs } from "./tunnel/sit6in4-tunnel";
import { TunnelOutputs } from "./tunnel/tunnel";
import { WireguardTunnel, WireguardTunnelArgs } from "./tunnel/wireguard-tunnel";
import { resourceError } from "./user-error";

/** A tunnel as the site takes it: the driver's args without what the site supplies. */
export type WireguardTunnelSpec = { readonly kind: "wireguard" } & Omit<WireguardTunnelArgs, "connection" | "facts" | "lanPrefix">;
export type Gw6cTunnelSpec = { readonly kind: "gw6c" } & Omit<Gw6cTunnelArgs, "connection" | "facts" | "lanInterface">;
export type Sit6in4TunnelSpec = { readonly kind: "sit6in4" } & Omit<Sit6in4TunnelArgs, "connection" | "facts" | "lanPrefix">;

export type TunnelSpec = WireguardTunnelSpec | Gw6cTunnelSpec | Sit6in4TunnelSpec;

export interface ClientSpec {
  readonly name: string;
  readonly connection: pulumi.Input<ConnectionArgs>;
  /** The client's facts (getHostFacts), for its MAC and network stack. */
  readonly facts: HostFactsData;
  /** Defaults to "eth0". */
  readonly interface?: string;
  /** Defaults to false. */
  readonly privacy?: boolean;
  readonly networkFile?: string;
}

export interface Ipv6SiteArgs {
  readonly gateway: {
    readonly connection: pulumi.Input<ConnectionArgs>;
    readonly facts: HostFactsData;
    /** Defaults to "eth0". */
    readonly lanInterface?: string;
    readonly uplinkInterface?: string;
    readonly uplinkAutoconf?: boolean;
  };
  readonly tunnel: TunnelSpec;
  readonly lan?: {
    /** The LAN /64. Defaults to the first /64 of the routed prefix (or gw6c's expectedPrefix). */
    readonly prefix?: string;
    /** Also advertise a ULA /64: true generates a /48 once (RFC 4193), or give one. Defaults to false. */
    readonly ula?: boolean | string;
  };
  readonly radvd?: { readonly minInterval?: number; readonly maxInterval?: number; readonly rdnss?: readonly string[]; readonly dnssl?: readonly string[] };
  readonly firewall?: {
    /** Defaults to "howto". */
    readonly preset?: Preset;
    /** Defaults to true. */
    readonly icmpv6?: boolean;
    readonly rules?: readonly UserRule[];
    /** Defaults to 60. */
    readonly rollbackSeconds?: number;
    /** Defaults to true. */
    readonly clampMss?: boolean;
  };
  readonly clients?: readonly ClientSpec[];
  /** The HOWTO's checklist after every change; omit to skip. */
  readonly checks?: {
    readonly pingTarget: string;
    readonly httpUrl?: string;
    readonly outside?: { readonly connection: pulumi.Input<ConnectionArgs>; readonly port?: number };
  };
}

/** The LAN /64 when it is known without asking the box. */
export function staticLanPrefix(args: Pick<Ipv6SiteArgs, "lan" | "tunnel">): string | undefined {
  if (args.lan?.prefix) return args.lan.prefix;
  switch (args.tunnel.kind) {
    case "wireguard":
    case "sit6in4":
      return subnet(args.tunnel.routedPrefix, 0, 64);
    case "gw6c":
      return args.tunnel.expectedPrefix;
  }
}

export function gatewayNeeds(args: Ipv6SiteArgs): GatewayNeeds {
  return {
    lanInterface: args.gateway.lanInterface ?? "eth0",
    uplinkInterface: args.gateway.uplinkInterface,
    tunnel: args.tunnel.kind,
    gw6cTunnelMode: args.tunnel.kind === "gw6c" ? args.tunnel.conf.tunnelMode : undefined,
  };
}

/**
 * Every problem the site's args have, found without touching a box or
 * registering a resource. Pure.
 */
export function siteProblems(args: Ipv6SiteArgs): string[] {
  const problems = gatewayProblems(args.gateway.facts, gatewayNeeds(args)).map((p) => `gateway: ${p}`);
  const attempt = (what: string, f: () => unknown) => {
    try {
      f();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  };
  const lanInterface = args.gateway.lanInterface ?? "eth0";
  const lanPrefix = staticLanPrefix(args);
  const preset = args.firewall?.preset ?? "howto";
  if (preset === "rfc4890" && !lanPrefix) problems.push("firewall: the rfc4890 preset needs the LAN prefix for its anti-spoofing rules (BCP 38): set lan.prefix or the tunnel's expectedPrefix");
  attempt("firewall", () => firewallTable({ ...args.firewall, lanInterface, lanPrefixes: lanPrefix ? [lanPrefix] : undefined }));
  attempt("firewall", () => persistencePlan(args.gateway.facts));
  const t = args.tunnel;
  if (t.kind === "wireguard") {
    attempt("tunnel", () =>
      validateWgQuickConf({
        // A well-formed stand-in: the real key is secret and checked where it is rendered.
        privateKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        addresses: [t.address],
        mtu: t.mtu,
        peers: [{ publicKey: t.peerPublicKey, endpoint: t.endpoint, allowedIps: ["::/0"], persistentKeepalive: t.persistentKeepalive }],
      }),
    );
  } else if (t.kind === "gw6c") {
    attempt("tunnel", () => validateGw6cConf({ ...t.conf, passwd: t.conf.authMethod === "anonymous" ? "" : "x", ifPrefix: lanInterface, gw6Dir: t.installDir ?? "/usr/local/gw6c" }));
  } else {
    attempt("tunnel", () => resolveSit6in4Tunnel({ name: t.interface ?? "he-ipv6", remoteV4: t.serverIpv4, localV4: t.clientIpv4, clientV6: t.clientIpv6, mtu: t.mtu, ttl: t.ttl }));
  }
  const ownsRadvd = t.kind === "gw6c" && (t.conf.hostType ?? "host") === "router";
  if (!ownsRadvd) attempt("radvd", () => validateRadvdConf(radvdModel({ lanInterface, ...args.radvd }, [lanPrefix ?? "2001:db8::/64"])));
  for (const c of args.clients ?? []) {
    const ifname = c.interface ?? "eth0";
    if (!c.facts.interfaces.some((i) => i.name === ifname && i.mac)) problems.push(`client ${c.name}: interface '${ifname}' does not exist or has no MAC`);
    if (!c.facts.ipv6Enabled) problems.push(`client ${c.name}: IPv6 is disabled`);
    if (c.facts.networkStack === "networkd" && !c.networkFile) problems.push(`client ${c.name}: uses systemd-networkd; set networkFile`);
  }
  return problems;
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
    super("ipv6gw:site:Ipv6Site", name, {}, opts);
    const problems = siteProblems(args);
    if (problems.length > 0) {
      throw resourceError(`Ipv6Site "${name}" cannot be built as configured:\n${problems.map((p) => `  - ${p}`).join("\n")}`, this);
    }
    const conn = args.gateway.connection;
    const facts = args.gateway.facts;
    const lanInterface = args.gateway.lanInterface ?? "eth0";
    const known = staticLanPrefix(args);
    const fw = args.firewall ?? {};

    // Steps 16-19 first: nothing global reaches the LAN before the firewall stands.
    const firewall = new Firewall(
      `${name}-firewall`,
      { connection: conn, facts, preset: fw.preset, lanInterface, icmpv6: fw.icmpv6, rules: fw.rules, rollbackSeconds: fw.rollbackSeconds, clampMss: fw.clampMss, lanPrefixes: known ? [known] : undefined },
      { parent: this },
    );
    const gateway = new GatewayHost(
      `${name}-gateway`,
      { connection: conn, facts, needs: gatewayNeeds(args), uplinkAutoconf: args.gateway.uplinkAutoconf },
      { parent: this, dependsOn: [firewall.ruleset] },
    );
    const after = [firewall.ruleset, gateway.forwarding];
    const tunnel = this.buildTunnel(name, args, lanInterface, after);
    this.tunnel = tunnel;
    const lanPrefix = known ? pulumi.output(known) : tunnel.lanPrefix;
    this.lanPrefix = lanPrefix;
    this.gatewayAddress = lanPrefix.apply((p) => interfaceAddress(p, 1n));

    const lanDeps: pulumi.Resource[] = [...after, tunnel.service];
    if (!tunnel.ownsLanAddress) {
      const address = new LanAddress(
        `${name}-lan-address`,
        { connection: conn, serviceManager: facts.serviceManager || "sysv", interface: lanInterface, address: this.gatewayAddress.apply((a) => `${a}/64`) },
        { parent: this, dependsOn: [...lanDeps] },
      );
      lanDeps.push(address.service);
    }
    const prefixes: pulumi.Output<string>[] = [lanPrefix];
    const ula = args.lan?.ula ?? false;
    if (ula !== false) {
      const mac = facts.interfaces.find((i) => i.name === lanInterface)?.mac ?? "";
      this.ulaPrefix = typeof ula === "string" ? pulumi.output(ula) : new UlaPrefix(`${name}-ula`, { mac }, { parent: this }).prefix;
      prefixes.push(this.ulaPrefix.apply((p) => subnet(p, 0, 64)));
    }
    let radvdConfig: pulumi.Output<string> = pulumi.output("(gw6c runs radvd)");
    if (!tunnel.ownsRadvd) {
      const radvd = new Radvd(`${name}-radvd`, { connection: conn, lanInterface, prefixes, ...args.radvd }, { parent: this, dependsOn: [...lanDeps] });
      radvdConfig = radvd.config;
      lanDeps.push(radvd.service);
    }

    const clients = (args.clients ?? []).map(
      (c) =>
        [c, new Ipv6Client(`${name}-client-${c.name}`, { connection: c.connection, facts: c.facts, interface: c.interface, privacy: c.privacy, networkFile: c.networkFile, lanPrefix }, { parent: this })] as const,
    );
    this.clientAddresses = pulumi.all(Object.fromEntries(clients.map(([c, client]) => [c.name, client.expectedAddress])));
    this.firewallRules = firewall.rules;

    if (args.checks) {
      const checks = new Checks(
        `${name}-checks`,
        {
          gateway: conn,
          lanInterface,
          lanPrefix,
          tunnel: { kind: args.tunnel.kind, interface: tunnel.interface, process: tunnel.process },
          radvdProcess: "radvd",
          clients: clients.map(([c, client]) => ({ name: c.name, connection: c.connection, interface: c.interface ?? "eth0", expectedAddress: client.expectedAddress })),
          pingTarget: args.checks.pingTarget,
          httpUrl: args.checks.httpUrl,
          outside: args.checks.outside ? { connection: args.checks.outside.connection, port: args.checks.outside.port ?? 80 } : undefined,
          outsidePingAllowed: fw.icmpv6 ?? true,
          // Run the checklist again whenever what it tests changes.
          triggers: [firewall.rules, radvdConfig, lanPrefix, tunnel.interface, ...clients.map(([, client]) => client.expectedAddress)],
        },
        { parent: this, dependsOn: [...lanDeps, ...clients.map(([, client]) => client)] },
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

  private buildTunnel(name: string, args: Ipv6SiteArgs, lanInterface: string, after: pulumi.Resource[]): TunnelOutputs & { service: pulumi.Resource } {
    const conn = args.gateway.connection;
    const facts = args.gateway.facts;
    const opts = { parent: this, dependsOn: after };
    const t = args.tunnel;
    switch (t.kind) {
      case "wireguard":
        return new WireguardTunnel(`${name}-tunnel`, { connection: conn, facts, ...t, lanPrefix: args.lan?.prefix }, opts);
      case "gw6c":
        return new Gw6cTunnel(`${name}-tunnel`, { connection: conn, facts, lanInterface, ...t }, opts);
      case "sit6in4":
        return new Sit6in4Tunnel(`${name}-tunnel`, { connection: conn, facts, ...t, lanPrefix: args.lan?.prefix }, opts);
    }
  }
}
