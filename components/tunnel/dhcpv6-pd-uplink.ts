// A native uplink: the ISP delegates a prefix with DHCPv6 (RFC 8415 prefix
// delegation) on the WAN, each LAN gets a /64 of it by its subnet id, and
// the LANs' router advertisements follow the prefix when the ISP changes it.
//
// dhcpcd (Debian's dhcpcd-base) asks for the prefix and puts <prefix>::1 on
// each LAN; our hook (render/pd-hook.ts) rewrites radvd's config on every
// dhcpcd event, so a renumbering deprecates the old /64 at once (RFC 9096)
// instead of leaving hosts on it for hours. Nothing Pulumi declares contains
// the delegated prefix: it is read on the box (DelegatedPrefix), so a new
// prefix is never drift.
//
// Why dhcpcd + radvd with our hook (measured on the lab, README "A native
// site"): radvd alone never deprecates a prefix dropped from its config on
// reload (radvd #85, #91), a restart sends router lifetime 0 to every host,
// and systemd-networkd cannot announce an old prefix as deprecated (systemd
// #29651). An explicit entry with lifetimes 0 works with every host.

import * as path from "path";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { subnet } from "../net/ipv6";
import { Problem, attempt, parseArgs, problem } from "../problems";
import { domainName, factsValue, ifname, inputOf, ipv6Address, strictObject } from "../schema-kit";
import { DHCPCD_CONF_PATH, DHCPCD_UNIT, renderDhcpcdConf, renderDhcpcdUnit, validateDhcpcdConf } from "../render/dhcpcd-conf";
import {
  PD_HOOK_PATH,
  PD_RADVD_UNIT,
  PD_REFRESH_UNIT,
  PD_RUN_DIR,
  PD_STATE_DIR,
  RFC9096_PREFERRED_LIMIT,
  RFC9096_VALID_LIMIT,
  renderPdHook,
  renderPdRadvdUnit,
  renderPdRefreshUnits,
} from "../render/pd-hook";
import { RadvdInterface, renderRadvdConf } from "../render/radvd-conf";
import { DelegatedPrefix } from "./delegated-prefix";
import { Tunnel, TunnelOutputs, systemdProblems } from "./tunnel";

/** A LAN behind a native uplink (the stack file's `tunnel.lans[i]`). */
export const pdLanSettingsShape = {
  interface: ifname.describe("the LAN's interface on the gateway"),
  subnetId: z.number({ error: "must be a whole number: which /64 of the delegated prefix" }).int("must be a whole number").min(0, "must be 0 or more").describe("which /64 of the delegated prefix this LAN gets: 0 is the first"),
  rdnss: z.array(ipv6Address).optional().describe("RFC 8106 DNS servers advertised on this LAN; default radvd.rdnss"),
  dnssl: z.array(domainName).optional().describe("RFC 8106 search domains advertised on this LAN; default radvd.dnssl"),
};

/** What a site's owner says about a native uplink (the stack file's `tunnel`). */
export const dhcpv6PdSettingsShape = {
  kind: z.literal("dhcpv6-pd"),
  wanInterface: ifname.describe("the interface facing the ISP: DHCPv6 and the ISP's router advertisements arrive there"),
  prefixLength: z.number({ error: "must be a whole number 48-64" }).int("must be a whole number 48-64").default(56).describe("the prefix length to ask the ISP for, 48-64 (a hint: the ISP may delegate another); default 56"),
  lans: z.array(strictObject(pdLanSettingsShape)).min(1, "must name at least one LAN").describe("the LANs: each an interface and the subnet id of its /64"),
  requestAddress: z.boolean().default(false).describe("also ask for an address on the WAN (IA_NA); the WAN autoconfigures from the ISP's RAs anyway"),
  waitSeconds: z.number().int().min(10).max(900).default(60).describe("how long up waits for the first delegation before it fails"),
  preferredLifetimeLimit: z.number().int().min(30).default(RFC9096_PREFERRED_LIMIT).describe("the most an RA promises as a /64's preferred lifetime (RFC 9096: 2700 s)"),
  validLifetimeLimit: z.number().int().min(30).default(RFC9096_VALID_LIMIT).describe("the most an RA promises as a /64's valid lifetime (RFC 9096: 5400 s)"),
};

/** radvd settings the uplink's RAs take from the site (the stack file's `radvd`). */
const raSettingsShape = {
  minInterval: z.number().int().min(3).optional(),
  maxInterval: z.number().int().min(4).max(1800).optional(),
  rdnss: z.array(ipv6Address).default([]),
  dnssl: z.array(domainName).default([]),
};

export const dhcpv6PdUplinkArgsSchema = strictObject({
  ...dhcpv6PdSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue,
  radvd: strictObject(raSettingsShape).prefault({}).describe("intervals and the DNS options every LAN gets unless it names its own"),
  ula: inputOf<string>("a ULA /48: each LAN also gets the /64 of its subnet id").optional(),
  firewallBootUnit: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]+\.service$/, "must be a systemd service unit name")
    .optional()
    .describe("the unit that loads the firewall at boot: dhcpcd starts after it, and only if it loaded; default none (no firewall persisted for boot)"),
});

export type Dhcpv6PdUplinkArgs = z.input<typeof dhcpv6PdUplinkArgsSchema>;
type ParsedArgs = z.output<typeof dhcpv6PdUplinkArgsSchema>;
type PdSettings = Pick<ParsedArgs, "wanInterface" | "prefixLength" | "lans" | "preferredLifetimeLimit" | "validLifetimeLimit">;

/** What is wrong with the settings alone (no box), with key paths. Pure. */
export function dhcpv6PdSettingsProblems(s: PdSettings): Problem[] {
  const problems: Problem[] = [];
  const lengthOk = s.prefixLength >= 48 && s.prefixLength <= 64;
  if (!lengthOk) {
    problems.push(problem(["prefixLength"], `is ${s.prefixLength}: ask for a prefix of 48 to 64 bits (ISPs delegate /48 to /64, most a /56; each LAN needs a /64)`));
  }
  const ids = new Map<number, number>();
  const names = new Map<string, number>();
  s.lans.forEach((lan, i) => {
    if (lan.interface === s.wanInterface) problems.push(problem(["lans", i, "interface"], `is '${lan.interface}', the WAN interface: a LAN needs an interface of its own`));
    else if (names.has(lan.interface)) problems.push(problem(["lans", i, "interface"], `is '${lan.interface}', as lans[${names.get(lan.interface)}] is: each LAN needs an interface of its own`));
    if (!names.has(lan.interface)) names.set(lan.interface, i);
    const max = 2 ** (64 - s.prefixLength) - 1;
    if (lengthOk && lan.subnetId > max) {
      problems.push(problem(["lans", i, "subnetId"], `is ${lan.subnetId}, which does not fit a /${s.prefixLength}: it holds ${max + 1} /64s, subnet ids 0-${max}; pick one of those, or ask for a shorter prefix`));
    }
    if (ids.has(lan.subnetId)) problems.push(problem(["lans", i, "subnetId"], `is ${lan.subnetId}, as lans[${ids.get(lan.subnetId)}] is: each LAN needs a /64 of its own`));
    else ids.set(lan.subnetId, i);
  });
  if (s.validLifetimeLimit < s.preferredLifetimeLimit) {
    problems.push(problem(["validLifetimeLimit"], `is ${s.validLifetimeLimit}, below preferredLifetimeLimit ${s.preferredLifetimeLimit}: an address cannot stay preferred longer than it is valid`));
  }
  return problems;
}

/** A LAN's RAs without the delegated prefix: intervals, DNS options, its ULA /64 if any. */
export function pdLanRadvd(lan: ParsedArgs["lans"][number], ra: ParsedArgs["radvd"], ulaPrefix?: string): RadvdInterface {
  return {
    name: lan.interface,
    minRtrAdvInterval: ra.minInterval,
    maxRtrAdvInterval: ra.maxInterval,
    prefixes: ulaPrefix ? [{ prefix: subnet(ulaPrefix, lan.subnetId, 64), onLink: true, autonomous: true }] : [],
    rdnss: lan.rdnss ?? ra.rdnss,
    dnssl: lan.dnssl ?? ra.dnssl,
  };
}

type BoxView = Omit<ParsedArgs, "connection" | "ula" | "firewallBootUnit">;

/** What the box lacks for a native uplink, and what radvd or dhcpcd would refuse. Pure. */
export function dhcpv6PdBoxProblems(a: BoxView): Problem[] {
  const facts = a.facts as HostFactsData;
  const names = facts.interfaces.map((i) => i.name);
  const missing = (path: (string | number)[], name: string, what: string) =>
    names.includes(name) ? [] : [problem(path, `is '${name}', which does not exist on the gateway (it has ${names.join(", ") || "none"}): name its ${what}`)];
  const settings = dhcpv6PdSettingsProblems(a);
  return [
    ...systemdProblems(facts, "the DHCPv6 client's and radvd's units"),
    ...missing(["wanInterface"], a.wanInterface, "interface facing the ISP"),
    ...a.lans.flatMap((lan, i) => [
      ...missing(["lans", i, "interface"], lan.interface, "LAN interface"),
      ...attempt(() => renderRadvdConf({ interfaces: [pdLanRadvd(lan, a.radvd)] }), ["lans", i]),
    ]),
    ...(settings.length === 0 ? attempt(() => validateDhcpcdConf(dhcpcdModel(a))) : []),
  ];
}

/** Everything wrong with a native uplink's args for this box. Pure. */
export function dhcpv6PdUplinkProblems(a: BoxView): Problem[] {
  return [...dhcpv6PdSettingsProblems(a), ...dhcpv6PdBoxProblems(a)];
}

function dhcpcdModel(a: Pick<ParsedArgs, "wanInterface" | "prefixLength" | "lans" | "requestAddress">) {
  return { wanInterface: a.wanInterface, prefixLength: a.prefixLength, lans: a.lans.map((l) => ({ interface: l.interface, subnetId: l.subnetId })), requestAddress: a.requestAddress, hookPath: PD_HOOK_PATH };
}

/** What the native uplink gives the site beyond any tunnel's parts. */
export interface Dhcpv6PdOutputs extends TunnelOutputs {
  /** Each LAN's /64 as the gateway holds it now (a refresh reads it again). */
  readonly lanPrefixes: pulumi.Output<Record<string, string>>;
  /** Hashes of what the uplink runs (dhcpcd's config, the hook): the checks run again when one changes. */
  readonly configHash: pulumi.Output<string>;
  /** The LAN interfaces, in the order given. */
  readonly lanInterfaces: string[];
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

/** What the uplink installs: dhcpcd for the lease, radvd for the LANs. */
export const DHCPV6_PD_PACKAGES: readonly string[] = ["dhcpcd-base", "radvd"];

/** The uplink's children, under `parent`. */
function buildDhcpv6PdUplink(parent: pulumi.ComponentResource, name: string, a: ParsedArgs, opts?: pulumi.ComponentResourceOptions): Dhcpv6PdOutputs {
  const conn = a.connection;
  const packages = new Packages(`${name}-packages`, { connection: conn, names: [...DHCPV6_PD_PACKAGES] }, childOf(parent, opts));
  // Debian enables its own radvd.service, for /etc/radvd.conf: ours runs with the hook's config instead.
  const distroRadvd = new Service(`${name}-distro-radvd-off`, { connection: conn, name: "radvd", enabled: false, running: false }, childOf(parent, opts, packages));
  // Where the hook keeps its record; delete (last, after every unit stopped) clears what the daemons left.
  const runtime = new RemoteCommand(
    `${name}-runtime`,
    {
      connection: conn,
      create: `mkdir -p ${PD_STATE_DIR} ${PD_RUN_DIR}`,
      present: `test -d ${PD_STATE_DIR}`,
      // dhcpcd's own lease and DUID (/var/lib/dhcpcd) go with its package, when we installed it.
      // The hook's directory too: the hook (a file of ours in it) is deleted before this.
      delete: `rm -rf ${PD_STATE_DIR} ${PD_RUN_DIR}/radvd.conf ${PD_RUN_DIR}/radvd.pid ${PD_RUN_DIR}/pd-hook.lock\nrmdir ${PD_RUN_DIR} /var/lib/ipv6gw ${path.posix.dirname(PD_HOOK_PATH)} 2>/dev/null || true`,
    },
    childOf(parent, opts, packages),
  );
  const hookText = pulumi.output(a.ula).apply((ula) => renderPdHook({ lans: a.lans.map((l) => pdLanRadvd(l, a.radvd, ula)), preferredLimit: a.preferredLifetimeLimit, validLimit: a.validLifetimeLimit }));
  const hook = new RemoteFile(`${name}-hook`, { connection: conn, path: PD_HOOK_PATH, mode: "0755", content: hookText }, childOf(parent, opts, runtime));
  const conf = new RemoteFile(`${name}-dhcpcd-conf`, { connection: conn, path: DHCPCD_CONF_PATH, content: renderDhcpcdConf(dhcpcdModel(a)) }, childOf(parent, opts, runtime));
  const dhcpcdUnit = new RemoteFile(
    `${name}-dhcpcd-unit`,
    { connection: conn, path: `/etc/systemd/system/${DHCPCD_UNIT}`, content: renderDhcpcdUnit({ wanInterface: a.wanInterface, configPath: DHCPCD_CONF_PATH, firewallBootUnit: a.firewallBootUnit }) },
    childOf(parent, opts, runtime),
  );
  const radvdUnit = new RemoteFile(`${name}-radvd-unit`, { connection: conn, path: `/etc/systemd/system/${PD_RADVD_UNIT}`, content: renderPdRadvdUnit({ dhcpcdUnit: DHCPCD_UNIT }) }, childOf(parent, opts, runtime));
  const refresh = renderPdRefreshUnits();
  const refreshService = new RemoteFile(`${name}-refresh-service`, { connection: conn, path: `/etc/systemd/system/${PD_REFRESH_UNIT}.service`, content: refresh.service }, childOf(parent, opts, runtime));
  const refreshTimer = new RemoteFile(`${name}-refresh-timer`, { connection: conn, path: `/etc/systemd/system/${PD_REFRESH_UNIT}.timer`, content: refresh.timer }, childOf(parent, opts, runtime));

  const dhcpcd = new Service(
    `${name}-dhcpcd`,
    { connection: conn, name: DHCPCD_UNIT, restartTrigger: pulumi.all([conf.sha256, dhcpcdUnit.sha256]).apply((h) => h.join(",")) },
    childOf(parent, opts, packages, hook, conf, dhcpcdUnit),
  );
  // The bounded wait for the first delegation; then what the box holds, on every refresh.
  const delegation = new DelegatedPrefix(
    `${name}-delegation`,
    { connection: conn, wanInterface: a.wanInterface, prefixLength: a.prefixLength, lans: a.lans.map((l) => ({ interface: l.interface, subnetId: l.subnetId })), unit: DHCPCD_UNIT, waitSeconds: a.waitSeconds },
    childOf(parent, opts, dhcpcd),
  );
  const radvd = new Service(`${name}-radvd`, { connection: conn, name: PD_RADVD_UNIT, restartTrigger: radvdUnit.sha256 }, childOf(parent, opts, delegation, radvdUnit, hook, distroRadvd));
  // A new hook renders again and reloads radvd (a restart would send router lifetime 0 to every host).
  new RemoteCommand(`${name}-render`, { connection: conn, create: `${PD_HOOK_PATH} render`, triggers: [hook.sha256] }, childOf(parent, opts, radvd));
  new Service(`${name}-refresh`, { connection: conn, name: `${PD_REFRESH_UNIT}.timer`, restartTrigger: pulumi.all([refreshService.sha256, refreshTimer.sha256]).apply((h) => h.join(",")) }, childOf(parent, opts, radvd, refreshService, refreshTimer));

  const first = a.lans[0].interface;
  return {
    interface: a.wanInterface,
    prefix: delegation.prefix,
    lanPrefix: delegation.lanPrefixes.apply((p) => p[first] ?? ""),
    lanPrefixes: delegation.lanPrefixes,
    lanInterfaces: a.lans.map((l) => l.interface),
    ownsRadvd: true,
    ownsLanAddress: true,
    running: { unit: DHCPCD_UNIT.replace(/\.service$/, "") },
    service: radvd,
    configHash: pulumi.all([conf.sha256, hookText]).apply(([c, h]) => sha256(`${c}\n${h}`)),
  };
}

// The class carries Dhcpv6PdOutputs' extra members, set by Tunnel from the builder's parts.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Dhcpv6PdUplink extends Dhcpv6PdOutputs {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Dhcpv6PdUplink extends Tunnel {
  constructor(name: string, args: Dhcpv6PdUplinkArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`Dhcpv6PdUplink "${name}"`, dhcpv6PdUplinkArgsSchema, args, dhcpv6PdUplinkProblems);
    super("ipv6gw:tunnel:Dhcpv6PdUplink", name, opts, (self) => buildDhcpv6PdUplink(self, name, a, opts));
  }
}
