// `npm run bench [-- deploy|fleet|clients|native|--baseline ansible]` (as root, lab up): what deployments and
// previews cost on real boxes. Times vary with the machine; connection counts
// should not.
//
// deploy: for the twenty-resource program (test/fixtures/host-program) on lab
// box c2 and for the lab site: wall time and SSH connections the box accepted
// (counted from sshd's own log) for a first up, a no-op up (both
// --skip-preview), a no-op up with its preview as users run it, and a no-op
// up --refresh; a firewall change (one rule added) applied on each backend,
// nftables and iptables, with its rollback armed and confirmed over a new
// connection (the up also re-runs the checklist, the same on both); and a lab
// site preview that preflight refuses (how long the user waits for the
// message). The lab site's four runs are traced (IPV6GW_TRACE), and after
// the table the bench says where their time went (where-time-goes.ts).
//
// fleet: previewing one site and ten (the lab site converged once, nine more
// stacks with its state standing for the same gateway), with refresh and the
// policy pack as the PR workflow runs them: each site on its own with
// `npm run preview` (one at a time, and ten at once), and with
// `npm run fleet -- preview` (one site, ten sites). The target: ten sites in
// at most twice the time of one.
//
// --baseline ansible: the lab site converged by this project and by a tuned
// Ansible playbook (bench/ansible), from blank boxes, in one run. First both
// must leave the same end state on every box (bench/ansible.ts says what is
// compared); then fresh converges (ours as users run it, `pulumi up --yes`
// with its preview; both with the checklist) and no-op runs alternate, and
// the bench ends with the ratios of medians: `fresh up / ansible: R` and
// `no-op up / ansible: R` (and `up --refresh`, which reads every box back).
// Last, `npm start` once on blank boxes, as on a warm machine.
//
// clients: a fresh converge of the lab site (`pulumi up --yes` with its
// preview, checks included) with 2, 8 and 32 clients on the LAN (the lab
// booted with `--clients N`); the bench ends with how the time grew against
// the clients (sub-linear: 32 clients in less than 16 times the time of 2).
//
// native: on the native site (the lab's native scenario), how long after the
// ISP's renumbering every client prefers its address in the new prefix and
// reaches the outside from it, with no pulumi command (dhcpcd hears of the
// new prefix at its next renewal, at most T1 = 30 s later in the lab).
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { labCli, labSh, loadLab } from "../lab/client";
import { subnet } from "../components/net/ipv6";
import { eui64In, labNativeSite, renumbered, waitFor } from "../test/native-lab";
import type { FleetRun } from "../scripts/fleet/summary";
import { Ran } from "../scripts/pulumi-run";
import { TestStack, fleetPreview, labSite, siteConfig } from "../test/pulumi-stack";
import { parseTrace, whereTimeGoes } from "./where-time-goes";
import { ansibleRecap, endState, endStatesDiff, labPrereqs, runPlaybook, writeLabBaseline } from "./ansible";

const accepted = (box: string) => Number(labSh(box, "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());

interface Row {
  readonly what: string;
  readonly seconds: number;
  readonly connections: Record<string, number>;
}

/** Where the time of the traced runs went (where-time-goes.ts), printed after the table. */
const accounts: { what: string; lines: string[] }[] = [];

async function measure(what: string, boxes: readonly string[], run: () => Ran | Promise<Ran>, expect: "succeeds" | "fails" = "succeeds", traced = false): Promise<Row> {
  const before = Object.fromEntries(boxes.map((b) => [b, accepted(b)]));
  const trace = traced ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-trace-")), "trace.jsonl") : undefined;
  if (trace) process.env.IPV6GW_TRACE = trace;
  const t0 = Date.now();
  const started = process.hrtime.bigint();
  let r: Ran;
  try {
    r = await run();
  } finally {
    delete process.env.IPV6GW_TRACE;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if ((r.status === 0) !== (expect === "succeeds")) throw new Error(`${what} was expected to ${expect === "succeeds" ? "succeed" : "fail"} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  if (trace) {
    accounts.push({ what, lines: whereTimeGoes(parseTrace(fs.existsSync(trace) ? fs.readFileSync(trace, "utf8") : ""), t0) });
    fs.rmSync(path.dirname(trace), { recursive: true, force: true });
  }
  return { what, seconds, connections: Object.fromEntries(boxes.map((b) => [b, accepted(b) - before[b]])) };
}

async function bench(name: string, stack: TestStack, boxes: readonly string[], traced = false): Promise<Row[]> {
  try {
    // The first up from blank boxes: what an earlier stack left on them (its packages, say) would shorten it.
    labCli(["reset"]);
    return [
      await measure(`${name}: first up`, boxes, () => stack.up(), "succeeds", traced),
      await measure(`${name}: no-op up`, boxes, () => stack.up(), "succeeds", traced),
      // As users run it: the preview, then the update (which takes each box's facts from the preview).
      await measure(`${name}: no-op up --yes, with preview`, boxes, () => stack.run(["up", "--yes"]), "succeeds", traced),
      await measure(`${name}: no-op up --refresh`, boxes, () => stack.up(["--refresh"]), "succeeds", traced),
    ];
  } finally {
    stack.dispose();
  }
}

async function deployBench(): Promise<Row[]> {
  const host = new TestStack("e2e-bench-host", { "ipv6gw-host-resources:box": "c2" }, "test/fixtures/host-program", "test/fixtures/host-program");
  host.setSecret("ipv6gw-host-resources:marker", "bench");
  const rows = [...(await bench("20 host resources", host, ["c2"])), ...(await bench("lab site", new TestStack("e2e-bench-site", siteConfig(labSite())), ["gw", "c1", "c2", "outside"], true))];
  rows.push(await firewallApply("nftables"), await firewallApply("iptables"));
  const site = labSite();
  const refused = new TestStack("e2e-bench-refused", siteConfig({ ...site, gateway: { ...(site.gateway as object), lanInterface: "br-missing" } }));
  try {
    rows.push(await measure("lab site: preview refused by preflight", ["gw"], () => refused.preview(), "fails"));
  } finally {
    refused.dispose();
  }
  return rows;
}

/** One rule added to a converged lab site on this backend: the firewall's apply (and the checks it triggers). */
async function firewallApply(backend: "nftables" | "iptables"): Promise<Row> {
  const withRules = (rules: object[]) => {
    const s = labSite();
    s.firewall = { ...(s.firewall as object), backend, rules };
    return siteConfig(s);
  };
  const stack = new TestStack(`e2e-bench-${backend === "nftables" ? "nft" : "ipt"}`, withRules([]));
  try {
    const first = stack.up();
    if (first.status !== 0) throw new Error(`the lab site did not converge on ${backend}:\n${first.stdout}\n${first.stderr}`);
    // A rule the checklist does not see (it probes port 80 from outside, which must stay refused).
    stack.setConfig(withRules([{ name: "admin-in", action: "accept", protocol: "tcp", port: 8443, source: "2001:db8:ffff::10", state: ["new"] }]));
    return await measure(`lab site: one firewall rule added (${backend})`, ["gw"], () => stack.up());
  } finally {
    stack.dispose();
  }
}

/** `npm run preview` of one stack, asynchronously (so several can run at once). */
function npmPreview(stack: TestStack, backend: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["scripts/preview.sh", "--stack", stack.name, "--refresh"], { cwd: path.resolve(__dirname, ".."), env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

/** How many times the fleet bench previews one site and ten. */
const FLEET_RUNS = 3;

/** The run of median time (odd counts). */
function median(rows: readonly Row[]): Row {
  return [...rows].sort((a, b) => a.seconds - b.seconds)[Math.floor(rows.length / 2)];
}

async function fleetBench(): Promise<{ rows: Row[]; ratio: number; runs: { one: number[]; ten: number[] } }> {
  const boxes = ["gw", "c1", "c2", "outside"];
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-bench-fleet-"));
  const base = new TestStack("e2e-bench-fleet-0", siteConfig(labSite()), ".", "stacks", backend);
  const copies: TestStack[] = [];
  try {
    const up = base.up();
    if (up.status !== 0) throw new Error(`the lab site did not converge:\n${up.stdout}\n${up.stderr}`);
    for (let i = 1; i < 10; i++) {
      const s = new TestStack(`e2e-bench-fleet-${i}`, siteConfig(labSite()), ".", "stacks", backend);
      copies.push(s);
      s.importStateOf(base);
    }
    const ten = [base, ...copies];
    const names = ten.map((s) => s.name);
    // Every site must preview without an error.
    const all = (r: Ran & { run: FleetRun }) => ({ ...r, status: r.status === 0 && r.run.sites.every((s) => s.errors.length === 0) ? 0 : 1 });
    // The pack's compiled build is cached: the first run pays for it, as after any change to policy/ or components/.
    fs.rmSync(path.resolve(__dirname, "../.pulumi/fleet"), { recursive: true, force: true });
    const first = await measure("fleet, 1 site (first run: compiles the pack)", boxes, () => all(fleetPreview(backend, names.slice(0, 1))));
    // One run on this busy two-core machine can be seconds off: the ratio is of medians, one and ten alternating.
    const oneSite: Row[] = [];
    const tenSites: Row[] = [];
    for (let i = 0; i < FLEET_RUNS; i++) {
      oneSite.push(await measure("fleet, 1 site", boxes, () => all(fleetPreview(backend, names.slice(0, 1)))));
      tenSites.push(await measure("fleet, 10 sites", boxes, () => all(fleetPreview(backend, names))));
    }
    const [oneMedian, tenMedian] = [median(oneSite), median(tenSites)];
    const rows = [
      first,
      { ...oneMedian, what: `fleet, 1 site (median of ${FLEET_RUNS})` },
      { ...tenMedian, what: `fleet, 10 sites (median of ${FLEET_RUNS})` },
      await measure("npm run preview, 1 site", boxes, () => npmPreview(base, backend)),
      await measure("npm run preview, 10 sites at once", boxes, async () => {
        const rs = await Promise.all(ten.map((s) => npmPreview(s, backend)));
        return { status: rs.every((r) => r.status === 0) ? 0 : 1, stdout: rs.map((r) => r.stdout).join("\n"), stderr: rs.map((r) => r.stderr).join("\n") };
      }),
    ];
    return { rows, ratio: tenMedian.seconds / oneMedian.seconds, runs: { one: oneSite.map((r) => r.seconds), ten: tenSites.map((r) => r.seconds) } };
  } finally {
    for (const s of copies) s.forget();
    base.dispose();
    fs.rmSync(backend, { recursive: true, force: true });
  }
}

/** Renumbers the lab's ISP and times the clients' move to the new prefix. */
async function renumbering(round: number): Promise<Row[]> {
  const old = loadLab().native!.delegatedPrefix;
  const started = process.hrtime.bigint();
  const t0 = Date.now();
  labCli(["isp", "renumber"]);
  const next = loadLab().native!.delegatedPrefix;
  const lans = (p: string) => [subnet(p, 0, 64), subnet(p, 1, 64)];
  const clients = [
    { box: "c1", old: lans(old)[0], next: lans(next)[0] },
    { box: "c2", old: lans(old)[0], next: lans(next)[0] },
    { box: "c3", old: lans(old)[1], next: lans(next)[1] },
  ];
  const preferred = await renumbered(clients, 180_000);
  const want = eui64In("c1", lans(next)[0]);
  await waitFor("c1 to reach the outside from its new address", () => (labSh("c1", "curl -fsS -m 5 -o /dev/null -w '%{local_ip}' 'http://[2001:db8:ffff::1]/' || true").trim() === want ? true : undefined), 60_000, 500);
  const out = Number(process.hrtime.bigint() - started) / 1e9;
  return [
    { what: `native: renumbering ${round}, clients prefer new /64`, seconds: (preferred - t0) / 1000, connections: {} },
    { what: `native: renumbering ${round}, c1 out from it`, seconds: out, connections: {} },
  ];
}

/** The native rows: the lab switched to its native scenario and back. */
async function nativeBench(): Promise<Row[]> {
  labCli(["down"]);
  labCli(["up", "--scenario", "native"]);
  const stack = new TestStack("e2e-bench-native", siteConfig(labNativeSite()));
  try {
    const first = await measure("native site: first up", ["gw", "c1", "c2", "c3", "outside"], () => stack.up());
    return [first, ...(await renumbering(1)), ...(await renumbering(2))];
  } finally {
    stack.dispose();
    labCli(["down"]);
    labCli(["up", "--scenario", "direct"]);
  }
}

function printRows(rows: readonly Row[]): void {
  console.log(`\n${"run".padEnd(46)} ${"seconds".padStart(8)}  SSH connections accepted per box`);
  for (const r of rows) {
    console.log(`${r.what.padEnd(46)} ${r.seconds.toFixed(1).padStart(8)}  ${Object.entries(r.connections).map(([b, n]) => `${b}=${n}`).join(" ")}`);
  }
}

/** The LAN sizes the clients bench converges. */
const CLIENT_COUNTS = [2, 8, 32] as const;

/** The lab site with clients c1..cN. */
function siteWithClients(n: number): Record<string, unknown> {
  const site = labSite();
  site.clients = Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, connection: { lab: `c${i + 1}` } }));
  return siteConfig(site);
}

async function clientsBench(): Promise<{ rows: Row[]; growth: string }> {
  const rows: Row[] = [];
  try {
    for (const n of CLIENT_COUNTS) {
      // A lab of this size, from blank boxes.
      labCli(["down"]);
      labCli(["up", "--clients", String(n)]);
      const stack = new TestStack(`e2e-bench-clients-${n}`, siteWithClients(n));
      try {
        rows.push(await measure(`lab site, ${n} clients: fresh up --yes`, ["gw"], () => stack.run(["up", "--yes"])));
      } finally {
        stack.forget();
      }
    }
  } finally {
    labCli(["down"]);
    labCli(["up"]);
  }
  const [first, last] = [rows[0], rows[rows.length - 1]];
  const clients = CLIENT_COUNTS[CLIENT_COUNTS.length - 1] / CLIENT_COUNTS[0];
  return {
    rows,
    growth: `clients: ${CLIENT_COUNTS.join("/")} clients took ${rows.map((r) => r.seconds.toFixed(1)).join("/")} s; ${clients}x the clients took ${(last.seconds / first.seconds).toFixed(2)}x the time (sub-linear: under ${clients}x)`,
  };
}

/** How many fresh converges and no-op runs of each tool the baseline bench takes the median of. */
const BASELINE_RUNS = 3;

async function baselineBench(): Promise<{ rows: Row[]; ratios: string[] }> {
  const boxes = ["gw", "c1", "c2", "outside"];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-bench-ansible-"));
  let n = 0;
  /** Ours from blank boxes, as users run it; the stack is left converged for the caller. */
  const oursFresh = async (traced: boolean) => {
    labCli(["reset"]);
    const stack = new TestStack(`e2e-bench-ours-${n++}`, siteConfig(labSite()));
    try {
      return { stack, row: await measure("ours: fresh up --yes (with preview)", boxes, () => stack.run(["up", "--yes"]), "succeeds", traced) };
    } catch (e) {
      stack.dispose();
      throw e;
    }
  };
  const ansible = (what: string, expectChanges: boolean) =>
    measure(what, boxes, async () => {
      const r = await runPlaybook(work);
      const changed = ansibleRecap(r);
      if (!expectChanges && Object.values(changed).some((c) => c > 0)) throw new Error(`the Ansible baseline changed something on a converged site (${JSON.stringify(changed)}):\n${r.stdout}`);
      return r;
    });
  labPrereqs();
  const ours: Row[] = [];
  const theirs: Row[] = [];
  let start: Row | undefined;
  const oursNoop: Row[] = [];
  const oursRefresh: Row[] = [];
  const theirsNoop: Row[] = [];
  try {
    // Round one: ours converges, and its state tells the playbook what each box holds.
    const first = await oursFresh(true);
    ours.push(first.row);
    try {
      writeLabBaseline(first.stack, boxes, work);
      const oursState = endState(boxes);
      for (let i = 0; i < BASELINE_RUNS; i++) {
        oursNoop.push(await measure("ours: no-op up --yes (with preview)", boxes, () => first.stack.run(["up", "--yes"])));
        oursRefresh.push(await measure("ours: no-op up --refresh", boxes, () => first.stack.up(["--refresh"])));
      }
      // Ansible from blank boxes, to the same end state.
      labCli(["reset"]);
      theirs.push(await ansible("ansible: fresh converge", true));
      const diff = endStatesDiff(oursState, endState(boxes));
      if (diff.length > 0) throw new Error(`ours and the Ansible baseline left different end states ("-" ours, "+" Ansible's), so nothing is timed:\n${diff.join("\n")}`);
      for (let i = 0; i < BASELINE_RUNS; i++) theirsNoop.push(await ansible("ansible: no-op", false));
    } finally {
      first.stack.forget();
    }
    // The other fresh rounds, alternating.
    for (let i = 1; i < BASELINE_RUNS; i++) {
      const next = await oursFresh(false);
      ours.push(next.row);
      next.stack.forget();
      labCli(["reset"]);
      theirs.push(await ansible("ansible: fresh converge", true));
    }
    // The README's main command on this warm machine (toolchain and trees cached), on blank boxes: its
    // `up --refresh` finds what the lab stack's state says is gone and builds it again, then the checklist.
    labCli(["reset"]);
    start = await measure("npm start (warm machine, blank boxes)", boxes, () => {
      const r = spawnSync("npm", ["start"], { cwd: path.resolve(__dirname, ".."), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const of = (rows: Row[], what: string) => ({ ...median(rows), what: `${what} (median of ${rows.length})` });
  const rows = [
    of(ours, "ours: fresh up --yes, with preview"),
    of(theirs, "ansible: fresh converge"),
    of(oursNoop, "ours: no-op up --yes, with preview"),
    of(oursRefresh, "ours: no-op up --refresh"),
    of(theirsNoop, "ansible: no-op"),
    ...(start ? [start] : []),
  ];
  const ratio = (a: Row[], b: Row[]) => (median(a).seconds / median(b).seconds).toFixed(2);
  const secs = (xs: Row[]) => xs.map((x) => x.seconds.toFixed(1)).join(", ");
  return {
    rows,
    ratios: [
      `runs (s): ours fresh ${secs(ours)}; ansible fresh ${secs(theirs)}; ours no-op ${secs(oursNoop)}; ours --refresh ${secs(oursRefresh)}; ansible no-op ${secs(theirsNoop)}`,
      `fresh up / ansible: ${ratio(ours, theirs)}`,
      `no-op up / ansible: ${ratio(oursNoop, theirsNoop)}`,
      `no-op up --refresh / ansible: ${ratio(oursRefresh, theirsNoop)}`,
      ...(start ? [`npm start (blank boxes) / ansible fresh: ${(start.seconds / median(theirs).seconds).toFixed(2)}`] : []),
    ],
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--baseline") {
    if (args[1] !== "ansible" || args.length > 2) throw new Error(`usage: npm run bench -- --baseline ansible; got '${args.join(" ")}'`);
    const { rows, ratios } = await baselineBench();
    printRows(rows);
    for (const a of accounts) console.log(`\nwhere the time goes, ${a.what} (seconds from the command's start):\n${a.lines.join("\n")}`);
    console.log(`\n${ratios.join("\n")}`);
    return;
  }
  const which = args[0] ?? "all";
  if (!["all", "deploy", "fleet", "clients", "native"].includes(which)) throw new Error(`usage: npm run bench [-- deploy|fleet|clients|native|--baseline ansible]; got '${which}'`);
  const rows: Row[] = [];
  let clients: Awaited<ReturnType<typeof clientsBench>> | undefined;
  let fleet: Awaited<ReturnType<typeof fleetBench>> | undefined;
  if (which === "all" || which === "deploy") rows.push(...(await deployBench()));
  if (which === "all" || which === "fleet") {
    fleet = await fleetBench();
    rows.push(...fleet.rows);
  }
  if (which === "all" || which === "clients") {
    clients = await clientsBench();
    rows.push(...clients.rows);
  }
  if (which === "all" || which === "native") rows.push(...(await nativeBench()));
  printRows(rows);
  if (clients) console.log(`\n${clients.growth}`);
  if (fleet) {
    const secs = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(", ");
    console.log(`\nfleet: 10 sites took ${fleet.ratio.toFixed(2)}x the time of 1 (target: at most 2x; medians of 1 site ${secs(fleet.runs.one)} s and 10 sites ${secs(fleet.runs.ten)} s) on ${os.cpus().length} cores`);
  }
  for (const a of accounts) console.log(`\nwhere the time goes, ${a.what} (seconds from the command's start):\n${a.lines.join("\n")}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
