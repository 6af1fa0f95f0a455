// Policy 4: what must hold across a whole stack, whoever composed it (the
// site, or a user's own components). Forwarding is never switched on at a
// box without a Firewall of ours on the same box; gw6c in router mode (which
// runs its own radvd) and a Radvd of ours never share a box; and the secret
// keys of the stack's config are stored as secrets.
//
// A box is the connection a resource reaches it by (host and port); a
// component's boxes are those of the resources under it. Resources are the
// engine's view at preview: custom resources with their inputs, components
// with what they registered as outputs.

import { UnknownValueError } from "@pulumi/policy";
import type { ConfigSecretsInputs } from "../components/config-secrets-inputs";
import { FIREWALL_TYPE } from "../components/firewall/firewall-inputs";

export const SYSCTL_TYPE = "pulumi-nodejs:dynamic/ipv6gw:host:Sysctl";
export const GW6C_TYPE = "ipv6gw:tunnel:Gw6cTunnel";
export const RADVD_TYPE = "ipv6gw:lan:Radvd";

export interface StackResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** The parent's URN. */
  readonly parent?: string;
}

/** A value the engine does not know yet at preview reads as undefined here (the SDK throws on it). */
function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof UnknownValueError) return undefined;
    throw e;
  }
}

/** "host:port" of a resource's own connection, if it has one. */
export function ownBox(props: Record<string, unknown>): string | undefined {
  return known(() => {
    const c = props.connection as { host?: unknown; port?: unknown } | undefined;
    if (!c || typeof c.host !== "string") return undefined;
    const host = c.host.toLowerCase();
    return `${host.includes(":") ? `[${host}]` : host}:${typeof c.port === "number" ? c.port : 22}`;
  });
}

/** Every resource's boxes: its own connection's, or those of the resources under it. */
export function boxesOf(resources: readonly StackResource[]): Map<string, Set<string>> {
  const children = new Map<string, StackResource[]>();
  for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const memo = new Map<string, Set<string>>();
  const visit = (r: StackResource): Set<string> => {
    const cached = memo.get(r.urn);
    if (cached) return cached;
    const boxes = new Set<string>();
    memo.set(r.urn, boxes);
    const own = ownBox(r.props);
    if (own) boxes.add(own);
    for (const c of children.get(r.urn) ?? []) for (const b of visit(c)) boxes.add(b);
    return boxes;
  };
  for (const r of resources) visit(r);
  return memo;
}

const FORWARDING_KEY = /^net[./]ipv6[./]conf[./][^./]+[./]forwarding$/;

/** What switches IPv6 forwarding on, where: our sysctls set to 1, and gw6c in router mode (it does so itself). */
export function forwardingSwitches(resources: readonly StackResource[], boxes: Map<string, Set<string>>): { what: string; box: string }[] {
  const out: { what: string; box: string }[] = [];
  for (const r of resources) {
    const on =
      r.type === SYSCTL_TYPE
        ? known(() => typeof r.props.key === "string" && FORWARDING_KEY.test(r.props.key) && String(r.props.value).trim() === "1")
        : r.type === GW6C_TYPE && known(() => r.props.ownsRadvd === true);
    if (!on) continue;
    const what = r.type === SYSCTL_TYPE ? `sysctl '${r.name}' (${String(r.props.key)}=1)` : `gw6c '${r.name}' in router mode`;
    for (const box of boxes.get(r.urn) ?? []) out.push({ what, box });
  }
  return out;
}

/** Boxes where forwarding is switched on with no Firewall of ours on them. Pure. */
export function forwardingProblems(resources: readonly StackResource[]): string[] {
  const boxes = boxesOf(resources);
  const guarded = new Set(resources.filter((r) => r.type === FIREWALL_TYPE).flatMap((r) => [...(boxes.get(r.urn) ?? [])]));
  return forwardingSwitches(resources, boxes)
    .filter((s) => !guarded.has(s.box))
    .map((s) => `forwarding is switched on at ${s.box} by ${s.what}, but no Firewall of ours runs on that box: the LAN would be routed unfiltered. Add a Firewall for ${s.box}, or leave forwarding off`);
}

/** Boxes where gw6c in router mode and a Radvd of ours would both run radvd. Pure. */
export function radvdProblems(resources: readonly StackResource[]): string[] {
  const boxes = boxesOf(resources);
  const ours = resources.filter((r) => r.type === RADVD_TYPE);
  const problems: string[] = [];
  for (const g of resources.filter((r) => r.type === GW6C_TYPE && known(() => r.props.ownsRadvd === true))) {
    for (const box of boxes.get(g.urn) ?? []) {
      for (const r of ours.filter((o) => boxes.get(o.urn)?.has(box))) {
        problems.push(`at ${box}, gw6c '${g.name}' runs in router mode, which starts its own radvd, and Radvd '${r.name}' runs ours: two daemons would advertise on one LAN. Use gw6c in host mode, or drop the Radvd`);
      }
    }
  }
  return problems;
}

/** Secret config keys stored in plain text. Pure. */
export function configSecretProblems(inputs: ConfigSecretsInputs): string[] {
  return inputs.keys
    .filter((k) => !k.secret)
    .map((k) => `${k.key} is stored in plain text in the stack's config (and so in git and in state): set it with 'pulumi config set --secret ${k.key} ...', and replace the value, which has been readable`);
}
