// The language host's compile cache, on throwaway programs: compiled once,
// reused while nothing it was made from changed, recompiled when anything
// did, and skipped (so ts-node runs and reports) when it cannot be exact.
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CompileOutcome, KEEP, compiledProgram } from "../../scripts/language-host/compiled-program";

const repoModules = path.resolve(__dirname, "../../node_modules");

// No @types: a compile of a few lines stays quick.
const TSCONFIG = { compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", lib: ["es2022"], types: [], sourceMap: true } };
const CONSOLE = "declare const console: { log(...args: unknown[]): void };\n";

describe("the language host's compile cache", () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  const compile = (env: NodeJS.ProcessEnv = {}): CompileOutcome => compiledProgram({ programDirectory: dir, entryPoint: ".", options: {}, env });
  const program = (outcome: CompileOutcome) => {
    if (!("program" in outcome)) throw new Error(`expected a compiled program, got skipped: ${outcome.skipped}`);
    return outcome.program;
  };
  const run = (entry: string) => childProcess.execFileSync(process.execPath, [entry], { encoding: "utf8" });
  const versions = () => fs.readdirSync(path.join(dir, ".pulumi", "compiled"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-compile-"));
    fs.symlinkSync(repoModules, path.join(dir, "node_modules"));
    write("package.json", JSON.stringify({ name: "compile-test", private: true }));
    write("tsconfig.json", JSON.stringify(TSCONFIG));
    write("index.ts", `${CONSOLE}import { greeting } from "./lib";\nconsole.log(greeting("world"));\n`);
    write("lib/index.ts", `export function greeting(who: string): string {\n  return "hello " + who;\n}\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("compiles on the first run, takes the cache on the second, and the JavaScript prints what the TypeScript would", () => {
    const first = program(compile());
    expect(first.compiled).toBe(true);
    expect(first.entry).toBe(path.join(dir, ".pulumi", "compiled", path.basename(path.dirname(first.entry)), "index.js"));
    const second = program(compile());
    expect(second).toEqual({ entry: first.entry, compiled: false });
    expect(run(second.entry)).toBe("hello world\n");
  });

  it("recompiles when an imported file changes", () => {
    const first = program(compile());
    write("lib/index.ts", `export function greeting(who: string): string {\n  return "goodbye " + who;\n}\n`);
    const second = program(compile());
    expect(second.compiled).toBe(true);
    expect(second.entry).not.toBe(first.entry);
    expect(run(second.entry)).toBe("goodbye world\n");
  });

  it("recompiles when a new file changes what an import resolves to", () => {
    program(compile());
    // "./lib" resolved to lib/index.ts; a lib.ts now comes first.
    write("lib.ts", `export function greeting(who: string): string {\n  return "hi " + who;\n}\n`);
    const second = program(compile());
    expect(second.compiled).toBe(true);
    expect(run(second.entry)).toBe("hi world\n");
  });

  it("recompiles when tsconfig.json or ts-node's environment changes", () => {
    program(compile());
    write("tsconfig.json", JSON.stringify({ compilerOptions: { ...TSCONFIG.compilerOptions, target: "ES2020" } }));
    expect(program(compile()).compiled).toBe(true);
    expect(program(compile()).compiled).toBe(false);
    expect(program(compile({ TS_NODE_COMPILER_OPTIONS: '{"removeComments":true}' })).compiled).toBe(true);
  });

  it("skips a program with type errors, with the compiler's message, and caches nothing for it", () => {
    write("lib/index.ts", `export function greeting(who: string): string {\n  return 42 + who.length;\n}\n`);
    const outcome = compile();
    expect("skipped" in outcome && outcome.skipped).toMatch(/^type errors \(ts-node reports them\):\n.*lib\/index\.ts\(2,3\): error TS2322: Type 'number' is not assignable to type 'string'/s);
    expect(versions()).toEqual([]);
  });

  it("skips a program with a .js beside a .ts, which node would load instead", () => {
    write("lib/index.js", `exports.greeting = () => "from js";\n`);
    const outcome = compile();
    expect("skipped" in outcome && outcome.skipped).toMatch(/lib\/index\.js is beside .*lib\/index\.ts/);
  });

  it("takes the cache again after a .js beside a .ts is removed, and not while one is there", () => {
    program(compile());
    write("lib/index.js", `exports.greeting = () => "from js";\n`);
    expect(compile()).toMatchObject({ skipped: expect.stringMatching(/is beside/) });
    fs.rmSync(path.join(dir, "lib/index.js"));
    expect(program(compile()).compiled).toBe(false);
  });

  it("skips what it cannot run as cmd/run would: ES modules, no tsconfig, no TypeScript entry, TypeScript off", () => {
    write("package.json", JSON.stringify({ name: "compile-test", type: "module" }));
    expect(compile()).toMatchObject({ skipped: expect.stringMatching(/ES module/) });
    write("package.json", JSON.stringify({ name: "compile-test" }));
    expect(compiledProgram({ programDirectory: dir, entryPoint: ".", options: { typescript: false }, env: {} })).toMatchObject({ skipped: expect.stringMatching(/typescript is off/) });
    expect(compiledProgram({ programDirectory: dir, entryPoint: "main.js", options: {}, env: {} })).toMatchObject({ skipped: expect.stringMatching(/not a TypeScript file/) });
    fs.rmSync(path.join(dir, "tsconfig.json"));
    expect(compile()).toMatchObject({ skipped: "no tsconfig.json" });
  });

  it(`keeps at most ${KEEP} compiled versions, the newest among them`, () => {
    const entries: string[] = [];
    for (let i = 0; i < KEEP + 2; i++) {
      write("lib/index.ts", `export function greeting(who: string): string {\n  return "hello ${i} " + who;\n}\n`);
      entries.push(program(compile()).entry);
    }
    expect(new Set(entries).size).toBe(KEEP + 2);
    const kept = versions();
    expect(kept).toHaveLength(KEEP);
    expect(kept).toContain(path.basename(path.dirname(entries[entries.length - 1])));
    expect(kept).not.toContain(path.basename(path.dirname(entries[0])));
    // One manifest per entry and settings, pointing at a version that is there.
    expect(fs.readdirSync(path.join(dir, ".pulumi", "compiled")).filter((f) => f.endsWith(".json"))).toHaveLength(1);
  });

  it("rebuilds a version whose directory was removed under it", () => {
    const first = program(compile());
    fs.rmSync(path.dirname(first.entry), { recursive: true });
    const second = program(compile());
    expect(second).toEqual({ entry: first.entry, compiled: true });
    expect(run(second.entry)).toBe("hello world\n");
  });
});
