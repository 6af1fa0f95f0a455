// Reboots of the converged gateway (lab restart: its disk kept, its kernel
// state gone): from the first packet of the new boot no connection from
// outside reaches a client, and the firewall, forwarding, radvd, the tunnel
// and the LAN address come back by themselves, the checks passing. Then a
// power loss in the middle of a firewall apply: the box comes back with a
// whole ruleset of ours, old or new, never none, and the next up converges.
import { labCli, labSh, restartBox, startProbes } from "../../lab/client";
import { TestStack, labSite, labSiteStack, siteConfig } from "../pulumi-stack";

jest.setTimeout(900_000);

const C1 = "2001:db8:8888:0:200:5eff:fe00:5311";
const STATE_DIR = "/var/lib/ipv6gw/firewall";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (a script exiting 0 on box), or fails naming what did not come back. */
async function until(box: string, what: string, check: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      labSh(box, check);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what} did not come back within ${seconds} s after the reboot: ${(e as Error).message}`);
    }
    await sleep(1000);
  }
}

/** What must be back on gw after any boot, without a pulumi command. */
async function gatewayBack(): Promise<void> {
  await until("gw", "the firewall", "ip6tables -S IPV6-INPUT | grep -q -- '--reject-with icmp6-adm-prohibited'", 60);
  await until("gw", "IPv6 forwarding", `[ "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ]`, 60);
  await until("gw", "the WireGuard tunnel", "wg show wg0 latest-handshakes | awk '$2 > 0 { ok = 1 } END { exit !ok }'", 90);
  await until("gw", "the LAN address", "ip -6 -o addr show dev eth0 scope global | grep -q ' 2001:db8:8888::1/64 '", 60);
  await until("gw", "radvd", "pidof radvd", 60);
  await until("c1", "c1's route out", "curl -fsS -m 5 -o /dev/null 'http://[2001:db8:ffff::1]/'", 90);
}

describe("the converged gateway, rebooted", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    stack = labSiteStack("e2e-reboot");
    const up = stack.up();
    if (up.status !== 0) throw new Error(`pulumi up failed:\n${up.stdout}\n${up.stderr}`);
  });
  afterAll(() => stack?.dispose());

  it("lets no connection from outside through, from its first packet on, and comes back whole by itself", async () => {
    // c1 runs sshd: without the firewall, a TCP connect from outside to it would succeed.
    const probes = startProbes("outside", [{ address: C1, port: 22 }]);
    const report = await restartBox("gw");
    await gatewayBack();
    await sleep(3000);
    const results = await probes.stop();

    const tcp = results.filter((r) => r.kind === "tcp");
    const through = tcp.filter((r) => r.ok);
    expect(through).toEqual([]);
    // The path was live while probed: after the tunnel came back, pings (allowed by the ICMPv6 option) got
    // answers and the TCP attempts were refused by the firewall, not lost on the way.
    const afterBoot = results.filter((r) => r.at > report.bootedAt);
    expect(afterBoot.some((r) => r.kind === "ping" && r.ok)).toBe(true);
    expect(afterBoot.some((r) => r.kind === "tcp" && /Permission denied|refused/.test(r.detail))).toBe(true);
    expect(tcp.filter((r) => r.at > report.bootedAt).length).toBeGreaterThan(10);

    // At boot forwarding waited for the firewall's loader, which ran before any network configuration.
    const order = labSh("gw", "systemctl show -p ActiveEnterTimestampMonotonic --value netfilter-persistent ipv6gw-forwarding wg-quick@wg0 ipv6gw-lan-address")
      .split("\n")
      // systemctl separates the units' values with blank lines.
      .filter((l) => l.trim() !== "")
      .map(Number);
    expect(order).toHaveLength(4);
    expect(order.every((t) => t > 0)).toBe(true);
    expect(order[0]).toBeLessThanOrEqual(order[1]);
    expect(order[1]).toBeLessThanOrEqual(order[2]);
    expect(order[1]).toBeLessThanOrEqual(order[3]);

    // The checks pass and nothing differs from the declared state.
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
  });

  it("comes back from a power loss in the middle of a firewall apply with a whole ruleset, and the next up converges", async () => {
    const site = labSite();
    (site.firewall as Record<string, unknown>).rules = [{ name: "reboot-marker", action: "accept", protocol: "udp", port: 9 }];
    stack.setConfig(siteConfig(site));
    const running = stack.runAsync(["up", "--yes", "--skip-preview"]);
    // Cut the power as soon as the apply has begun on the box.
    const deadline = Date.now() + 120_000;
    while (labSh("gw", `[ -f ${STATE_DIR}/pending.rules ] && echo applying || true`).trim() !== "applying") {
      if (Date.now() > deadline) throw new Error("the firewall apply never started on gw");
      await sleep(50);
    }
    const newLive = labSh("gw", "ip6tables -S IPV6-INPUT | grep -c reboot-marker || true").trim() !== "0";
    const probes = startProbes("outside", [{ address: C1, port: 22 }]);
    await restartBox("gw", { hard: true });
    const up = await running;
    expect(up.status).not.toBe(0);

    // A whole ruleset of ours, from the first look: the old one (the persisted copy) or the new one.
    const rules = labSh("gw", "ip6tables -S");
    expect(rules).toMatch(/^-A INPUT .*-j IPV6-INPUT$/m);
    expect(rules).toMatch(/-A IPV6-INPUT .*ipv6gw:reject.* -j REJECT --reject-with icmp6-adm-prohibited/);
    await gatewayBack();
    const results = await probes.stop();
    expect(results.filter((r) => r.kind === "tcp" && r.ok)).toEqual([]);

    // The next up converges from whatever the apply left, and leaves no apply files behind.
    const again = stack.up(["--refresh"]);
    expect(again.status).toBe(0);
    expect(labSh("gw", "ip6tables -S IPV6-INPUT")).toContain("ipv6gw:reboot-marker");
    expect(labSh("gw", `ls -A ${STATE_DIR}`).trim()).toBe("");
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
    // For the record: whether the power went before or after the new table was loaded.
    console.log(`power cut ${newLive ? "after" : "before"} the new ruleset was loaded`);
  });
});
