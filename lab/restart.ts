// `lab restart <box> [--hard]`: reboots one box, keeping its disk, while the
// rest of the lab runs. A reboot loses all kernel state, and a box's kernel
// state (addresses, routes, sysctls, firewall rules, conntrack) lives in the
// network namespace the lab made for it, which would outlive the container:
// so the box gets a fresh namespace, wired as `up` wires it, and whatever it
// has after boot comes from its own disk.
import { labClients } from "./lab-json";
import * as fs from "fs";
import * as path from "path";
import { bootBox, haltBox, HaltMode, tail } from "./boxes";
import { LabError } from "./errors";
import { boxReadinessUnits, Log, SSH_WAIT_MS } from "./lab";
import { boxLinksDown, renewBoxNetns } from "./network";
import { boxPaths, LabPaths } from "./paths";
import { elapsed } from "./run";
import { waitForSsh } from "./ssh";
import { acquireLock, LabJson, readLabJson, writeLabJson } from "./state";
import { mountPoints } from "./mounts";
import { TSP_BROKER_MOUNT } from "./recipe";
import { BoxName, planLab } from "./topology";
import { tspBrokerDir } from "./tsp-broker";

/** How long a clean shutdown may take before the box is killed (and the restart reported as not clean). */
const CLEAN_SHUTDOWN_MS = 60_000;

export interface RestartOptions {
  /** Power loss: SIGKILL the container, its links down at the same moment; no shutdown. */
  readonly hard?: boolean;
}

/** When each step of a restart happened (Date.now() values, the host's clock, which the boxes share). */
export interface RestartReport {
  readonly box: BoxName;
  readonly mode: HaltMode;
  /** False when a clean shutdown took too long and the box was killed. */
  readonly clean: boolean;
  readonly startedAt: number;
  /** The box's processes are gone and its links down. */
  readonly haltedAt: number;
  /** Its fresh namespace is wired and its systemd runs again. */
  readonly bootedAt: number;
  /** Ready as after `up`: sshd accepts the lab key with the pinned host key, boot finished, lab services active. */
  readonly readyAt: number;
  readonly pid: number;
  readonly leaderPid: number;
}

/** lab.json with one box's new PIDs. Pure. */
export function withBoxPids(lab: LabJson, box: BoxName, pid: number, leaderPid: number): LabJson {
  const entry = lab.boxes[box];
  if (!entry) throw new Error(`withBoxPids: box ${box} is not in lab.json`);
  return { ...lab, boxes: { ...lab.boxes, [box]: { ...entry, pid, leaderPid } } };
}

export async function restart(paths: LabPaths, box: BoxName, opts: RestartOptions, log: Log): Promise<RestartReport> {
  const startedAt = Date.now();
  const mode: HaltMode = opts.hard ? "hard" : "clean";
  const release = acquireLock(paths, "restart");
  try {
    const lab = readLabJson(paths);
    if (!lab) throw new LabError(`lab restart: the lab is not up (no ${paths.labJson}); run 'npm run lab -- up'`);
    const plan = planLab(lab.scenario, labClients(lab));
    const b = plan.boxes.find((p) => p.name === box);
    if (!b || !lab.boxes[box]) {
      throw new LabError(`lab restart: box ${box} is not part of the running lab (scenario ${lab.scenario}: ${Object.keys(lab.boxes).join(", ")})`);
    }
    const bp = boxPaths(paths, box);
    if (!mountPoints().includes(bp.root)) {
      throw new LabError(`lab restart: box ${box} has no disk mounted at ${bp.root}; run 'npm run lab -- up' to restart the lab`);
    }
    const repo = path.join(paths.trees, lab.trees.repo, "repo");
    if (!fs.existsSync(repo)) {
      throw new LabError(`lab restart: the apt repository ${box} booted with (${repo}) is gone; run 'npm run lab -- up' to restart the lab`);
    }
    const binds: Array<readonly [string, string]> = [];
    if (b.services.includes("tsp")) {
      const broker = tspBrokerDir(paths, lab.trees.tspBroker);
      if (!fs.existsSync(broker)) {
        throw new LabError(`lab restart: the TSP broker build ${box} booted with (${broker}) is gone; run 'npm run lab -- up' to restart the lab`);
      }
      binds.push([broker, TSP_BROKER_MOUNT]);
    }

    log(`restarting ${box} (${mode === "hard" ? "power loss: SIGKILL, no shutdown" : "clean: its systemd shuts down"}), keeping its disk`);
    if (mode === "hard") await boxLinksDown(b);
    const halted = await haltBox(paths, box, mode, CLEAN_SHUTDOWN_MS);
    if (!halted.clean && mode === "clean") log(`warning: ${box} did not shut down within ${CLEAN_SHUTDOWN_MS / 1000} s and was killed`);
    const haltedAt = Date.now();

    await renewBoxNetns(b);
    fs.appendFileSync(bp.console, `\n--- ipv6gw lab: restart (${mode}) at ${new Date().toISOString()} ---\n`);
    const started = await bootBox(paths, b, repo, log, "a", binds);
    const bootedAt = Date.now();
    // isp's DHCPv6 server is enabled: it runs again after a reboot, whatever `isp dhcp stop` did before.
    const rebooted = box === "isp" && lab.native ? { ...lab, native: { ...lab.native, dhcpServer: { ...lab.native.dhcpServer, running: true } } } : lab;
    // The new PIDs go into lab.json at once, so status and exec find the box even if it never gets ready.
    writeLabJson(paths, withBoxPids(rebooted, box, started.pid, started.leader));

    const ready = await waitForSsh(paths, b.ssh, boxReadinessUnits(b, rebooted), SSH_WAIT_MS);
    if (!ready.ok) {
      const lastLines = tail(bp.console, 10).replace(/^/gm, "    ");
      throw new LabError(
        `lab restart: ${box} is not ready (SSH with the lab key, boot finished, lab services active) within ${SSH_WAIT_MS / 1000} s ` +
          `after booting again: ${ready.last || "no answer"}\n  console ${bp.console}:\n${lastLines}\n` +
          `Look at its journal ('npm run lab -- exec ${box} -- journalctl -b'), or run 'npm run lab -- reset' for blank boxes.`,
      );
    }
    const readyAt = Date.now();
    log(`${box} is back (${mode}${halted.clean || mode === "hard" ? "" : ", killed"}) in ${elapsed(startedAt)}: nspawn pid ${started.pid}`);
    return { box, mode, clean: halted.clean, startedAt, haltedAt, bootedAt, readyAt, pid: started.pid, leaderPid: started.leader };
  } finally {
    release();
  }
}
