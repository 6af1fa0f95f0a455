// The bench's Ansible baseline (npm run bench -- --baseline ansible): the
// playbook in bench/ansible/site.yml, fed what each box of a converged site
// holds, and the end state both must reach before either is timed.
//
// The playbook's variables come from the site's converged stack (`pulumi
// stack export --show-secrets`): the same files, units, rules, kernel
// parameters and checklist probes our resources put on the boxes. So the
// baseline converges the same site, and the bench compares how, not what.
// A resource kind the baseline does not know stops the bench (it would
// otherwise time a playbook that does less).

import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { sysctlFile, sysctlFileText } from "../components/host/sysctl";
import { bootCopy } from "../components/firewall/ruleset";
import { shq } from "../components/host/remote";
import { labSh, loadLab } from "../lab/client";
import { labPaths } from "../lab/paths";
import type { Ran } from "../scripts/pulumi-run";
import type { TestStack } from "../test/pulumi-stack";

/** One resource of a stack export. */
export interface ExportedResource {
  readonly urn: string;
  readonly type: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
}

export interface BaselineFile {
  readonly path: string;
  /** base64: the playbook decodes it, so Jinja never reads the text as a template. */
  readonly content_b64: string;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly validate?: string;
}

export interface BaselineService {
  readonly name: string;
  readonly enabled: boolean;
  readonly state: "started" | "stopped" | "unmanaged";
  /** Files whose change restarts it (those whose sha256 its restartTrigger names). */
  readonly restart_on: string[];
}

export interface BaselineCron {
  readonly name: string;
  readonly user: string;
  readonly minute: string;
  readonly hour: string;
  readonly day: string;
  readonly month: string;
  readonly weekday: string;
  readonly job: string;
}

/** What the playbook puts on one box (bench/ansible/site.yml names each part). */
export interface BaselineHostVars {
  ipv6gw_packages: string[];
  /** Ours, as the box loads it at boot (the boot copy), and where it goes. */
  ipv6gw_firewall?: { backend: "iptables" | "nftables"; rules_b64: string; path: string };
  ipv6gw_files: BaselineFile[];
  ipv6gw_sysctls: { key: string; value: string; file?: string; file_content_b64?: string }[];
  ipv6gw_services: BaselineService[];
  ipv6gw_cron: BaselineCron[];
  ipv6gw_probes: { name: string; script_b64: string; retries: number }[];
}

/** A connection as the state holds it: enough to tell which box it is. */
export interface BoxAddress {
  readonly host: string;
  readonly port?: number;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The value with every secret of `--show-secrets` replaced by its plaintext. */
export function revealed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revealed);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
      if (typeof o.plaintext !== "string") throw new Error("a secret in the export has no plaintext: export with --show-secrets");
      return revealed(JSON.parse(o.plaintext));
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revealed(x)]));
  }
  return v;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const kindOf = (type: string) => type.slice(type.lastIndexOf(":") + 1);

/** Kinds that only read the boxes (or compute a value): nothing for the playbook to do. */
const READ_ONLY = new Set(["HostFacts", "UlaPrefix"]);

/** The five fields of a cron schedule; an @keyword has no such form in the cron module's fields. */
function cronFields(schedule: string, where: string): Pick<BaselineCron, "minute" | "hour" | "day" | "month" | "weekday"> {
  const f = schedule.trim().split(/\s+/);
  if (f.length !== 5) throw new Error(`${where}: schedule '${schedule}' is not five cron fields, which the baseline's cron task takes`);
  const [minute, hour, day, month, weekday] = f;
  return { minute, hour, day, month, weekday };
}

/**
 * Each box's playbook variables, from a converged stack's resources (secrets
 * revealed). `boxOf` names the box a connection reaches. Pure.
 */
export function baselineVars(resources: readonly ExportedResource[], boxOf: (c: BoxAddress) => string): Record<string, BaselineHostVars> {
  const vars: Record<string, BaselineHostVars> = {};
  const on = (connection: unknown): BaselineHostVars => {
    const box = boxOf(connection as BoxAddress);
    return (vars[box] ??= { ipv6gw_packages: [], ipv6gw_files: [], ipv6gw_sysctls: [], ipv6gw_services: [], ipv6gw_cron: [], ipv6gw_probes: [] });
  };
  const fileBySha = new Map<string, string>();
  const services: { box: BaselineHostVars; name: string; enabled: boolean; running: unknown; trigger: string }[] = [];
  for (const r of resources) {
    if (!r.type.startsWith("pulumi-nodejs:dynamic/")) continue;
    const kind = kindOf(r.type);
    const i = revealed(r.inputs ?? {}) as Record<string, unknown>;
    const where = `${kind} ${r.urn.slice(r.urn.lastIndexOf("::") + 2)}`;
    switch (kind) {
      case "Packages": {
        const box = on(i.connection);
        box.ipv6gw_packages = [...new Set([...box.ipv6gw_packages, ...(i.names as string[])])].sort();
        break;
      }
      case "RemoteFile": {
        const f: BaselineFile = {
          path: i.path as string,
          content_b64: b64(i.content as string),
          mode: (i.mode as string | undefined) ?? "0644",
          owner: (i.owner as string | undefined) ?? "root",
          group: (i.group as string | undefined) ?? "root",
          ...(i.validate ? { validate: i.validate as string } : {}),
        };
        on(i.connection).ipv6gw_files.push(f);
        const sha = (revealed(r.outputs ?? {}) as Record<string, unknown>).sha256;
        if (typeof sha === "string") fileBySha.set(sha, f.path);
        break;
      }
      case "Sysctl": {
        const key = i.key as string;
        const value = String(i.value);
        const persist = i.persist !== false;
        on(i.connection).ipv6gw_sysctls.push({ key, value, ...(persist ? { file: sysctlFile(key), file_content_b64: b64(sysctlFileText(key, value)) } : {}) });
        break;
      }
      case "Service":
        services.push({ box: on(i.connection), name: i.name as string, enabled: i.enabled !== false, running: i.running ?? true, trigger: String(i.restartTrigger ?? "") });
        break;
      case "CronEntry":
        on(i.connection).ipv6gw_cron.push({ name: i.name as string, user: (i.user as string | undefined) ?? "root", ...cronFields(i.schedule as string, where), job: i.command as string });
        break;
      case "Ip6tablesRuleset":
      case "NftRuleset": {
        if (!i.persistPath) throw new Error(`${where}: a ruleset kept nowhere at boot, which the baseline does not model`);
        const backend = kind === "NftRuleset" ? "nftables" : "iptables";
        on(i.connection).ipv6gw_firewall = { backend, rules_b64: b64(bootCopy(backend, i.rules as string)), path: i.persistPath as string };
        break;
      }
      case "SiteProbe": {
        const connections = i.connections as Record<string, unknown>;
        // A probe's `after` (run once another passed) needs nothing here: the playbook retries each probe until it passes.
        for (const p of i.probes as { name: string; on: string; script: string; retrySeconds: number; stdinFrom?: string }[]) {
          if (p.stdinFrom !== undefined) throw new Error(`${where}: probe "${p.name}" reads another's output, which the baseline does not model`);
          on(connections[p.on]).ipv6gw_probes.push({ name: p.name, script_b64: b64(p.script), retries: Math.max(0, Math.ceil(p.retrySeconds)) });
        }
        break;
      }
      default:
        if (!READ_ONLY.has(kind)) throw new Error(`${where}: the Ansible baseline has no task for a ${kind}; add one to bench/ansible/site.yml and here`);
    }
  }
  // Every file is known by now, whatever the order of the export.
  for (const s of services) {
    s.box.ipv6gw_services.push({
      name: s.name,
      enabled: s.enabled,
      state: s.running === "unmanaged" ? "unmanaged" : s.running === false ? "stopped" : "started",
      restart_on: [...fileBySha].filter(([sha]) => s.trigger.includes(sha)).map(([, p]) => p),
    });
  }
  return vars;
}

/** Where the playbook reaches a box, from lab.json. */
export interface BaselineBox {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The network namespace ssh must run in to reach the box, if any. */
  readonly viaNetns?: string;
}

/** inventory.ini: one line per box, its address, login and the lab's key and known_hosts. Pure. */
export function inventoryText(boxes: readonly BaselineBox[], key: string, knownHosts: string): string {
  return [
    "[all]",
    ...boxes.map((b) =>
      [
        b.name,
        `ansible_host=${b.host}`,
        `ansible_port=${b.port}`,
        `ansible_user=${b.user}`,
        `ansible_ssh_private_key_file=${key}`,
        `ansible_ssh_extra_args=${shq(`-o UserKnownHostsFile=${knownHosts}${b.viaNetns ? ` -o ProxyCommand="ip netns exec ${b.viaNetns} nc %h %p"` : ""}`)}`,
      ].join(" "),
    ),
    "",
  ].join("\n");
}

/** Writes the inventory and each box's host_vars into `dir`, beside which the playbook runs. */
export function writeBaseline(dir: string, vars: Record<string, BaselineHostVars>, boxes: readonly BaselineBox[], key: string, knownHosts: string): void {
  fs.mkdirSync(path.join(dir, "host_vars"), { recursive: true });
  fs.writeFileSync(path.join(dir, "inventory.ini"), inventoryText(boxes, key, knownHosts));
  for (const b of boxes) fs.writeFileSync(path.join(dir, "host_vars", `${b.name}.json`), JSON.stringify(vars[b.name] ?? {}, null, 1));
}

export const PLAYBOOK_DIR = path.resolve(__dirname, "ansible");

/**
 * One `ansible-playbook` run of the baseline with the inventory in `dir`.
 * Each run starts cold, as a `pulumi up` does: its own ControlPersist
 * directory, whose master connections are closed when it ends.
 */
export async function runPlaybook(dir: string): Promise<Ran> {
  const controls = fs.mkdtempSync(path.join(dir, "cp-"));
  const env = { ...process.env, ANSIBLE_CONFIG: path.join(PLAYBOOK_DIR, "ansible.cfg"), ANSIBLE_SSH_CONTROL_PATH_DIR: controls, ANSIBLE_LOCAL_TEMP: path.join(dir, "tmp") };
  try {
    return await new Promise<Ran>((resolve) => {
      const child = spawn("ansible-playbook", ["-i", path.join(dir, "inventory.ini"), path.join(PLAYBOOK_DIR, "site.yml")], { env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b) => (stdout += b));
      child.stderr.on("data", (b) => (stderr += b));
      child.on("error", (e) => resolve({ status: 127, stdout, stderr: `${stderr}${e.message}: is ansible-core installed (scripts/prereqs.sh installs it)?` }));
      child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
    });
  } finally {
    // Close each master by its own socket (never by process name), so the next run dials afresh.
    for (const socket of fs.readdirSync(controls)) {
      await new Promise((resolve) => spawn("ssh", ["-o", `ControlPath=${path.join(controls, socket)}`, "-O", "exit", "placeholder"], { stdio: "ignore" }).on("close", resolve));
    }
    fs.rmSync(controls, { recursive: true, force: true });
  }
}

/**
 * Prints what a converge leaves on a box, one fact per line under a "##"
 * heading, for comparing two converges: every file and link under /etc,
 * /usr/local and /opt (mode, owner, a hash of the content), the packages,
 * the units enabled and active, the forwarding and RA parameters, the live
 * firewall (no counters), global addresses and routes (no lifetimes), and
 * each crontab's jobs. Left out, each for a reason: the crontab's comment
 * lines (its header names a temporary file and a date; the two tools mark
 * their lines each in their own way) and each tool's own bookkeeping
 * (Ansible's ~/.ansible, our state under /var/lib/ipv6gw).
 */
export const END_STATE_SCRIPT = `set -u
echo '## files'
find /etc /usr/local /opt -xdev \\( -type f -o -type l \\) 2>/dev/null | LC_ALL=C sort | while IFS= read -r f; do
  if [ -L "$f" ]; then printf '%s -> %s\\n' "$f" "$(readlink "$f")"; else printf '%s %s %s\\n' "$f" "$(stat -c '%a %U:%G' "$f")" "$(sha256sum < "$f" | cut -c1-16)"; fi
done
echo '## packages'
dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}\\n' | LC_ALL=C sort
echo '## units enabled'
systemctl list-unit-files --no-legend --no-pager --plain | awk '$2 != "static" && $2 != "generated" {print $1, $2}' | LC_ALL=C sort
echo '## units active'
systemctl list-units --no-legend --no-pager --plain --all --state=active | awk '{print $1}' | grep -v '^session-' | LC_ALL=C sort
echo '## sysctl'
sysctl -a 2>/dev/null | grep -E '^net\\.ipv6\\.conf\\.[^.]+\\.(forwarding|accept_ra|autoconf|disable_ipv6) |^net\\.ipv4\\.ip_forward ' | LC_ALL=C sort
echo '## ip6tables'
ip6tables-save 2>/dev/null | grep -v '^#' | sed 's/ \\[[0-9]*:[0-9]*\\]$//'
echo '## nft'
nft list table ip6 ipv6gw 2>/dev/null || true
echo '## addresses'
ip -6 -o addr show scope global | grep -v temporary | awk '{print $2, $4}' | LC_ALL=C sort
echo '## routes'
ip -6 route show | sed 's/ expires [0-9]*sec//' | LC_ALL=C sort
echo '## cron'
for u in $(ls /var/spool/cron/crontabs 2>/dev/null); do crontab -l -u "$u" 2>/dev/null | grep -v '^#' | sed "s/^/$u: /"; done
`;

/** The lines of two end states that differ, "- ours" / "+ Ansible's", under their "##" heading. Pure. */
export function endStateDiff(ours: string, theirs: string, limit = 40): string[] {
  const sections = (text: string) => {
    const out = new Map<string, Set<string>>();
    let current = "";
    for (const line of text.split("\n")) {
      if (line.startsWith("## ")) out.set((current = line.slice(3)), new Set());
      else if (line !== "") (out.get(current) ?? out.set(current, new Set()).get(current)!).add(line);
    }
    return out;
  };
  const [a, b] = [sections(ours), sections(theirs)];
  const diff: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const [x, y] = [a.get(name) ?? new Set<string>(), b.get(name) ?? new Set<string>()];
    const lines = [...[...x].filter((l) => !y.has(l)).map((l) => `- ${l}`), ...[...y].filter((l) => !x.has(l)).map((l) => `+ ${l}`)];
    if (lines.length > 0) diff.push(`## ${name}`, ...lines);
  }
  return diff.length > limit ? [...diff.slice(0, limit), `... and ${diff.length - limit} more lines`] : diff;
}

/** What a converge left on each box (END_STATE_SCRIPT), read without SSH. */
export function endState(boxes: readonly string[]): Record<string, string> {
  return Object.fromEntries(boxes.map((b) => [b, labSh(b, END_STATE_SCRIPT, 120_000)]));
}

/** endStateDiff box by box, each box's lines under its name; empty when every box matches. */
export function endStatesDiff(ours: Record<string, string>, theirs: Record<string, string>): string[] {
  return Object.keys(ours).flatMap((b) => {
    const d = endStateDiff(ours[b], theirs[b] ?? "");
    return d.length > 0 ? [`${b}:`, ...d] : [];
  });
}

/** Ansible's PLAY RECAP: every box ok, none failed or unreachable; returns the boxes' changed counts. */
export function ansibleRecap(r: Ran): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    if (m[3] !== "0" || m[4] !== "0") throw new Error(`the Ansible baseline failed on ${m[1]}:\n${r.stdout}\n${r.stderr}`);
    changed[m[1]] = Number(m[2]);
  }
  if (r.status !== 0 || Object.keys(changed).length === 0) throw new Error(`the Ansible baseline failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return changed;
}

/** The host's packages for the lab, ansible-core among them (scripts/prereqs.sh: installs only what is missing). */
export function labPrereqs(): void {
  const r = spawnSync("bash", [path.resolve(__dirname, "../scripts/prereqs.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error("scripts/prereqs.sh failed (output above)");
}

/** The playbook's inventory and variables in `dir`, for the lab boxes `boxes`, from a stack converged on them. */
export function writeLabBaseline(stack: TestStack, boxes: readonly string[], dir: string): void {
  const lab = loadLab();
  const paths = labPaths();
  const exported = JSON.parse(stack.run(["stack", "export", "--show-secrets"], true).stdout).deployment.resources ?? [];
  const boxOf = (c: BoxAddress) => {
    const found = Object.entries(lab.boxes).find(([, b]) => b && b.host === c.host && b.port === (c.port ?? 22));
    if (!found) throw new Error(`no lab box is at ${c.host} port ${c.port ?? 22}`);
    return found[0];
  };
  const inventory = boxes.map((name) => {
    const b = lab.boxes[name as keyof typeof lab.boxes];
    if (!b) throw new Error(`box ${name} is not in the running lab`);
    return { name, host: b.host, port: b.port, user: b.user, viaNetns: b.viaNetns };
  });
  writeBaseline(dir, baselineVars(exported, boxOf), inventory, paths.sshPrivateKey, paths.knownHosts);
}
