// From a stack's configuration to Ipv6Site args: parse `ipv6gw:site`, read
// secrets, resolve lab boxes from lab.json, and read every box's facts over
// SSH (at preview too: they decide what gets built and fail early).

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConnectionConfig, SiteConfig, parseSiteConfig } from "./config";
import { Connection } from "./host/connection";
import { HostFactsData, getHostFacts } from "./host/host-facts";
import { Ipv6SiteArgs, TunnelSpec } from "./site";
import { configError } from "./user-error";

/** The part of the lab's lab.json (npm run lab -- up) a stack uses. */
export interface LabFile {
  readonly version: number;
  readonly sshPrivateKeyPath: string;
  readonly boxes: Readonly<Record<string, { readonly host: string; readonly port: number; readonly user: string; readonly hostKey: string }>>;
  readonly wireguard: { readonly endpoint: string; readonly peerPublicKey: string; readonly privateKey: string; readonly address: string; readonly routedPrefix: string };
  readonly outside: { readonly url: string; readonly pingTarget: string };
}

export function readLabFile(file: string): LabFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw configError(`lab file ${file} is missing: start the lab first (npm run lab -- up), or remove ipv6gw:lab from this stack`);
  }
  const lab = JSON.parse(text) as LabFile;
  if (lab.version !== 1) throw configError(`lab file ${file} has version ${lab.version}, this program reads version 1: run npm run lab -- up again`);
  return lab;
}

function expandHome(p: string): string {
  return p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

function readKey(file: string, where: string): string {
  try {
    return fs.readFileSync(expandHome(file), "utf8");
  } catch (e) {
    throw configError(`${where}: cannot read privateKeyFile ${file}: ${(e as Error).message}`);
  }
}

/** A secret config value as a plain string (the program needs some to read facts), or undefined. */
async function plainSecret(config: pulumi.Config, key: string): Promise<string | undefined> {
  const out = config.getSecret(key);
  if (out === undefined) return undefined;
  return new Promise((resolve) => out.apply((v) => resolve(v)));
}

export interface Secrets {
  readonly sshPrivateKey?: string;
  readonly sshPassword?: string;
  readonly wireguardPrivateKey?: string;
  readonly gw6cPassword?: string;
  readonly heUpdateKey?: string;
}

/** A connection from the config, plain (for facts) and as resource input (secrets marked). */
export function resolveConnection(c: ConnectionConfig, where: string, secrets: Secrets, lab?: LabFile): Connection {
  if (c.lab !== undefined) {
    if (!lab) throw configError(`${where}: 'lab: ${c.lab}' needs ipv6gw:lab (the path of lab.json) in this stack`);
    const box = lab.boxes[c.lab];
    if (!box) throw configError(`${where}: the lab has no box '${c.lab}' (it has ${Object.keys(lab.boxes).join(", ")})`);
    return { host: box.host, port: box.port, user: c.user ?? box.user, hostKey: box.hostKey, privateKey: readKey(lab.sshPrivateKeyPath, where) };
  }
  const privateKey = c.privateKeyFile ? readKey(c.privateKeyFile, where) : secrets.sshPrivateKey;
  return {
    host: c.host!,
    port: c.port,
    user: c.user,
    hostKey: c.hostKey,
    dangerouslySkipHostKeyCheck: c.dangerouslySkipHostKeyCheck,
    privateKey,
    password: privateKey ? undefined : secrets.sshPassword,
    proxy: c.proxy
      ? { host: c.proxy.host, port: c.proxy.port, user: c.proxy.user, hostKey: c.proxy.hostKey, privateKey: c.proxy.privateKeyFile ? readKey(c.proxy.privateKeyFile, where) : privateKey }
      : undefined,
  };
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

async function facts(conn: Connection, who: string): Promise<HostFactsData> {
  try {
    return await getHostFacts(conn);
  } catch (e) {
    throw configError(`cannot read the facts of ${who}: ${(e as Error).message}`);
  }
}

function tunnelSpec(site: SiteConfig, secrets: Secrets, lab?: LabFile): TunnelSpec {
  const t = site.tunnel;
  switch (t.kind) {
    case "wireguard": {
      if (t.lab && !lab) throw configError("ipv6gw:site.tunnel.lab is true but the stack has no ipv6gw:lab");
      const w = t.lab ? lab!.wireguard : undefined;
      const privateKey = w?.privateKey ?? secrets.wireguardPrivateKey;
      if (!privateKey) throw configError("the wireguard tunnel needs its private key: pulumi config set --secret ipv6gw:wireguardPrivateKey \"$(wg genkey)\"");
      return {
        kind: "wireguard",
        interface: t.interface,
        privateKey: pulumi.secret(privateKey),
        endpoint: t.endpoint ?? w!.endpoint,
        peerPublicKey: t.peerPublicKey ?? w!.peerPublicKey,
        address: t.address ?? w!.address,
        routedPrefix: t.routedPrefix ?? w!.routedPrefix,
        persistentKeepalive: t.persistentKeepalive,
        mtu: t.mtu,
      };
    }
    case "gw6c": {
      if (t.authMethod !== "anonymous" && !secrets.gw6cPassword) {
        throw configError("gw6c with an account needs its password: pulumi config set --secret ipv6gw:gw6cPassword <password> (or authMethod: anonymous)");
      }
      return {
        kind: "gw6c",
        tarball: expandHome(t.source.tarball),
        subdir: t.source.subdir,
        makeArgs: t.source.makeArgs,
        installDir: t.installDir,
        conf: {
          ...(t.settings as object),
          server: t.server,
          userid: t.userid,
          authMethod: t.authMethod,
          hostType: t.hostType,
          prefixlen: t.prefixlen,
          tunnelMode: t.tunnelMode,
          logFile: t.logFile as 0 | 1 | 2 | 3,
          retryDelay: t.retryDelay,
        },
        password: secrets.gw6cPassword === undefined ? undefined : pulumi.secret(secrets.gw6cPassword),
        expectedPrefix: t.expectedPrefix,
        watchdog: t.watchdog,
      };
    }
    case "sit6in4":
      if (t.heUpdate && !secrets.heUpdateKey) throw configError("heUpdate needs the tunnel's update key: pulumi config set --secret ipv6gw:heUpdateKey <key>");
      return {
        kind: "sit6in4",
        interface: t.interface,
        serverIpv4: t.serverIpv4,
        clientIpv4: t.clientIpv4,
        clientIpv6: t.clientIpv6,
        routedPrefix: t.routedPrefix,
        mtu: t.mtu,
        ttl: t.ttl,
        heUpdate: t.heUpdate ? { ...t.heUpdate, updateKey: pulumi.secret(secrets.heUpdateKey!) } : undefined,
      };
  }
}

/** Everything Ipv6Site needs, from this stack's configuration. */
export async function loadSiteArgs(config = new pulumi.Config("ipv6gw")): Promise<Ipv6SiteArgs> {
  const site = parseSiteConfig(config.requireObject("site"));
  const labPath = config.get("lab");
  const lab = labPath ? readLabFile(labPath) : undefined;
  const secrets: Secrets = {
    sshPrivateKey: await plainSecret(config, "sshPrivateKey"),
    sshPassword: await plainSecret(config, "sshPassword"),
    wireguardPrivateKey: await plainSecret(config, "wireguardPrivateKey"),
    gw6cPassword: await plainSecret(config, "gw6cPassword"),
    heUpdateKey: await plainSecret(config, "heUpdateKey"),
  };
  const gwConn = resolveConnection(site.gateway.connection, "ipv6gw:site.gateway.connection", secrets, lab);
  const clientConns = site.clients.map((c, i) => resolveConnection(c.connection, `ipv6gw:site.clients[${i}].connection`, secrets, lab));
  const outsideConn = site.checks?.outside ? resolveConnection(site.checks.outside.connection, "ipv6gw:site.checks.outside.connection", secrets, lab) : undefined;
  const [gwFacts, ...clientFacts] = await Promise.all([facts(gwConn, "the gateway"), ...site.clients.map((c, i) => facts(clientConns[i], `client ${c.name}`))]);
  return {
    gateway: {
      connection: secretConnection(gwConn),
      facts: gwFacts,
      lanInterface: site.gateway.lanInterface,
      uplinkInterface: site.gateway.uplinkInterface,
      uplinkAutoconf: site.gateway.uplinkAutoconf,
    },
    tunnel: tunnelSpec(site, secrets, lab),
    lan: { prefix: site.lan.prefix, ula: site.lan.ula },
    radvd: site.radvd,
    firewall: { ...site.firewall, rules: site.firewall.rules },
    clients: site.clients.map((c, i) => ({ name: c.name, connection: secretConnection(clientConns[i]), facts: clientFacts[i], interface: c.interface, privacy: c.privacy })),
    checks: site.checks
      ? {
          pingTarget: site.checks.pingTarget,
          httpUrl: site.checks.httpUrl ?? lab?.outside.url,
          outside: outsideConn ? { connection: secretConnection(outsideConn), port: site.checks.outside!.port } : undefined,
        }
      : undefined,
  };
}
