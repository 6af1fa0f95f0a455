// Hostile values in every string field of the stack file's schema, and in
// every secret: each is refused at preview with its key path, or, where a
// field takes free text (a path on the machine running pulumi, a password),
// accepted and proven to travel as data: never into a script or a ruleset.
// The fields come from walking the schema itself, and each must be listed in
// FIELDS below, so a field added to the schema without joining this test
// fails it. test/e2e/hostile-values.test.ts proves the accepted ones inert on
// the lab's boxes.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { z } from "zod";
import { SECRET_KEYS, parseSiteConfig, siteConfigSchema } from "../../components/config";
import { secretProblems } from "../../components/stack-config";
import { HOSTILE_VALUES } from "../fixtures/hostile-values";
import { checksArgsSchema, dhcpv6PdUplinkArgsSchema, firewallArgsSchema, gatewayHostArgsSchema, gw6cTunnelArgsSchema, ipv6ClientArgsSchema, ipv6SiteArgsSchema, radvdArgsSchema, sit6in4TunnelArgsSchema, wireguardTunnelArgsSchema } from "../../components";

/** What a field is, and so what it may accept. */
type Kind =
  | "typed" // refuses every hostile value
  | "local-path"; // a path on the machine running pulumi: free text that never reaches a box

/** Every string leaf of the schema, by path ("[]" for array elements, "<kind>" for the tunnel's variants). */
const FIELDS: Record<string, Kind> = {
  "gateway.lanInterface": "typed",
  "gateway.uplinkInterface": "typed",
  "gateway.connection.lab": "typed",
  "gateway.connection.host": "typed",
  "gateway.connection.user": "typed",
  "gateway.connection.hostKey": "typed",
  "gateway.connection.privateKeyFile": "local-path",
  "gateway.connection.proxy.host": "typed",
  "gateway.connection.proxy.user": "typed",
  "gateway.connection.proxy.hostKey": "typed",
  "gateway.connection.proxy.privateKeyFile": "local-path",
  "tunnel<wireguard>.interface": "typed",
  "tunnel<wireguard>.endpoint": "typed",
  "tunnel<wireguard>.peerPublicKey": "typed",
  "tunnel<wireguard>.address": "typed",
  "tunnel<wireguard>.routedPrefix": "typed",
  "tunnel<gw6c>.source.tarball": "local-path",
  "tunnel<gw6c>.source.subdir": "typed",
  "tunnel<gw6c>.source.makeArgs[]": "typed",
  "tunnel<gw6c>.installDir": "typed",
  "tunnel<gw6c>.server": "typed",
  "tunnel<gw6c>.userid": "typed",
  "tunnel<gw6c>.expectedPrefix": "typed",
  "tunnel<gw6c>.settings.dnsServer[]": "typed",
  "tunnel<gw6c>.settings.ifTunnelV6v4": "typed",
  "tunnel<gw6c>.settings.ifTunnelV6udpv4": "typed",
  "tunnel<gw6c>.settings.ifTunnelV4v6": "typed",
  "tunnel<gw6c>.settings.clientV4": "typed",
  "tunnel<gw6c>.settings.clientV6": "typed",
  "tunnel<gw6c>.settings.brokerList": "typed",
  "tunnel<gw6c>.settings.lastServer": "typed",
  "tunnel<gw6c>.settings.logFilename": "typed",
  "tunnel<sit6in4>.interface": "typed",
  "tunnel<sit6in4>.serverIpv4": "typed",
  "tunnel<sit6in4>.clientIpv4": "typed",
  "tunnel<sit6in4>.clientIpv6": "typed",
  "tunnel<sit6in4>.routedPrefix": "typed",
  "tunnel<sit6in4>.heUpdate.tunnelId": "typed",
  "tunnel<sit6in4>.heUpdate.username": "typed",
  "tunnel<dhcpv6-pd>.wanInterface": "typed",
  "tunnel<dhcpv6-pd>.lans[].interface": "typed",
  "tunnel<dhcpv6-pd>.lans[].rdnss[]": "typed",
  "tunnel<dhcpv6-pd>.lans[].dnssl[]": "typed",
  "lan.prefix": "typed",
  "lan.ula": "typed",
  "radvd.rdnss[]": "typed",
  "radvd.dnssl[]": "typed",
  "firewall.rules[].name": "typed",
  "firewall.rules[].source": "typed",
  "firewall.rules[].destination": "typed",
  "firewall.rules[].inInterface": "typed",
  "firewall.rules[].outInterface": "typed",
  "firewall.rules[].port": "typed",
  "firewall.rules[].sourcePort": "typed",
  "firewall.rules[].limit": "typed",
  "firewall.rules[].extraMatches": "typed",
  "clients[].name": "typed",
  "clients[].interface": "typed",
  "clients[].lan": "typed",
  "clients[].networkFile": "typed",
  "clients[].connection.lab": "typed",
  "clients[].connection.host": "typed",
  "clients[].connection.user": "typed",
  "clients[].connection.hostKey": "typed",
  "clients[].connection.privateKeyFile": "local-path",
  "clients[].connection.proxy.host": "typed",
  "clients[].connection.proxy.user": "typed",
  "clients[].connection.proxy.hostKey": "typed",
  "clients[].connection.proxy.privateKeyFile": "local-path",
  "checks.pingTarget": "typed",
  "checks.httpUrl": "typed",
  "checks.outside.connection.lab": "typed",
  "checks.outside.connection.host": "typed",
  "checks.outside.connection.user": "typed",
  "checks.outside.connection.hostKey": "typed",
  "checks.outside.connection.privateKeyFile": "local-path",
  "checks.outside.connection.proxy.host": "typed",
  "checks.outside.connection.proxy.user": "typed",
  "checks.outside.connection.proxy.hostKey": "typed",
  "checks.outside.connection.proxy.privateKeyFile": "local-path",
};

type Leaf = readonly [path: string, schema: z.ZodType];

/** The schema's string leaves (a union with a string member counts), walked from zod's own definitions. */
function leaves(schema: z.ZodType, at = ""): Leaf[] {
  const d = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const inner = (s: unknown) => leaves(s as z.ZodType, at);
  switch (d.type) {
    case "object":
      return Object.entries(d.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leaves(v, at ? `${at}.${k}` : k));
    case "optional":
    case "default":
    case "prefault":
    case "readonly":
    case "nullable":
      return inner(d.innerType);
    case "array":
      return leaves(d.element as z.ZodType, `${at}[]`);
    case "pipe":
      return inner(d.in);
    case "union": {
      const options = d.options as z.ZodType[];
      const key = d.discriminator as string | undefined;
      if (!key) return options.flatMap(inner).filter(([p], i, all) => all.findIndex(([q]) => q === p) === i);
      return options.flatMap((o) => {
        const kind = ((o as unknown as { shape: Record<string, { value: string }> }).shape[key]).value;
        return leaves(o, `${at}<${kind}>`);
      });
    }
    case "string":
      return [[at, schema]];
    default:
      return [];
  }
}

const lab = () => parse(fs.readFileSync(path.join(__dirname, "../../stacks/Pulumi.lab.yaml"), "utf8")).config["ipv6gw:site"];
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKi0T01RggbGXVQcwimgy5tZDId2EEabCN2uqYY1iUQp";
const byHost = () => ({ host: "192.0.2.1", hostKey: HOST_KEY, privateKeyFile: "/keys/gw", proxy: { host: "198.51.100.1", hostKey: HOST_KEY, user: "admin", privateKeyFile: "/keys/jump" } });

/** A valid site in which the field at `field` exists, so a value put there is judged on its own. */
function baseFor(field: string): Record<string, unknown> {
  const site = lab();
  const tunnel = /^tunnel<([\w-]+)>/.exec(field)?.[1];
  if (tunnel === "wireguard") site.tunnel = { kind: "wireguard", endpoint: "198.51.100.1:51820", peerPublicKey: "cHVibGlja2V5cHVibGlja2V5cHVibGlja2V5cHViMDA=", address: "2001:db8:ffff:100::2/64", routedPrefix: "2001:db8:8888::/48" };
  if (tunnel === "gw6c") {
    site.tunnel = { kind: "gw6c", source: { tarball: "gw6c.tgz", makeArgs: ["CFLAGS=-O2"] }, server: "broker.example.net", settings: { dnsServer: ["ns1.example.net"] } };
    site.lan = { prefix: "2001:db8:8888::/64" };
  }
  if (tunnel === "dhcpv6-pd") {
    site.tunnel = { kind: "dhcpv6-pd", wanInterface: "wan0", lans: [{ interface: "eth0", subnetId: 0, rdnss: ["2001:db8::53"], dnssl: ["example.net"] }] };
    delete site.gateway.lanInterface;
  }
  if (tunnel === "sit6in4") site.tunnel = { kind: "sit6in4", serverIpv4: "198.51.100.1", clientIpv6: "2001:db8:ffff:200::2/64", routedPrefix: "2001:db8:8888::/48", heUpdate: { tunnelId: "123456", username: "todd" } };
  site.lan ??= {};
  site.radvd = { rdnss: ["2001:db8::53"], dnssl: ["example.net"] };
  site.firewall = { rules: [{ name: "rule", action: "accept", protocol: "tcp", port: 22 }] };
  site.clients = [{ name: "c1", lan: "eth0", connection: { lab: "c1" } }];
  site.checks = { pingTarget: "2001:db8:ffff::1", outside: { connection: { lab: "outside" } } };
  const connection = /^(gateway|clients\[\]|checks\.outside)\.connection\.(\w+)/.exec(field);
  if (connection && connection[2] !== "lab") {
    if (connection[1] === "gateway") site.gateway = { ...site.gateway, connection: byHost() };
    if (connection[1] === "clients[]") site.clients = [{ name: "c1", connection: byHost() }];
    if (connection[1] === "checks.outside") site.checks = { ...site.checks, outside: { connection: byHost() } };
  }
  return site;
}

/** Sets the value at a FIELDS path (array elements: the first) and returns its key path as errors print it. */
function put(site: Record<string, unknown>, field: string, value: unknown): string {
  const parts = field.replace(/<[\w-]+>/, "").replace(/\[\]/g, ".[0]").split(".");
  let at: Record<string, unknown> = site;
  parts.forEach((p, i) => {
    const key = p === "[0]" ? 0 : p;
    if (i === parts.length - 1) (at as Record<string | number, unknown>)[key] = value;
    else at = (at as Record<string | number, Record<string, unknown>>)[key];
  });
  return `ipv6gw:site.${field.replace(/<[\w-]+>/, "").replace(/\[\]/g, "[0]")}`;
}

function problemLines(site: unknown): string[] {
  try {
    parseSiteConfig(site);
    return [];
  } catch (e) {
    return (e as Error).message.split("\n").slice(1, -1).map((l) => l.trim());
  }
}

describe("hostile values in the stack file", () => {
  it("walks every string field of the schema, and each is listed here with what it may accept", () => {
    expect(leaves(siteConfigSchema).map(([p]) => p).sort()).toEqual(Object.keys(FIELDS).sort());
  });

  it("starts from sites that parse, for every field", () => {
    for (const field of Object.keys(FIELDS)) expect([field, problemLines(baseFor(field))]).toEqual([field, []]);
  });

  const cases = Object.entries(FIELDS).flatMap(([field, kind]) => HOSTILE_VALUES.map((v) => [field, kind, v.name, v.value] as const));

  it.each(cases)("%s (%s): %s", (field, kind, _name, value) => {
    const site = baseFor(field);
    const keyPath = put(site, field, value);
    const problems = problemLines(site);
    if (kind === "typed") {
      // Refused, and the message names the field.
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.some((p) => p.startsWith(`${keyPath}: `))).toBe(true);
    } else {
      // Free text on the machine running pulumi: refused if it is not one printable line; otherwise taken
      // as a path only (test/e2e/hostile-values.test.ts shows it never reaches a box).
      const printable = typeof value === "string" && /^[\x20-\x7e]{1,4096}$/.test(value);
      expect(problems.some((p) => p.startsWith(`${keyPath}: `))).toBe(!printable);
    }
  });
});

describe("hostile values in the secrets", () => {
  // Passwords are free text: they reach boxes only on stdin or in 0600 files (test/e2e/hostile-values.test.ts).
  const FREE_TEXT = new Set(["sshPassword", "gw6cPassword"]);

  it("covers every secret key", () => {
    expect(Object.keys(SECRET_KEYS).sort()).toEqual(["gw6cPassword", "heUpdateKey", "sshPassword", "sshPrivateKey", "wireguardPrivateKey"]);
  });

  it.each(Object.keys(SECRET_KEYS).flatMap((key) => HOSTILE_VALUES.map((v) => [key, v.name, v.value] as const)))("%s: %s", (key, _name, value) => {
    const problems = secretProblems({ [key]: value });
    if (!FREE_TEXT.has(key)) expect(problems.map((p) => p.path.join("."))).toEqual([`ipv6gw:${key}`]);
    else if (key === "gw6cPassword") expect(problems.length).toBe(/^[\x21-\x7e]([\x20-\x7e]{0,126}[\x21-\x7e])?$/.test(value) ? 0 : 1);
    for (const p of problems) expect(p.message).not.toContain(value);
  });
});

describe("hostile values in the library's own args", () => {
  // What a program using the components passes goes through the same kinds of values: every string leaf of
  // every component's contract refuses hostile text, but the paths on the machine running pulumi.
  const LOCAL_PATHS = new Set(["tunnel<gw6c>.source.tarball", "source.tarball"]);
  const contracts = {
    Ipv6Site: ipv6SiteArgsSchema,
    GatewayHost: gatewayHostArgsSchema,
    Firewall: firewallArgsSchema,
    WireguardTunnel: wireguardTunnelArgsSchema,
    Gw6cTunnel: gw6cTunnelArgsSchema,
    Sit6in4Tunnel: sit6in4TunnelArgsSchema,
    Dhcpv6PdUplink: dhcpv6PdUplinkArgsSchema,
    Radvd: radvdArgsSchema,
    Ipv6Client: ipv6ClientArgsSchema,
    Checks: checksArgsSchema,
  };
  const cases = Object.entries(contracts).flatMap(([component, schema]) =>
    leaves(schema as z.ZodType)
      .filter(([p]) => !LOCAL_PATHS.has(p))
      .map(([p, leaf]) => [component, p, leaf] as const),
  );

  it("has string leaves to check", () => expect(cases.length).toBeGreaterThan(60));

  it.each(cases)("%s %s refuses every hostile value", (_component, _path, leaf) => {
    const accepted = HOSTILE_VALUES.filter((v) => leaf.safeParse(v.value).success).map((v) => v.name);
    expect(accepted).toEqual([]);
  });
});
