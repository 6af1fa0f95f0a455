// The gateway's stateful IPv6 firewall (HOWTO steps 16-19), on nftables (a
// table of ours) or ip6tables (chains of ours): packages, the live ruleset
// (checked at preview, applied atomically with rollback) and the copy loaded
// at boot. Either way only ours is touched: Docker, fail2ban, libvirt and
// the owner's own rules stay.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { Service } from "../host/service";
import { Problem, parseArgs, problem } from "../problems";
import { addressMatch, factsValue, ifname, ifnameMatch, inputOf, ipv6Prefix, portOrRange, slug, strictObject } from "../schema-kit";
import { RemoteFile } from "../host/remote-file";
import { FIREWALL_HIDDEN_DIFFS, FIREWALL_TYPE, firewallInputs } from "./firewall-inputs";
import { NFT_BOOT_UNIT_PATH, PersistencePlan, persistencePlan, renderNftBootUnit } from "./persistence";
import { PRESETS, PresetOptions, howtoPreset, interfaceSlug, rfc4890Preset } from "./presets";
import { CONN_STATES, FilterTable, FirewallRule, ICMPV6_TYPES, REJECT_WITH, extraMatchesProblem, tableRuleNames } from "./rule";
import { renderFilterTable } from "./render-ruleset";
import { nftRuleProblem, renderNftTable } from "./render-nft";
import { DEFAULT_ROLLBACK_SECONDS, Ip6tablesRuleset, NftRuleset } from "./ruleset";
import { RULESET_BACKENDS, RulesetBackend } from "./ruleset-scripts";
import { kernelAtLeast } from "../gateway/preflight";

const icmpv6TypeNames = Object.keys(ICMPV6_TYPES) as [keyof typeof ICMPV6_TYPES, ...(keyof typeof ICMPV6_TYPES)[]];

/** A rule a site's owner adds, with a stable name, placed after established/related and before NEW-from-LAN and the final reject. */
export const userRuleSchema = strictObject({
  name: slug.describe("stable name: shown in previews and as the rule's comment on the box"),
  chain: z.enum(["input", "forward", "both"]).default("both").describe("input (to the gateway), forward (through it) or both"),
  action: z.enum(["accept", "drop", "reject"]),
  rejectWith: z.enum(REJECT_WITH).optional().describe("for action reject; default icmp6-adm-prohibited"),
  source: addressMatch.optional(),
  destination: addressMatch.optional(),
  inInterface: ifnameMatch.optional(),
  outInterface: ifnameMatch.optional(),
  protocol: z.enum(["tcp", "udp", "icmpv6", "esp", "ah"]).optional(),
  port: portOrRange.optional(),
  sourcePort: portOrRange.optional(),
  icmpv6Type: z.union([z.enum(icmpv6TypeNames), z.number().int().min(0).max(255)]).optional(),
  state: z.array(z.enum(CONN_STATES)).min(1).readonly().optional(),
  limit: z.string().regex(/^\d{1,6}\/(sec|second|min|minute|hour|day)$/, "must look like 10/sec").optional(),
  limitBurst: z.number().int().min(1).max(10000).optional(),
  hopLimit: z.number().int().min(0).max(255).optional().describe("IPv6 hop limit equal to this (255: sent on-link only)"),
  extraMatches: z
    .string()
    .superRefine((v, ctx) => {
      const why = extraMatchesProblem(v);
      if (why) ctx.addIssue({ code: "custom", message: why });
    })
    .optional()
    .describe("raw ip6tables matches, the escape hatch of backend iptables only (nftables refuses it: use the typed fields); the box's kernel checks them at preview"),
}).superRefine((r, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if ((r.port !== undefined || r.sourcePort !== undefined) && r.protocol !== "tcp" && r.protocol !== "udp") issue(r.port !== undefined ? "port" : "sourcePort", "needs protocol tcp or udp");
  if (r.icmpv6Type !== undefined && r.protocol !== "icmpv6") issue("icmpv6Type", "needs protocol icmpv6");
  if (r.rejectWith !== undefined && r.action !== "reject") issue("rejectWith", "only applies to action reject");
  if (r.rejectWith === "tcp-reset" && r.protocol !== "tcp") issue("rejectWith", "tcp-reset needs protocol tcp");
  if (r.limitBurst !== undefined && r.limit === undefined) issue("limitBurst", "needs limit");
});

/** A user rule, as the Firewall takes it. */
export type UserRule = z.input<typeof userRuleSchema>;

/** What a site's owner says about the firewall (the stack file's `firewall`). */
export const firewallSettingsShape = {
  backend: z
    .enum(RULESET_BACKENDS)
    .default("nftables")
    .describe(
      "nftables: a table of ours (table ip6 ipv6gw), loaded whole by one nft -f, what current distributions filter with; " +
        "iptables: chains of ours in the ip6tables filter table, the HOWTO's own form. Either way other tables, chains and rules stay",
    ),
  preset: z.enum(PRESETS).default("howto").describe("howto: the HOWTO's step 17 exactly; rfc4890: RFC 4890 ICMPv6, RFC 6092 IPsec, BCP 38"),
  icmpv6: z.boolean().default(true).describe("howto: accept all ICMPv6 (outsiders can ping LAN hosts); rfc4890: accept unsolicited echo-request"),
  rules: z.array(userRuleSchema).default([]),
  rollbackSeconds: z.number().int().min(10).max(3600).default(DEFAULT_ROLLBACK_SECONDS).describe("seconds before an unconfirmed change rolls back on the box"),
  clampMss: z.boolean().default(true).describe("rfc4890: clamp TCP MSS on forwarded SYNs"),
};

export const firewallArgsSchema = strictObject({
  ...firewallSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue.describe("the gateway's facts: they decide the packages and where rules persist"),
  lanInterface: ifname.describe("the interface facing the LAN: NEW connections are accepted only from it"),
  lanInterfaces: z.array(ifname).optional().describe("every LAN interface when there are several: NEW is accepted from each (forwarded between them too); default [lanInterface]"),
  dhcpv6ClientInterface: ifname.optional().describe("the WAN interface of a DHCPv6 client (a native uplink): its server's replies, RAs and ND are let in there; default none"),
  lanPrefixes: z.array(ipv6Prefix).optional().describe("rfc4890: the LAN prefixes for BCP 38; default none"),
  persist: z.boolean().default(true).describe("write the ruleset where the distribution loads it at boot"),
  packagesAfter: inputOf<pulumi.Resource>("what the firewall's packages wait for").optional()
    .describe("what installing the firewall's packages waits for (a site's one package transaction), without holding back the component's own registration, which the policy pack judges"),
});

export type FirewallArgs = z.input<typeof firewallArgsSchema>;
type ParsedFirewallArgs = z.output<typeof firewallArgsSchema>;

const after = (a: ParsedFirewallArgs): pulumi.Input<pulumi.Resource>[] => (a.packagesAfter ? [a.packagesAfter] : []);

/** Minimum nft: named chain priorities (`priority filter`), as the table is written and read back. */
export const MIN_NFT_VERSION = [0, 9, 1] as const;

/** What decides the filter table: the settings, the LAN interface and prefixes. */
const firewallTableSchema = strictObject({
  preset: firewallSettingsShape.preset,
  icmpv6: firewallSettingsShape.icmpv6,
  rules: firewallSettingsShape.rules,
  clampMss: firewallSettingsShape.clampMss,
  lanInterface: ifname,
  lanInterfaces: z.array(ifname).optional(),
  dhcpv6ClientInterface: ifname.optional(),
  lanPrefixes: z.array(ipv6Prefix).optional(),
});
type FirewallSettings = z.output<typeof firewallTableSchema>;

/** The filter table these settings describe (defaults applied). Pure. */
export function firewallTable(input: z.input<typeof firewallTableSchema>): FilterTable {
  const args = firewallTableSchema.parse(input);
  const strip = ({ chain: _c, ...r }: z.output<typeof userRuleSchema>): FirewallRule => r;
  const options: PresetOptions = {
    lanInterface: args.lanInterface,
    lanInterfaces: args.lanInterfaces,
    dhcpv6ClientInterface: args.dhcpv6ClientInterface,
    icmpv6: args.icmpv6,
    lanPrefixes: args.lanPrefixes,
    clampMss: args.clampMss,
    inputRules: args.rules.filter((r) => r.chain !== "forward").map(strip),
    forwardRules: args.rules.filter((r) => r.chain !== "input").map(strip),
  };
  return args.preset === "howto" ? howtoPreset({ ...options, forwardRules: [] }) : rfc4890Preset(options);
}

/** Every name a preset's own rules can take, whatever its options: a user rule must not take one. */
export function presetRuleNames(preset: (typeof PRESETS)[number]): Set<string> {
  const all = { lanInterface: "eth0", icmpv6: true, clampMss: true, inputRules: [], forwardRules: [] };
  const native = { ...all, icmpv6: false, dhcpv6ClientInterface: "wan0" };
  const tables =
    preset === "howto"
      ? [howtoPreset(all), howtoPreset(native)]
      : [rfc4890Preset({ ...all, lanPrefixes: ["2001:db8::/64"] }), rfc4890Preset({ ...all, lanPrefixes: ["2001:db8::/64", "2001:db8:1::/64"] }), rfc4890Preset(native)];
  return new Set(tables.flatMap(tableRuleNames));
}

/** Problems of the firewall settings alone (no box), with their key paths. Pure. */
export function firewallSettingsProblems(s: Pick<FirewallSettings, "preset" | "rules"> & { backend?: RulesetBackend }): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  const reserved = presetRuleNames(s.preset);
  s.rules.forEach((r, i) => {
    if (names.has(r.name)) problems.push(problem(["rules", i, "name"], `'${r.name}' is used twice; rule names must be unique`));
    if (reserved.has(r.name)) problems.push(problem(["rules", i, "name"], `'${r.name}' is the name of one of the ${s.preset} preset's own rules; pick another name`));
    names.add(r.name);
    const nft = s.backend === "nftables" ? nftRuleProblem(r) : undefined;
    if (nft) problems.push(problem(["rules", i, "extraMatches"], nft));
    if (s.preset === "howto" && r.chain !== "both") {
      problems.push(problem(["rules", i, "chain"], "the howto preset has one chain for INPUT and FORWARD (IPV6-INPUT); leave chain at 'both' or use preset rfc4890"));
    }
  });
  return problems;
}

/** What the firewall installs on this backend (the tools, and what loads the rules at boot). Pure. */
export function firewallPackages(facts: HostFactsData, backend: RulesetBackend): string[] {
  return [...persistencePlan(facts, backend).packages];
}

/** What the box lacks for the firewall on this backend: kernel support, a usable nft, a known way to persist rules for boot. Pure. */
export function firewallBoxProblems(facts: HostFactsData, backend: RulesetBackend = "iptables", persist = true): Problem[] {
  const problems: Problem[] = [];
  if (backend === "nftables") {
    if (!facts.features.nftables || !kernelAtLeast(facts.kernel, [3, 13])) {
      problems.push(problem(["backend"], `is nftables, but kernel ${facts.kernel || "(unknown)"} has no nf_tables (Linux 3.13 or later with CONFIG_NF_TABLES): load or build it, or use backend iptables`));
    }
    if (facts.nftVersion && !kernelAtLeast(facts.nftVersion, MIN_NFT_VERSION)) {
      problems.push(problem(["backend"], `is nftables, but the box's nft is ${facts.nftVersion}, older than ${MIN_NFT_VERSION.join(".")} (named chain priorities): upgrade nftables, or use backend iptables`));
    }
  }
  if (persist) {
    try {
      persistencePlan(facts, backend);
    } catch (e) {
      problems.push(problem(backend === "nftables" ? ["backend"] : [], (e as Error).message));
    }
  }
  return problems;
}

/**
 * The ruleset's check asks the box's kernel only when the box has the tool to ask with: while the
 * facts say it is missing (a fresh gateway), a connection would find nothing to check with. Apply
 * checks on the box before it loads anything. Absent otherwise, so converged stacks keep their inputs.
 */
const noKernelCheck = (toolMissing: boolean) => (toolMissing ? { kernelCheck: false } : {});

/** Everything wrong with a Firewall's args for this box. Pure. */
export function firewallProblems(a: FirewallSettings & { facts: HostFactsData; backend: RulesetBackend; persist: boolean }): Problem[] {
  const problems = firewallSettingsProblems(a);
  if (a.preset === "rfc4890" && !a.lanPrefixes?.length && !a.dhcpv6ClientInterface) {
    problems.push(problem(["lanPrefixes"], "the rfc4890 preset needs the LAN prefix for its anti-spoofing rules (BCP 38): give lan.prefix, or the tunnel's routed or expected prefix"));
  }
  if (a.lanPrefixes?.length && (a.lanInterfaces?.length ?? 1) > 1) {
    problems.push(problem(["lanPrefixes"], "the anti-spoofing rules (BCP 38) name one LAN interface; with several LANs leave lanPrefixes out"));
  }
  const slugs = new Map<string, string>();
  for (const lan of a.lanInterfaces ?? []) {
    const other = slugs.get(interfaceSlug(lan));
    if (other !== undefined && other !== lan) problems.push(problem(["lanInterfaces"], `'${other}' and '${lan}' give their rules the same name (lan-new-${interfaceSlug(lan)}); rename one interface`));
    slugs.set(interfaceSlug(lan), lan);
  }
  return [...problems, ...firewallBoxProblems(a.facts, a.backend, a.persist)];
}

/** The systemd unit that loads the firewall at boot on this box: what IPv6 forwarding waits for. */
export function firewallBootUnit(facts: HostFactsData, backend: RulesetBackend): string {
  return `${persistencePlan(facts, backend).service}.service`;
}

export class Firewall extends pulumi.ComponentResource {
  /** The ruleset as applied, one line per rule: what `preview --diff` shows. */
  readonly rules: pulumi.Output<string>;
  /** Rule names in order, as they appear in the live ruleset's comments. */
  readonly ruleNames: string[];
  /** The live-ruleset resource; anything that must wait for the firewall depends on it. */
  readonly ruleset: Ip6tablesRuleset | NftRuleset;
  /** Where the rules persist for boot. */
  readonly persistedPath?: string;
  /** The systemd unit that loads them at boot, when persisted. */
  readonly bootUnit?: string;

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`Firewall "${name}"`, firewallArgsSchema, args, firewallProblems);
    const table = firewallTable({
      preset: a.preset,
      icmpv6: a.icmpv6,
      rules: a.rules,
      clampMss: a.clampMss,
      lanInterface: a.lanInterface,
      lanInterfaces: a.lanInterfaces,
      dhcpv6ClientInterface: a.dhcpv6ClientInterface,
      lanPrefixes: a.lanPrefixes,
    });
    // The rule model and the management path as inputs, for policies (firewall-inputs.ts).
    const inputs = firewallInputs({
      preset: a.preset,
      icmpv6: a.icmpv6,
      lanInterface: a.lanInterface,
      lanInterfaces: a.lanInterfaces,
      lanPrefixes: a.lanPrefixes,
      table,
      siteRules: a.rules.map((r) => r.name),
      management: a.facts.management,
    });
    super(FIREWALL_TYPE, name, inputs, { ...opts, hideDiffs: [...(opts?.hideDiffs ?? []), ...FIREWALL_HIDDEN_DIFFS] });
    const plan = persistencePlan(a.facts, a.backend);
    const toolMissing = (a.backend === "nftables" ? a.facts.nftVersion : a.facts.ip6tablesBackend) === "";
    this.ruleset = a.backend === "nftables" ? this.nftables(name, a, table, plan, toolMissing, opts) : this.iptables(name, a, table, plan, toolMissing, opts);
    if (a.persist) {
      this.persistedPath = plan.path;
      this.bootUnit = `${plan.service}.service`;
    }
    const tool = a.backend === "nftables" ? "nft" : "ip6tables";
    if (pulumi.runtime.isDryRun() && toolMissing) {
      // Not a silent pass: the preview is incomplete here, and says so.
      pulumi.log.warn(
        `the ruleset was checked by the rule model only: ${tool} is not installed on the gateway yet, so its kernel could not check the rules at preview. ` +
          `up installs it and has the kernel check them in a throwaway namespace before anything is loaded, and stops there if one is rejected`,
        this,
      );
    }
    this.rules = this.ruleset.rules;
    this.ruleNames = tableRuleNames(table);
    this.registerOutputs({ rules: this.rules, ruleNames: this.ruleNames, persistedPath: this.persistedPath, bootUnit: this.bootUnit });
  }

  /** Chains of ours in the ip6tables filter table, loaded at boot by the distribution's loader. */
  private iptables(name: string, a: ParsedFirewallArgs, table: FilterTable, plan: PersistencePlan, toolMissing: boolean, opts?: pulumi.ComponentResourceOptions): Ip6tablesRuleset {
    const packages = new Packages(`${name}-packages`, { connection: a.connection, names: [...plan.packages] }, childOf(this, opts, ...after(a)));
    const ruleset = new Ip6tablesRuleset(
      `${name}-ruleset`,
      { connection: a.connection, rules: renderFilterTable(table), rollbackSeconds: a.rollbackSeconds, persistPath: a.persist ? plan.path : undefined, ...noKernelCheck(toolMissing) },
      childOf(this, opts, packages),
    );
    if (a.persist) {
      // Enabled for boot, but never started or stopped here: that would reload rules behind the safe apply.
      new Service(`${name}-boot`, { connection: a.connection, name: plan.service, enabled: true, running: "unmanaged" }, childOf(this, opts, ruleset));
    }
    return ruleset;
  }

  /** Our nftables table, loaded at boot by a unit of ours. Other names than the iptables children: switching backends creates these before it removes those. */
  private nftables(name: string, a: ParsedFirewallArgs, table: FilterTable, plan: PersistencePlan, toolMissing: boolean, opts?: pulumi.ComponentResourceOptions): NftRuleset {
    const packages = new Packages(`${name}-nft-packages`, { connection: a.connection, names: [...plan.packages] }, childOf(this, opts, ...after(a)));
    // The unit exists before the table does: forwarding's unit requires it as soon as the ruleset stands.
    const unit = a.persist ? new RemoteFile(`${name}-nft-unit`, { connection: a.connection, path: NFT_BOOT_UNIT_PATH, content: renderNftBootUnit() }, childOf(this, opts)) : undefined;
    const ruleset = new NftRuleset(
      `${name}-nft-ruleset`,
      { connection: a.connection, rules: renderNftTable(table), rollbackSeconds: a.rollbackSeconds, persistPath: a.persist ? plan.path : undefined, ...noKernelCheck(toolMissing) },
      childOf(this, opts, packages, ...(unit ? [unit] : [])),
    );
    if (a.persist) {
      // Enabled for boot, never started here: starting it would load the boot copy behind the safe apply.
      new Service(`${name}-nft-boot`, { connection: a.connection, name: plan.service, enabled: true, running: "unmanaged" }, childOf(this, opts, ruleset));
    }
    return ruleset;
  }
}
