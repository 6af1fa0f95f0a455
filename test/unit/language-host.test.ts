import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findResourcePackages, pluginOf } from "../../scripts/language-host/packages";
import { policyPackArguments, policyPackEnvironment, runArguments, runEnvironment } from "../../scripts/language-host/run-args";

describe("the language host's program run", () => {
  const input = {
    runPath: "/p/node_modules/@pulumi/pulumi/cmd/run",
    monitor: "127.0.0.1:1",
    engine: "127.0.0.1:2",
    organization: "",
    project: "ipv6gw",
    rootDirectory: "/p",
    stack: "lab",
    pwd: "/p",
    dryRun: true,
    parallel: 16,
    entryPoint: ".",
    programArgs: [],
    nodeargs: "--max-old-space-size=4096",
  };

  it("passes what the Go host passes, in its order, skipping empty values", () => {
    expect(runArguments(input)).toEqual([
      "--max-old-space-size=4096",
      "/p/node_modules/@pulumi/pulumi/cmd/run",
      "--monitor", "127.0.0.1:1",
      "--engine", "127.0.0.1:2",
      "--project", "ipv6gw",
      "--root-directory", "/p",
      "--stack", "lab",
      "--pwd", "/p",
      "--dry-run",
      "--parallel", "16",
      ".",
    ]);
    expect(runArguments({ ...input, dryRun: false, nodeargs: "" })).not.toContain("--dry-run");
  });

  it("preloads a module first when given one (a path with spaces stays one argument)", () => {
    expect(runArguments({ ...input, preload: "/a b/defer-modules.js" }).slice(0, 4)).toEqual(["-r", "/a b/defer-modules.js", "--max-old-space-size=4096", "/p/node_modules/@pulumi/pulumi/cmd/run"]);
  });

  it("hands config to the SDK in the old key shape, with TypeScript on by default", () => {
    const env = runEnvironment({ config: { "ipv6gw:site": "{}", "aws:region": "x" }, secretKeys: ["ipv6gw:gw6cPassword"], options: {} });
    expect(JSON.parse(env.PULUMI_CONFIG)).toEqual({ "ipv6gw:config:site": "{}", "aws:config:region": "x" });
    expect(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS)).toEqual(["ipv6gw:gw6cPassword"]);
    expect(env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
    expect(runEnvironment({ config: {}, secretKeys: [], options: { typescript: false, tsconfig: "tsconfig.build.json" } })).toMatchObject({ PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.build.json" });
    expect(runEnvironment({ config: {}, secretKeys: [], options: { typescript: false } }).PULUMI_NODEJS_TYPESCRIPT).toBeUndefined();
  });

  it("refuses a config key without a namespace", () => {
    expect(() => runEnvironment({ config: { site: "x" }, secretKeys: [], options: {} })).toThrow(/has no namespace/);
  });
});

describe("the language host's policy packs (RunPlugin, kind analyzer)", () => {
  it("passes the CLI's arguments first and the pack's directory last, as the Go host does for analyzers", () => {
    expect(policyPackArguments({ runPath: "/p/node_modules/@pulumi/pulumi/cmd/run-policy-pack", pluginArgs: ["127.0.0.1:5", "--tracing", "x"], programDirectory: "/p/policy" })).toEqual([
      "/p/node_modules/@pulumi/pulumi/cmd/run-policy-pack",
      "127.0.0.1:5",
      "--tracing",
      "x",
      "/p/policy",
    ]);
  });

  it("runs the pack in the CLI's environment, TypeScript on unless PulumiPolicy.yaml turns it off", () => {
    const env = policyPackEnvironment(["PATH=/bin", "PULUMI_CONFIG_PASSPHRASE=a=b"], {});
    expect(env).toEqual({ PATH: "/bin", PULUMI_CONFIG_PASSPHRASE: "a=b", PULUMI_NODEJS_TYPESCRIPT: "true" });
    expect(policyPackEnvironment([], { typescript: false }).PULUMI_NODEJS_TYPESCRIPT).toBeUndefined();
    expect(policyPackEnvironment([], { tsconfig: "tsconfig.policy.json" }).PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.policy.json");
  });
});

describe("the language host's plugin discovery", () => {
  it("reads plugin names and versions as the Go host does", () => {
    expect(pluginOf({ name: "@pulumi/command", version: "1.2.1", pulumi: { resource: true, name: "command", version: "1.2.1" } }, "x")).toEqual({ name: "command", version: "v1.2.1", server: "" });
    expect(pluginOf({ name: "@pulumi/random", version: "4.0.0", pulumi: { resource: true } }, "x")).toEqual({ name: "random", version: "v4.0.0", server: "" });
    expect(pluginOf({ name: "left-pad", version: "1.0.0" }, "x")).toBeUndefined();
    expect(() => pluginOf({ name: "acme-thing", version: "1.0.0", pulumi: { resource: true } }, "x")).toThrow(/lacks "pulumi.name"/);
  });

  it("finds resource packages under node_modules, scoped and nested", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-lh-"));
    const pkg = (rel: string, json: object) => {
      fs.mkdirSync(path.join(dir, rel), { recursive: true });
      fs.writeFileSync(path.join(dir, rel, "package.json"), JSON.stringify(json));
    };
    pkg("node_modules/@pulumi/command", { name: "@pulumi/command", version: "1.2.1", pulumi: { resource: true, name: "command", version: "1.2.1" } });
    pkg("node_modules/@pulumi/pulumi", { name: "@pulumi/pulumi", version: "3.248.0" });
    pkg("node_modules/x/node_modules/@pulumi/random", { name: "@pulumi/random", version: "4.16.0", pulumi: { resource: true } });
    try {
      expect(findResourcePackages(dir)).toEqual([
        { name: "command", version: "v1.2.1", server: "" },
        { name: "random", version: "v4.16.0", server: "" },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
