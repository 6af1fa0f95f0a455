// What each dynamic resource stores as its provider: a small reference that a
// fresh engine-style process (plain node, no ts-node registered, no program
// loaded) turns back into the real provider; and when a stored one counts as
// a change of provider.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SiteProbeProvider } from "../../components/checks/site-probe";
import { RulesetProvider } from "../../components/firewall/ruleset";
import { CronEntryProvider } from "../../components/host/cron-entry";
import { HostFactsProvider } from "../../components/host/host-facts";
import { KeyValueFileProvider } from "../../components/host/key-value-file";
import { PackagesProvider } from "../../components/host/packages";
import { providerChanged } from "../../components/host/provider-kit";
import { PACKAGE_NAME, providerReference, referencedClass } from "../../components/host/provider-reference";
import { RemoteCommandProvider } from "../../components/host/remote-command";
import { RemoteFileProvider } from "../../components/host/remote-file";
import { ServiceProvider } from "../../components/host/service";
import { SysctlProvider } from "../../components/host/sysctl";
import { UlaPrefixProvider } from "../../components/lan/ula-prefix";
import { DelegatedPrefixProvider } from "../../components/tunnel/delegated-prefix";

const ROOT = path.resolve(__dirname, "..", "..");

const PROVIDERS = [
  SiteProbeProvider,
  RulesetProvider,
  CronEntryProvider,
  HostFactsProvider,
  KeyValueFileProvider,
  PackagesProvider,
  RemoteCommandProvider,
  RemoteFileProvider,
  ServiceProvider,
  SysctlProvider,
  UlaPrefixProvider,
  DelegatedPrefixProvider,
];

const METHODS = ["check", "diff", "create", "read", "update", "delete"];

/** Evaluates stored providers as the engine's dynamic-provider process does, in a fresh node in `cwd`; prints what `script` returns. */
function inEngineProcess(cwd: string, texts: readonly string[], script: string, env: NodeJS.ProcessEnv = {}): unknown {
  const program = `
    const load = require(${JSON.stringify(require.resolve("require-from-string", { paths: [ROOT] }))});
    const providers = JSON.parse(process.argv[1]).map((t) => load(t).handler());
    (async () => { ${script} })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => process.stdout.write(JSON.stringify({ error: e.message })));
  `;
  const r = spawnSync(process.execPath, ["-e", program, JSON.stringify(texts)], { cwd, encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
  if (r.status !== 0) throw new Error(`the engine-style process failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("provider references", () => {
  let texts: string[];
  beforeAll(() => {
    texts = PROVIDERS.map((p) => p.reference.text);
  });

  it("store about 3 KB, name the provider's module, and nothing of this checkout's path", () => {
    PROVIDERS.forEach((p, i) => {
      // The code itself (SSH transport, checks, scripts) was 50-80 KB per resource; a reference through Pulumi's serializer 7.5 KB.
      expect(texts[i].length).toBeLessThan(3500);
      expect(texts[i]).toContain(`"export":"${p.name}"`);
      expect(referencedClass(texts[i])).toBe(`${PACKAGE_NAME}/${p.reference.reference.module}#${p.name}`);
      expect(texts[i]).not.toContain(ROOT);
    });
  });

  it("count as the same provider whatever their loader, and as a new one for another class or stored code", () => {
    // As Pulumi's serializer stored the earlier shim (ipv6gw before this format), abridged.
    const earlier = `exports.handler = __f0;\n\nvar __ref = {package: "ipv6gw", module: "components/host/sysctl", export: "SysctlProvider"};\nvar __provider = {check: __f1};\n`;
    const sysctl = SysctlProvider.reference.text;
    expect(referencedClass(earlier)).toBe("ipv6gw/components/host/sysctl#SysctlProvider");
    expect(providerChanged({ __provider: earlier }, { __provider: sysctl })).toBe(false);
    expect(providerChanged({ __provider: sysctl }, { __provider: sysctl })).toBe(false);
    expect(providerChanged({ __provider: earlier }, { __provider: ServiceProvider.reference.text })).toBe(true);
    // The provider's code itself, as versions before references stored it.
    expect(providerChanged({ __provider: "exports.handler = __f0;\nfunction __f0() { /* the SSH transport ... */ }" }, { __provider: sysctl })).toBe(true);
    expect(referencedClass("exports.handler = __f0;")).toBeUndefined();
  });

  it("load the real providers in a fresh engine process, with the methods each class has and no more", () => {
    const result = inEngineProcess(
      ROOT,
      texts,
      `
      const failures = (await providers[${PROVIDERS.indexOf(SysctlProvider)}].check({}, { key: "bad key", value: "1", connection: { host: "192.0.2.1" } })).failures;
      const diff = await providers[${PROVIDERS.indexOf(UlaPrefixProvider)}].diff("id", {}, {});
      return { methods: providers.map((p) => Object.keys(p).sort()), failures, diff };
    `,
    ) as { methods: string[][]; failures: { property: string; reason: string }[]; diff: unknown };
    expect(result.methods).toEqual(PROVIDERS.map((p) => METHODS.filter((m) => typeof (p.prototype as unknown as Record<string, unknown>)[m] === "function").sort()));
    // The sysctl provider's own check ran: the key's rule and the connection's.
    expect(result.failures).toEqual(expect.arrayContaining([expect.objectContaining({ property: "key", reason: expect.stringContaining("sysctl key") })]));
    expect(result.failures.map((f) => f.property)).toContain("connection.hostKey");
    expect(result.diff).toEqual({ changes: false });
  });

  it("find the library in the node_modules of a program that uses it as a package", () => {
    const program = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-consumer-"));
    try {
      fs.mkdirSync(path.join(program, "node_modules"));
      fs.symlinkSync(ROOT, path.join(program, "node_modules", PACKAGE_NAME));
      const result = inEngineProcess(program, [texts[PROVIDERS.indexOf(SysctlProvider)]], `return (await providers[0].check({}, { key: "bad key" })).failures.map((f) => f.property);`);
      expect(result).toContain("key");
    } finally {
      fs.rmSync(program, { recursive: true, force: true });
    }
  });

  it("say where they looked and what to do when the library is not there", () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-elsewhere-"));
    try {
      const result = inEngineProcess(elsewhere, [texts[0]], `return await providers[0].check({}, {});`) as { error: string };
      expect(result.error).toContain(`cannot load the provider SiteProbeProvider: no ${PACKAGE_NAME} package at or above ${fs.realpathSync(elsewhere)}`);
      expect(result.error).toContain("pulumi state delete");
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("load the program's compiled copy while its sources are unchanged, and the sources through ts-node once one changed", async () => {
    // A library of one provider, its source beside a compile cache entry as scripts/language-host/compiled-program.ts leaves it.
    const lib = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-lib-"));
    try {
      const provider = (from: string) => `exports.FakeProvider = class FakeProvider { async check() { return { inputs: {}, failures: [{ property: "from", reason: "${from}" }] }; } };\nexports.FakeProvider.instance = new exports.FakeProvider();\n`;
      const source = path.join(lib, "components", "fake", "thing.ts");
      fs.mkdirSync(path.dirname(source), { recursive: true });
      fs.writeFileSync(source, `${provider("source")}export {};\n`);
      fs.writeFileSync(path.join(lib, "package.json"), JSON.stringify({ name: PACKAGE_NAME }));
      fs.writeFileSync(path.join(lib, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", target: "ES2022" } }));
      fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(lib, "node_modules"));
      const cache = path.join(lib, ".pulumi", "compiled");
      fs.mkdirSync(path.join(cache, "k1", "components", "fake"), { recursive: true });
      fs.writeFileSync(path.join(cache, "k1", "components", "fake", "thing.js"), provider("compiled"));
      const sha = require("crypto").createHash("sha256").update(fs.readFileSync(source)).digest("hex");
      fs.writeFileSync(path.join(cache, "m.json"), JSON.stringify({ key: "k1", entry: "index.js", files: { [source]: sha }, absent: [] }));

      class FakeProvider {
        async check() {
          return { inputs: {} };
        }
        async create() {
          return { id: "x" };
        }
      }
      const { text } = providerReference(path.join(ROOT, "components", "fake", "thing.ts"), FakeProvider);
      const trace = path.join(lib, "trace.jsonl");
      const from = () => {
        fs.rmSync(trace, { force: true });
        const result = inEngineProcess(lib, [text], `return [(await providers[0].check({}, {})).failures[0].reason, !!require.extensions[".ts"]];`, { IPV6GW_TRACE: trace });
        const marks = fs.readFileSync(trace, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
        return { result, marks };
      };
      const compiled = from();
      expect(compiled.result).toEqual(["compiled", false]);
      // The bench's account of where the time goes: the load and each call, timed.
      expect(compiled.marks).toEqual([
        expect.objectContaining({ proc: "provider", event: "load", provider: "FakeProvider", from: "compiled", ms: expect.any(Number) }),
        expect.objectContaining({ proc: "provider", event: "call", provider: "FakeProvider", method: "check", ms: expect.any(Number) }),
      ]);
      fs.appendFileSync(source, "// changed\n");
      const source2 = from();
      expect(source2.result).toEqual(["source", true]);
      expect(source2.marks[0]).toMatchObject({ event: "load", from: "source" });
    } finally {
      fs.rmSync(lib, { recursive: true, force: true });
    }
  });

  it("name the package by its package.json name", () => {
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).name).toBe(PACKAGE_NAME);
  });
});
