// The fleet preview's pure parts: its command line, what it makes of a
// site's engine events, its summary, the facts cache and the bound on
// concurrent previews.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { firewallTable } from "../../components/firewall/firewall";
import { FIREWALL_TYPE } from "../../components/firewall/firewall-inputs";
import { renderFilterTable } from "../../components/firewall/render-ruleset";
import { offlineEnvironment } from "../../scripts/fleet/environment";
import { factsKey } from "../../components/host/command-facts";
import { factsCache } from "../../scripts/fleet/facts-cache";
import { DEFAULT_CONCURRENCY, parseFleetArgs } from "../../scripts/fleet/options";
import { bounded } from "../../scripts/fleet/run";
import { ANALYZER_SHIM, startServer } from "../../scripts/fleet/shared";
import { SiteEvents, SiteResult, classifyError, fails } from "../../scripts/fleet/site-result";
import { COMMENT_MARKER, FleetRun, renderMarkdown, renderText } from "../../scripts/fleet/summary";

describe("the fleet's command line", () => {
  it("previews every site with the policy pack, refreshed, by default", () => {
    expect(parseFleetArgs(["preview"])).toEqual({ command: "preview", concurrency: DEFAULT_CONCURRENCY, refresh: true, policy: true });
  });

  it("takes stacks, a bound, a program and output files", () => {
    expect(parseFleetArgs(["preview", "--stacks", "home, office", "--concurrency", "3", "--no-refresh", "--program", "x.ts", "--markdown", "m.md", "--json", "r.json"])).toEqual({
      command: "preview",
      stacks: ["home", "office"],
      concurrency: 3,
      refresh: false,
      policy: true,
      program: "x.ts",
      markdown: "m.md",
      json: "r.json",
    });
  });

  it.each([
    [[], /^usage: npm run fleet -- preview/],
    [["up"], /unknown command 'up'/],
    [["preview", "--concurrency", "0"], /--concurrency must be a whole number 1-64/],
    [["preview", "--stacks"], /--stacks needs a value/],
    [["preview", "--fast"], /unknown option '--fast'/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseFleetArgs(argv)).toThrow(message);
  });
});

const table = (rules: { name: string; port: number }[] = []) =>
  JSON.parse(JSON.stringify(firewallTable({ preset: "howto", lanInterface: "eth0", rules: rules.map((r) => ({ name: r.name, action: "accept", protocol: "tcp", port: r.port })) })));
let seq = 0;
const ev = (e: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent => ({ sequence: seq++, timestamp: 0, ...e }) as EngineEvent;
const pre = (type: string, op: string, old?: Record<string, unknown>, now?: Record<string, unknown>, urn = `urn:pulumi:s::ipv6gw::${type}::x`) =>
  ev({ resourcePreEvent: { metadata: { op, urn, type, provider: "", old: old && { type, urn, id: "", parent: "", provider: "", inputs: old, outputs: old }, new: now && { type, urn, id: "", parent: "", provider: "", inputs: now, outputs: now } } } } as never);

describe("a site's engine events", () => {
  it("give its changes, the firewall rules added, removed and changed by name, and its policy violations", () => {
    const events = new SiteEvents("home");
    const before = table([{ name: "web", port: 80 }, { name: "old-ftp", port: 21 }]);
    const after = table([{ name: "web", port: 8080 }, { name: "telnet-in", port: 23 }]);
    events.add(pre(FIREWALL_TYPE, "update", { table: before }, { table: after }));
    events.add(pre("pulumi-nodejs:dynamic/ipv6gw:firewall:Ip6tablesRuleset", "update", { rules: "x" }, { rules: "y" }));
    events.add(
      ev({
        policyEvent: {
          resourceUrn: "urn:pulumi:home::ipv6gw::ipv6gw:site:Ipv6Site$ipv6gw:firewall:Firewall::site-firewall",
          message: "No rule of the site accepts NEW connections...\nrule 'telnet-in' accepts NEW connections from outside",
          color: "never",
          policyName: "no-unrestricted-inbound",
          policyPackName: "ipv6gw",
          policyPackVersion: "0.1.0",
          policyPackVersionTag: "0.1.0",
          enforcementLevel: "warning",
        },
      }),
    );
    events.add(ev({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { update: 2, same: 20 }, policyPacks: {} } }));
    const r = events.result("preview output", 12.5);
    expect(r.changes).toEqual({ add: 0, change: 2, delete: 0 });
    expect(r.rules).toEqual({ added: ["telnet-in"], removed: ["old-ftp"], changed: ["web"] });
    expect(r.violations).toEqual([{ policy: "no-unrestricted-inbound", level: "advisory", message: "rule 'telnet-in' accepts NEW connections from outside", resource: "site-firewall" }]);
    expect(fails(r)).toBe(false);
  });

  it("read rule names from the ruleset's text when the Firewall was recorded before it had a rule model", () => {
    const events = new SiteEvents("old");
    events.add(pre(FIREWALL_TYPE, "update", {}, { table: table([{ name: "telnet-in", port: 23 }]) }));
    events.add(pre("pulumi-nodejs:dynamic/ipv6gw:firewall:Ip6tablesRuleset", "update", { rules: renderFilterTable(firewallTable({ lanInterface: "eth0" })) }, { rules: "ignored" }));
    expect(events.result("", 1).rules).toEqual({ added: ["telnet-in"], removed: [], changed: [] });
  });

  it("fail a site on an error, classified, or a mandatory violation; the engine's closing line is not an error of its own", () => {
    const down = new SiteEvents("cabin");
    down.add(ev({ diagnosticEvent: { message: "cannot read the facts of the gateway: cannot reach root@[fe80::1%lan]:22 after 1 attempt(s): connect EHOSTUNREACH", color: "never", severity: "error" } }));
    down.add(ev({ diagnosticEvent: { message: "preview failed", color: "never", severity: "error" } }));
    const r = down.result("", 3);
    expect(r.errors).toEqual([{ kind: "unreachable", message: "cannot read the facts of the gateway: cannot reach root@[fe80::1%lan]:22 after 1 attempt(s): connect EHOSTUNREACH" }]);
    expect(fails(r)).toBe(true);
    const locked = new SiteEvents("office");
    locked.add(ev({ policyEvent: { message: "d\nwould be refused", color: "never", policyName: "management-lockout", policyPackName: "ipv6gw", policyPackVersion: "0.1.0", policyPackVersionTag: "", enforcementLevel: "mandatory" } }));
    locked.fail("code: 255\n stdout: ...\n stderr: error: preview failed\n");
    expect(locked.result("", 1).errors).toEqual([]);
    expect(fails(locked.result("", 1))).toBe(true);
  });

  it.each([
    ["cannot read the facts of the gateway: cannot reach root@192.0.2.1:22 after 1 attempt(s): connect ETIMEDOUT", "unreachable"],
    ["stack config has 1 problem(s):\n  ipv6gw:site.gateway.lanInterface: ...", "config"],
    ["stack 'x' not found in file:///s: pulumi stack init x, or check its name", "config"],
    ["rule 'x' is rejected by ip6tables on root@gw:22: ...", "error"],
  ] as const)("classify %s as %s", (message, kind) => {
    expect(classifyError(message)).toBe(kind);
  });
});

const site = (stack: string, over: Partial<SiteResult> = {}): SiteResult => ({
  stack,
  changes: { add: 0, change: 2, delete: 0 },
  rules: { added: ["telnet-in"], removed: [], changed: [] },
  violations: [],
  errors: [],
  output: "Previewing update (x):\n    ~ rules:\n      + -A IPV6-INPUT ...\nResources:\n    ~ 2 to update\n",
  seconds: 10,
  ...over,
});
const run = (sites: SiteResult[]): FleetRun => ({ sites, seconds: 21.3, concurrency: 4, refresh: true, policyPack: "ipv6gw 0.1.0" });

describe("the fleet's summary", () => {
  const sites = [
    site("home"),
    site("office", { violations: [{ policy: "management-lockout", level: "mandatory", message: "would be refused by rule 'no-ssh'", resource: "site-firewall" }] }),
    site("cabin", { output: "", rules: { added: [], removed: [], changed: [] }, errors: [{ kind: "unreachable", message: "cannot read the facts of the gateway: cannot reach ..." }] }),
  ];

  it("is one line per site, then what each has to say, then the verdict", () => {
    expect(renderText(run(sites))).toBe(
      [
        "Fleet preview: 3 sites, 4 at a time, refreshed from the boxes, policy pack ipv6gw 0.1.0; 21.3 s",
        "",
        "site    add  change  delete  firewall rules  policies     result",
        "home      0       2       0  +telnet-in      -            ok",
        "office    0       2       0  +telnet-in      1 mandatory  FAILS: 1 mandatory violation",
        "cabin     -       -       -  -               -            FAILS: box unreachable",
        "",
        "home:",
        "  rules added: telnet-in",
        "",
        "office:",
        "  rules added: telnet-in",
        "  mandatory management-lockout (site-firewall): would be refused by rule 'no-ssh'",
        "",
        "cabin:",
        "  box unreachable: cannot read the facts of the gateway: cannot reach ...",
        "",
        "2 of 3 sites fail: office (1 mandatory violation); cabin (box unreachable).",
        "",
      ].join("\n"),
    );
  });

  it("is one Markdown comment with each site's full preview folded below it", () => {
    const md = renderMarkdown(run(sites));
    expect(md.startsWith(`${COMMENT_MARKER}\n### Fleet preview: 3 sites`)).toBe(true);
    expect(md).toContain("| office | 0 | 2 | 0 | +telnet-in | 1 mandatory | FAILS: 1 mandatory violation |");
    expect(md.match(/<details><summary>/g)).toHaveLength(3);
    expect(md).toContain("<details><summary>home: full preview</summary>\n\n```diff\nPreviewing update (x):");
  });

  it("keeps the comment under GitHub's limit, cutting each site's preview to its share", () => {
    const md = renderMarkdown(run(Array.from({ length: 10 }, (_, i) => site(`site-${i}`, { output: "x".repeat(20000) }))));
    expect(md.length).toBeLessThan(65536);
    expect(md).toContain("more characters: run npm run preview -- --stack site-9");
  });
});

describe("the facts cache", () => {
  const conn = { host: "fe80::1%lan", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", privateKey: "KEY" };

  it("reads each box once for every site on it, and a failed read fails them all alike", async () => {
    let reads = 0;
    const cache = factsCache(async (c) => {
      reads++;
      if (c.host === "dead") throw new Error("cannot reach dead");
      return { distro: "debian" } as never;
    });
    await Promise.all([cache.read(conn), cache.read({ ...conn }), cache.read(conn)]);
    expect(reads).toBe(1);
    await expect(cache.read({ ...conn, host: "dead" })).rejects.toThrow("cannot reach dead");
    await expect(cache.read({ ...conn, host: "dead" })).rejects.toThrow("cannot reach dead");
    expect(reads).toBe(2);
  });

  it("never lends one site's read to another with a different user or credential", () => {
    expect(factsKey(conn)).toBe(factsKey({ ...conn }));
    expect(factsKey(conn)).not.toBe(factsKey({ ...conn, user: "admin" }));
    expect(factsKey(conn)).not.toBe(factsKey({ ...conn, privateKey: "OTHER" }));
    expect(factsKey(conn)).not.toContain("KEY");
  });
});

describe("the fleet's bound and environment", () => {
  it("never runs more than the bound at once, and keeps results in order", async () => {
    let running = 0;
    let peak = 0;
    const tasks = Array.from({ length: 9 }, (_, i) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return i;
    });
    expect(await bounded(3, tasks)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(peak).toBe(3);
  });

  it("sets what scripts/pulumi.sh sets, keeping the caller's backend and passphrase", () => {
    const own = offlineEnvironment("/r", "/bin/pulumi-v3", { PATH: "/usr/bin" });
    expect(own).toEqual({
      ownBackend: true,
      env: {
        IPV6GW_ROOT: "/r",
        PATH: "/bin/pulumi-v3:/usr/bin",
        PULUMI_HOME: "/r/.pulumi/home",
        PULUMI_BACKEND_URL: "file:///r/.pulumi/state",
        PULUMI_CONFIG_PASSPHRASE: "ipv6gw-lab",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      },
    });
    const theirs = offlineEnvironment("/r", "/b", { PATH: "", PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "" });
    expect(theirs.ownBackend).toBe(false);
    expect(theirs.env).toMatchObject({ PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "" });
  });
});

describe("the processes a fleet run shares", () => {
  it("starts a plugin server and takes the port it prints first, its later output drained", async () => {
    const server = await startServer("a test server", ["-e", "console.log('4242'); console.log('later'); setInterval(() => {}, 1000)"], os.tmpdir(), process.env);
    try {
      expect(server.port).toBe("4242");
      expect(server.died()).toBeUndefined();
    } finally {
      server.stop();
    }
  });

  it("says why a server died before it listened", async () => {
    await expect(startServer("a test server", ["-e", "console.error('no port for you'); process.exit(3)"], os.tmpdir(), process.env)).rejects.toThrow("a test server exited (3): no port for you");
  });

  it("hands the CLI the shared pack's port from the analyzer shim, and refuses to run without one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-shim-"));
    try {
      const shim = path.join(dir, "shim");
      fs.writeFileSync(shim, ANALYZER_SHIM.replace("exec sleep 2147483647", "exit 0"), { mode: 0o755 });
      expect(spawnSync(shim, [], { env: { IPV6GW_FLEET_POLICY_PORT: "5151" }, encoding: "utf8" }).stdout).toBe("5151\n");
      const alone = spawnSync(shim, [], { env: {}, encoding: "utf8" });
      expect(alone.status).not.toBe(0);
      expect(alone.stderr).toContain("only npm run fleet -- preview runs this compiled policy pack");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
