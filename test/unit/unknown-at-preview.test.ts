// At preview the engine passes values that depend on resources not yet
// created as a placeholder, whole properties or values nested anywhere in
// them. Every provider's `check` must leave those alone (no failure, no box
// contacted, the placeholders passed back untouched), and still report the
// known values beside them that are wrong.
import { SiteProbeProvider } from "../../components/checks/site-probe";
import { Ip6tablesRulesetProvider } from "../../components/firewall/ruleset";
import { CronEntryProvider } from "../../components/host/cron-entry";
import { HostFactsProvider } from "../../components/host/host-facts";
import { KeyValueFileProvider } from "../../components/host/key-value-file";
import { PackagesProvider } from "../../components/host/packages";
import { RemoteOpener, UNKNOWN } from "../../components/host/provider-kit";
import { RemoteCommandProvider } from "../../components/host/remote-command";
import { RemoteFileProvider } from "../../components/host/remote-file";
import { ServiceProvider } from "../../components/host/service";
import { SysctlProvider } from "../../components/host/sysctl";
import { FakeClock, FakeRemote, connection } from "./fake-remote";

const U = UNKNOWN;
type News = Record<string, unknown>;
interface Checker {
  check(olds: News, news: News): Promise<{ inputs: News; failures: readonly { property: string; reason: string }[] }>;
}

/** Every way a connection can be partly unknown. */
const CONNECTIONS: [string, unknown][] = [
  ["the whole connection", U],
  ["the connection's host", { ...connection, host: U }],
  ["the connection's port and host key", { ...connection, port: U, hostKey: U }],
  ["the connection's private key", { ...connection, privateKey: U }],
  ["the connection's jump host", { ...connection, proxy: U }],
  ["the jump host's address", { ...connection, proxy: { ...connection, host: U } }],
];

interface Case {
  readonly make: (open: RemoteOpener) => Checker;
  /** Inputs every part of which is known and valid. */
  readonly valid: News;
  /** Variants with unknown parts (merged into `valid`), by what is unknown. */
  readonly unknown: Record<string, News>;
  /** Variants with unknown parts beside known bad ones, and the properties that must be reported. */
  readonly bad: Record<string, [News, string[]]>;
}

const ip6Rules = "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\nCOMMIT\n";
const probe = (name: string, on: string) => ({ name, on, script: "true", retrySeconds: 0 });

const CASES: Record<string, Case> = {
  RemoteFile: {
    make: (open) => new RemoteFileProvider(open),
    valid: { path: "/etc/radvd.conf", content: "x\n", mode: "0644" },
    unknown: {
      "every property": { path: U, content: U, mode: U, owner: U, group: U, validate: U },
      "the content": { content: U },
      "the mode": { mode: U },
    },
    bad: { "a relative path and a bad mode beside unknown content": [{ path: "etc/radvd.conf", mode: "rw", content: U }, ["mode", "path"]] },
  },
  Sysctl: {
    make: (open) => new SysctlProvider(open),
    valid: { key: "net.ipv6.conf.all.forwarding", value: "1" },
    unknown: { "every property": { key: U, value: U, persist: U }, "the value": { value: U } },
    bad: { "a bad key beside an unknown value": [{ key: "not a key", value: U }, ["key"]] },
  },
  Packages: {
    make: (open) => new PackagesProvider(open),
    valid: { names: ["radvd"] },
    unknown: { "every property": { names: U, manager: U }, "one name": { names: ["radvd", U] } },
    bad: { "a bad name beside an unknown one": [{ names: [U, "rad vd"] }, ["names.1"]] },
  },
  Service: {
    make: (open) => new ServiceProvider(open),
    valid: { name: "radvd" },
    unknown: { "every property": { name: U, enabled: U, running: U, manager: U, restartTrigger: U }, "the restart trigger": { restartTrigger: U } },
    bad: { "an unknown manager name beside an unknown trigger": [{ manager: "launchd", restartTrigger: U }, ["manager"]] },
  },
  CronEntry: {
    make: (open) => new CronEntryProvider(open),
    valid: { name: "gw6c-watchdog", schedule: "0 * * * *", command: "true" },
    unknown: { "every property": { name: U, schedule: U, command: U, user: U }, "the command": { command: U } },
    bad: { "a bad schedule beside an unknown command": [{ schedule: "every hour", command: U }, ["schedule"]] },
  },
  KeyValueFile: {
    make: (open) => new KeyValueFileProvider(open),
    valid: { path: "/etc/sysconfig/network", set: { NETWORKING_IPV6: "yes" }, remove: ["IPV6_AUTOCONF"] },
    unknown: { "every property": { path: U, set: U, remove: U }, "a value": { set: { NETWORKING_IPV6: U } }, "a removed key": { remove: [U] } },
    bad: { "a key that is no shell name, its value unknown": [{ set: { "IPV6-INIT": U } }, ["set.IPV6-INIT"]] },
  },
  RemoteCommand: {
    make: (open) => new RemoteCommandProvider(open),
    valid: { create: "make install", triggers: ["v1"] },
    unknown: { "every property": { create: U, update: U, delete: U, present: U, triggers: U, stdin: U, stdinFile: U, timeoutSeconds: U }, "a trigger": { triggers: ["v1", U] } },
    bad: { "a negative timeout beside an unknown script": [{ create: U, timeoutSeconds: -1 }, ["timeoutSeconds"]] },
  },
  HostFacts: {
    make: (open) => new HostFactsProvider(open),
    valid: {},
    unknown: {},
    bad: { "a port that is no number beside an unknown host": [{ connection: { ...connection, host: U, port: "22x" } }, ["connection.port"]] },
  },
  Ip6tablesRuleset: {
    make: (open) => new Ip6tablesRulesetProvider(open, () => Promise.reject(new Error("test: no new connection expected")), new FakeClock()),
    valid: { rules: ip6Rules },
    unknown: { "every property": { rules: U, rollbackSeconds: U, persistPath: U }, "the rules": { rules: U } },
    bad: { "a rollback too short to confirm beside unknown rules": [{ rules: U, rollbackSeconds: 5 }, ["rollbackSeconds"]] },
  },
  SiteProbe: {
    make: (open) => new SiteProbeProvider(open, new FakeClock()),
    valid: { connections: { gateway: connection }, probes: [probe("a", "gateway")], triggers: ["t"] },
    unknown: {
      "the probes themselves": { probes: U },
      "one probe": { probes: [U, probe("a", "gateway")] },
      "a probe's box": { probes: [{ ...probe("a", "gateway"), on: U }] },
      "the connections": { connections: U },
      "one connection": { connections: { gateway: U } },
      "the triggers": { triggers: U },
    },
    bad: { "a probe on a box without a connection beside an unknown one": [{ probes: [U, probe("b", "c9")] }, ["probes"]] },
  },
};

// SiteProbe carries its boxes' connections in `connections`; the others one `connection`.
const inputsOf = (provider: string, news: News): News => (provider === "SiteProbe" ? { ...CASES[provider].valid, ...news } : { connection, ...CASES[provider].valid, ...news });

/** The table: provider, what is unknown, the inputs. */
const unknownRows = Object.entries(CASES).flatMap(([provider, c]) => [
  ...Object.entries(c.unknown).map(([what, news]): [string, string, News] => [provider, what, inputsOf(provider, news)]),
  ...(provider === "SiteProbe" ? [] : CONNECTIONS.map(([what, conn]): [string, string, News] => [provider, what, inputsOf(provider, { connection: conn })])),
]);
const badRows = Object.entries(CASES).flatMap(([provider, c]) =>
  Object.entries(c.bad).map(([what, [news, properties]]): [string, string, News, string[]] => [provider, what, inputsOf(provider, news), properties]),
);

function checker(provider: string) {
  const box = new FakeRemote();
  const opened: unknown[] = [];
  const open: RemoteOpener = async (c) => {
    opened.push(c);
    return box;
  };
  return { p: CASES[provider].make(open), box, opened };
}

describe("check at preview, with values not known yet", () => {
  // Ip6tablesRuleset asks the box about a fully known table: its preview check, tested in firewall-ruleset-provider.test.ts.
  it.each(Object.keys(CASES).filter((p) => p !== "Ip6tablesRuleset"))("%s: accepts its known, valid inputs without a box", async (provider) => {
    const { p, opened } = checker(provider);
    expect((await p.check({}, inputsOf(provider, {}))).failures).toEqual([]);
    expect(opened).toEqual([]);
  });

  it.each(unknownRows)("%s: unknown %s: no failure, no box, placeholders passed back as they came", async (provider, _what, news) => {
    const { p, box, opened } = checker(provider);
    const { inputs, failures } = await p.check({}, news);
    expect(failures).toEqual([]);
    // Defaults may be added to known inputs; nothing given, placeholders least of all, is changed.
    expect(inputs).toMatchObject(news);
    expect(opened).toEqual([]);
    expect(box.calls).toEqual([]);
  });

  it.each(badRows)("%s: %s: the known bad values are reported, without a box", async (provider, _what, news, properties) => {
    const { p, box, opened } = checker(provider);
    const { failures } = await p.check({}, news);
    expect(failures.map((f) => f.property).sort()).toEqual(properties);
    expect(opened).toEqual([]);
    expect(box.calls).toEqual([]);
  });
});
