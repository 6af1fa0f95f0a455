// The zod building blocks of every component's contract: strict objects
// (an unknown key is an error naming the closest known one) and one typed
// string per kind of value (components/net/values.ts has the rules), so a
// value's type says what it is wherever it is declared.
//
// Program-side only: dynamic providers build their schemas inside functions
// (a module-level zod object does not serialize, pulumi/pulumi#5294) and use
// the predicates of net/values.ts directly.

import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { HostFactsData } from "./host/host-facts";
import {
  absolutePathProblem,
  addressMatchProblem,
  closestName,
  domainNameProblem,
  fileNameProblem,
  hostPortProblem,
  hostProblem,
  httpUrlProblem,
  ifnameMatchProblem,
  ifnameProblem,
  interfaceAddressProblem,
  ipv4Problem,
  ipv6Problem,
  localPathProblem,
  loginNameProblem,
  portOrRangeProblem,
  prefixProblem,
  slugProblem,
  sshHostProblem,
  wireguardKeyProblem,
} from "./net/values";
import { parsePrefix } from "./net/ipv6";

/** "unknown key 'firewal' (did you mean 'firewall'?)", for one or more keys. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((k) => {
      const near = closestName(k, known);
      return `unknown key '${k}' ${near ? `(did you mean '${near}'?)` : `(known keys here: ${known.join(", ")})`}`;
    })
    .join("; ");
}

/**
 * An object that refuses keys it does not declare, naming the closest known
 * key. Build every object of a contract with it, and compose shapes by
 * spreading them into a new strictObject (zod's .extend keeps the old key
 * list for the message).
 */
export function strictObject<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? unknownKeysMessage(iss.keys, known) : undefined) });
}

/** A string checked by one of net/values' rules. */
export function checkedString(problem: (text: string) => string | undefined, what: string) {
  return z
    .string({ error: (iss) => (iss.input === undefined ? "is required" : `must be a string (${what})`) })
    .superRefine((v, ctx) => {
      const why = problem(v);
      if (why) ctx.addIssue({ code: "custom", message: why });
    })
    .describe(what);
}

export const ifname = checkedString(ifnameProblem, "a Linux interface name");
export const ifnameMatch = checkedString(ifnameMatchProblem, "an interface name, '!' negates, a trailing '+' matches any suffix");
export const slug = checkedString(slugProblem, "a name: lower-case letters, digits and '-'");
export const host = checkedString(hostProblem, "an IPv6 or IPv4 address, or a DNS name");
export const sshHost = checkedString(sshHostProblem, "an address or DNS name (link-local with %zone allowed)");
export const domainName = checkedString(domainNameProblem, "a DNS name");
export const hostPort = checkedString(hostPortProblem, "host:port");
export const httpUrl = checkedString(httpUrlProblem, "an http(s) URL");
export const absolutePath = checkedString(absolutePathProblem, "an absolute path on the box");
export const fileName = checkedString(fileNameProblem, "a file name");
export const localPath = checkedString(localPathProblem, "a path on the machine running pulumi");
export const wireguardKey = checkedString(wireguardKeyProblem, "a WireGuard public key");
export const loginName = checkedString(loginNameProblem, "a login name");
export const ipv4Address = checkedString(ipv4Problem, "an IPv4 address");
export const ipv6Address = checkedString(ipv6Problem, "an IPv6 address");
export const ipv6Prefix = checkedString(prefixProblem, "an IPv6 prefix, host bits zero");
export const interfaceAddress = checkedString(interfaceAddressProblem, "an IPv6 address with its prefix length");
export const addressMatch = checkedString((t) => addressMatchProblem(t, true), "an IPv6 address or prefix, '!' negates");

/** A /64 (what SLAAC needs). */
export const prefix64 = ipv6Prefix.refine((p) => prefixProblem(p) !== undefined || parsePrefix(p).length === 64, "must be a /64: SLAAC needs 64-bit interface identifiers");

export const port = z.number({ error: "must be a port number 1-65535" }).int("must be a whole number").min(1, "must be a port 1-65535").max(65535, "must be a port 1-65535");
export const portOrRange = z.union([port, checkedString((v) => portOrRangeProblem(v), "a port range 'low:high'")], { error: "must be a port or a range 'low:high'" });

/**
 * A value the schema does not look into: a pulumi.Input (a connection, a
 * secret, another resource's output) that reaches the providers as it is.
 * Required unless made `.optional()`.
 */
export function inputOf<T>(what: string) {
  return z.custom<pulumi.Input<T>>((v) => v !== undefined && v !== null, { error: `is required: ${what}` });
}

/** A box's facts as host.getHostFacts() reads them. */
export const factsValue = z.custom<HostFactsData>(
  (v) => typeof v === "object" && v !== null && Array.isArray((v as HostFactsData).interfaces) && typeof (v as HostFactsData).features === "object",
  { error: "must be the box's facts, as host.getHostFacts(connection) reads them" },
);

/** A process or unit name the checks look for with pidof. */
export const processName = z.string().regex(/^[A-Za-z0-9_.@][A-Za-z0-9_.@:-]{0,63}$/, "must be a process or unit name (letters, digits, _ . @ : -)");
