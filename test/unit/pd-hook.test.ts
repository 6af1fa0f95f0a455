// The prefix-delegation hook, run here with sh and awk (Debian's mawk on
// these machines, as on the boxes) against a stand-in of the box: `ip`
// prints what each LAN holds, `date` the time, `radvd` and `systemctl`
// record their calls. What it writes is compared with a golden file and with
// what the TypeScript radvd renderer makes of the same model, so the shell
// and renderRadvdConf cannot drift apart.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AWK_IPV6_FUNCTIONS } from "../../components/render/awk-ipv6";
import {
  LIFETIME_MARGIN_SECONDS,
  PD_HOOK_REASONS,
  PdHookModel,
  pdRadvdModel,
  renderPdHook,
  renderPdRadvdUnit,
  renderPdRefreshUnits,
  renderRadvdConf,
  staleHoldSeconds,
} from "../../components/render";
import { expectGolden } from "./golden";

const LANS: PdHookModel["lans"] = [
  { name: "eth1", minRtrAdvInterval: 3, maxRtrAdvInterval: 10, prefixes: [], rdnss: ["2001:db8:ffff::53"] },
  { name: "eth0", minRtrAdvInterval: 3, maxRtrAdvInterval: 10, prefixes: [{ prefix: "fd12:3456:789a::/64", onLink: true, autonomous: true }], dnssl: ["lab.example"] },
];
const HOLD = staleHoldSeconds(LANS);

/** An `ip -6 -o addr` line as iproute2 prints it for an address dhcpcd added. */
const held = (ifname: string, address: string, valid: number | "forever", preferred: number | "forever", flags = "dynamic noprefixroute") =>
  `3: ${ifname}    inet6 ${address}/64 scope global ${flags} \\       valid_lft ${valid === "forever" ? "forever" : `${valid}sec`} preferred_lft ${preferred === "forever" ? "forever" : `${preferred}sec`}`;

class Box {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-pd-hook-"));
  readonly hook: string;
  radvdRefuses = false;
  radvdActive = true;
  constructor(model: Omit<PdHookModel, "radvdConf" | "stateFile" | "runDir">) {
    const bin = path.join(this.dir, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    // ip -6 -o addr show dev <if> scope global dynamic
    stub("ip", `echo "ip $*" >> "${this.dir}/calls"; cat "${this.dir}/held.$6" 2>/dev/null; true`);
    stub("date", `cat "${this.dir}/now"`);
    stub("radvd", `echo "radvd $*" >> "${this.dir}/calls"; [ -e "${this.dir}/refuse" ] && { echo "syntax error near line 3" >&2; exit 1; }; exit 0`);
    stub("systemctl", `echo "systemctl $*" >> "${this.dir}/calls"; case "$2" in is-active) [ -e "${this.dir}/active" ];; *) exit 0;; esac`);
    this.hook = path.join(this.dir, "pd-hook");
    fs.writeFileSync(this.hook, renderPdHook({ ...model, radvdConf: this.path("radvd.conf"), stateFile: this.path("state/advertised"), runDir: this.path("run") }), { mode: 0o755 });
  }
  path(p: string): string {
    return path.join(this.dir, p);
  }
  /** Sets the time and what each LAN holds, runs the hook (as dhcpcd with a reason, or `render`), and returns its exit and stderr. */
  run(now: number, lans: Record<string, string[]>, reason?: string): { code: number; stderr: string } {
    fs.writeFileSync(this.path("now"), `${now}\n`);
    for (const lan of ["eth0", "eth1"]) fs.writeFileSync(this.path(`held.${lan}`), (lans[lan] ?? []).map((l) => `${l}\n`).join(""));
    if (this.radvdRefuses) fs.writeFileSync(this.path("refuse"), "");
    else fs.rmSync(this.path("refuse"), { force: true });
    if (this.radvdActive) fs.writeFileSync(this.path("active"), "");
    else fs.rmSync(this.path("active"), { force: true });
    const env = { PATH: `${this.path("bin")}:${process.env.PATH}`, ...(reason ? { reason } : {}) };
    const r = spawnSync("sh", reason ? [this.hook] : [this.hook, "render"], { env, encoding: "utf8" });
    return { code: r.status ?? 255, stderr: r.stderr };
  }
  conf(): string {
    return fs.readFileSync(this.path("radvd.conf"), "utf8");
  }
  state(): string {
    return fs.readFileSync(this.path("state/advertised"), "utf8");
  }
  calls(): string[] {
    const file = this.path("calls");
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
    fs.rmSync(file, { force: true });
    return lines;
  }
  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const m = LIFETIME_MARGIN_SECONDS;

describe("the prefix-delegation hook on a stand-in box", () => {
  let box: Box;
  beforeEach(() => (box = new Box({ lans: LANS, preferredLimit: 2700, validLimit: 5400 })));
  afterEach(() => box.dispose());

  it("is the golden script, and sh parses it", () => {
    const text = renderPdHook({ lans: LANS, preferredLimit: 2700, validLimit: 5400 });
    expectGolden("pd-hook/pd-hook.sh", text);
    expect(spawnSync("sh", ["-n"], { input: text }).status).toBe(0);
  });

  it("bound: each LAN's /64 with what the lease has left, less the margin, counted down by radvd; router lifetime as usual", () => {
    expect(box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)], eth1: [held("eth1", "2001:db8:9900:1::1", 120, 60)] }, "BOUND6")).toEqual({
      code: 0,
      // One line in dhcpcd's journal when what is advertised changes.
      stderr: "ipv6gw pd-hook (BOUND6): advertising eth0 2001:db8:9900::/64 current, eth1 2001:db8:9900:1::/64 current\n",
    });
    const conf = box.conf();
    expectGolden("pd-hook/bound.conf", conf);
    expect(conf).toBe(
      renderRadvdConf(
        pdRadvdModel({ lans: LANS }, {
          eth0: [{ prefix: "2001:db8:9900::/64", current: true, preferred: 60 - m, valid: 120 - m }],
          eth1: [{ prefix: "2001:db8:9900:1::/64", current: true, preferred: 60 - m, valid: 120 - m }],
        }),
      ),
    );
    expect(box.state()).toBe(`eth0 2001:db8:9900::/64 ${1000 + 120 - m} current\neth1 2001:db8:9900:1::/64 ${1000 + 120 - m} current\n`);
    expect(box.calls().filter((c) => !c.startsWith("ip "))).toEqual([expect.stringMatching(/^radvd --configtest --config .*\/radvd\.conf$/), "systemctl -q is-active ipv6gw-radvd.service", "systemctl reload ipv6gw-radvd.service"]);
  });

  it("renumbered: the new /64 current, the old one withdrawn with lifetimes 0 (RFC 9096) until hosts' last lifetime for it has run out", () => {
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)], eth1: [held("eth1", "2001:db8:9900:1::1", 120, 60)] }, "BOUND6");
    // A renewal of the same prefix changes nothing worth a line in the journal.
    expect(box.run(1020, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)], eth1: [held("eth1", "2001:db8:9900:1::1", 120, 60)] }, "RENEW6").stderr).toBe("");
    expect(box.run(1030, { eth0: [held("eth0", "2001:db8:9900:1000::1", 120, 60)], eth1: [held("eth1", "2001:db8:9900:1001::1", 120, 60)] }, "RENEW6").stderr).toBe(
      "ipv6gw pd-hook (RENEW6): advertising eth0 2001:db8:9900:1000::/64 current, eth0 2001:db8:9900::/64 stale, eth1 2001:db8:9900:1001::/64 current, eth1 2001:db8:9900:1::/64 stale\n",
    );
    const conf = box.conf();
    expectGolden("pd-hook/renumbered.conf", conf);
    expect(conf).toBe(
      renderRadvdConf(
        pdRadvdModel({ lans: LANS }, {
          eth0: [
            { prefix: "2001:db8:9900::/64", current: false, preferred: 0, valid: 0 },
            { prefix: "2001:db8:9900:1000::/64", current: true, preferred: 60 - m, valid: 120 - m },
          ],
          eth1: [
            { prefix: "2001:db8:9900:1::/64", current: false, preferred: 0, valid: 0 },
            { prefix: "2001:db8:9900:1001::/64", current: true, preferred: 60 - m, valid: 120 - m },
          ],
        }),
      ),
    );
    // The old /64 stays withdrawn for the hold, or until the last valid lifetime advertised for it, whichever is later.
    const oldUntil = Math.max(1020 + 120 - m, 1030 + HOLD);
    expect(box.state()).toContain(`eth0 2001:db8:9900::/64 ${oldUntil} stale`);
    box.run(oldUntil, { eth0: [held("eth0", "2001:db8:9900:1000::1", 90, 30)], eth1: [held("eth1", "2001:db8:9900:1001::1", 90, 30)] }, "RENEW6");
    expect(box.conf()).not.toContain("2001:db8:9900::/64");
    expect(box.state()).not.toContain("2001:db8:9900::/64");
  });

  it("lease run out (the server gone): no /64 held, the last one withdrawn with lifetimes 0, router lifetime 0", () => {
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    box.run(1120, {}, "EXPIRE6");
    const conf = box.conf();
    expectGolden("pd-hook/expired.conf", conf);
    expect(conf).toBe(renderRadvdConf(pdRadvdModel({ lans: LANS }, { eth0: [{ prefix: "2001:db8:9900::/64", current: false, preferred: 0, valid: 0 }] })));
    expect(conf).toMatch(/interface eth0 \{\n {4}AdvSendAdvert on;\n {4}MinRtrAdvInterval 3;\n {4}MaxRtrAdvInterval 10;\n {4}AdvDefaultLifetime 0;/);
    // Then it comes back with the server.
    box.run(1200, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    expect(box.conf()).toContain("prefix 2001:db8:9900::/64 {\n        AdvOnLink on;\n        AdvAutonomous on;\n        AdvValidLifetime 98;");
  });

  it("lease run out with no event from dhcpcd (it may be late): the timer's render withdraws it, and dhcpcd's expiry keeps it withdrawn", () => {
    const withdrawn = renderRadvdConf(pdRadvdModel({ lans: LANS }, { eth0: [{ prefix: "2001:db8:9900::/64", current: false, preferred: 0, valid: 0 }] }));
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    // Before the count-down ends the timer leaves it out, and withdraws nothing.
    box.run(1100 - m, {});
    expect(box.conf()).toBe(renderRadvdConf(pdRadvdModel({ lans: LANS }, {})));
    box.run(1121, {});
    expect(box.conf()).toBe(withdrawn);
    box.run(1125, {}, "EXPIRE6");
    expect(box.conf()).toBe(withdrawn);
  });

  it("a /64 the kernel holds deprecated (the server gone past the lease's preferred lifetime) stays the LAN's (preferred 0, nothing withdrawn), router lifetime as usual, until the lease runs out", () => {
    const deprecated = (valid: number) => renderRadvdConf(pdRadvdModel({ lans: LANS }, { eth0: [{ prefix: "2001:db8:9900::/64", current: true, preferred: 0, valid }] }));
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    // The timer's render: the lease is still valid (and routed), so hosts keep their addresses and default router.
    // (radvd leaves a prefix out once its counted-down preferred lifetime is 0; hosts count down what they heard.)
    expect(box.run(1065, { eth0: [held("eth0", "2001:db8:9900::1", 55, 0, "dynamic deprecated noprefixroute")] }).stderr).toBe("");
    expect(box.conf()).toBe(deprecated(55 - m));
    expect(box.conf()).not.toMatch(/interface eth0 \{[^}]*AdvDefaultLifetime 0;/);
    expect(box.state()).toBe(`eth0 2001:db8:9900::/64 ${1000 + 120 - m} current\n`);
    // Under the margin before the lease's end: valid 0 too, never past the lease.
    box.run(1100, { eth0: [held("eth0", "2001:db8:9900::1", 20, 0, "dynamic deprecated noprefixroute")] });
    expect(box.conf()).toBe(deprecated(0));
    // The kernel drops it when the lease runs out, and dhcpcd's expiry withdraws it, router lifetime 0.
    box.run(1120, {}, "EXPIRE6");
    expect(box.conf()).toBe(renderRadvdConf(pdRadvdModel({ lans: LANS }, { eth0: [{ prefix: "2001:db8:9900::/64", current: false, preferred: 0, valid: 0 }] })));
    expect(box.conf()).toMatch(/interface eth0 \{[^}]*AdvDefaultLifetime 0;/);
  });

  it("an infinite or long lease is advertised with RFC 9096's limits at most", () => {
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", "forever", "forever")], eth1: [held("eth1", "2001:db8:9900:1::1", 86400, 14400)] }, "BOUND6");
    expect(box.conf()).toContain("AdvValidLifetime 5378;\n        AdvPreferredLifetime 2678;");
    expect(box.conf().match(/AdvValidLifetime 5378;/g)).toHaveLength(2);
  });

  it("ignores dhcpcd's events that change no LAN (the ISP's RAs, carrier, start, stop)", () => {
    for (const reason of ["ROUTERADVERT", "PREINIT", "CARRIER", "STOP6", "STOPPED"]) {
      expect(box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, reason)).toEqual({ code: 0, stderr: "" });
    }
    expect(fs.existsSync(box.path("radvd.conf"))).toBe(false);
    expect(box.calls()).toEqual([]);
    for (const reason of PD_HOOK_REASONS) {
      expect(box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, reason).code).toBe(0);
    }
    expect(box.conf()).toContain("2001:db8:9900::/64");
  });

  it("keeps the old config and says why when radvd refuses the new one; reloads nothing", () => {
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    const before = box.conf();
    box.calls();
    box.radvdRefuses = true;
    const r = box.run(1030, { eth0: [held("eth0", "2001:db8:9900:1000::1", 120, 60)] }, "RENEW6");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ipv6gw pd-hook: radvd refuses the new config, the old one stays:\nsyntax error near line 3");
    expect(box.conf()).toBe(before);
    expect(box.calls().some((c) => c.includes("reload"))).toBe(false);
  });

  it("withdraws nothing between dhcpcd's events: at boot, before the lease is back, a /64 the LAN no longer holds is left out (hosts keep their addresses); dhcpcd's next event decides", () => {
    box.run(1000, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "BOUND6");
    // The gateway reboots: radvd starts (render) before dhcpcd has the lease back.
    box.radvdActive = false;
    expect(box.run(1010, {}).stderr).toBe("");
    expect(box.conf()).toBe(renderRadvdConf(pdRadvdModel({ lans: LANS }, {})));
    expect(box.state()).toBe(`eth0 2001:db8:9900::/64 ${1000 + 120 - m} current\n`);
    // dhcpcd gets it back: advertised as before, never withdrawn.
    box.run(1015, { eth0: [held("eth0", "2001:db8:9900::1", 120, 60)] }, "REBOOT6");
    expect(box.conf()).toContain("prefix 2001:db8:9900::/64 {\n        AdvOnLink on;\n        AdvAutonomous on;\n        AdvValidLifetime 98;");
    expect(box.conf()).not.toContain("Withdrawn");
    // Or a new prefix comes: then dhcpcd's event withdraws the old one.
    box.run(1016, {});
    box.run(1020, { eth0: [held("eth0", "2001:db8:9900:1000::1", 120, 60)] }, "BOUND6");
    expect(box.conf()).toContain("prefix 2001:db8:9900::/64 {\n        AdvOnLink on;\n        AdvAutonomous on;\n        # Withdrawn");
  });

  it("renders before radvd starts (radvd not running: nothing to reload), with router lifetime 0 while no LAN holds a /64", () => {
    box.radvdActive = false;
    expect(box.run(1000, {}).code).toBe(0);
    expect(box.conf()).toBe(renderRadvdConf(pdRadvdModel({ lans: LANS }, {})));
    expect(box.calls().filter((c) => c.startsWith("systemctl"))).toEqual(["systemctl -q is-active ipv6gw-radvd.service"]);
  });

  it("refuses a usage it does not know", () => {
    const r = spawnSync("sh", [box.hook, "bogus"], { encoding: "utf8" });
    expect({ code: r.status, stderr: r.stderr.trim() }).toEqual({ code: 2, stderr: `usage: ${box.hook} [render]` });
  });
});

describe("the hook's units", () => {
  it("radvd of ours, its config rendered by the hook before it starts, reloaded with SIGHUP", () => {
    expectGolden("pd-hook/ipv6gw-radvd.service", renderPdRadvdUnit({ dhcpcdUnit: "ipv6gw-dhcpcd.service" }));
  });
  it("a timer renders every minute, so radvd's count-down never drifts past the margin", () => {
    const u = renderPdRefreshUnits();
    expectGolden("pd-hook/ipv6gw-pd-refresh.service", u.service);
    expectGolden("pd-hook/ipv6gw-pd-refresh.timer", u.timer);
  });
});

describe("the hook's model checks", () => {
  it.each<[string, Partial<PdHookModel>, string]>([
    ["a delegated-looking static prefix", { lans: [{ name: "eth0", prefixes: [{ prefix: "2001:db8::/64", onLink: true, autonomous: true }] }] }, "'lans[0].prefixes' may only hold unique local prefixes"],
    ["a preferred limit inside the margin", { preferredLimit: 10 }, `'preferredLimit' must be an integer ${m + 1}..4294967294`],
    ["a valid limit below the preferred one", { preferredLimit: 3000, validLimit: 2000 }, "'validLimit' must be an integer 3000..4294967294"],
    ["radvd's own rules (a too short interval)", { lans: [{ name: "eth0", maxRtrAdvInterval: 3, prefixes: [] }] }, "'maxRtrAdvInterval' must be between 4 and 1800"],
  ])("refuses %s", (_d, over, fragment) => {
    expect(() => renderPdHook({ lans: LANS, preferredLimit: 2700, validLimit: 5400, ...over })).toThrow(fragment);
  });
});

describe("IPv6 text in awk (mawk)", () => {
  const awk = (program: string, input: string) => spawnSync("awk", [`${AWK_IPV6_FUNCTIONS}\n${program}`], { input, encoding: "utf8" }).stdout.trim().split("\n");
  it.each([
    ["2001:db8:9900::1", "2001:0db8:9900:0000:0000:0000:0000:0001", "2001:db8:9900::1", "2001:db8:9900::/64"],
    ["2001:db8:9900:1000::1", "2001:0db8:9900:1000:0000:0000:0000:0001", "2001:db8:9900:1000::1", "2001:db8:9900:1000::/64"],
    ["2001:DB8:0:0:1:0:0:1", "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1", "2001:db8::/64"],
    ["::", "0000:0000:0000:0000:0000:0000:0000:0000", "::", "::/64"],
    ["2001:db8:1:2:3:4:5:6", "2001:0db8:0001:0002:0003:0004:0005:0006", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["fe80::200:5eff:fe00:5311", "fe80:0000:0000:0000:0200:5eff:fe00:5311", "fe80::200:5eff:fe00:5311", "fe80::/64"],
    ["2001:db8:0:1::", "2001:0db8:0000:0001:0000:0000:0000:0000", "2001:db8:0:1::", "2001:db8:0:1::/64"],
  ])("%s: expand, compress again (RFC 5952), its /64", (address, full, text, net) => {
    expect(awk("{ e = expand($1); print e; print compress(e); print net64($1) }", `${address}\n`)).toEqual([full, text, net]);
  });
});
