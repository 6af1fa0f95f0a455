// Policy 3: nothing open by accident. A site's own accept rule that lets NEW
// connections from outside through to the LAN without restricting where they
// come from is reported with its name and what it opens. Rule-level: the
// rule's own matches decide, wherever it sits; the presets' deliberate
// openings (RFC 6092's IPsec, RFC 4890's echo) are not the site's accident.

import { matchAddress, matchInterface } from "../components/firewall/evaluate";
import { FirewallInputs, lanInterfacesOf } from "../components/firewall/firewall-inputs";
import { FilterTable, FirewallRule, icmpv6TypeNumber } from "../components/firewall/rule";

/** The rules a forwarded packet can meet: FORWARD's, and those of every chain it jumps to. */
export function forwardRules(table: FilterTable): FirewallRule[] {
  const chains = new Map(table.chains.map((c) => [c.name, c.rules]));
  const seen = new Set<string>();
  const out: FirewallRule[] = [];
  const walk = (rules: readonly FirewallRule[]) => {
    for (const r of rules) {
      out.push(r);
      if (r.action === "jump" && r.jumpTo && !seen.has(r.jumpTo)) {
        seen.add(r.jumpTo);
        walk(chains.get(r.jumpTo) ?? []);
      }
    }
  };
  walk(table.builtin.FORWARD);
  return out;
}

/** What a rule opens, in words: "tcp port 23 to every LAN host". */
export function describeOpening(r: FirewallRule, lanInterface: string): string {
  const what = !r.protocol
    ? "every protocol"
    : r.protocol === "icmpv6"
      ? `ICMPv6${r.icmpv6Type !== undefined ? ` type ${icmpv6TypeNumber(r.icmpv6Type)}` : ""}`
      : `${r.protocol}${r.port !== undefined ? ` port ${r.port}` : r.protocol === "tcp" || r.protocol === "udp" ? " (every port)" : ""}`;
  const to = r.destination === undefined ? "every LAN host" : r.destination;
  const from = r.source?.startsWith("!") ? `anywhere but ${r.source.slice(1)}` : "anywhere";
  const via = r.inInterface === undefined ? "" : r.inInterface.startsWith("!") ? ` arriving on any interface but ${r.inInterface.slice(1)}` : ` arriving on ${r.inInterface}`;
  const caveats = [r.limit ? `up to ${r.limit}` : "", r.extraMatches ? `where '${r.extraMatches}' holds` : ""].filter(Boolean);
  return `${what} to ${to} from ${from}${via}${caveats.length ? ` (${caveats.join(", ")})` : ""}, past the LAN's ${lanInterface}`;
}

/** A source that restricts nothing: none, ::/0, or "everything but". */
function unrestrictedSource(source: string | undefined): boolean {
  if (source === undefined || source.startsWith("!")) return true;
  return matchAddress(source, { within: "::/0" }, "source").kind === "yes";
}

/**
 * The site's accept rules that open the LAN to NEW connections from anyone
 * outside, one line each with the rule's name and what it opens. Pure.
 */
export function openToLanProblems(f: FirewallInputs, allowed: readonly string[] = []): string[] {
  const lans = lanInterfacesOf(f);
  const outside = { anyBut: [...lans] };
  const lan = f.lanPrefixes?.length ? { within: f.lanPrefixes[0] } : { within: "::/0" };
  return forwardRules(f.table)
    .filter((r) => f.siteRules.includes(r.name) && !allowed.includes(r.name) && r.action === "accept")
    .filter((r) => !r.state?.length || r.state.includes("new"))
    .filter((r) => unrestrictedSource(r.source))
    .filter((r) => r.inInterface === undefined || matchInterface(r.inInterface, outside, "arrives on").kind !== "no")
    .filter((r) => r.outInterface === undefined || lans.some((lan) => matchInterface(r.outInterface!, lan, "leaves on").kind !== "no"))
    .filter((r) => r.destination === undefined || matchAddress(r.destination, lan, "destination").kind !== "no")
    .map((r) => `rule '${r.name}' accepts NEW connections from outside with no source restriction: it opens ${describeOpening(r, f.lanInterface)}. Restrict its source, or list it under 'allow' in this stack's policy config if it is meant`);
}
