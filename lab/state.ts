// lab.json (what the Pulumi program and the tests read about a running lab)
// and the lock that keeps two lab commands from changing the lab at once.
import * as fs from "fs";
import * as path from "path";
import { isAlive } from "./boxes";
import { LabError } from "./errors";
import { delegatedPrefix, epochPool } from "./delegation";
import { TspAccount, WireguardKeys } from "./keys";
import { LabJson, LabJsonBox, LabJsonInterface, LabJsonNative, labJsonSchema, parseLabJson } from "./lab-json";
import { LabPaths } from "./paths";
import { APT_REPO_MOUNT, TreeKeys, TSP_BROKER_SESSIONS } from "./recipe";
import { BoxName, INET_BRIDGE, LAN_BRIDGE, LabPlan, linkLocalFor, NativePlan } from "./topology";

export type { LabJson, LabJsonBox, LabJsonInterface, LabJsonNative } from "./lab-json";

/** What a running lab booted from: the cached trees and the TSP broker build. */
export interface BootKeys extends TreeKeys {
  readonly tspBroker: string;
}

export interface LabJsonInput {
  readonly paths: LabPaths;
  readonly sshPublicKey: string;
  readonly hostKeys: Readonly<Record<string, string>>;
  readonly pids: Readonly<Record<string, { pid: number; leader: number }>>;
  readonly wireguard: WireguardKeys;
  readonly repoPath: string;
  readonly trees: BootKeys;
  readonly tsp: TspAccount;
  readonly startedAt: Date;
  /** Native scenario: how many times `isp renumber` ran (0 when omitted). */
  readonly epoch?: number;
}

/** lab.json's `native` section for the ISP's plan in renumbering epoch `epoch`. Pure. */
export function nativeLabJson(native: NativePlan, epoch: number, dhcpRunning = true): LabJsonNative {
  return {
    wanInterface: native.wanInterface,
    wanPrefix: native.wanPrefix,
    dhcpServer: { address: native.ispAddress, linkLocal: native.ispLinkLocal, running: dhcpRunning },
    gwLinkLocal: native.gwLinkLocal,
    pdPool: native.pdPool,
    delegatedLength: native.delegatedLength,
    epoch,
    epochPool: epochPool(native, epoch),
    delegatedPrefix: delegatedPrefix(native, epoch),
    lifetimes: { ...native.lifetimes },
    lan2: { ...native.lan2 },
  };
}

/** The content of lab.json for a plan and what `up` produced. Pure. */
export function buildLabJson(plan: LabPlan, input: LabJsonInput): LabJson {
  const boxes: Partial<Record<BoxName, LabJsonBox>> = {};
  for (const b of plan.boxes) {
    const interfaces: Record<string, LabJsonInterface> = {};
    for (const i of b.interfaces) {
      interfaces[i.name] = {
        mac: i.mac,
        linkLocal: linkLocalFor(i.mac),
        ...(i.ipv4 ? { ipv4: i.ipv4 } : {}),
        ...(i.ipv6 ? { ipv6: i.ipv6 } : {}),
      };
    }
    const pids = input.pids[b.name];
    boxes[b.name] = {
      host: b.ssh.host,
      port: b.ssh.port,
      user: "root",
      users: ["root", "admin", "nosudo"],
      hostKey: input.hostKeys[b.name],
      pid: pids?.pid ?? 0,
      leaderPid: pids?.leader ?? 0,
      netns: b.netns,
      machineId: b.machineId,
      ...(b.ssh.viaNetns ? { viaNetns: b.ssh.viaNetns } : {}),
      interfaces,
    };
  }
  const wg = plan.wireguard;
  const lan = plan.bridges.find((b) => b.name === LAN_BRIDGE)!;
  const inet = plan.bridges.find((b) => b.name === INET_BRIDGE)!;
  return {
    version: 1,
    scenario: plan.scenario,
    clients: plan.clients,
    sshPrivateKeyPath: input.paths.sshPrivateKey,
    sshPublicKey: input.sshPublicKey.trim(),
    knownHostsPath: input.paths.knownHosts,
    boxes,
    wireguard: {
      endpoint: wg.endpoint,
      peerPublicKey: input.wireguard.isp.publicKey,
      privateKey: input.wireguard.gw.privateKey,
      publicKey: input.wireguard.gw.publicKey,
      address: wg.gwAddress,
      peerAddress: wg.ispAddress,
      routedPrefix: wg.routedPrefix,
      lanPrefix: wg.lanPrefix,
    },
    tsp: {
      server: plan.tsp.listen,
      port: plan.tsp.port,
      userid: input.tsp.userid,
      password: input.tsp.password,
      tunnelPrefix: plan.tsp.tunnelPrefix,
      serverAddress: plan.tsp.serverAddress,
      delegationPrefix: plan.tsp.delegationPrefix,
      userAddress: plan.tsp.user.address,
      userPrefix: plan.tsp.user.prefix,
      dnsServer: plan.tsp.dnsServer,
      anonymousFirstSlot: plan.tsp.anonymousFirstSlot,
      box: plan.tsp.box,
      sessionsFile: TSP_BROKER_SESSIONS,
      tunnelModes: ["v6udpv4"],
    },
    outside: { ...plan.outside },
    host: {
      lanInterface: lan.name,
      lanLinkLocal: linkLocalFor(lan.mac),
      inetInterface: inet.name,
      inetAddress: inet.hostIpv6 ?? "",
    },
    aptRepo: { sourcesLine: `deb [trusted=yes] file:${APT_REPO_MOUNT} ./`, hostPath: input.repoPath },
    trees: { ...input.trees },
    startedAt: input.startedAt.toISOString(),
    ...(plan.native ? { native: nativeLabJson(plan.native, input.epoch ?? 0) } : {}),
  };
}

/** Writes lab.json atomically, after checking it against its schema (a bug here must not reach the readers). */
export function writeLabJson(paths: LabPaths, json: LabJson): void {
  labJsonSchema.parse(json);
  const tmp = `${paths.labJson}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(json, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, paths.labJson);
}

/** The running lab's lab.json, undefined when there is none; a LabError (lab-json.ts) when it does not parse. */
export function readLabJson(paths: LabPaths): LabJson | undefined {
  let text: string;
  try {
    text = fs.readFileSync(paths.labJson, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LabError(`cannot read ${paths.labJson}: ${(err as Error).message}; run 'npm run lab -- down' to clear it`);
  }
  return parseLabJson(text, paths.labJson);
}

interface LockContent {
  readonly pid: number;
  readonly verb: string;
  readonly since: string;
}

/** Takes the lab lock for `verb`, or fails naming the command that holds it. Returns the release function. */
export function acquireLock(paths: LabPaths, verb: string): () => void {
  fs.mkdirSync(path.dirname(paths.lock), { recursive: true });
  const mine: LockContent = { pid: process.pid, verb, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(paths.lock, JSON.stringify(mine) + "\n", { flag: "wx" });
      return () => {
        try {
          const held = JSON.parse(fs.readFileSync(paths.lock, "utf8")) as LockContent;
          if (held.pid === process.pid) fs.rmSync(paths.lock, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let held: LockContent | undefined;
    try {
      held = JSON.parse(fs.readFileSync(paths.lock, "utf8")) as LockContent;
    } catch {
      held = undefined;
    }
    if (held && held.pid !== process.pid && isAlive(held.pid)) {
      throw new LabError(
        `lab ${verb}: another lab command is running: 'lab ${held.verb}' (pid ${held.pid}, since ${held.since}). ` +
          `Wait for it to finish, or stop it with 'kill ${held.pid}' (lock file ${paths.lock}).`,
      );
    }
    fs.rmSync(paths.lock, { force: true });
  }
  throw new LabError(`lab ${verb}: cannot take the lock ${paths.lock}; remove it if no lab command is running`);
}
