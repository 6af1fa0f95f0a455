// What the Firewall component records as its (component) inputs: the rule
// model every backend renders and the path the stack's own SSH session takes
// to the box. Policies (policy/) judge the firewall from these plain values,
// known at preview, never from a backend's text. A converged site records
// the same values again, so they show in no diff; when the rules change, the
// table's own diff is hidden (the ruleset resource shows it line by line).

import type { ManagementPath } from "../host/host-facts";
import type { Preset } from "./presets";
import type { FilterTable } from "./rule";

export const FIREWALL_TYPE = "ipv6gw:firewall:Firewall";

export interface FirewallInputs {
  readonly preset: Preset;
  /** The site's icmpv6 setting: whether outsiders may ping (rfc4890) or all ICMPv6 is accepted (howto). */
  readonly icmpv6: boolean;
  readonly lanInterface: string;
  /** Every LAN interface when there are several (a native site's); the first is lanInterface. */
  readonly lanInterfaces?: readonly string[];
  readonly lanPrefixes?: readonly string[];
  /** The whole filter table, as every backend renders it. */
  readonly table: FilterTable;
  /** The names of the site's own rules (firewall.rules); the rest are the preset's. */
  readonly siteRules: readonly string[];
  /** How the stack reached the box when it read its facts; absent when sshd did not say. */
  readonly management?: ManagementPath;
}

/** Every LAN interface of these inputs. */
export function lanInterfacesOf(f: Pick<FirewallInputs, "lanInterface" | "lanInterfaces">): readonly string[] {
  return f.lanInterfaces?.length ? f.lanInterfaces : [f.lanInterface];
}

/** Properties whose diff the preview leaves to the ruleset resource. */
export const FIREWALL_HIDDEN_DIFFS = ["table", "siteRules"] as const;

/** The inputs, without undefined fields (the engine drops them anyway). Pure. */
export function firewallInputs(i: FirewallInputs): FirewallInputs {
  return Object.fromEntries(Object.entries(i).filter(([, v]) => v !== undefined)) as unknown as FirewallInputs;
}
