// lab.json's one schema: lab/state.ts builds lab.json against it and checks
// what it writes, and every reader (the lab, the tests, the Pulumi program's
// components/stack-config.ts) parses it with parseLabJson, which names the
// file, the key and the fix instead of failing later on a missing field.
// Pure: no I/O; depends on zod and the topology's names only.
import { z } from "zod";
import { LabError } from "./errors";
import { BOX_NAMES, BoxName, DEFAULT_LAN_CLIENTS, SCENARIOS } from "./topology";

/** What to do about a lab.json that does not parse: `up` rewrites it (and restarts a lab it cannot read). */
export const LAB_JSON_FIX = "run 'npm run lab -- up' again";

const nonEmpty = z.string().min(1);
const port = z.number().int().min(1).max(65535);
const pid = z.number().int().positive();
const mac = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, "a MAC address like 00:00:5e:00:53:01");
const cidr = z.string().regex(/^[0-9a-f.:]+\/\d{1,3}$/i, "an address with its prefix length, like 2001:db8::1/64");
const prefix = cidr;
const address = z.string().regex(/^[0-9a-f.:]+$/i, "an IP address without prefix length");

export const labJsonInterfaceSchema = z.object({
  mac,
  linkLocal: address,
  ipv4: cidr.optional(),
  ipv6: cidr.optional(),
});

export const labJsonBoxSchema = z.object({
  /** Address the host's SSH client connects to (a link-local one carries its zone). */
  host: nonEmpty,
  port,
  user: nonEmpty,
  /** Other users with the lab key: admin (passwordless sudo) and nosudo (no sudo). */
  users: z.array(nonEmpty),
  /** The box's ed25519 host key, "ssh-ed25519 AAAA...". */
  hostKey: z.string().regex(/^ssh-ed25519 \S+$/, "an OpenSSH public key 'ssh-ed25519 AAAA...'"),
  /** PID of the box's systemd-nspawn on the host (changes when `lab restart` reboots the box). */
  pid,
  /** PID of the box's systemd (its PID 1) on the host: nsenter target. */
  leaderPid: pid,
  netns: nonEmpty,
  machineId: z.string().regex(/^[0-9a-f]{32}$/),
  /** Set when ssh must run inside this network namespace to reach the box. */
  viaNetns: nonEmpty.optional(),
  interfaces: z.record(nonEmpty, labJsonInterfaceSchema),
});

/** The native scenario's ISP (lab/topology.ts NativePlan) and what it delegates now. */
export const labJsonNativeSchema = z.object({
  /** isp's interface on the isp-gw link, and gw's. */
  wanInterface: nonEmpty,
  /** The link's /64: isp's RAs announce it (SLAAC), Kea's IA_NA addresses come from it. */
  wanPrefix: prefix,
  /**
   * The DHCPv6 server: isp's address on the link, its link-local (the source
   * of its replies), and whether it runs (false after `isp dhcp stop`).
   */
  dhcpServer: z.object({ address: cidr, linkLocal: address, running: z.boolean() }),
  /** The gw's link-local on wan0: isp routes the whole pdPool to it. */
  gwLinkLocal: address,
  /** Every delegated prefix comes from here. */
  pdPool: prefix,
  delegatedLength: z.number().int().min(1).max(128),
  /** How many times `isp renumber` ran since `up` (0 after up and reset). */
  epoch: z.number().int().min(0),
  /** Kea's pool in this epoch, and the prefix its first client gets from it. */
  epochPool: prefix,
  delegatedPrefix: prefix,
  /** Seconds. */
  lifetimes: z.object({ renew: port, rebind: port, preferred: port, valid: port }),
  /** The second LAN: its bridge on the host and gw's interface on it (c3 is in boxes). */
  lan2: z.object({ bridge: nonEmpty, gwInterface: nonEmpty }),
});

/** The TSP broker (lab/tsp-broker) on isp, for stacks and tests. */
export const labJsonTspSchema = z.object({
  /** Broker address as gw6c's `server` takes it, and its port (UDP and TCP). */
  server: address,
  port,
  userid: nonEmpty,
  password: nonEmpty,
  /** Tunnel ends: the broker's is serverAddress; slot k's client gets ::k:2. */
  tunnelPrefix: prefix,
  serverAddress: address,
  /** Router-mode delegations, a /64 each. */
  delegationPrefix: prefix,
  /** The user's stable tunnel address and delegated /64 (the same on every reconnect). */
  userAddress: address,
  userPrefix: prefix,
  dnsServer: address,
  /** Anonymous clients get slots from here up, one per IPv4 source address. */
  anonymousFirstSlot: z.number().int().min(1).max(0xffff),
  /** The broker's box, and inside it the live tunnels as JSON. */
  box: z.enum(BOX_NAMES as [BoxName, ...BoxName[]]),
  sessionsFile: nonEmpty,
  /** v6udpv4 only: v6v4 (6in4) needs sit, which the lab's kernel lacks. */
  tunnelModes: z.array(nonEmpty),
});

export const labJsonSchema = z.object({
  version: z.literal(1),
  scenario: z.enum(SCENARIOS),
  /** Clients on the first LAN (`up --clients`); absent in a lab.json written before there was a choice: 2. */
  clients: z.number().int().optional(),
  sshPrivateKeyPath: nonEmpty,
  sshPublicKey: nonEmpty,
  knownHostsPath: nonEmpty,
  boxes: z.partialRecord(z.enum(BOX_NAMES as [BoxName, ...BoxName[]]), labJsonBoxSchema),
  wireguard: z.object({
    endpoint: nonEmpty,
    peerPublicKey: nonEmpty,
    privateKey: nonEmpty,
    publicKey: nonEmpty,
    address: cidr,
    peerAddress: cidr,
    routedPrefix: prefix,
    lanPrefix: prefix,
  }),
  tsp: labJsonTspSchema,
  outside: z.object({ url: z.url(), pingTarget: address, pageLine: nonEmpty }),
  /** The host (admin workstation) on the lab's bridges. */
  host: z.object({
    lanInterface: nonEmpty,
    lanLinkLocal: address,
    inetInterface: nonEmpty,
    inetAddress: cidr,
  }),
  /** The local apt repository as boxes see it, and where it lives on the host. */
  aptRepo: z.object({ sourcesLine: nonEmpty, hostPath: nonEmpty }),
  /** The cache entries (recipe hashes, the TSP broker's build) the boxes booted from; `up` restarts a lab whose recipe changed since. */
  trees: z.object({ base: nonEmpty, repo: nonEmpty, infra: nonEmpty, tspBroker: nonEmpty }),
  startedAt: z.iso.datetime(),
  /** Only in the native scenario. */
  native: labJsonNativeSchema.optional(),
});

export type LabJson = z.infer<typeof labJsonSchema>;

/** How many clients the running lab has on its first LAN. */
export const labClients = (lab: Pick<LabJson, "clients">): number => lab.clients ?? DEFAULT_LAN_CLIENTS;
export type LabJsonBox = z.infer<typeof labJsonBoxSchema>;
export type LabJsonInterface = z.infer<typeof labJsonInterfaceSchema>;
export type LabJsonNative = z.infer<typeof labJsonNativeSchema>;
export type LabJsonTsp = z.infer<typeof labJsonTspSchema>;

function keyPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(the whole file)" : path.map(String).join(".");
}

/**
 * lab.json's content as a typed value. Keys it does not know are dropped, so
 * a lab.json written by a newer lab (more keys) still reads. Throws a
 * LabError naming `file`, the key path of each problem, and the fix.
 */
export function parseLabJson(text: string, file: string): LabJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LabError(`${file} is not JSON (${(err as Error).message}); ${LAB_JSON_FIX}`);
  }
  const r = labJsonSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 5).map((i) => `'${keyPath(i.path)}': ${i.message}`);
  const more = r.error.issues.length > 5 ? ` (and ${r.error.issues.length - 5} more)` : "";
  throw new LabError(`${file} is not a lab.json this code reads: ${problems.join("; ")}${more}; ${LAB_JSON_FIX}`);
}
