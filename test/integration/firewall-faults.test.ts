// The firewall's safe apply when things go wrong on a real box (lab box c2):
// the SSH connection dropped at each stage of an apply (its sshd session
// killed from inside the script, as a network cut would end it), and the
// files a crashed apply leaves. Each case says where the box stands, and the
// next apply converges.
import * as fs from "fs";
import { labSh, loadLab } from "../../lab/client";
import { Connection } from "../../components/host/connection";
import { Ip6tablesRulesetProvider, STATE_DIR } from "../../components/firewall/ruleset";
import { EMPTY_FILTER_TABLE, normalizeSave, renderFilterTable } from "../../components/firewall/render-ruleset";
import { Remote } from "../../components/host/remote";
import { closeAllRemotes, openFreshRemote, openRemote } from "../../components/host/ssh-transport";
import { firewallTable } from "../../components/firewall/firewall";

jest.setTimeout(180_000);

const lab = loadLab();
const key = fs.readFileSync(lab.sshPrivateKeyPath, "utf8");
const b = lab.boxes.c2!;
const c2: Connection = { host: b.host, port: b.port, user: "root", hostKey: b.hostKey, privateKey: key };

const OLD = renderFilterTable(firewallTable({ lanInterface: "eth0", rules: [{ name: "old-marker", action: "accept", protocol: "udp", port: 9 }] }));
const NEW = renderFilterTable(firewallTable({ lanInterface: "eth0", rules: [{ name: "new-marker", action: "accept", protocol: "udp", port: 7 }] }));

// Ours, on a box with nothing else in its filter table: the table less the built-in chains' own policies.
const live = () => normalizeSave(labSh("c2", "ip6tables-save -t filter")).replace(/^:(INPUT|FORWARD|OUTPUT) \S+\n/gm, "");
const stateFiles = () => labSh("c2", `ls -A ${STATE_DIR} 2>/dev/null || true`).trim();

/** A session whose apply script kills its own sshd session right after the stage given: the connection drops there. */
function droppingAfter(stage: "armed" | "applied") {
  return async (c: Connection): Promise<Remote> => {
    const real = await openFreshRemote(c);
    return {
      where: real.where,
      run: (script, options) => {
        // The sshd process serving this connection is the nearest ancestor named sshd.
        const killSession = `p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(awk '{print $4}' /proc/$p/stat); done; kill -9 $p; sleep 5`;
        const cut = script.replace(`echo stage=${stage}`, `echo stage=${stage}; ${killSession}`);
        expect(cut).not.toBe(script);
        return real.run(cut, options);
      },
    };
  };
}

const state = (rules: string) => ({ connection: c2, rules, rollbackSeconds: 10 });

beforeAll(() => {
  labSh("c2", "command -v ip6tables-restore >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null; }");
});

beforeEach(async () => {
  // Start from the OLD table, applied the normal way, and nothing pending.
  await new Ip6tablesRulesetProvider(openRemote, openFreshRemote).create(state(OLD));
  expect(live()).toBe(OLD);
  expect(stateFiles()).toBe("");
});

afterEach(() => closeAllRemotes());

afterAll(() => {
  labSh("c2", `printf '%s' '${EMPTY_FILTER_TABLE}' | ip6tables-restore; rm -rf /var/lib/ipv6gw; apt-get purge -y -q iptables >/dev/null 2>&1 || true`);
});

describe("a dropped connection during a firewall apply", () => {
  it("before the new table is loaded: says nothing changed, and the old table stays with no rollback pending", async () => {
    const p = new Ip6tablesRulesetProvider(droppingAfter("armed"), openFreshRemote);
    await expect(p.create(state(NEW))).rejects.toThrow(/dropped after arming the rollback: the new ruleset was never loaded, so root@\[fe80::[0-9a-f:]+%ipv6gw-lan\]:22 keeps its previous ruleset and no rollback is pending\. Run up again/);
    expect(live()).toBe(OLD);
    expect(stateFiles()).toBe("");
    // The next apply converges.
    await new Ip6tablesRulesetProvider(openRemote, openFreshRemote).create(state(NEW));
    expect(live()).toBe(NEW);
  });

  it("after the new table is loaded: a new connection confirms it, and the apply succeeds", async () => {
    const p = new Ip6tablesRulesetProvider(droppingAfter("applied"), openFreshRemote);
    const { outs } = await p.create(state(NEW));
    expect(outs.previous).toBe(OLD);
    expect(live()).toBe(NEW);
    expect(stateFiles()).toBe("");
    // No timer is left to undo it.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(live()).toBe(NEW);
  });
});

describe("what a crashed apply leaves", () => {
  it("never changes the next apply: a stale pending table, status and an armed timer are cleared first", async () => {
    // A crash right after arming: the timer would restore OLD in 30 s, under whatever comes next.
    labSh("c2", [
      `d=${STATE_DIR}; mkdir -p $d`,
      `ip6tables-save -t filter > $d/rollback.rules`,
      `printf '%s' 'garbage' > $d/pending.rules; echo rolled-back > $d/rollback.status`,
      `setsid sh -c 'sleep 30; ip6tables-restore < ${STATE_DIR}/rollback.rules && echo rolled-back > ${STATE_DIR}/rollback.status' </dev/null >/dev/null 2>&1 &`,
      `echo $! > $d/rollback.pid`,
    ].join("\n"));
    await new Ip6tablesRulesetProvider(openRemote, openFreshRemote).create(state(NEW));
    expect(live()).toBe(NEW);
    expect(stateFiles()).toBe("");
    expect(labSh("c2", "pgrep -f '^sleep 30$' || echo none").trim()).toBe("none");
  });

  it("does not kill a process that took a stale timer's PID", async () => {
    labSh("c2", `mkdir -p ${STATE_DIR}; sleep 300 </dev/null >/dev/null 2>&1 & echo $! > ${STATE_DIR}/rollback.pid; echo $! > /tmp/ipv6gw-innocent.pid`);
    await new Ip6tablesRulesetProvider(openRemote, openFreshRemote).create(state(NEW));
    expect(labSh("c2", "kill -0 $(cat /tmp/ipv6gw-innocent.pid) && echo alive").trim()).toBe("alive");
    labSh("c2", "kill $(cat /tmp/ipv6gw-innocent.pid); rm -f /tmp/ipv6gw-innocent.pid");
  });
});
