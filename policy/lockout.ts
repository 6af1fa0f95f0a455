// Policy 1: the ruleset must let the stack's own management connection in.
// The stack reached the box at its address and port from the client address
// the facts recorded; the firewall apply confirms over a *new* connection of
// the same kind, so a NEW TCP SYN on that path (and the established session's
// packets) must be accepted on INPUT. Otherwise the apply rolls back 20-60 s
// into `up`; this says so at preview, naming the rule.

import { Packet, describeVerdict, evaluate, isIpv6Path, refusals } from "../components/firewall/evaluate";
import type { FirewallInputs } from "../components/firewall/firewall-inputs";
import type { ManagementPath } from "../components/host/host-facts";

export type Judgement = { readonly notApplicable: string } | { readonly problems: readonly string[] };

/** The management path in words: "TCP from fe80::1 to [fe80::2]:22 arriving on eth0". */
export function describeManagement(m: ManagementPath): string {
  return `TCP from ${m.clientAddress} to [${m.serverAddress}]:${m.serverPort}${m.interface ? ` arriving on ${m.interface}` : " (the address is on no interface of the box: NAT)"}`;
}

/** The packets the management connection consists of, as INPUT sees them. */
export function managementPackets(m: ManagementPath): { readonly what: string; readonly packet: Packet }[] {
  const common = {
    path: "input",
    // Behind a NAT the address is on no interface of the box: it may arrive on any (but loopback).
    inInterface: m.interface || { anyBut: ["lo"] },
    source: m.clientAddress,
    destination: m.serverAddress,
    protocol: "tcp",
    port: m.serverPort,
    hopLimit: 64,
  } as const;
  return [
    { what: "a new connection (the apply's confirmation, every later run)", packet: { ...common, state: "new", tcpFlags: ["SYN"] } },
    { what: "the open session's packets", packet: { ...common, state: "established", tcpFlags: ["ACK"] } },
  ];
}

/** What would refuse the management connection; [] when it always gets through. Pure. */
export function lockoutJudgement(f: FirewallInputs): Judgement {
  const m = f.management;
  if (!m) return { notApplicable: "the gateway's facts do not say how the stack reached it (sshd set no SSH_CONNECTION)" };
  if (!isIpv6Path(m.serverAddress)) return { notApplicable: `the stack reaches the gateway over IPv4 (${m.serverAddress}), which the IPv6 firewall does not filter` };
  // One problem per refusing rule (and the conditions it needs), naming every packet it refuses.
  const byVerdict = new Map<string, string[]>();
  for (const { what, packet } of managementPackets(m)) {
    for (const v of refusals(evaluate(f.table, packet))) {
      const key = `${describeVerdict(v)} in chain ${v.chain}`;
      byVerdict.set(key, [...(byVerdict.get(key) ?? []), what]);
    }
  }
  const problems = [...byVerdict].map(
    ([verdict, whats]) =>
      `the management connection (${describeManagement(m)}, as this stack connects) would be refused: ${whats.join(" and ")} meet${whats.length > 1 ? "" : "s"} ${verdict}. ` +
      `The apply would roll back, or a later run lock itself out: accept this path before that rule, or connect another way`,
  );
  return { problems };
}
