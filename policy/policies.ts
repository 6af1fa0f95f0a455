// The ipv6gw policy pack's policies. Each one judges the structure the
// components record (the firewall's rule model and management path, the
// stack's config secrets, the resources on each box), never a backend's text,
// with the pure functions beside it. Enforcement levels are the defaults
// here; a stack sets its own in stacks/Pulumi.<stack>.policy.json
// (--policy-pack-config), e.g. { "rfc4890-icmpv6-other-presets": "mandatory" }.

import { EnforcementLevel, PolicyPackArgs, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CONFIG_SECRETS_TYPE, ConfigSecretsInputs } from "../components/config-secrets-inputs";
import { TableError } from "../components/firewall/evaluate";
import { FIREWALL_TYPE, FirewallInputs } from "../components/firewall/firewall-inputs";
import { icmpv6Problems } from "./icmpv6";
import { openToLanProblems } from "./inbound";
import { lockoutJudgement } from "./lockout";
import { configSecretProblems, forwardingProblems, radvdProblems } from "./site-invariants";

export const POLICY_PACK_NAME = "ipv6gw";

/** The Firewall's inputs, or not applicable when it recorded none (a Firewall of an older ipv6gw). */
function firewallOf(args: ResourceValidationArgs): FirewallInputs | undefined {
  if (args.type !== FIREWALL_TYPE) return undefined;
  const f = args.props as FirewallInputs;
  if (!f.table || !f.siteRules) args.notApplicable("this Firewall records no rule model (it was declared by an older ipv6gw)");
  return f;
}

const firewallPolicy = (p: Omit<ResourceValidationPolicy, "validateResource">, check: (f: FirewallInputs, args: ResourceValidationArgs) => readonly string[]): ResourceValidationPolicy => ({
  ...p,
  validateResource: (args, report) => {
    const f = firewallOf(args);
    if (!f) return;
    let problems: readonly string[];
    try {
      problems = check(f, args);
    } catch (e) {
      // A table the evaluator refuses (a jump to a missing chain) would fail on the box too: say so, as a violation.
      if (!(e instanceof TableError)) throw e;
      problems = [`the firewall's rule model cannot be judged: ${e.message}`];
    }
    for (const problem of problems) report(problem);
  },
});

export const managementLockout = firewallPolicy(
  {
    name: "management-lockout",
    description: "The ruleset lets the stack's own SSH connection to the gateway in (its address and port, as the stack connects).",
    enforcementLevel: "mandatory",
    remediationSteps: "Accept the management path before the rule named, or connect to the gateway another way.",
  },
  (f, args) => {
    const j = lockoutJudgement(f);
    if ("notApplicable" in j) args.notApplicable(j.notApplicable);
    return "problems" in j ? j.problems : [];
  },
);

/** One rule, two policies: a level per preset, each adjustable per stack. */
const rfc4890 = (name: string, enforcementLevel: EnforcementLevel, applies: (preset: string) => boolean, which: string) =>
  firewallPolicy(
    {
      name,
      description: `${which}: the ruleset does not drop the ICMPv6 messages RFC 4890 sections 4.3.1 and 4.4.1 say must not be dropped, in transit or to the gateway (echo from outside only where the site allows it).`,
      enforcementLevel,
      remediationSteps: "Remove or narrow the rule named; ICMPv6 errors, neighbour discovery and MLD must get through.",
    },
    (f, args) => {
      if (!applies(f.preset)) args.notApplicable(`the firewall's preset is ${f.preset}`);
      return icmpv6Problems(f);
    },
  );

export const rfc4890Icmpv6 = rfc4890("rfc4890-icmpv6", "mandatory", (p) => p === "rfc4890", "Firewalls with preset rfc4890");
export const rfc4890Icmpv6OtherPresets = rfc4890("rfc4890-icmpv6-other-presets", "advisory", (p) => p !== "rfc4890", "Firewalls with another preset");

export const noUnrestrictedInbound = firewallPolicy(
  {
    name: "no-unrestricted-inbound",
    description: "No rule of the site accepts NEW connections from outside to the LAN without a source restriction.",
    enforcementLevel: "advisory",
    remediationSteps: "Give the rule a source, or list its name under 'allow' in the stack's policy config.",
    configSchema: { properties: { allow: { type: "array", items: { type: "string" }, default: [], description: "rule names that are meant to be open to anyone" } } },
  },
  (f, args) => openToLanProblems(f, args.getConfig<{ allow?: string[] }>().allow ?? []),
);

const stackPolicy = (p: Omit<StackValidationPolicy, "validateStack">, check: (resources: Parameters<typeof forwardingProblems>[0]) => string[]): StackValidationPolicy => ({
  ...p,
  validateStack: (args, report) => {
    const resources = args.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.props, parent: r.parent?.urn }));
    for (const problem of check(resources)) report(problem);
  },
});

export const forwardingNeedsFirewall = stackPolicy(
  {
    name: "forwarding-needs-firewall",
    description: "IPv6 forwarding is never switched on at a box without a Firewall of ours on the same box.",
    enforcementLevel: "mandatory",
  },
  forwardingProblems,
);

export const oneRadvd = stackPolicy(
  {
    name: "one-radvd",
    description: "gw6c in router mode (which runs its own radvd) and a Radvd of ours never run on the same box.",
    enforcementLevel: "mandatory",
  },
  radvdProblems,
);

export const secretConfigIsSecret: ResourceValidationPolicy = {
  name: "secret-config-is-secret",
  description: "Keys, passwords and broker secrets in the stack's config are stored as secrets, never in plain text.",
  enforcementLevel: "mandatory",
  remediationSteps: "pulumi config set --secret <key> <value>, with a new value.",
  validateResource: (args, report) => {
    if (args.type !== CONFIG_SECRETS_TYPE) return;
    for (const problem of configSecretProblems(args.props as ConfigSecretsInputs)) report(problem);
  },
};

export const policyPackArgs: PolicyPackArgs = {
  description: "Firewall and site policies for ipv6gw gateways, checked at preview before anything is applied.",
  policies: [managementLockout, rfc4890Icmpv6, rfc4890Icmpv6OtherPresets, noUnrestrictedInbound, forwardingNeedsFirewall, oneRadvd, secretConfigIsSecret],
};
