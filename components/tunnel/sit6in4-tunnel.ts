// Static 6in4 over sit, the Hurricane Electric tunnelbroker.net way, with
// HE's endpoint update when the gateway's IPv4 address changes. Needs the
// kernel's sit module, and protocol 41 through any NAT on the way.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFactsData } from "../host/host-facts";
import { Packages } from "../host/packages";
import { RemoteCommand } from "../host/remote-command";
import { RemoteFile } from "../host/remote-file";
import { shq } from "../host/remote";
import { Service } from "../host/service";
import { Problem, attempt, parseArgs } from "../problems";
import { factsValue, ifname, inputOf, interfaceAddress, ipv4Address, ipv6Prefix, strictObject } from "../schema-kit";
import { heUpdateUrl, renderSit6in4Script, renderSit6in4Unit, resolveSit6in4Tunnel } from "../render/sit6in4";
import { Tunnel, TunnelOutputs, routedPrefixTunnel, systemdProblems } from "./tunnel";

/** HE's endpoint update: the numeric tunnel ID and the account name (the update key is a secret). */
export const heUpdateSettingsShape = {
  tunnelId: z.string().regex(/^[0-9]{1,12}$/, "must be the numeric tunnel ID from the tunnel's page on tunnelbroker.net"),
  username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be your tunnelbroker.net account name (letters, digits, . _ -)"),
};

/** What a site's owner says about a 6in4 tunnel (the stack file's `tunnel`, less HE's update key). */
export const sit6in4SettingsShape = {
  kind: z.literal("sit6in4"),
  interface: ifname.default("he-ipv6"),
  serverIpv4: ipv4Address.describe("the broker's IPv4 endpoint (Server IPv4 Address)"),
  clientIpv4: ipv4Address.optional().describe("our IPv4 source (behind NAT the private one); default the kernel's choice"),
  clientIpv6: interfaceAddress.describe("our tunnel address with length (Client IPv6 Address)"),
  routedPrefix: ipv6Prefix.describe("the routed /48 or /64"),
  mtu: z.number().int().min(1280).max(1480).default(1480),
  ttl: z.number().int().min(1).max(255).default(255),
  heUpdate: strictObject(heUpdateSettingsShape).optional().describe("keep HE's idea of our IPv4 address current"),
};

export const sit6in4TunnelArgsSchema = strictObject({
  ...sit6in4SettingsShape,
  heUpdate: strictObject({ ...heUpdateSettingsShape, updateKey: inputOf<string>("the tunnel's update key (a secret)") }).optional(),
  connection: inputOf<ConnectionArgs>("the connection"),
  facts: factsValue,
  lanPrefix: ipv6Prefix.optional().describe("the /64 for the LAN; default the first /64 of routedPrefix"),
});

export type Sit6in4TunnelArgs = z.input<typeof sit6in4TunnelArgsSchema>;

/** Why an HE update key is unusable, or undefined (it is a secret: the reason never shows it). */
export function heUpdateKeyProblem(key: string): string | undefined {
  return typeof key === "string" && /^[A-Za-z0-9]{8,64}$/.test(key) ? undefined : "is not an HE update key (8-64 letters and digits, from the tunnel's Advanced tab)";
}

/** curl's config line for the update's credentials (read from stdin, never on a command line). */
export function curlUserConfig(username: string, key: string): string {
  const why = heUpdateKeyProblem(key);
  if (why) throw new Error(`ipv6gw:heUpdateKey ${why}`);
  return `user = "${username}:${key}"\n`;
}

type ParsedArgs = z.output<typeof sit6in4TunnelArgsSchema>;

/** Everything wrong with a 6in4 tunnel's args for this box. Pure. */
export function sit6in4TunnelProblems(a: Omit<ParsedArgs, "connection" | "heUpdate">): Problem[] {
  return [...systemdProblems(a.facts as HostFactsData, "its unit"), ...attempt(() => resolveSit6in4Tunnel(scriptModel(a)))];
}

function scriptModel(a: Pick<ParsedArgs, "interface" | "serverIpv4" | "clientIpv4" | "clientIpv6" | "mtu" | "ttl">) {
  return { name: a.interface, remoteV4: a.serverIpv4, localV4: a.clientIpv4, clientV6: a.clientIpv6, mtu: a.mtu, ttl: a.ttl };
}

/** What the tunnel installs: curl too when it keeps HE's idea of our IPv4 address current. */
export function sit6in4Packages(heUpdate: boolean): string[] {
  return heUpdate ? ["iproute2", "curl"] : ["iproute2"];
}

/** The tunnel's children, under `parent`. */
function buildSit6in4Tunnel(parent: pulumi.ComponentResource, name: string, a: ParsedArgs, opts?: pulumi.ComponentResourceOptions): TunnelOutputs {
  const ifname = a.interface;
  const conn = a.connection;
  const scriptPath = `/usr/local/sbin/ipv6gw-${ifname}`;
  const packages = new Packages(`${name}-packages`, { connection: conn, names: sit6in4Packages(Boolean(a.heUpdate)) }, childOf(parent, opts));
  const file = new RemoteFile(`${name}-script`, { connection: conn, path: scriptPath, content: renderSit6in4Script(scriptModel(a)), mode: "0755" }, childOf(parent, opts, packages));
  const unit = new RemoteFile(`${name}-unit`, { connection: conn, path: `/etc/systemd/system/ipv6gw-${ifname}.service`, content: renderSit6in4Unit({ name: ifname, scriptPath }) }, childOf(parent, opts));
  const deps: pulumi.Resource[] = [file, unit];
  const he = a.heUpdate;
  if (he) {
    // Credentials go to curl on stdin (-K -), never on its command line.
    const stdin = pulumi.secret(pulumi.output(he.updateKey).apply((k) => curlUserConfig(he.username, k)));
    deps.push(
      new RemoteCommand(
        `${name}-he-update`,
        { connection: conn, create: `curl -fsS -K - ${shq(heUpdateUrl({ tunnelId: he.tunnelId }))}`, stdin, triggers: [a.clientIpv4 ?? "auto"] },
        childOf(parent, opts, packages),
      ),
    );
  }
  const service = new Service(
    `${name}-service`,
    { connection: conn, name: `ipv6gw-${ifname}`, restartTrigger: pulumi.all([file.sha256, unit.sha256]).apply((h) => h.join(",")) },
    childOf(parent, opts, ...deps),
  );
  return routedPrefixTunnel({ interface: ifname, routedPrefix: a.routedPrefix, lanPrefix: a.lanPrefix, running: { unit: `ipv6gw-${ifname}` }, service });

}

export class Sit6in4Tunnel extends Tunnel {
  constructor(name: string, args: Sit6in4TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`Sit6in4Tunnel "${name}"`, sit6in4TunnelArgsSchema, args, sit6in4TunnelProblems);
    super("ipv6gw:tunnel:Sit6in4Tunnel", name, opts, (self) => buildSit6in4Tunnel(self, name, a, opts));
  }
}
