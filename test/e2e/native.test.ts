// A native site on the lab, from blank (issue 12's items 1-6): the isp
// delegates a /56 with DHCPv6 (Kea), the gateway gives eth0 (c1, c2) and
// eth1 (c3) a /64 each, and a renumbering moves every client to the new
// prefix with no pulumi command, the old one deprecated at once. The lab
// runs the native scenario here and is put back into the direct one after.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { labCli, labSh, loadLab } from "../../lab/client";
import { subnet } from "../../components/net/ipv6";
import { REFRESH_SECONDS } from "../../components/render/pd-hook";
import { TestStack, siteConfig } from "../pulumi-stack";
import { eui64In, held, heldIn, labNativeSite, renumbered, sleep, waitFor } from "../native-lab";

jest.setTimeout(900_000);

const CLIENTS = [
  { box: "c1", lan: 0 },
  { box: "c2", lan: 0 },
  { box: "c3", lan: 1 },
] as const;
const PAGE = "ipv6gw lab: hello from outside";
const OUTSIDE_URL = "http://[2001:db8:ffff::1]/";

/** The lab's native site, waiting 20 s rather than 60 for the first delegation (item 4 needs the wait to run out). */
function site(change: (s: ReturnType<typeof labNativeSite>) => void = () => undefined) {
  const s = labNativeSite();
  s.tunnel.waitSeconds = 20;
  change(s);
  return siteConfig(s);
}

const curlFrom = (box: string) => labSh(box, `curl -fsS -m 10 -o /dev/null -w '%{local_ip}' '${OUTSIDE_URL}'`).trim();
const refusedFromOutside = (address: string) => labSh("outside", `timeout 10 bash -c 'exec 3<>/dev/tcp/${address}/80' 2>&1 || true`);
/** The first bytes of the SSH banner `to` sends `from` over a new TCP connection, or why there is none. */
const sshBanner = (from: string, to: string) => labSh(from, `timeout 10 bash -c 'exec 3<>/dev/tcp/${to}/22 && head -c 7 <&3' 2>&1 || true`).trim();
const lanPrefixesOf = (delegated: string) => [subnet(delegated, 0, 64), subnet(delegated, 1, 64)];

describe("a native site on the lab: DHCPv6-PD from isp, two LANs, renumbering", () => {
  let stack: TestStack;

  beforeAll(() => {
    labCli(["down"]);
    labCli(["up", "--scenario", "native"]);
    stack = new TestStack("e2e-native", site());
  });

  afterAll(() => {
    try {
      stack?.dispose();
    } finally {
      labCli(["down"]);
      labCli(["up", "--scenario", "direct"]);
    }
  });

  it("6: names bad input at preview with its key path, and touches no box", () => {
    stack.setConfig(
      site((s) => {
        s.tunnel.prefixLength = 40;
        s.tunnel.lans = [
          { interface: "wan0", subnetId: 0 },
          { interface: "eth1", subnetId: 0 },
          { interface: "eth1", subnetId: 1 },
        ];
        s.clients = [{ name: "c1", connection: { lab: "c1" } }];
      }),
    );
    const a = stack.preview();
    expect(a.status).not.toBe(0);
    for (const line of [
      "ipv6gw:site.tunnel.prefixLength: is 40: ask for a prefix of 48 to 64 bits",
      "ipv6gw:site.tunnel.lans[0].interface: is 'wan0', the WAN interface: a LAN needs an interface of its own",
      "ipv6gw:site.tunnel.lans[1].subnetId: is 0, as lans[0] is: each LAN needs a /64 of its own",
      "ipv6gw:site.tunnel.lans[2].interface: is 'eth1', as lans[1] is: each LAN needs an interface of its own",
    ]) {
      expect(a.stdout + a.stderr).toContain(line);
    }
    stack.setConfig(
      site((s) => {
        s.tunnel.prefixLength = 60;
        s.tunnel.lans = [
          { interface: "eth0", subnetId: 0 },
          { interface: "eth7", subnetId: 16 },
        ];
        s.clients = [{ name: "c1", connection: { lab: "c1" } }];
      }),
    );
    const b = stack.preview();
    expect(b.status).not.toBe(0);
    expect(b.stdout + b.stderr).toContain("tunnel.lans[1].subnetId: is 16, which does not fit a /60: it holds 16 /64s, subnet ids 0-15");
    expect(b.stdout + b.stderr).not.toMatch(/^\s+at /m);
    expect(labSh("gw", "command -v dhcpcd ip6tables || echo none").trim()).toBe("none");
    stack.setConfig(site());
  });

  it("previews the native example stack cleanly on the lab's boxes (its connections and interface names swapped for the lab's)", () => {
    const example = parse(fs.readFileSync(path.join(__dirname, "../../stacks/Pulumi.example-native.yaml"), "utf8")).config["ipv6gw:site"];
    example.gateway.connection = { lab: "gw" };
    example.tunnel.wanInterface = "wan0";
    example.tunnel.lans[0].interface = "eth0";
    example.tunnel.lans[1].interface = "eth1";
    example.clients[0].connection = { lab: "c1" };
    example.clients[1] = { ...example.clients[1], lan: "eth1", connection: { lab: "c3" } };
    const ex = new TestStack("e2e-example-native", siteConfig(example));
    try {
      const preview = ex.preview(["--diff", "--show-full-output"]);
      expect(preview.stderr + preview.stdout).not.toMatch(/error:/);
      expect(preview.status).toBe(0);
      expect(preview.stdout).toContain("ipv6gw:tunnel:Dhcpv6PdUplink");
      expect(preview.stdout).toContain("ipv6gw:tunnel:DelegatedPrefix");
      // With --diff the CLI prints warnings on stderr.
      expect(preview.stdout + preview.stderr).toContain("rfc4890 without its anti-spoofing rules (BCP 38)");
    } finally {
      ex.dispose();
    }
  });

  it("4: with the DHCPv6 server down, the first up fails after its bounded wait, saying what it asked, where, and what came back; the firewall stands and no LAN has a prefix", () => {
    labCli(["isp", "dhcp", "stop"]);
    const up = stack.up();
    const out = up.stdout + up.stderr;
    expect(up.status).not.toBe(0);
    expect(out).toContain("no prefix was delegated within 20 s on ");
    expect(out).toContain(
      "dhcpcd asked for a /56 (DHCPv6 IA_PD, RFC 8415) from the DHCPv6 servers on wan0, for eth0 (subnet id 0), eth1 (subnet id 1); what came back: nothing: no DHCPv6 server answered.",
    );
    // The firewall came first, with the DHCPv6 replies let in; forwarding is on behind it.
    expect(labSh("gw", "nft list table ip6 ipv6gw")).toContain('comment "ipv6gw:in-wan-dhcpv6-reply"');
    expect(labSh("gw", "cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("1");
    // Nothing reached the LANs: no prefix, no router advertisements, no client touched.
    expect(held("gw", "eth0").concat(held("gw", "eth1"))).toEqual([]);
    expect(labSh("gw", "systemctl is-active ipv6gw-radvd.service || true").trim()).not.toBe("active");
    for (const { box } of CLIENTS) expect(held(box)).toEqual([]);
    // In the state: what ran, and nothing after the wait.
    const resources = stack.exportedResources();
    expect(resources.map((r) => r.type)).toContain("pulumi-nodejs:dynamic/ipv6gw:firewall:NftRuleset");
    expect(resources.filter((r) => /:(DelegatedPrefix|SiteProbe)$/.test(r.type))).toEqual([]);
    expect(resources.filter((r) => r.type.endsWith(":Sysctl")).map((r) => r.outputs?.key)).toEqual(["net.ipv6.conf.all.forwarding"]);
    // dhcpcd's service waits for the firewall: in the deployment, and at boot.
    const dhcpcd = resources.find((r) => r.type.endsWith(":Service") && r.outputs?.name === "ipv6gw-dhcpcd.service");
    const ruleset = resources.find((r) => r.type.endsWith(":NftRuleset"))!;
    expect(dhcpcd?.dependencies).toContain(ruleset.urn);
    const unit = labSh("gw", "systemctl show -p Requires -p After ipv6gw-dhcpcd.service");
    expect(unit).toMatch(/^Requires=.*\bipv6gw-firewall\.service\b/m);
    expect(unit).toMatch(/^After=.*\bipv6gw-firewall\.service\b/m);
  });

  it("1: converges once the server is back: each LAN's /64, ::1 on the gateway, clients on both LANs at their EUI-64, out to the web and refused from outside, checks passing, outputs read from the box", () => {
    labCli(["isp", "dhcp", "start"]);
    const up = stack.up();
    expect(up.stderr + up.stdout).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    const delegated = loadLab().native!.delegatedPrefix;
    const [lan0, lan1] = lanPrefixesOf(delegated);
    expect(stack.outputs()).toMatchObject({
      checksPassed: true,
      delegatedPrefix: delegated,
      lanPrefixes: { eth0: lan0, eth1: lan1 },
      lanPrefix: lan0,
      gatewayAddress: subnet(delegated, 0, 64).replace("/64", "1"),
      clientAddresses: { c1: eui64In("c1", lan0), c2: eui64In("c2", lan0), c3: eui64In("c3", lan1) },
    });
    expect(heldIn("gw", lan0, "eth0")?.address).toBe(lan0.replace("/64", "1"));
    expect(heldIn("gw", lan1, "eth1")?.address).toBe(lan1.replace("/64", "1"));
    for (const { box, lan } of CLIENTS) {
      const mine = eui64In(box, [lan0, lan1][lan]);
      expect(held(box)).toEqual([expect.objectContaining({ address: mine, tentative: false })]);
      expect(curlFrom(box)).toBe(mine);
      expect(refusedFromOutside(mine)).toContain("Permission denied");
    }
    expect(labSh("c3", `curl -fsS -m 10 '${OUTSIDE_URL}'`)).toContain(PAGE);
  });

  it("2: a second up changes nothing, and preview --refresh --expect-no-changes agrees", () => {
    const again = stack.up();
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/\b(updated|created|deleted|replaced)\b/);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);
  });

  it("3: the ISP renumbers; within 2 minutes and with no pulumi command every client prefers its new address, the old one deprecated, then gone; a refresh shows the new prefix and up stays a no-op", async () => {
    const old = loadLab().native!.delegatedPrefix;
    const started = Date.now();
    labCli(["isp", "renumber"]);
    const next = loadLab().native!.delegatedPrefix;
    expect(next).not.toBe(old);
    const [old0, old1] = lanPrefixesOf(old);
    const [new0, new1] = lanPrefixesOf(next);
    const clients = CLIENTS.map(({ box, lan }) => ({ box, old: [old0, old1][lan], next: [new0, new1][lan] }));
    const done = await renumbered(clients, 120_000);
    console.log(`renumbered: every client prefers its new address ${((done - started) / 1000).toFixed(1)} s after isp renumber`);
    expect(done - started).toBeLessThan(120_000);

    // Out from the new address; still closed from outside.
    for (const c of clients) {
      expect(curlFrom(c.box)).toBe(eui64In(c.box, c.next));
      expect(refusedFromOutside(eui64In(c.box, c.next))).toContain("Permission denied");
    }
    // No RA promises more than the lease has left (RFC 9096): the gateway's ::1 carries the lease's lifetimes.
    const lease = heldIn("gw", new0, "eth0")!;
    const c1 = heldIn("c1", new0)!;
    expect(c1.valid).toBeLessThanOrEqual(lease.valid);
    expect(c1.preferred).toBeLessThanOrEqual(lease.preferred);

    // A refresh reads the new prefix; nothing else changes, and up stays a no-op.
    const refresh = stack.run(["refresh", "--yes", "--skip-preview"]);
    expect(refresh.status).toBe(0);
    const up = stack.up();
    expect(up.status).toBe(0);
    expect(up.stdout).not.toMatch(/\b(updated|created|deleted|replaced)\b/);
    expect(stack.outputs()).toMatchObject({ delegatedPrefix: next, lanPrefixes: { eth0: new0, eth1: new1 }, clientAddresses: { c1: eui64In("c1", new0), c3: eui64In("c3", new1) }, checksPassed: true });
    expect(stack.preview(["--expect-no-changes", "--refresh"]).status).toBe(0);

    // The old address goes once its valid lifetime runs out (RFC 4862 5.5.3).
    await waitFor("the old addresses to be gone", () => (clients.every((c) => !heldIn(c.box, c.old)) ? true : undefined), 180_000 - (Date.now() - started), 2000, () => JSON.stringify(held("c1")));
  });

  it.each(["nftables", "iptables"])("has the kernel accept the howto preset's native rules at preview on %s (ICMPv6 line off: the WAN's RA and ND rules of their own)", (backend) => {
    // The preview has the box's kernel check the rules only with the backend's tool installed (the site installs nft only).
    if (backend === "iptables") labSh("gw", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null");
    stack.setConfig(site((s) => (s.firewall = { backend, preset: "howto", icmpv6: false, rollbackSeconds: 30 })));
    const preview = stack.preview(["--diff", "--show-full-output"]);
    expect(preview.stderr + preview.stdout).not.toMatch(/error:/);
    expect(preview.status).toBe(0);
    expect(preview.stdout).toContain("ipv6gw:wan-router-advertisement");
    expect(preview.stdout + preview.stderr).not.toContain("checked by the rule model only");
    stack.setConfig(site());
  });

  it("5: the DHCPv6 server goes away: the LANs work until the lease runs out (the gateway still their router past the lease's preferred lifetime), then the prefix is withdrawn (lifetimes 0, router lifetime 0); it comes back with the server", async () => {
    labSh("c1", "apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q ndisc6 >/dev/null");
    const lan0 = lanPrefixesOf(loadLab().native!.delegatedPrefix)[0];
    const escaped = lan0.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const routerLifetimeZero = /Router lifetime\s*:\s*0 \(0x0+\) seconds/;
    labCli(["isp", "dhcp", "stop"]);
    const stopped = Date.now();
    // Past T1, T2 (30 s, 48 s) and the lease's preferred lifetime (60 s from the last renewal):
    // renewals and rebinds go unanswered, the /64 is deprecated but still valid. A render then (as
    // the timer's, within the minute) keeps the gateway the default router and withdraws nothing:
    // c1 keeps its address, deprecated by its own count-down, and reaches the outside from it.
    await sleep(62_000);
    labSh("gw", "systemctl start ipv6gw-pd-refresh.service");
    const ra = labSh("c1", "rdisc6 -1 -w 3000 eth0 || true");
    expect(ra).toMatch(/Router lifetime\s*:\s*[1-9]/);
    expect(ra).not.toMatch(new RegExp(`Prefix\\s*:\\s*${escaped}[\\s\\S]*?Valid time\\s*:\\s*0 \\(`));
    expect(heldIn("c1", lan0)).toMatchObject({ address: eui64In("c1", lan0), preferred: 0 });
    expect(curlFrom("c1")).toBe(eui64In("c1", lan0));
    // The lease runs out (valid 120 s from the last renewal): dhcpcd takes the /64 off the LAN.
    await waitFor("the gateway to lose the delegated /64", () => (heldIn("gw", lan0, "eth0") ? undefined : true), 150_000 - (Date.now() - stopped), 1000);
    // dhcpcd's expiry event, or the hook's timer (every REFRESH_SECONDS) once the lease has run out, has
    // the hook withdraw it: an RA (solicited here) carries it with lifetimes 0, and router lifetime 0.
    const withdrawn = new RegExp(`Prefix\\s*:\\s*${escaped}[\\s\\S]*?Valid time\\s*:\\s*0 \\(0x00000000\\)[\\s\\S]*?Pref\\. time\\s*:\\s*0 \\(0x00000000\\)`);
    await waitFor(
      "an RA withdrawing the prefix, with router lifetime 0",
      () => {
        const r = labSh("c1", "rdisc6 -1 -w 3000 eth0 || true");
        return withdrawn.test(r) && routerLifetimeZero.test(r) ? r : undefined;
      },
      (REFRESH_SECONDS + 30) * 1000,
      1000,
      () => labSh("gw", "cat /run/ipv6gw/radvd.conf; journalctl -u ipv6gw-dhcpcd -u ipv6gw-pd-refresh -o cat --no-pager | grep -E 'pd-hook|expire|rebind' | tail -n 6"),
    );
    expect(heldIn("c1", lan0)).toBeUndefined();

    labCli(["isp", "dhcp", "start"]);
    const back = await waitFor(
      "c1 to prefer its EUI-64 address in a delegated /64 again",
      () => {
        const gw = held("gw", "eth0").find((h) => h.address.endsWith("::1") && h.preferred > 0);
        if (!gw) return undefined;
        const prefix = `${gw.address.replace(/::1$/, "::")}/64`;
        const mine = heldIn("c1", prefix);
        return mine && mine.preferred > 0 && !mine.tentative ? mine.address : undefined;
      },
      240_000,
      2000,
      () => `gw ${JSON.stringify(held("gw", "eth0"))}, c1 ${JSON.stringify(held("c1"))}`,
    );
    expect(curlFrom("c1")).toBe(back);
  });

  it("forwards NEW connections between the two LANs both ways, on nftables and, one up later, on iptables; outside stays out", () => {
    const [lan0, lan1] = lanPrefixesOf(loadLab().native!.delegatedPrefix);
    const c1 = eui64In("c1", lan0);
    const c3 = eui64In("c3", lan1);
    const across = () => ({ "c1 -> c3": sshBanner("c1", c3), "c3 -> c1": sshBanner("c3", c1) });
    const open = { "c1 -> c3": "SSH-2.0", "c3 -> c1": "SSH-2.0" };
    expect(across()).toEqual(open);
    stack.setConfig(site((s) => (s.firewall = { ...(s.firewall as object), backend: "iptables" })));
    const up = stack.up();
    expect(up.stderr + up.stdout).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    expect(labSh("gw", "nft list table ip6 ipv6gw >/dev/null 2>&1 && echo present || echo gone").trim()).toBe("gone");
    expect(labSh("gw", "ip6tables -S ipv6gw-forward >/dev/null 2>&1 && echo present || echo gone").trim()).toBe("present");
    expect(across()).toEqual(open);
    expect(refusedFromOutside(c1)).toContain("Permission denied");
    expect(refusedFromOutside(c3)).toContain("Permission denied");
  });

  it("gives the gateway back on destroy: no dhcpcd or radvd of ours, nothing on the LANs, none of our files", () => {
    const destroyed = stack.run(["destroy", "--yes", "--skip-preview"]);
    expect(destroyed.stderr + destroyed.stdout).not.toMatch(/error:/);
    expect(destroyed.status).toBe(0);
    expect(labSh("gw", "systemctl is-active ipv6gw-dhcpcd.service ipv6gw-radvd.service ipv6gw-pd-refresh.timer || true").trim().split("\n")).toEqual(["inactive", "inactive", "inactive"]);
    expect(labSh("gw", "pidof dhcpcd radvd || echo none").trim()).toBe("none");
    expect(held("gw", "eth0").concat(held("gw", "eth1"))).toEqual([]);
    const left = labSh("gw", "for p in /etc/ipv6gw /usr/local/lib/ipv6gw /var/lib/ipv6gw /run/ipv6gw /var/lib/dhcpcd /etc/systemd/system/ipv6gw-*; do [ -e \"$p\" ] && echo \"$p\"; done; true");
    expect(left.trim()).toBe("");
    expect(labSh("gw", "dpkg-query -W -f='${Status}' dhcpcd-base 2>/dev/null || echo absent").trim()).not.toBe("install ok installed");
  });
});
