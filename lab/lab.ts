// The verbs that change the lab: up, down, reset; and status. Each step
// prints a progress line; up and reset print their total time.
import { ensureInotifyInstances } from "./host-limits";
import { labClients } from "./lab-json";
import * as fs from "fs";
import { boxFiles } from "./box-files";
import { existingBoxCgroups } from "./cgroups";
import { isAlive, isOurNspawn, leaderPid, orphanLeader, readPidFile, signal, startBox, StartedBox, stopBox, tail, waitGone } from "./boxes";
import { LabError } from "./errors";
import { ensureHostKey, ensureLabKey, ensureTspAccount, ensureWireguardKeys, hostKeyFile } from "./keys";
import { mountsUnder } from "./mounts";
import { existingLinks, existingNetns, setupNetwork, teardownNetwork } from "./network";
import { boxPaths, LabPaths } from "./paths";
import { elapsed } from "./run";
import { knownHostsLine, sshProbe, waitForSsh } from "./ssh";
import { acquireLock, BootKeys, buildLabJson, LabJson, readLabJson, writeLabJson } from "./state";
import { cacheKeys, SERVICE_UNITS, TSP_BROKER_MOUNT } from "./recipe";
import { allHostLinkNames, allNetnsNames, BOX_NAMES, BoxPlan, DEFAULT_LAN_CLIENTS, planLab, Scenario } from "./topology";
import { ensureTrees } from "./trees";
import { ensureTspBroker, tspBrokerKey } from "./tsp-broker";

export type Log = (line: string) => void;

/** How long up, reset and restart wait for a box to be ready. */
export const SSH_WAIT_MS = 60_000;

/** What of the lab exists on the host right now, whatever lab.json says. */
export interface Leftovers {
  readonly netns: string[];
  readonly links: string[];
  readonly mounts: string[];
  readonly processes: number[];
  /** Containers (their PID 1) still running after their nspawn died. */
  readonly containers: number[];
  /** The boxes' own cgroups (lab/cgroups.ts). */
  readonly cgroups: string[];
}

/** Host PIDs of systemd-nspawn processes booting a tree under our boxes directory. */
export function ourNspawnProcesses(paths: LabPaths): number[] {
  const prefix = `--directory=${paths.boxes}/`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv[0]?.endsWith("systemd-nspawn") && argv.some((a) => a.startsWith(prefix)) && isAlive(Number(entry))) {
        pids.push(Number(entry));
      }
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function boxDirNames(paths: LabPaths): string[] {
  return fs.existsSync(paths.boxes) ? fs.readdirSync(paths.boxes) : [];
}

export async function leftovers(paths: LabPaths): Promise<Leftovers> {
  const ns = new Set(allNetnsNames());
  const links = new Set(allHostLinkNames());
  return {
    netns: (await existingNetns()).filter((n) => ns.has(n)),
    links: (await existingLinks()).filter((l) => links.has(l)),
    mounts: mountsUnder(paths.state),
    processes: ourNspawnProcesses(paths),
    containers: boxDirNames(paths)
      .map((b) => orphanLeader(boxPaths(paths, b).leaderFile))
      .filter((p): p is number => p !== undefined),
    cgroups: existingBoxCgroups(),
  };
}

function nothingLeft(l: Leftovers): boolean {
  return l.netns.length + l.links.length + l.mounts.length + l.processes.length + l.containers.length + l.cgroups.length === 0;
}

function describeLeftovers(l: Leftovers): string {
  const parts: string[] = [];
  if (l.processes.length) parts.push(`nspawn pids ${l.processes.join(", ")}`);
  if (l.containers.length) parts.push(`orphaned container pids ${l.containers.join(", ")}`);
  if (l.netns.length) parts.push(`netns ${l.netns.join(", ")}`);
  if (l.links.length) parts.push(`links ${l.links.join(", ")}`);
  if (l.mounts.length) parts.push(`mounts ${l.mounts.join(", ")}`);
  if (l.cgroups.length) parts.push(`cgroups ${l.cgroups.join(", ")}`);
  return parts.join("; ");
}

/** Stops every box, removes links, namespaces, mounts and runtime files. Idempotent. */
async function tearDown(paths: LabPaths, log: Log): Promise<void> {
  const recorded = new Set(
    boxDirNames(paths)
      .map((b) => readPidFile(boxPaths(paths, b).pidFile))
      .filter((p): p is number => p !== undefined),
  );
  // nspawns whose pid file was lost (an interrupted up): ours by their exact --directory.
  for (const pid of ourNspawnProcesses(paths).filter((p) => !recorded.has(p))) {
    log(`stopping systemd-nspawn pid ${pid} (no pid file)`);
    const leader = leaderPid(pid);
    if (leader) signal(leader, "SIGKILL");
    signal(pid, "SIGKILL");
    await waitGone(pid, 5_000);
  }
  const names = [...new Set([...BOX_NAMES, ...boxDirNames(paths)])];
  const problems = (await Promise.all(names.map((b) => stopBox(paths, b)))).flat();
  problems.push(...(await teardownNetwork()));
  for (const f of [paths.labJson, paths.knownHosts]) fs.rmSync(f, { force: true });
  if (mountsUnder(paths.boxes).length === 0) fs.rmSync(paths.boxes, { recursive: true, force: true });
  const left = await leftovers(paths);
  if (problems.length > 0 || !nothingLeft(left)) {
    throw new LabError(
      `lab down: could not remove everything:\n  ${[...problems, describeLeftovers(left)].filter(Boolean).join("\n  ")}\n` +
        `Check what holds them (e.g. a shell inside a box's namespace) and run 'npm run lab -- down' again.`,
    );
  }
}

/** Health of a running lab: which boxes run, and which are ready (SSH, boot finished, lab services active). */
export interface BoxHealth {
  readonly box: string;
  readonly running: boolean;
  readonly ready: boolean;
  readonly detail: string;
}

/**
 * The systemd units of a box's lab services, which must be active for the box
 * to count as up; isp's DHCPv6 server not while `isp dhcp stop` holds it down.
 */
export function boxReadinessUnits(box: BoxPlan | undefined, lab?: LabJson): string[] {
  const dhcpStopped = lab?.native?.dhcpServer.running === false;
  return (box?.services ?? []).filter((s) => !(s === "dhcp6" && dhcpStopped)).map((s) => SERVICE_UNITS[s].unit);
}

export async function health(paths: LabPaths, lab: LabJson): Promise<BoxHealth[]> {
  const plan = planLab(lab.scenario, labClients(lab));
  return Promise.all(
    Object.entries(lab.boxes).flatMap(([box, b]) => (b ? [[box, b] as const] : [])).map(async ([box, b]) => {
      const running = isAlive(b.pid) && isOurNspawn(b.pid, boxPaths(paths, box).root);
      if (!running) return { box, running, ready: false, detail: `systemd-nspawn pid ${b.pid} is not running` };
      const units = boxReadinessUnits(plan.boxes.find((p) => p.name === box), lab);
      const probe = await sshProbe(paths, { host: b.host, port: b.port, viaNetns: b.viaNetns }, units);
      return { box, running, ready: probe.code === 0, detail: probe.code === 0 ? "" : probe.stderr };
    }),
  );
}

async function bringUp(paths: LabPaths, scenario: Scenario, clients: number, log: Log, start: number): Promise<LabJson> {
  const plan = planLab(scenario, clients);
  const trees = await ensureTrees(paths, log);
  const broker = await ensureTspBroker(paths, log);
  const tsp = ensureTspAccount(paths, plan.tsp.user.userid);

  const labPublicKey = await ensureLabKey(paths);
  const hostKeys: Record<string, string> = {};
  await Promise.all(plan.boxes.map(async (b) => (hostKeys[b.name] = await ensureHostKey(paths, b.name))));
  const wireguard = ensureWireguardKeys(paths);
  fs.mkdirSync(paths.state, { recursive: true, mode: 0o755 });
  fs.writeFileSync(paths.knownHosts, plan.boxes.map((b) => knownHostsLine(b.name, b.ssh, hostKeys[b.name])).join("\n") + "\n");

  log(`network: namespaces, veth pairs, bridges ${plan.bridges.map((b) => b.name).join(" and ")}`);
  await setupNetwork(plan);

  ensureInotifyInstances(plan.boxes.length, log);
  log(`booting ${plan.boxes.map((b) => b.name).join(", ")}`);
  const started: Record<string, StartedBox> = {};
  await Promise.all(
    plan.boxes.map(async (b) => {
      const files = boxFiles(b, plan, {
        labPublicKey,
        hostPrivateKey: fs.readFileSync(hostKeyFile(paths, b.name), "utf8"),
        hostPublicKey: hostKeys[b.name],
        wireguard,
        tsp,
      });
      const binds = b.services.includes("tsp") ? [[broker.dir, TSP_BROKER_MOUNT] as const] : [];
      started[b.name] = await startBox(paths, b, trees, files, log, binds);
    }),
  );

  log("waiting for every box's sshd to accept the lab key, its boot to finish and its lab services to run");
  const waits = await Promise.all(plan.boxes.map(async (b) => ({ b, r: await waitForSsh(paths, b.ssh, boxReadinessUnits(b), SSH_WAIT_MS) })));
  const failed = waits.filter((w) => !w.r.ok);
  if (failed.length > 0) {
    const details = failed.map((w) => {
      const consoleLog = boxPaths(paths, w.b.name).console;
      const lastLines = tail(consoleLog, 5).replace(/^/gm, "      ");
      return `  ${w.b.name} (${w.b.ssh.host}): ${w.r.last || "no answer"}\n    console ${consoleLog}:\n${lastLines}`;
    });
    throw new LabError(
      `lab up: boxes not ready (SSH with the lab key, boot finished, lab services active) within ${SSH_WAIT_MS / 1000} s:\n${details.join("\n")}\n` +
        "Run 'npm run lab -- down' to clean up.",
    );
  }

  const json = buildLabJson(plan, {
    paths,
    sshPublicKey: labPublicKey,
    hostKeys,
    pids: started,
    wireguard,
    repoPath: trees.repo,
    trees: { ...cacheKeys(), tspBroker: broker.key },
    tsp,
    startedAt: new Date(start),
  });
  writeLabJson(paths, json);
  return json;
}

/** Which cache entries differ between what a running lab booted from and the current recipe (all, for a lab.json without them). */
export function changedTrees(booted: Partial<BootKeys> | undefined, current: Partial<BootKeys>): string[] {
  return (Object.keys(current) as (keyof BootKeys)[]).filter((k) => booted?.[k] !== current[k]);
}

/** The cache entries a lab booted now would use. */
export function currentBootKeys(): BootKeys {
  return { ...cacheKeys(), tspBroker: tspBrokerKey() };
}

export async function up(paths: LabPaths, scenario: Scenario, log: Log, clients = DEFAULT_LAN_CLIENTS): Promise<void> {
  const start = Date.now();
  const release = acquireLock(paths, "up");
  try {
    let current: LabJson | undefined;
    let unreadable = false;
    try {
      current = readLabJson(paths);
    } catch (err) {
      if (!(err instanceof LabError)) throw err;
      log(`cannot use lab.json, so restarting the lab: ${err.message}`);
      unreadable = true;
    }
    if (unreadable) {
      await tearDown(paths, log);
    } else if (current) {
      if (current.scenario !== scenario) {
        throw new LabError(
          `lab up: the lab is already up with scenario '${current.scenario}', not '${scenario}'. ` +
            `Run 'npm run lab -- down' first, then 'npm run lab -- up --scenario ${scenario}'.`,
        );
      }
      if (labClients(current) !== clients) {
        throw new LabError(
          `lab up: the lab is already up with ${labClients(current)} LAN clients, not ${clients}. ` +
            `Run 'npm run lab -- down' first, then 'npm run lab -- up --scenario ${scenario} --clients ${clients}'.`,
        );
      }
      const changed = changedTrees(current.trees, currentBootKeys());
      const h = await health(paths, current);
      if (changed.length > 0) {
        log(`lab is up from an older recipe (${changed.join(", ")} changed); restarting it`);
      } else if (h.every((b) => b.running && b.ready)) {
        log(`lab already up (scenario ${scenario}, ${h.length} boxes ready); nothing to do (${elapsed(start)})`);
        return;
      } else {
        const bad = h.filter((b) => !b.running || !b.ready).map((b) => `${b.box}: ${b.detail}`);
        log(`lab is up but unhealthy (${bad.join("; ")}); restarting it`);
      }
      await tearDown(paths, log);
    } else {
      const left = await leftovers(paths);
      if (!nothingLeft(left) || fs.existsSync(paths.boxes)) {
        log(`clearing what an earlier lab left behind (${describeLeftovers(left) || paths.boxes})`);
        await tearDown(paths, log);
      }
    }
    await bringUp(paths, scenario, clients, log, start);
    log(`lab up (scenario ${scenario}${clients === DEFAULT_LAN_CLIENTS ? "" : `, ${clients} LAN clients`}) in ${elapsed(start)}; lab.json: ${paths.labJson}`);
  } finally {
    release();
  }
}

export async function down(paths: LabPaths, log: Log): Promise<void> {
  const start = Date.now();
  const release = acquireLock(paths, "down");
  try {
    const wasUp = readLabJson(paths) !== undefined || !nothingLeft(await leftovers(paths)) || fs.existsSync(paths.boxes);
    await tearDown(paths, log);
    log(wasUp ? `lab down in ${elapsed(start)}` : "lab was not up; nothing left to remove");
  } finally {
    release();
  }
}

export async function reset(paths: LabPaths, log: Log): Promise<void> {
  const start = Date.now();
  const release = acquireLock(paths, "reset");
  try {
    const current = readLabJson(paths);
    if (!current) throw new LabError("lab reset: the lab is not up; run 'npm run lab -- up' instead");
    log(`resetting the lab (scenario ${current.scenario}): fresh boxes from the cached trees`);
    await tearDown(paths, log);
    await bringUp(paths, current.scenario, labClients(current), log, start);
    log(`lab reset (scenario ${current.scenario}) in ${elapsed(start)}`);
  } finally {
    release();
  }
}

/** Prints the lab's state; returns the exit code: 0 all healthy, 1 degraded, 3 down. */
export async function status(paths: LabPaths, log: Log): Promise<number> {
  const lab = readLabJson(paths);
  if (!lab) {
    const left = await leftovers(paths);
    if (nothingLeft(left)) {
      log("lab is down");
      return 3;
    }
    log(`lab is down but left things behind: ${describeLeftovers(left)}; run 'npm run lab -- down'`);
    return 1;
  }
  log(`lab is up: scenario ${lab.scenario}, started ${lab.startedAt}, lab.json ${paths.labJson}`);
  if (lab.native) {
    const n = lab.native;
    log(
      `  isp delegates ${n.delegatedPrefix} (epoch ${n.epoch}, pool ${n.epochPool}); ` +
        `DHCPv6 server ${n.dhcpServer.running ? "running" : "stopped ('npm run lab -- isp dhcp start')"}`,
    );
  }
  const h = await health(paths, lab);
  for (const b of h) {
    const box = lab.boxes[b.box as keyof typeof lab.boxes]!;
    const state = !b.running ? "STOPPED" : b.ready ? "up" : "NOT READY";
    const where = box.viaNetns ? `${box.host} (from netns ${box.viaNetns})` : box.host;
    log(`  ${b.box.padEnd(8)} ${state.padEnd(9)} pid ${String(box.pid).padEnd(8)} ssh ${where}${b.detail ? `  ${b.detail}` : ""}`);
  }
  return h.every((b) => b.running && b.ready) ? 0 : 1;
}
