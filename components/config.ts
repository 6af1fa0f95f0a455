// The stack configuration of a site, as the person writes it in
// stacks/Pulumi.<site>.yaml under `ipv6gw:site`, with its zod schema.
// Every mistake is reported at preview with the key path and the fix.
//
// Secrets never sit in the site object: they are separate secret keys
// (`pulumi config set --secret ipv6gw:<key> ...`), listed in SECRET_KEYS.

import { z } from "zod";
import { CONN_STATES, ICMPV6_TYPES, REJECT_WITH } from "./firewall/rule";
import { PRESETS } from "./firewall/presets";
import { isIpv6Prefix, parsePrefix } from "./net/ipv6";
import { configError } from "./user-error";

/** Secret stack config keys and what they hold. */
export const SECRET_KEYS = {
  sshPrivateKey: "private key (OpenSSH/PEM text) for every connection without its own privateKeyFile",
  sshPassword: "SSH password for connections without a key",
  wireguardPrivateKey: "the gateway's WireGuard private key (wg genkey)",
  gw6cPassword: "the tunnel broker account's password (gw6c.conf passwd)",
  heUpdateKey: "Hurricane Electric tunnel update key (Advanced tab)",
} as const;

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and '-'");
const ifname = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,14}$/, "is not an interface name (1-15 characters)");
const prefix = z.string().refine((p) => isIpv6Prefix(p), "is not an IPv6 prefix like 2001:db8:8888::/48");
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be host:port, e.g. 198.51.100.1:51820 or [2001:db8::1]:51820");

/** How to reach a box: a lab box by name, or an SSH address with a pinned host key. */
export const connectionConfigSchema = z
  .object({
    lab: z.string().optional().describe("a box of the lab (npm run lab): its address, user, key and host key come from lab.json"),
    host: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().optional(),
    hostKey: z.string().optional(),
    privateKeyFile: z.string().optional().describe("path to a private key on the machine running pulumi; default: secret ipv6gw:sshPrivateKey"),
    dangerouslySkipHostKeyCheck: z.boolean().optional(),
    proxy: z
      .object({ host: z.string(), port: z.number().int().optional(), user: z.string().optional(), hostKey: z.string().optional(), privateKeyFile: z.string().optional() })
      .optional(),
  })
  .refine((c) => c.lab !== undefined || c.host !== undefined, "needs either lab: <box> or host: <address>");
export type ConnectionConfig = z.infer<typeof connectionConfigSchema>;

const port = z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}:\d{1,5}$/, "must be a port or 'low:high'")]);

export const firewallRuleConfigSchema = z
  .object({
    name,
    chain: z.enum(["input", "forward", "both"]).default("both"),
    action: z.enum(["accept", "drop", "reject"]),
    rejectWith: z.enum(REJECT_WITH).optional(),
    source: z.string().optional(),
    destination: z.string().optional(),
    inInterface: z.string().optional(),
    outInterface: z.string().optional(),
    protocol: z.enum(["tcp", "udp", "icmpv6", "esp", "ah"]).optional(),
    port: port.optional(),
    sourcePort: port.optional(),
    icmpv6Type: z.union([z.enum(Object.keys(ICMPV6_TYPES) as [keyof typeof ICMPV6_TYPES]), z.number().int().min(0).max(255)]).optional(),
    state: z.array(z.enum(CONN_STATES)).optional(),
    limit: z.string().regex(/^\d+\/(sec|second|min|minute|hour|day)$/, "must look like 10/sec").optional(),
    extraMatches: z.string().optional().describe("raw ip6tables matches; the box's kernel checks them at preview"),
  })
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if ((r.port !== undefined || r.sourcePort !== undefined) && r.protocol !== "tcp" && r.protocol !== "udp") {
      issue("port", "needs protocol tcp or udp");
    }
    if (r.icmpv6Type !== undefined && r.protocol !== "icmpv6") issue("icmpv6Type", "needs protocol icmpv6");
    if (r.rejectWith !== undefined && r.action !== "reject") issue("rejectWith", "only applies to action reject");
    if (r.rejectWith === "tcp-reset" && r.protocol !== "tcp") issue("rejectWith", "tcp-reset needs protocol tcp");
    for (const k of ["source", "destination"] as const) {
      const v = r[k]?.replace(/^!/, "");
      if (v !== undefined && !isIpv6Prefix(v.includes("/") ? v : `${v}/128`)) issue(k, "is not an IPv6 address or prefix");
    }
  });
export type FirewallRuleConfig = z.infer<typeof firewallRuleConfigSchema>;

const wireguardSchema = z.object({
  kind: z.literal("wireguard"),
  interface: ifname.default("wg0"),
  lab: z.boolean().default(false).describe("take endpoint, keys, address and prefix from the lab's isp"),
  endpoint: hostPort.optional(),
  peerPublicKey: z.string().optional(),
  address: z.string().optional().describe("the gateway's address on the tunnel, with length"),
  routedPrefix: prefix.optional().describe("the prefix the far end routes to us"),
  persistentKeepalive: z.number().int().min(0).max(65535).default(25),
  mtu: z.number().int().min(1280).max(65535).optional(),
});

const gw6cSchema = z
  .object({
    kind: z.literal("gw6c"),
    source: z.object({
      tarball: z.string().describe("path to the gw6c source tarball on the machine running pulumi"),
      subdir: z.string().default("tspc-advanced").describe("directory inside the tarball holding the Makefile"),
      makeArgs: z.array(z.string()).default([]).describe("extra make variables, e.g. ['CFLAGS=-fcommon']"),
    }),
    installDir: z.string().regex(/^\/[A-Za-z0-9_./-]+$/, "must be an absolute path").default("/usr/local/gw6c"),
    server: z.string(),
    userid: z.string().default(""),
    authMethod: z.enum(["anonymous", "any", "digest-md5", "plain", "passdss-3des-1"]).default("any"),
    hostType: z.enum(["host", "router"]).default("router"),
    prefixlen: z.number().int().default(64),
    tunnelMode: z.enum(["v6anyv4", "v6v4", "v6udpv4", "v4v6"]).default("v6anyv4"),
    logFile: z.number().int().min(0).max(3).default(2),
    retryDelay: z.number().int().default(30),
    expectedPrefix: prefix.optional().describe("the /64 the broker delegates, if known: lets clients' addresses show at preview"),
    watchdog: z.boolean().default(true),
    settings: z.record(z.string(), z.unknown()).default({}).describe("any other gw6c.conf key, camelCase (keepaliveInterval, dnsServer ...)"),
  })
  .describe("gw6c (TSP) as in the HOWTO; router mode runs its own radvd");

const sit6in4Schema = z.object({
  kind: z.literal("sit6in4"),
  interface: ifname.default("he-ipv6"),
  serverIpv4: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address"),
  clientIpv4: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address").optional(),
  clientIpv6: z.string().describe("this side's tunnel address with length, e.g. 2001:db8:ffff:200::2/64"),
  routedPrefix: prefix,
  mtu: z.number().int().min(1280).max(1480).default(1480),
  ttl: z.number().int().min(1).max(255).default(255),
  heUpdate: z.object({ tunnelId: z.string(), username: z.string() }).optional(),
});

export const siteConfigSchema = z
  .object({
    gateway: z.object({
      connection: connectionConfigSchema,
      lanInterface: ifname.default("eth0"),
      uplinkInterface: ifname.optional(),
      uplinkAutoconf: z.boolean().default(false).describe("the uplink takes RAs from the ISP: keep accepting them with forwarding on (accept_ra=2)"),
    }),
    tunnel: z.discriminatedUnion("kind", [wireguardSchema, gw6cSchema, sit6in4Schema]),
    lan: z
      .object({
        prefix: prefix.optional().describe("the /64 advertised on the LAN; default: the first /64 of the routed prefix"),
        ula: z.union([z.boolean(), prefix]).default(false).describe("also advertise an RFC 4193 ULA /64: true generates one, or give the /48"),
      })
      .default({ ula: false }),
    radvd: z
      .object({
        minInterval: z.number().int().min(3).optional(),
        maxInterval: z.number().int().min(4).max(1800).optional(),
        rdnss: z.array(z.string()).default([]),
        dnssl: z.array(z.string()).default([]),
      })
      .default({ rdnss: [], dnssl: [] }),
    firewall: z
      .object({
        preset: z.enum(PRESETS).default("howto"),
        icmpv6: z.boolean().default(true).describe("howto: accept all ICMPv6 (outsiders can ping LAN hosts); rfc4890: accept unsolicited echo-request"),
        rules: z.array(firewallRuleConfigSchema).default([]),
        rollbackSeconds: z.number().int().min(10).max(3600).default(60),
        clampMss: z.boolean().default(true),
      })
      .default({ preset: "howto", icmpv6: true, rules: [], rollbackSeconds: 60, clampMss: true }),
    clients: z
      .array(
        z.object({
          name,
          connection: connectionConfigSchema,
          interface: ifname.default("eth0"),
          privacy: z.boolean().default(false).describe("RFC 4941 temporary addresses for outgoing connections"),
        }),
      )
      .default([]),
    checks: z
      .object({
        pingTarget: z.string().default("2001:db8:ffff::1"),
        httpUrl: z.string().optional(),
        outside: z.object({ connection: connectionConfigSchema, port: z.number().int().default(80) }).optional(),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const names = new Set<string>();
    s.firewall.rules.forEach((r, i) => {
      if (names.has(r.name)) issue(["firewall", "rules", i, "name"], `'${r.name}' is used twice; rule names must be unique`);
      names.add(r.name);
      if (s.firewall.preset === "howto" && r.chain !== "both") {
        issue(["firewall", "rules", i, "chain"], "the howto preset has one chain for INPUT and FORWARD (IPV6-INPUT); leave chain at 'both' or use preset rfc4890");
      }
    });
    const clientNames = new Set<string>();
    s.clients.forEach((c, i) => {
      if (clientNames.has(c.name)) issue(["clients", i, "name"], `'${c.name}' is used twice`);
      clientNames.add(c.name);
    });
    if (s.lan.prefix && parsePrefix(s.lan.prefix).length !== 64) issue(["lan", "prefix"], "must be a /64: SLAAC needs 64-bit interface identifiers");
    const t = s.tunnel;
    if (t.kind === "wireguard" && !t.lab) {
      for (const k of ["endpoint", "peerPublicKey", "address", "routedPrefix"] as const) {
        if (t[k] === undefined) issue(["tunnel", k], "is required for a wireguard tunnel (or set lab: true on a lab stack)");
      }
    }
    if (t.kind === "gw6c" && t.hostType === "host" && !s.lan.prefix) {
      issue(["tunnel", "hostType"], "host mode gets no prefix for the LAN; use hostType router, or give lan.prefix");
    }
  });

export type SiteConfig = z.infer<typeof siteConfigSchema>;

/** Parses `ipv6gw:site`, or throws one error listing every problem with its key path. */
export function parseSiteConfig(value: unknown): SiteConfig {
  const result = siteConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ipv6gw:site.${i.path.join(".")}: ${i.message}`);
  throw configError(`stack config has ${lines.length} problem(s):\n${lines.join("\n")}\nFix them in stacks/Pulumi.<stack>.yaml.`);
}
