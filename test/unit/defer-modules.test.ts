// scripts/preload/defer-modules.js, in a node of its own as the language host
// and the provider shim start one: @pulumi/pulumi loads without TypeScript's
// parser and npm's arborist, and both still work where @pulumi/pulumi uses them.
import { execFileSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const PRELOAD = path.join(ROOT, "scripts/preload/defer-modules.js");

const SCRIPT = `
const loaded = () => Object.keys(require.cache).filter((k) => /typescript[\\\\/]lib[\\\\/]typescript\\.js$|arborist[\\\\/]lib[\\\\/]index\\.js$/.test(k)).length;
const pulumi = require("@pulumi/pulumi");
const out = { atStart: loaded(), sdk: typeof pulumi.ComponentResource };
// Where @pulumi/pulumi uses them: parsing a function (TypeScript), and codePaths' import of arborist.
const parsed = require("@pulumi/pulumi/runtime/closure/parseFunction").parseFunction("function f(a) { return a + 1; }");
out.parsed = parsed[1].funcExprWithName;
const codePaths = require.cache[require.resolve("@pulumi/pulumi/runtime/closure/codePaths")];
out.arborist = typeof require("module")._load("@npmcli/arborist", codePaths).Arborist;
out.afterUse = loaded();
// Anyone else's require of the same names is untouched.
out.direct = typeof require("@npmcli/arborist").Arborist;
console.log(JSON.stringify(out));
`;

const run = (preload: boolean) =>
  JSON.parse(execFileSync(process.execPath, [...(preload ? ["-r", PRELOAD] : []), "-e", SCRIPT], { cwd: ROOT, encoding: "utf8" }));

describe("the defer-modules preload", () => {
  it("loads @pulumi/pulumi without TypeScript or arborist, and loads each where it is used", () => {
    expect(run(true)).toEqual({ atStart: 0, sdk: "function", parsed: "function f(a) { return a + 1; }", arborist: "function", afterUse: 2, direct: "function" });
  });

  it("changes nothing @pulumi/pulumi does without it (both load at start)", () => {
    expect(run(false)).toMatchObject({ atStart: 2, parsed: "function f(a) { return a + 1; }", arborist: "function", afterUse: 2 });
  });
});
