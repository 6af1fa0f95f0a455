// The firewall's two backends on the lab's real boxes: nftables (a table of
// ours) and iptables (chains of ours). Rule-level previews in nft syntax,
// drift in our table only, one table of verdicts checked against each backend
// and preset with real packets, rules of others (a foreign nft table, a
// DOCKER-USER-like chain, an f2b-like chain) surviving apply, rollback, a
// reboot (lab restart) and destroy, and a switch of backends in one `up` that a probe from outside
// never gets through.
import { labCli, labSh, runLabCli } from "../../lab/client";
import { SiteConfig, TestStack, labSite, labSiteStack, propertyLineDiff, siteConfig } from "../pulumi-stack";
import { C1, expectedFor, installProbeTools, runProbes } from "./verdicts";

jest.setTimeout(900_000);

type Backend = "nftables" | "iptables";
type Preset = "howto" | "rfc4890";

const site = (backend: Backend, preset: Preset, extra: object = {}): SiteConfig => {
  const s = labSite();
  s.firewall = { ...(s.firewall as object), backend, preset, ...extra };
  // rfc4890's anti-spoofing rules need the LAN prefix at preview.
  if (preset === "rfc4890") s.lan = { ...((s.lan as object) ?? {}), prefix: "2001:db8:8888::/64" };
  return s;
};

const OUR_TABLE = "nft -s list table ip6 ipv6gw";

/** Rules of others, made the way Docker, fail2ban and a hand-written nft table make them. */
const MAKE_FOREIGN = [
  "nft add table inet foreign",
  "nft add chain inet foreign input '{ type filter hook input priority 10; policy accept; }'",
  "nft add rule inet foreign input tcp dport 9999 counter accept comment '\"foreign\"'",
  "ip6tables -N DOCKER-USER",
  "ip6tables -A DOCKER-USER -j RETURN",
  "ip6tables -I FORWARD -j DOCKER-USER",
  "ip6tables -N f2b-sshd",
  "ip6tables -A f2b-sshd -s 2001:db8:ffff::66 -j REJECT --reject-with icmp6-port-unreachable",
  "ip6tables -I INPUT -p tcp --dport 22 -j f2b-sshd",
].join(" && ");

/**
 * Installs a stand-in for Docker's and fail2ban's units on gw: at boot, after the network, it makes the same
 * rules again (theirs live in the kernel only, and they make them at every start).
 */
const FOREIGN_AT_BOOT = [
  "cat > /usr/local/sbin/ipv6gw-test-foreign <<'SH'",
  "#!/bin/sh",
  `${MAKE_FOREIGN.split(" && ").join("\n")}`,
  "SH",
  "chmod 0755 /usr/local/sbin/ipv6gw-test-foreign",
  "cat > /etc/systemd/system/ipv6gw-test-foreign.service <<'UNIT'",
  "[Unit]",
  "Description=ipv6gw test: rules of others, made at their start as Docker and fail2ban make theirs",
  "After=network.target",
  "[Service]",
  "Type=oneshot",
  "RemainAfterExit=yes",
  "ExecStart=/usr/local/sbin/ipv6gw-test-foreign",
  "[Install]",
  "WantedBy=multi-user.target",
  "UNIT",
  "systemctl daemon-reload",
  "systemctl enable --quiet ipv6gw-test-foreign.service",
].join("\n");

/** Reboots gw (lab restart: its disk kept, its kernel state gone). */
function rebootGateway(): void {
  const r = runLabCli(["restart", "gw"], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`lab restart gw failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** What of the rules of others the box holds now. */
const foreign = () =>
  labSh(
    "gw",
    "nft -s list table inet foreign; ip6tables -S DOCKER-USER; ip6tables -S f2b-sshd; ip6tables -S INPUT | grep -e f2b-sshd; ip6tables -S FORWARD | grep -e DOCKER-USER",
  );

/** Both tools on the gateway, whichever backend the stack installed (from the lab's offline repository). */
const bothTools = () => labSh("gw", "command -v nft >/dev/null && command -v ip6tables >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables iptables >/dev/null", 300_000);

/** The nft tables holding a rule with a comment of ours (ip6tables' comments are not shown by nft). */
const oursByTable = () =>
  labSh("gw", "nft list ruleset | awk '/^table /{t=$2\" \"$3} /comment \"ipv6gw:/{n[t]++} END{for (t in n) print t, n[t]}' | sort")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.replace(/ \d+$/, ""));

/**
 * After a reboot: the firewall's resources have nothing to change (a refresh preview shows no step on them).
 * Other parts of the site are not this test's subject: their changes are printed, not asserted.
 */
function firewallUnchangedAfterReboot(stack: TestStack): void {
  const preview = stack.preview(["--refresh", "--diff"]);
  expect(preview.status).toBe(0);
  const steps = preview.stdout.split("\n").filter((l) => /^\s*[~+-]+\s+pulumi-nodejs:dynamic\/ipv6gw:/.test(l));
  if (steps.length > 0) console.log(`changes a refresh preview shows after the reboot:\n${steps.join("\n")}`);
  expect(steps.filter((l) => /ipv6gw:firewall:|ipv6gw:host:(Packages|Service|RemoteFile) [^ ]*firewall/.test(l))).toEqual([]);
}

function mustUp(stack: TestStack, extra: readonly string[] = []): string {
  const up = stack.up(extra);
  if (up.status !== 0) throw new Error(`up failed:\n${up.stdout}\n${up.stderr}`);
  return up.stdout;
}

describe("the firewall on both backends, on the lab", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["reset"]);
    installProbeTools();
    stack = labSiteStack("e2e-backends", site("nftables", "howto"));
    mustUp(stack);
  });
  afterAll(() => stack?.dispose());

  it("nftables: loads our table only, every rule named, the boot copy and its unit in place, forwarding waiting for it", () => {
    const rules = String(stack.outputs().firewallRules);
    expect(labSh("gw", OUR_TABLE)).toBe(rules);
    expect(rules).toContain('iifname "eth0" ct state new counter accept comment "ipv6gw:lan-new"');
    expect(oursByTable()).toEqual(["ip6 ipv6gw"]);
    expect(labSh("gw", "command -v ip6tables || echo none").trim()).toBe("none");
    expect(labSh("gw", "systemctl is-enabled ipv6gw-firewall.service; systemctl show -p Requires --value ipv6gw-forwarding.service")).toMatch(/^enabled\n.*ipv6gw-firewall\.service/);
    expect(labSh("gw", "tail -n +3 /etc/ipv6gw/firewall.nft")).toBe(`table ip6 ipv6gw; delete table ip6 ipv6gw\n${rules}`);
  });

  it("nftables: previews one added rule as one added line in nft syntax, and one removed line when it goes", () => {
    const telnet = { name: "telnet-in", action: "accept", protocol: "tcp", port: 23, state: ["new"] };
    stack.setConfig(siteConfig(site("nftables", "howto", { rules: [telnet] })));
    const preview = stack.preview(["--diff"]);
    expect(preview.status).toBe(0);
    expect(propertyLineDiff(preview.stdout, "rules")).toEqual({ added: ['tcp dport 23 ct state new counter accept comment "ipv6gw:telnet-in"'], removed: [] });
    mustUp(stack);
    expect(labSh("gw", OUR_TABLE)).toContain("ipv6gw:telnet-in");
    stack.setConfig(siteConfig(site("nftables", "howto")));
    expect(propertyLineDiff(stack.preview(["--diff"]).stdout, "rules")).toEqual({ added: [], removed: ['tcp dport 23 ct state new counter accept comment "ipv6gw:telnet-in"'] });
    mustUp(stack);
    expect(labSh("gw", OUR_TABLE)).not.toContain("telnet-in");
  });

  it("nftables: shows rules added, edited and removed by hand in our table, never changes in other tables; up --refresh puts ours back", () => {
    bothTools();
    labSh("gw", MAKE_FOREIGN);
    labSh("gw", FOREIGN_AT_BOOT);
    const others = foreign();
    labSh(
      "gw",
      [
        "nft insert rule ip6 ipv6gw IPV6-INPUT tcp dport 2323 accept",
        // Edited: the ESP rule now drops.
        "h=$(nft -a list chain ip6 ipv6gw IPV6-INPUT | sed -n 's/.*ipv6gw:esp\" # handle \\([0-9]*\\)/\\1/p')",
        'nft replace rule ip6 ipv6gw IPV6-INPUT handle "$h" meta l4proto esp counter drop comment \'"ipv6gw:esp"\'',
        // Removed: loopback.
        "h=$(nft -a list chain ip6 ipv6gw IPV6-INPUT | sed -n 's/.*ipv6gw:loopback\" # handle \\([0-9]*\\)/\\1/p')",
        'nft delete rule ip6 ipv6gw IPV6-INPUT handle "$h"',
        "nft add rule inet foreign input udp dport 9998 accept",
      ].join("\n"),
    );
    const preview = stack.preview(["--refresh", "--diff"]);
    expect(preview.status).toBe(0);
    const diff = propertyLineDiff(preview.stdout, "rules");
    // Each change made by hand is one line of the diff between the live table and the declared one.
    expect([...diff.added, ...diff.removed].sort()).toEqual([
      'iifname "lo" counter accept comment "ipv6gw:loopback"',
      'meta l4proto esp counter accept comment "ipv6gw:esp"',
      'meta l4proto esp counter drop comment "ipv6gw:esp"',
      "tcp dport 2323 accept",
    ]);
    expect(preview.stdout).not.toContain("9998");
    mustUp(stack, ["--refresh"]);
    expect(labSh("gw", OUR_TABLE)).toBe(String(stack.outputs().firewallRules));
    expect(stack.preview(["--refresh", "--expect-no-changes"]).status).toBe(0);
    // The other table kept the rule added to it by hand.
    expect(foreign()).toBe(others.replace(/(comment "foreign"\n)/, "$1\t\tudp dport 9998 accept\n"));
    labSh("gw", "nft delete rule inet foreign input handle $(nft -a list chain inet foreign input | sed -n 's/.*dport 9998 accept # handle \\([0-9]*\\)/\\1/p')");
  });

  it("nftables: rules of others survive an apply, a rollback and a reboot, after which our table is loaded before forwarding", () => {
    const others = foreign();
    const applied = site("nftables", "howto", { rules: [{ name: "alt-https-in", action: "accept", protocol: "tcp", port: 8443, state: ["new"] }] });
    stack.setConfig(siteConfig(applied));
    mustUp(stack);
    expect(foreign()).toBe(others);
    const before = labSh("gw", OUR_TABLE);
    stack.setConfig(siteConfig(site("nftables", "howto", { rollbackSeconds: 15, rules: [{ name: "no-ssh-from-lan", action: "reject", inInterface: "eth0", protocol: "tcp", port: 22, rejectWith: "tcp-reset" }] })));
    const up = stack.up();
    expect(up.status).not.toBe(0);
    expect(up.stdout + up.stderr).toContain("the box restored the previous ruleset after 15 s and is reachable again");
    expect(labSh("gw", OUR_TABLE)).toBe(before);
    expect(labSh("gw", "ls -A /var/lib/ipv6gw/firewall").trim()).toBe("");
    expect(foreign()).toBe(others);
    rebootGateway();
    expect(foreign()).toBe(others);
    expect(labSh("gw", OUR_TABLE)).toBe(before);
    expect(labSh("gw", "systemctl is-active ipv6gw-firewall.service ipv6gw-forwarding.service; cat /proc/sys/net/ipv6/conf/all/forwarding")).toBe("active\nactive\n1\n");
    stack.setConfig(siteConfig(applied));
    firewallUnchangedAfterReboot(stack);
  });

  it.each(["howto", "rfc4890"] as const)("nftables, %s: every verdict of the table holds", (preset) => {
    stack.setConfig(siteConfig(site("nftables", preset)));
    mustUp(stack);
    expect(runProbes()).toEqual(expectedFor(preset));
  });

  it("switches to iptables in one up: the old table gone, the new chains in, and a probe from outside never gets through meanwhile", () => {
    const others = foreign();
    // The probe: a TCP connection from outside to c1's sshd, every 0.2 s, until told to stop (bounded: 3000 tries).
    labSh(
      "outside",
      `rm -f /tmp/ipv6gw-switch.*; (i=0; while [ $i -lt 3000 ] && [ ! -f /tmp/ipv6gw-switch.stop ]; do if timeout 1 bash -c 'exec 3<>/dev/tcp/${C1}/22' 2>/dev/null; then echo through; else echo blocked; fi >> /tmp/ipv6gw-switch.log; sleep 0.2; i=$((i+1)); done) </dev/null >/dev/null 2>&1 & echo $! > /tmp/ipv6gw-switch.pid`,
    );
    stack.setConfig(siteConfig(site("iptables", "rfc4890")));
    try {
      mustUp(stack);
    } finally {
      labSh("outside", "touch /tmp/ipv6gw-switch.stop; p=$(cat /tmp/ipv6gw-switch.pid); while kill -0 \"$p\" 2>/dev/null; do sleep 0.2; done");
    }
    const log = labSh("outside", "sort /tmp/ipv6gw-switch.log | uniq -c");
    expect(log).not.toContain("through");
    // The probe ran through the whole switch (a try every 0.2 s for as long as the up took).
    expect(Number(/(\d+) blocked/.exec(log)?.[1])).toBeGreaterThan(20);
    // And it would have seen a hole: the same connection from inside the LAN gets through.
    expect(labSh("c2", `timeout 5 bash -c 'exec 3<>/dev/tcp/${C1}/22' && echo through`)).toContain("through");
    bothTools();
    expect(labSh("gw", "nft list table ip6 ipv6gw >/dev/null 2>&1 && echo present || echo gone").trim()).toBe("gone");
    expect(labSh("gw", "ip6tables -S")).toContain('-A FORWARD -m comment --comment "ipv6gw:forward" -j ipv6gw-forward');
    expect(labSh("gw", "systemctl is-enabled ipv6gw-firewall.service 2>&1 || true").trim()).not.toBe("enabled");
    expect(foreign()).toBe(others);
  });

  it.each(["rfc4890", "howto"] as const)("iptables, %s: every verdict of the table holds", (preset) => {
    if (preset !== "rfc4890") mustUp((stack.setConfig(siteConfig(site("iptables", preset))), stack));
    expect(runProbes()).toEqual(expectedFor(preset));
  });

  it("iptables: owns only its chains and jumps; rules of others survive an apply, a rollback, a reboot and destroy", () => {
    const others = foreign();
    const live = labSh("gw", "ip6tables -S");
    // Step 17 where nothing else is, others' rules where they were.
    expect(live).toContain("-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd\n-A INPUT -m comment --comment \"ipv6gw:input\" -j IPV6-INPUT\n");
    stack.setConfig(siteConfig(site("iptables", "howto", { rollbackSeconds: 15, rules: [{ name: "no-ssh-from-lan", action: "reject", inInterface: "eth0", protocol: "tcp", port: 22, rejectWith: "tcp-reset" }] })));
    const up = stack.up();
    expect(up.status).not.toBe(0);
    expect(up.stdout + up.stderr).toContain("the box restored the previous ruleset after 15 s and is reachable again");
    expect(labSh("gw", "ip6tables -S")).toBe(live);
    expect(labSh("gw", "ls -A /var/lib/ipv6gw/firewall").trim()).toBe("");
    // At boot netfilter-persistent loads ours into the empty table, forwarding comes after it, the others add theirs later.
    rebootGateway();
    expect(foreign()).toBe(others);
    expect(labSh("gw", "ip6tables -S")).toBe(live);
    expect(labSh("gw", "systemctl is-active netfilter-persistent.service ipv6gw-forwarding.service; cat /proc/sys/net/ipv6/conf/all/forwarding")).toBe("active\nactive\n1\n");
    stack.setConfig(siteConfig(site("iptables", "howto")));
    firewallUnchangedAfterReboot(stack);
    const destroyed = stack.run(["destroy", "--yes", "--skip-preview"]);
    expect(destroyed.status).toBe(0);
    expect(foreign()).toBe(others);
    expect(labSh("gw", "{ nft list ruleset; ip6tables-save; } | grep -c 'ipv6gw' || true").trim()).toBe("0");
    expect(labSh("gw", "for p in /etc/ipv6gw /var/lib/ipv6gw /etc/systemd/system/ipv6gw-firewall.service; do [ -e \"$p\" ] && echo \"$p\"; done; true").trim()).toBe("");
    labSh("gw", "systemctl disable --quiet ipv6gw-test-foreign.service; rm -f /etc/systemd/system/ipv6gw-test-foreign.service /usr/local/sbin/ipv6gw-test-foreign; systemctl daemon-reload");
  });
});
