// Policy 2: the ICMPv6 messages RFC 4890 says must not be dropped get
// through, in transit (section 4.3.1) and to the gateway itself (4.4.1),
// each in the state it really arrives in: errors about a flow are RELATED
// (an error about no flow is INVALID and RFC 6092 REC-10 drops it), echo
// requests NEW, echo replies ESTABLISHED, and neighbour discovery, MLD, SEND
// and multicast router discovery UNTRACKED (Linux conntrack does not track
// them), from link-local sources with their hop limits. Echo from outside is
// checked only where the site allows it (firewall.icmpv6). A refusal that
// happens only above a rate limit is not a drop: RFC 4890 recommends limits.

import { ConnState, Evaluation, InterfaceSpec, Packet, Verdict, describeVerdict, evaluate } from "../components/firewall/evaluate";
import { FirewallInputs, lanInterfacesOf } from "../components/firewall/firewall-inputs";

/** A message that must get through, and the codes to try. */
export interface IcmpRequirement {
  readonly name: string;
  readonly type: number;
  readonly codes: readonly number[];
  readonly state: ConnState;
  /** Link-local messages: from fe80::/10 with this hop limit. */
  readonly linkLocal?: { readonly hopLimit: number };
}

const error = (name: string, type: number, codes: number[]): IcmpRequirement => ({ name, type, codes, state: "related" });
const link = (name: string, type: number, hopLimit: number): IcmpRequirement => ({ name, type, codes: [0], state: "untracked", linkLocal: { hopLimit } });

/** RFC 4890 4.3.1 and the error half of 4.4.1: destination unreachable (every code), packet too big, time exceeded 0, parameter problem 1 and 2. */
export const ERRORS: readonly IcmpRequirement[] = [
  error("destination-unreachable", 1, [0, 1, 2, 3, 4, 5, 6]),
  error("packet-too-big", 2, [0]),
  error("time-exceeded", 3, [0]),
  error("parameter-problem", 4, [1, 2]),
];
const ECHO_REQUEST: IcmpRequirement = { name: "echo-request", type: 128, codes: [0], state: "new" };
const ECHO_REPLY: IcmpRequirement = { name: "echo-reply", type: 129, codes: [0], state: "established" };

/** RFC 4890 4.4.1's link-local messages to the box: ND (hop limit 255), inverse ND, MLD (hop limit 1), SEND, multicast router discovery. */
export const LINK_LOCAL: readonly IcmpRequirement[] = [
  link("router-solicitation", 133, 255),
  link("router-advertisement", 134, 255),
  link("neighbour-solicitation", 135, 255),
  link("neighbour-advertisement", 136, 255),
  link("inverse-nd-solicitation", 141, 255),
  link("inverse-nd-advertisement", 142, 255),
  link("mld-query", 130, 1),
  link("mld-report", 131, 1),
  link("mld-done", 132, 1),
  link("mldv2-report", 143, 1),
  link("certification-path-solicitation", 148, 255),
  link("certification-path-advertisement", 149, 255),
  link("multicast-router-advertisement", 151, 1),
  link("multicast-router-solicitation", 152, 1),
  link("multicast-router-termination", 153, 1),
];

/** One way a message travels: its built-in chain, interfaces and addresses. */
interface Direction {
  readonly label: string;
  readonly path: "input" | "forward";
  readonly inInterface: InterfaceSpec;
  readonly outInterface?: InterfaceSpec;
  readonly source: Packet["source"];
  readonly destination: Packet["destination"];
}

/** The directions a firewall with this LAN sees, and what must pass each way. */
export function requirements(f: Pick<FirewallInputs, "lanInterface" | "lanInterfaces" | "lanPrefixes" | "icmpv6">): { direction: Direction; messages: readonly IcmpRequirement[] }[] {
  const lan = f.lanInterface;
  // From outside: any interface but the LAN's, and never loopback.
  const outside: InterfaceSpec = { anyBut: [...lanInterfacesOf(f), "lo"] };
  const lanHosts = f.lanPrefixes?.length ? { within: f.lanPrefixes[0] } : { within: "::/0" };
  const remote = { within: "::/0", except: [...(f.lanPrefixes ?? [])] };
  const anyAddress = { within: "::/0" };
  const allowEchoIn = f.icmpv6;
  const dir = (label: string, d: Omit<Direction, "label">): Direction => ({ label, ...d });
  return [
    {
      direction: dir("in transit from outside to the LAN", { path: "forward", inInterface: outside, outInterface: lan, source: remote, destination: lanHosts }),
      messages: [...ERRORS, ECHO_REPLY, ...(allowEchoIn ? [ECHO_REQUEST] : [])],
    },
    {
      direction: dir("in transit from the LAN to outside", { path: "forward", inInterface: lan, outInterface: outside, source: lanHosts, destination: remote }),
      messages: [...ERRORS, ECHO_REQUEST, ...(allowEchoIn ? [ECHO_REPLY] : [])],
    },
    {
      direction: dir("to the gateway from outside", { path: "input", inInterface: outside, source: remote, destination: anyAddress }),
      messages: [...ERRORS, ECHO_REPLY, ...(allowEchoIn ? [ECHO_REQUEST] : [])],
    },
    {
      direction: dir("to the gateway from the LAN", { path: "input", inInterface: lan, source: lanHosts, destination: anyAddress }),
      messages: [...ERRORS, ECHO_REQUEST, ECHO_REPLY],
    },
    {
      direction: dir(`to the gateway on the LAN link (${lan})`, { path: "input", inInterface: lan, source: { within: "fe80::/10" }, destination: anyAddress }),
      messages: LINK_LOCAL,
    },
    {
      direction: dir("to the gateway on its other links", { path: "input", inInterface: outside, source: { within: "fe80::/10" }, destination: anyAddress }),
      messages: LINK_LOCAL,
    },
  ];
}

export function packetOf(d: Direction, m: IcmpRequirement, code: number): Packet {
  return {
    path: d.path,
    inInterface: d.inInterface,
    outInterface: d.outInterface,
    source: d.source,
    destination: d.destination,
    protocol: "icmpv6",
    icmpv6Type: m.type,
    icmpv6Code: code,
    state: m.state,
    hopLimit: m.linkLocal?.hopLimit ?? 64,
  };
}

/** Refusals that are drops, not rate limiting: those that need the traffic to exceed a limit are left out. */
function drops(e: Evaluation): Verdict[] {
  return e.verdicts.filter((v) => v.action !== "accept" && !v.assumptions.some((a) => a.kind === "limit" && !a.matched));
}

/**
 * What the firewall drops of the must-not-drop messages: one line per
 * refusing rule, naming what it refuses and where. Pure.
 */
export function icmpv6Problems(f: FirewallInputs): string[] {
  const byVerdict = new Map<string, { verdict: Verdict; where: Map<string, string[]> }>();
  for (const { direction, messages } of requirements(f)) {
    for (const m of messages) {
      for (const code of m.codes) {
        for (const v of drops(evaluate(f.table, packetOf(direction, m, code)))) {
          const key = describeVerdict(v);
          const entry = byVerdict.get(key) ?? { verdict: v, where: new Map<string, string[]>() };
          const label = `${m.name} (${m.type}${m.codes.length > 1 ? `/${code}` : ""})`;
          entry.where.set(direction.label, [...(entry.where.get(direction.label) ?? []), label]);
          byVerdict.set(key, entry);
        }
      }
    }
  }
  return [...byVerdict.values()].map(({ verdict, where }) => {
    const whose =
      verdict.rule === undefined
        ? ""
        : !f.siteRules.includes(verdict.rule)
          ? ` (a rule of the ${f.preset} preset${f.preset === "howto" && !f.icmpv6 ? "; icmpv6: true accepts all ICMPv6" : ""})`
          : " (a rule of this site)";
    const what = [...where].map(([direction, labels]) => `${direction}: ${labels.join(", ")}`).join("; ");
    return `${describeVerdict(verdict)}${whose} drops ICMPv6 that RFC 4890 says must not be dropped, ${what}`;
  });
}
