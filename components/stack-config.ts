// From a stack's configuration to Ipv6Site args: check the `ipv6gw:` keys,
// parse `ipv6gw:site`, read and check the secrets, resolve lab boxes from
// lab.json, check every connection, and only then read every box's facts over
// SSH (at preview too: they decide what gets built and fail early).

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, ConnectionConfig, SECRET_KEYS, SiteConfig, parseSiteConfig, throwProblems } from "./config";
import { Connection, connectionSchema } from "./host/connection";
import { HostFactsData, getHostFacts } from "./host/host-facts";
import type { FactsReader } from "./host/command-facts";
import { closestName, wireguardKeyProblem } from "./net/values";
import { Problem, problem, under, zodProblems } from "./problems";
import { Ipv6SiteArgs, TunnelSpec } from "./site";
import { heUpdateKeyProblem } from "./tunnel/sit6in4-tunnel";
import { traceMark } from "./trace";
import { configError } from "./user-error";
import { LabJson, parseLabJson } from "../lab/lab-json";

/** The lab's lab.json (npm run lab -- up), read through the schema the lab writes it with. */
export type LabFile = LabJson;

export function readLabFile(file: string): LabFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw configError(`lab file ${file} is missing: start the lab first (npm run lab -- up), or remove ipv6gw:lab from this stack`);
  }
  try {
    return parseLabJson(text, file);
  } catch (e) {
    throw configError((e as Error).message);
  }
}

function expandHome(p: string): string {
  return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/** `ipv6gw:` keys this program does not read: a typo would otherwise be ignored. */
export function unknownConfigKeys(all: Readonly<Record<string, unknown>>): Problem[] {
  return Object.keys(all)
    .filter((k) => k.startsWith("ipv6gw:") && !(CONFIG_KEYS as readonly string[]).includes(k.slice("ipv6gw:".length)))
    .map((k) => {
      const near = closestName(k.slice("ipv6gw:".length), CONFIG_KEYS);
      return problem([k], `is not a key this program reads${near ? ` (did you mean ipv6gw:${near}?)` : `; it reads ipv6gw:${CONFIG_KEYS.join(", ipv6gw:")}`}`);
    });
}

export type Secrets = { readonly [K in keyof typeof SECRET_KEYS]?: string };

/** What is wrong with the secrets given (never their values). */
export function secretProblems(s: Secrets): Problem[] {
  const problems: Problem[] = [];
  const say = (key: keyof typeof SECRET_KEYS, why: string | undefined) => why && problems.push(problem([`ipv6gw:${key}`], why));
  if (s.wireguardPrivateKey !== undefined) say("wireguardPrivateKey", wireguardKeyProblem(s.wireguardPrivateKey) && "is not a WireGuard private key (44 characters of base64: the output of wg genkey)");
  if (s.gw6cPassword !== undefined) {
    say("gw6cPassword", !/^[\x21-\x7e]([\x20-\x7e]{0,126}[\x21-\x7e])?$/.test(s.gw6cPassword) ? "must be 1-128 printable ASCII characters without surrounding spaces (gw6c.conf's passwd)" : undefined);
  }
  if (s.heUpdateKey !== undefined) say("heUpdateKey", heUpdateKeyProblem(s.heUpdateKey));
  if (s.sshPrivateKey !== undefined) say("sshPrivateKey", /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(s.sshPrivateKey) ? undefined : "is not a private key in OpenSSH or PEM format: give the key's contents, not its path");
  return problems;
}

/** A secret config value as a plain string (the program needs some to read facts), or undefined. */
async function plainSecret(config: pulumi.Config, key: string): Promise<string | undefined> {
  const out = config.getSecret(key);
  if (out === undefined) return undefined;
  return new Promise((resolve) => out.apply((v) => resolve(v)));
}

/** A connection from the config, plain (for facts; `secretConnection` marks its secrets for resources). */
export function resolveConnection(c: ConnectionConfig, where: string, secrets: Secrets, lab?: LabFile): Connection {
  const readKey = (file: string) => {
    try {
      return fs.readFileSync(expandHome(file), "utf8");
    } catch (e) {
      throw configError(`${where}.privateKeyFile: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  if (c.lab !== undefined) {
    if (!lab) throw configError(`${where}.lab: 'lab: ${c.lab}' needs ipv6gw:lab (the path of lab.json) in this stack`);
    const box = lab.boxes[c.lab as keyof LabFile["boxes"]];
    if (!box) throw configError(`${where}.lab: the lab has no box '${c.lab}' (it has ${Object.keys(lab.boxes).join(", ")})`);
    return { host: box.host, port: box.port, user: c.user ?? box.user, hostKey: box.hostKey, privateKey: readKey(lab.sshPrivateKeyPath) };
  }
  const privateKey = c.privateKeyFile ? readKey(c.privateKeyFile) : secrets.sshPrivateKey;
  return {
    host: c.host!,
    port: c.port,
    user: c.user,
    hostKey: c.hostKey,
    dangerouslySkipHostKeyCheck: c.dangerouslySkipHostKeyCheck,
    privateKey,
    password: privateKey ? undefined : secrets.sshPassword,
    proxy: c.proxy ? { host: c.proxy.host, port: c.proxy.port, user: c.proxy.user, hostKey: c.proxy.hostKey, privateKey: c.proxy.privateKeyFile ? readKey(c.proxy.privateKeyFile) : privateKey } : undefined,
  };
}

/** What would stop this connection from being dialled, before anyone dials it. */
export function connectionProblems(c: Connection): Problem[] {
  const parsed = connectionSchema().safeParse(c);
  if (parsed.success) return [];
  return zodProblems(parsed.error).map((p) =>
    p.path[0] === "privateKey" && /no credential/.test(p.message)
      ? problem([], "has no credential: set privateKeyFile, or the secrets ipv6gw:sshPrivateKey or ipv6gw:sshPassword")
      : p,
  );
}

/** The connection as a resource input: key and password secret. */
export function secretConnection(c: Connection): pulumi.Output<Connection> {
  return pulumi.output({
    ...c,
    privateKey: c.privateKey === undefined ? undefined : pulumi.secret(c.privateKey),
    password: c.password === undefined ? undefined : pulumi.secret(c.password),
    proxy: c.proxy ? { ...c.proxy, privateKey: c.proxy.privateKey === undefined ? undefined : pulumi.secret(c.proxy.privateKey) } : undefined,
  }) as pulumi.Output<Connection>;
}

/** How the program reads a box's facts: over SSH each time, or from a cache (the command's, or a fleet run's). */
export type { FactsReader };

/** What a program run by a fleet preview (scripts/fleet.ts) gets; the CLI passes nothing. */
export interface ProgramOptions {
  readonly readFacts?: FactsReader;
}

async function facts(read: FactsReader, conn: Connection, who: string): Promise<HostFactsData> {
  const started = Date.now();
  try {
    return await read(conn);
  } catch (e) {
    throw configError(`cannot read the facts of ${who}: ${(e as Error).message}`);
  } finally {
    traceMark("program", "facts", { box: who, ms: Date.now() - started });
  }
}

function tunnelSpec(site: SiteConfig, secrets: Secrets, lab?: LabFile): TunnelSpec {
  const t = site.tunnel;
  switch (t.kind) {
    case "wireguard": {
      if (t.lab && !lab) throw configError("ipv6gw:site.tunnel.lab is true but the stack has no ipv6gw:lab");
      const { lab: fromLab, ...settings } = t;
      const w = fromLab ? lab!.wireguard : undefined;
      const privateKey = w?.privateKey ?? secrets.wireguardPrivateKey;
      if (!privateKey) throw configError("the wireguard tunnel needs its private key: pulumi config set --secret ipv6gw:wireguardPrivateKey \"$(wg genkey)\"");
      return {
        ...settings,
        privateKey: pulumi.secret(privateKey),
        endpoint: t.endpoint ?? w!.endpoint,
        peerPublicKey: t.peerPublicKey ?? w!.peerPublicKey,
        address: t.address ?? w!.address,
        routedPrefix: t.routedPrefix ?? w!.routedPrefix,
      };
    }
    case "gw6c":
      if (t.authMethod !== "anonymous" && !secrets.gw6cPassword) {
        throw configError("gw6c with an account needs its password: pulumi config set --secret ipv6gw:gw6cPassword <password> (or authMethod: anonymous)");
      }
      return { ...t, password: secrets.gw6cPassword === undefined ? undefined : pulumi.secret(secrets.gw6cPassword) };
    case "sit6in4":
      if (t.heUpdate && !secrets.heUpdateKey) throw configError("heUpdate needs the tunnel's update key: pulumi config set --secret ipv6gw:heUpdateKey <key>");
      return { ...t, heUpdate: t.heUpdate ? { ...t.heUpdate, updateKey: pulumi.secret(secrets.heUpdateKey!) } : undefined };
    case "dhcpv6-pd":
      // No secrets: the ISP's DHCPv6 server knows the gateway by its DUID.
      return t;
  }
}

/** Everything Ipv6Site needs, from this stack's configuration. */
export async function loadSiteArgs(config = new pulumi.Config("ipv6gw"), readFacts: FactsReader = getHostFacts): Promise<Ipv6SiteArgs> {
  throwProblems("", unknownConfigKeys(pulumi.runtime.allConfig()), "Fix the key in stacks/Pulumi.<stack>.yaml (or pulumi config rm it).");
  const site = parseSiteConfig(config.requireObject("site"));
  const labPath = config.get("lab");
  const lab = labPath ? readLabFile(labPath) : undefined;
  const secrets: Secrets = Object.fromEntries(
    await Promise.all(Object.keys(SECRET_KEYS).map(async (k) => [k, await plainSecret(config, k)] as const)),
  );
  throwProblems("", secretProblems(secrets), "Set it again with pulumi config set --secret.");

  // Every connection is resolved and checked before the first one is dialled.
  const gwConn = resolveConnection(site.gateway.connection, "ipv6gw:site.gateway.connection", secrets, lab);
  const clientConns = site.clients.map((c, i) => resolveConnection(c.connection, `ipv6gw:site.clients[${i}].connection`, secrets, lab));
  const outsideConn = site.checks?.outside ? resolveConnection(site.checks.outside.connection, "ipv6gw:site.checks.outside.connection", secrets, lab) : undefined;
  throwProblems("ipv6gw:site", [
    ...under(["gateway", "connection"], connectionProblems(gwConn)),
    ...clientConns.flatMap((c, i) => under(["clients", i, "connection"], connectionProblems(c))),
    ...(outsideConn ? under(["checks", "outside", "connection"], connectionProblems(outsideConn)) : []),
  ]);

  const [gwFacts, ...clientFacts] = await Promise.all([facts(readFacts, gwConn, "the gateway"), ...site.clients.map((c, i) => facts(readFacts, clientConns[i], `client ${c.name}`))]);
  return {
    gateway: { ...site.gateway, connection: secretConnection(gwConn), facts: gwFacts },
    tunnel: tunnelSpec(site, secrets, lab),
    lan: site.lan,
    radvd: site.radvd,
    firewall: site.firewall,
    clients: site.clients.map((c, i) => ({ ...c, connection: secretConnection(clientConns[i]), facts: clientFacts[i] })),
    checks: site.checks
      ? {
          ...site.checks,
          httpUrl: site.checks.httpUrl ?? lab?.outside.url,
          outside: outsideConn ? { connection: secretConnection(outsideConn), port: site.checks.outside!.port } : undefined,
        }
      : undefined,
  };
}
