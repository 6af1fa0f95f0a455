// The native scenario's ISP verbs: `isp renumber` (the ISP hands the gw a
// different prefix, as on a reconnect) and `isp dhcp stop|start` (the
// DHCPv6 server goes away and comes back). Both change isp through `exec`
// (nsenter) and record the new state in lab.json.
import { labClients } from "./lab-json";
import { epochPool } from "./delegation";
import { LabError } from "./errors";
import { execCapture } from "./exec";
import { KEA_CONFIG_FILE, renderKeaConfig } from "./kea-config";
import { Log } from "./lab";
import { LabPaths } from "./paths";
import { elapsed } from "./run";
import { acquireLock, LabJson, LabJsonNative, nativeLabJson, readLabJson, writeLabJson } from "./state";
import { NativePlan, planLab } from "./topology";

const KEA_UNIT = "kea-dhcp6-server.service";

function nativeLab(paths: LabPaths, verb: string): { lab: LabJson; native: NativePlan; state: LabJsonNative } {
  const lab = readLabJson(paths);
  if (!lab) throw new LabError(`lab ${verb}: the lab is not up (no ${paths.labJson}); run 'npm run lab -- up --scenario native'`);
  const native = planLab(lab.scenario, labClients(lab)).native;
  if (!native || !lab.native) {
    throw new LabError(
      `lab ${verb}: only the native scenario has a DHCPv6 server on isp; the lab runs scenario '${lab.scenario}'. ` +
        "Run 'npm run lab -- down', then 'npm run lab -- up --scenario native'.",
    );
  }
  return { lab, native, state: lab.native };
}

function inIsp(paths: LabPaths, what: string, script: string, input = ""): string {
  const r = execCapture(paths, "isp", ["/bin/sh", "-c", script], input, 60_000);
  if (r.code !== 0) throw new LabError(`${what}: the script in isp exited ${r.code}:\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * The script that moves Kea to a new configuration (text on stdin) and, if
 * it runs, has it reload (SIGHUP), then waits for Kea to say it did. Seen on
 * Kea 2.2 (lab/README.md): once the old prefix is in no pool, a Renew or
 * Rebind that carries it gets a new prefix and the old one with lifetimes 0.
 */
export function renumberScript(): string {
  return [
    "set -eu",
    `cat > ${KEA_CONFIG_FILE}.new`,
    `chmod 0644 ${KEA_CONFIG_FILE}.new`,
    `mv ${KEA_CONFIG_FILE}.new ${KEA_CONFIG_FILE}`,
    `systemctl -q is-active ${KEA_UNIT} || exit 0`,
    `cursor=$(journalctl -u ${KEA_UNIT} -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p')`,
    `systemctl kill --kill-whom=main -s HUP ${KEA_UNIT}`,
    "i=0",
    "while [ $i -lt 50 ]; do",
    `  log=$(journalctl -u ${KEA_UNIT} --after-cursor="$cursor" -o cat --no-pager)`,
    '  case "$log" in',
    "    *DHCP6_DYNAMIC_RECONFIGURATION_SUCCESS*) exit 0;;",
    '    *DHCP6_DYNAMIC_RECONFIGURATION_FAIL*|*DHCP6_CONFIG_LOAD_FAIL*) echo "$log" >&2; exit 1;;',
    "  esac",
    "  sleep 0.1; i=$((i + 1))",
    "done",
    `echo "Kea did not report reloading ${KEA_CONFIG_FILE} within 5 s" >&2`,
    "exit 1",
  ].join("\n");
}

/** `isp renumber`: the next epoch's pool; the gw's next renew or rebind gets a new prefix and the old one with lifetimes 0. */
export async function ispRenumber(paths: LabPaths, log: Log): Promise<LabJsonNative> {
  const start = Date.now();
  const release = acquireLock(paths, "isp renumber");
  try {
    const { lab, native, state } = nativeLab(paths, "isp renumber");
    const epoch = state.epoch + 1;
    const config = renderKeaConfig({ native, pool: epochPool(native, epoch), epoch });
    inIsp(paths, `lab isp renumber: writing ${KEA_CONFIG_FILE} and reloading Kea`, renumberScript(), config);
    const next = nativeLabJson(native, epoch, state.dhcpServer.running);
    writeLabJson(paths, { ...lab, native: next });
    log(
      `isp renumbered in ${elapsed(start)}: epoch ${epoch}, pool ${next.epochPool}, first prefix ${next.delegatedPrefix} ` +
        `(was ${state.delegatedPrefix}); the gw gets it at its next renew (T1 ${native.lifetimes.renew} s) or rebind`,
    );
    return next;
  } finally {
    release();
  }
}

/** `isp dhcp stop|start`: the DHCPv6 server goes away (renewals go unanswered) or comes back. */
export async function ispDhcp(paths: LabPaths, action: "stop" | "start", log: Log): Promise<void> {
  const release = acquireLock(paths, `isp dhcp ${action}`);
  try {
    const { lab, state } = nativeLab(paths, `isp dhcp ${action}`);
    inIsp(paths, `lab isp dhcp ${action}`, `set -eu\nsystemctl ${action} ${KEA_UNIT}\n${action === "start" ? `systemctl -q is-active ${KEA_UNIT}` : `! systemctl -q is-active ${KEA_UNIT}`}`);
    writeLabJson(paths, { ...lab, native: { ...state, dhcpServer: { ...state.dhcpServer, running: action === "start" } } });
    log(`isp's DHCPv6 server (Kea) ${action === "start" ? "runs again" : "is stopped; renewals and rebinds go unanswered"}`);
  } finally {
    release();
  }
}
