// scripts/ts-run.js (what `npm start` runs scripts/start.ts with): as
// `ts-node --transpile-only` would run a file, each file's JavaScript kept
// in a cache, so a run whose files are all cached never loads TypeScript.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const RUNNER = path.resolve(__dirname, "../../scripts/ts-run.js");

describe("scripts/ts-run.js", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-ts-run-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => spawnSync(process.execPath, [RUNNER, ...args], { encoding: "utf8", env: { ...process.env, IPV6GW_TS_RUN_CACHE: path.join(dir, "cache") } });
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);

  it("runs a file and what it imports as ts-node would, and the second time without TypeScript", () => {
    write("lib.ts", "export const value: number = 41;\n");
    write(
      "main.ts",
      [
        'import { value } from "./lib";',
        "const typescript = Object.keys(require.cache).some((k) => /typescript[\\\\/]lib[\\\\/]typescript\\.js$/.test(k));",
        "console.log(JSON.stringify({ value: value + 1, main: require.main === module, dirname: __dirname, args: process.argv.slice(2), typescript }));",
      ].join("\n"),
    );
    const first = run(path.join(dir, "main.ts"), "--stack", "lab");
    expect(first.stderr).toBe("");
    expect(JSON.parse(first.stdout)).toEqual({ value: 42, main: true, dirname: dir, args: ["--stack", "lab"], typescript: true });
    const again = JSON.parse(run(path.join(dir, "main.ts"), "--stack", "lab").stdout);
    expect(again).toEqual({ value: 42, main: true, dirname: dir, args: ["--stack", "lab"], typescript: false });
    // A changed file is transpiled again.
    write("lib.ts", "export const value: number = 1;\n");
    expect(JSON.parse(run(path.join(dir, "main.ts")).stdout)).toMatchObject({ value: 2, typescript: true });
  });

  it("reports errors at the .ts file's lines, and does not type-check (as --transpile-only)", () => {
    write("bad.ts", ["const n: number = 'not a number' as unknown as number;", "", "throw new Error(`boom ${n}`);"].join("\n"));
    const r = run(path.join(dir, "bad.ts"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("boom not a number");
    expect(r.stderr).toContain(`${path.join(dir, "bad.ts")}:3`);
  });

  it("says how to use it without a .ts file", () => {
    expect(run().status).toBe(2);
    expect(run().stderr).toContain("usage: node scripts/ts-run.js <file.ts> [args]");
  });
});
