// The stack configuration of a site, as the person writes it in
// stacks/Pulumi.<site>.yaml under `ipv6gw:site`: the components' own
// settings (each declared beside its component, with defaults and
// descriptions) composed strictly, plus how to reach each box. An unknown key
// is an error naming the closest known one, and every mistake is reported at
// preview with its key path and the fix, all at once.
//
// Secrets never sit in the site object: they are separate secret keys
// (`pulumi config set --secret ipv6gw:<key> ...`), listed in SECRET_KEYS.

import { z } from "zod";
import { checksSettingsShape } from "./checks/checks";
import { firewallSettingsShape } from "./firewall/firewall";
import { gatewaySettingsShape } from "./gateway/gateway-host";
import { hostKeyProblem } from "./host/connection";
import { clientSettingsShape } from "./lan/ipv6-client";
import { radvdSettingsShape } from "./lan/radvd";
import { Problem, problemLines, zodProblems } from "./problems";
import { checkedString, localPath, loginName, port, slug, sshHost, strictObject } from "./schema-kit";
import { lanSettingsShape, siteClientShape, siteSettingsProblems } from "./site";
import { dhcpv6PdSettingsShape } from "./tunnel/dhcpv6-pd-uplink";
import { gw6cSettingsShape } from "./tunnel/gw6c-tunnel";
import { sit6in4SettingsShape } from "./tunnel/sit6in4-tunnel";
import { wireguardSettingsShape } from "./tunnel/wireguard-tunnel";
import { configError } from "./user-error";

/** Secret stack config keys and what they hold. */
export const SECRET_KEYS = {
  sshPrivateKey: "private key (OpenSSH/PEM text) for every connection without its own privateKeyFile",
  sshPassword: "SSH password for connections without a key",
  wireguardPrivateKey: "the gateway's WireGuard private key (wg genkey)",
  gw6cPassword: "the tunnel broker account's password (gw6c.conf passwd)",
  heUpdateKey: "Hurricane Electric tunnel update key (Advanced tab)",
} as const;

/** Every key this program reads in its `ipv6gw:` config namespace. */
export const CONFIG_KEYS = ["site", "lab", ...Object.keys(SECRET_KEYS)] as const;

const hostKey = checkedString(hostKeyProblem, "the box's host key or its SHA256 fingerprint");

const proxyConfigSchema = strictObject({
  host: sshHost,
  port: port.optional(),
  user: loginName.optional(),
  hostKey: hostKey.optional(),
  privateKeyFile: localPath.optional(),
});

/** How to reach a box: a lab box by name, or an SSH address with a pinned host key. */
export const connectionConfigSchema = strictObject({
  lab: slug.optional().describe("a box of the lab (npm run lab): its address, key and host key come from lab.json"),
  host: sshHost.optional(),
  port: port.optional().describe("default 22"),
  user: loginName.optional().describe("default root (a lab box: root, or admin with passwordless sudo)"),
  hostKey: hostKey.optional().describe("the box's public host key (ssh-keyscan -t ed25519 <host>, checked out of band) or its SHA256 fingerprint"),
  privateKeyFile: localPath.optional().describe("path to a private key on the machine running pulumi; default: secret ipv6gw:sshPrivateKey"),
  dangerouslySkipHostKeyCheck: z.boolean().optional(),
  proxy: proxyConfigSchema.optional().describe("a jump host"),
}).superRefine((c, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (c.lab !== undefined) {
    for (const k of ["host", "port", "hostKey", "privateKeyFile", "dangerouslySkipHostKeyCheck", "proxy"] as const) {
      if (c[k] !== undefined) issue(k, `cannot be set with lab: ${c.lab}: the lab's lab.json gives the box's address, port, key and host key; remove it, or use host: instead of lab:`);
    }
  } else if (c.host === undefined) {
    ctx.addIssue({ code: "custom", path: [], message: "needs either lab: <box> or host: <address>" });
  } else if (c.hostKey === undefined && c.dangerouslySkipHostKeyCheck !== true) {
    issue(
      "hostKey",
      "is required so the box's identity is checked: the box's public host key ('ssh-keyscan -t ed25519 <host>' prints it; verify it out of band) or its SHA256 fingerprint; or set dangerouslySkipHostKeyCheck: true for a throwaway box",
    );
  }
});
export type ConnectionConfig = z.output<typeof connectionConfigSchema>;

/** A WireGuard tunnel in a stack file: on a lab stack, `lab: true` takes the far end from the lab's isp. */
const wireguardConfigSchema = strictObject({
  ...wireguardSettingsShape,
  lab: z.boolean().default(false).describe("take endpoint, keys, address and prefix from the lab's isp"),
  endpoint: wireguardSettingsShape.endpoint.optional(),
  peerPublicKey: wireguardSettingsShape.peerPublicKey.optional(),
  address: wireguardSettingsShape.address.optional(),
  routedPrefix: wireguardSettingsShape.routedPrefix.optional(),
}).superRefine((t, ctx) => {
  for (const k of ["endpoint", "peerPublicKey", "address", "routedPrefix"] as const) {
    if (t.lab && t[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: "cannot be set with lab: true: the lab's isp gives it; remove it, or set lab: false" });
    if (!t.lab && t[k] === undefined) ctx.addIssue({ code: "custom", path: [k], message: "is required for a wireguard tunnel (or set lab: true on a lab stack)" });
  }
});

export const siteConfigSchema = strictObject({
  gateway: strictObject({ ...gatewaySettingsShape, connection: connectionConfigSchema }),
  tunnel: z.discriminatedUnion("kind", [wireguardConfigSchema, strictObject(gw6cSettingsShape), strictObject(sit6in4SettingsShape), strictObject(dhcpv6PdSettingsShape)], {
    error: (iss) => (iss.code === "invalid_union" ? "kind must be one of wireguard, gw6c, sit6in4, dhcpv6-pd" : undefined),
  }),
  lan: strictObject(lanSettingsShape).prefault({}),
  radvd: strictObject(radvdSettingsShape).prefault({}),
  firewall: strictObject(firewallSettingsShape).prefault({}),
  clients: z.array(strictObject({ ...siteClientShape, ...clientSettingsShape, connection: connectionConfigSchema })).default([]),
  checks: strictObject({ ...checksSettingsShape, outside: strictObject({ connection: connectionConfigSchema, port: port.default(80) }).optional() }).optional(),
});

export type SiteConfig = z.output<typeof siteConfigSchema>;

/** Throws one error listing every problem, each with its key path under `root`. */
export function throwProblems(root: string, problems: readonly Problem[], fix = "Fix them in stacks/Pulumi.<stack>.yaml."): void {
  if (problems.length === 0) return;
  const lines = problemLines(root, problems).map((l) => `  ${l}`);
  throw configError(`stack config has ${lines.length} problem(s):\n${lines.join("\n")}\n${fix}`);
}

/** Parses `ipv6gw:site`, or throws one error listing every problem with its key path. */
export function parseSiteConfig(value: unknown): SiteConfig {
  const result = siteConfigSchema.safeParse(value);
  // Cross-section checks only run on values that parsed: they do arithmetic on them.
  throwProblems("ipv6gw:site", result.success ? siteSettingsProblems(result.data) : zodProblems(result.error));
  return result.data!;
}
