// The gateway's stateful ip6tables firewall (HOWTO steps 16-19): packages,
// the live ruleset (checked at preview, applied atomically with rollback) and
// the copy the distribution loads at boot.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { Service } from "../host/service";
import { persistencePlan } from "./persistence";
import { PresetOptions, Preset, howtoPreset, rfc4890Preset } from "./presets";
import { FilterTable, FirewallRule } from "./rule";
import { renderFilterTable, ruleNames } from "./render-ruleset";
import { Ip6tablesRuleset } from "./ruleset";
import { resourceError } from "../user-error";

/** A user rule and the chain(s) it belongs to. */
export interface UserRule extends FirewallRule {
  /** "input" (to the gateway), "forward" (through it) or "both". Defaults to "both". */
  readonly chain?: "input" | "forward" | "both";
}

export interface FirewallArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  /** Gateway facts: they decide the packages and where rules persist. */
  readonly facts: HostFactsData;
  /** Defaults to "howto" (the HOWTO's step 17 ruleset, exactly). */
  readonly preset?: Preset;
  /** The interface facing the LAN: NEW connections are accepted only from it. */
  readonly lanInterface: string;
  /** See PresetOptions.icmpv6. Defaults to true, as in the HOWTO's step 19 listing. */
  readonly icmpv6?: boolean;
  /** rfc4890: LAN prefixes for BCP 38 (anti-spoofing). Defaults to none. */
  readonly lanPrefixes?: readonly string[];
  /** rfc4890: clamp TCP MSS on forwarded SYNs. Defaults to true. */
  readonly clampMss?: boolean;
  /** Extra rules, in order, placed after established/related and before NEW-from-LAN and the final reject. */
  readonly rules?: readonly UserRule[];
  /** Seconds before an unconfirmed change rolls back on the box. Defaults to 60. */
  readonly rollbackSeconds?: number;
  /** Write the ruleset where the distribution loads it at boot. Defaults to true. */
  readonly persist?: boolean;
}

/** The filter table a Firewall's args describe. Pure. */
export function firewallTable(args: Pick<FirewallArgs, "preset" | "lanInterface" | "icmpv6" | "lanPrefixes" | "clampMss" | "rules">): FilterTable {
  const rules = args.rules ?? [];
  const preset = args.preset ?? "howto";
  const strip = ({ chain: _c, ...r }: UserRule): FirewallRule => r;
  const options: PresetOptions = {
    lanInterface: args.lanInterface,
    icmpv6: args.icmpv6 ?? true,
    lanPrefixes: args.lanPrefixes,
    clampMss: args.clampMss ?? true,
    inputRules: rules.filter((r) => r.chain !== "forward").map(strip),
    forwardRules: rules.filter((r) => r.chain === "forward" || r.chain === "both" || r.chain === undefined).map(strip),
  };
  if (preset === "howto") {
    const wrong = rules.find((r) => r.chain !== undefined && r.chain !== "both");
    if (wrong) throw new Error(`rule '${wrong.name}': the howto preset has one chain for INPUT and FORWARD; leave chain at 'both' or use preset rfc4890`);
    return howtoPreset({ ...options, forwardRules: [] });
  }
  return rfc4890Preset(options);
}

export class Firewall extends pulumi.ComponentResource {
  /** The ruleset as applied, one line per rule: what `preview --diff` shows. */
  readonly rules: pulumi.Output<string>;
  /** Rule names in order, as they appear in the live ruleset's comments. */
  readonly ruleNames: string[];
  /** The live-ruleset resource; anything that must wait for the firewall depends on it. */
  readonly ruleset: Ip6tablesRuleset;
  /** Where the rules persist for boot. */
  readonly persistedPath?: string;

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:firewall:Firewall", name, {}, opts);
    let text: string;
    try {
      text = renderFilterTable(firewallTable(args));
    } catch (e) {
      throw resourceError(`Firewall "${name}": ${(e as Error).message}`, this);
    }
    const plan = persistencePlan(args.facts);
    const packages = new Packages(`${name}-packages`, { connection: args.connection, names: [...plan.packages] }, childOf(this, opts));
    const persist = args.persist ?? true;
    this.ruleset = new Ip6tablesRuleset(
      `${name}-ruleset`,
      { connection: args.connection, rules: text, rollbackSeconds: args.rollbackSeconds ?? 60, persistPath: persist ? plan.path : undefined },
      childOf(this, opts, packages),
    );
    if (persist) {
      // Enabled for boot, but never started or stopped here: that would reload rules behind the safe apply.
      new Service(`${name}-boot`, { connection: args.connection, name: plan.service, enabled: true, running: "unmanaged" }, childOf(this, opts, this.ruleset));
      this.persistedPath = plan.path;
    }
    this.rules = this.ruleset.rules;
    this.ruleNames = ruleNames(text);
    this.registerOutputs({ rules: this.rules, ruleNames: this.ruleNames, persistedPath: this.persistedPath });
  }
}
