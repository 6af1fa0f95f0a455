// `npm run bench` (as root, lab up): what a deployment costs on a real box.
// For the twenty-resource program (test/fixtures/host-program) on lab box c2
// and for the lab site: wall time and SSH connections the box accepted
// (counted from sshd's own log) for a first up, a no-op up, and a no-op
// up --refresh; a firewall change (one rule added) applied on each backend,
// nftables and iptables, with its rollback armed and confirmed over a new
// connection (the up also re-runs the checklist, the same on both); a lab
// site preview that preflight refuses (how long the user waits for the
// message); and on the native site (the lab's native scenario), how long
// after the ISP's renumbering every client prefers its address in the new
// prefix and reaches the outside from it, with no pulumi command (dhcpcd
// hears of the new prefix at its next renewal, at most T1 = 30 s later in
// the lab). Times vary with the machine; connection counts should not.
import { labSh, loadLab } from "../lab/client";
import { subnet } from "../components/net/ipv6";
import { eui64In, labCli, labNativeSite, renumbered, waitFor } from "../test/native-lab";
import { TestStack, labSite, siteConfig } from "../test/pulumi-stack";

const accepted = (box: string) => Number(labSh(box, "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());

interface Row {
  readonly what: string;
  readonly seconds: number;
  readonly connections: Record<string, number>;
}

function measure(what: string, boxes: readonly string[], run: () => { status: number; stdout: string; stderr: string }, expect: "succeeds" | "fails" = "succeeds"): Row {
  const before = Object.fromEntries(boxes.map((b) => [b, accepted(b)]));
  const started = process.hrtime.bigint();
  const r = run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if ((r.status === 0) !== (expect === "succeeds")) throw new Error(`${what} was expected to ${expect === "succeeds" ? "succeed" : "fail"} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { what, seconds, connections: Object.fromEntries(boxes.map((b) => [b, accepted(b) - before[b]])) };
}

function bench(name: string, stack: TestStack, boxes: readonly string[]): Row[] {
  try {
    return [
      measure(`${name}: first up`, boxes, () => stack.up()),
      measure(`${name}: no-op up`, boxes, () => stack.up()),
      measure(`${name}: no-op up --refresh`, boxes, () => stack.up(["--refresh"])),
    ];
  } finally {
    stack.dispose();
  }
}

const host = new TestStack("e2e-bench-host", { "ipv6gw-host-resources:box": "c2" }, "test/fixtures/host-program", "test/fixtures/host-program");
host.setSecret("ipv6gw-host-resources:marker", "bench");
const rows = [...bench("20 host resources", host, ["c2"]), ...bench("lab site", new TestStack("e2e-bench-site", siteConfig(labSite())), ["gw", "c1", "c2", "outside"])];

/** One rule added to a converged lab site on this backend: the firewall's apply (and the checks it triggers). */
function firewallApply(backend: "nftables" | "iptables"): Row {
  const withRules = (rules: object[]) => {
    const s = labSite();
    s.firewall = { ...(s.firewall as object), backend, rules };
    return siteConfig(s);
  };
  const stack = new TestStack(`e2e-bench-${backend === "nftables" ? "nft" : "ipt"}`, withRules([]));
  try {
    const first = stack.up();
    if (first.status !== 0) throw new Error(`the lab site did not converge on ${backend}:\n${first.stdout}\n${first.stderr}`);
    stack.setConfig(withRules([{ name: "web-in", action: "accept", protocol: "tcp", port: 80, state: ["new"] }]));
    return measure(`lab site: one firewall rule added (${backend})`, ["gw"], () => stack.up());
  } finally {
    stack.dispose();
  }
}
rows.push(firewallApply("nftables"), firewallApply("iptables"));

const site = labSite();
const refused = new TestStack("e2e-bench-refused", siteConfig({ ...site, gateway: { ...(site.gateway as object), lanInterface: "br-missing" } }));
try {
  rows.push(measure("lab site: preview refused by preflight", ["gw"], () => refused.preview(), "fails"));
} finally {
  refused.dispose();
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

async function native(): Promise<Row[]> {
  labCli(["down"]);
  labCli(["up", "--scenario", "native"]);
  const stack = new TestStack("e2e-bench-native", siteConfig(labNativeSite()));
  try {
    const first = measure("native site: first up", ["gw", "c1", "c2", "c3", "outside"], () => stack.up());
    return [first, ...(await renumbering(1)), ...(await renumbering(2))];
  } finally {
    stack.dispose();
    labCli(["down"]);
    labCli(["up", "--scenario", "direct"]);
  }
}

void (async () => {
  rows.push(...(await native()));
  console.log(`\n${"run".padEnd(44)} ${"seconds".padStart(8)}  SSH connections accepted per box`);
  for (const r of rows) {
    console.log(`${r.what.padEnd(44)} ${r.seconds.toFixed(1).padStart(8)}  ${Object.entries(r.connections).map(([b, n]) => `${b}=${n}`).join(" ")}`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
