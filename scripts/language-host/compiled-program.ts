// Compile once: a TypeScript program compiled by the project's own compiler,
// with exactly the options ts-node would use, into a cache keyed by the
// hashes of every file the compiler read, so a run starts from JavaScript.
//
// Why: @pulumi/pulumi's cmd/run registers ts-node, which type-checks and
// transpiles the whole program at every run (about 10 s for this project on
// two cores; twice per `pulumi up`, once for its preview and once for the
// update). The official language host does the same; only this stand-in
// takes the cache, so what a user of the official host gets is unchanged.
//
// Same result as ts-node: the options come from ts-node's own config reader
// with the options cmd/run passes it, the emitted JavaScript is the same
// compiler's output for the same options (so dynamic providers serialize to
// the same text either way), and a program with type errors is not cached:
// it runs through ts-node, which reports them as it always did. Anything this
// cannot reproduce exactly (ES modules, ts-node plugins, a .js beside a .ts)
// is skipped the same way, with the reason.
//
// The cache lives in <package root>/.pulumi/compiled: the compiled files must
// sit under the package root so that their require()s find its node_modules.

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** How many compiled versions of a program are kept (the least recently used go first). */
export const KEEP = 4;

/** TypeScript diagnostics ts-node ignores (its defaults). */
const IGNORED_DIAGNOSTICS = [6059, 18002, 18003];

/** Leftovers of a compile that died are removed after this long (ms); younger ones may be another run's work. */
const STALE_TMP_MS = 3600_000;

export interface CompiledProgram {
  /** The compiled entry point, absolute: what cmd/run is given instead of the .ts one. */
  readonly entry: string;
  /** Whether this run compiled it (false: taken from the cache). */
  readonly compiled: boolean;
}

export interface CompileRequest {
  readonly programDirectory: string;
  /** Pulumi.yaml `main`, or "." */
  readonly entryPoint: string;
  /** Pulumi.yaml `runtime.options`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The environment ts-node would read its TS_NODE_* settings from; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Why a program runs through ts-node rather than the cache, or the cached program. */
export type CompileOutcome = { readonly program: CompiledProgram } | { readonly skipped: string };

type Ts = typeof import("typescript");

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

const inNodeModules = (file: string): boolean => file.split(/[\\/]/).includes("node_modules");

/** The nearest directory at or above `dir` that holds node_modules/@pulumi/pulumi: where compiled code still finds its packages. */
export function packageRootOf(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "node_modules", "@pulumi", "pulumi", "package.json"))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** The nearest directory at or above `dir` with a package.json: what cmd/run takes as the package. */
function nearestPackageJsonDir(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "package.json"))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

function readPackageJson(dir: string): Record<string, unknown> {
  const file = path.join(dir, "package.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : {};
}

/** The program's TypeScript entry file, as cmd/run resolves "." (package.json main) or a named main; undefined if it is not TypeScript. */
export function typescriptEntryOf(programDirectory: string, entryPoint: string): string | undefined {
  let entry = path.resolve(programDirectory, entryPoint);
  if (fs.existsSync(entry) && fs.statSync(entry).isDirectory()) {
    const main = readPackageJson(entry).main;
    entry = path.resolve(entry, typeof main === "string" ? main : "index.ts");
  }
  if (!entry.endsWith(".ts") && fs.existsSync(`${entry}.ts`)) entry = `${entry}.ts`;
  return entry.endsWith(".ts") && !entry.endsWith(".d.ts") && fs.existsSync(entry) ? entry : undefined;
}

/** What a cached compilation was made from. */
interface Manifest {
  /** The directory under the cache holding it. */
  readonly key: string;
  /** The compiled entry, relative to that directory. */
  readonly entry: string;
  /** Every file read (outside node_modules), by content hash. */
  readonly files: Readonly<Record<string, string>>;
  /** Paths the compiler looked for and did not find, or that would shadow a source at run time: one appearing changes the program. */
  readonly absent: readonly string[];
}

function manifestMatches(m: Manifest, cacheDir: string): boolean {
  if (!Array.isArray(m.absent) || typeof m.files !== "object" || !fs.existsSync(path.join(cacheDir, m.key, m.entry))) return false;
  for (const [file, hash] of Object.entries(m.files)) {
    let text: Buffer;
    try {
      text = fs.readFileSync(file);
    } catch {
      return false;
    }
    if (sha256(text) !== hash) return false;
  }
  return !m.absent.some((p) => fs.existsSync(p));
}

/**
 * The options cmd/run gives ts-node (run.js): its defaults, then the
 * tsconfig file's own compilerOptions over them.
 */
function pulumiTsNodeOptions(ts: Ts, tsconfigPath: string): Record<string, unknown> {
  let own: Record<string, unknown> = {};
  try {
    own = (ts.parseConfigFileTextToJson(tsconfigPath, fs.readFileSync(tsconfigPath, "utf8")).config?.compilerOptions ?? {}) as Record<string, unknown>;
  } catch {
    own = {};
  }
  const [major, minor] = ts.version.split(".").map(Number);
  const nodeNext = major > 4 || (major === 4 && minor >= 7);
  return { target: "ES2020", module: nodeNext ? "nodenext" : "commonjs", moduleResolution: nodeNext ? "nodenext" : "node", sourceMap: "true", ...own };
}

function formatDiagnostics(ts: Ts, diagnostics: readonly import("typescript").Diagnostic[], cwd: string): string {
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => cwd, getNewLine: () => "\n" });
}

/** Drops the least recently used versions beyond KEEP, manifests of versions gone, and leftovers of compiles that died. */
function prune(cacheDir: string, keep: string): void {
  const entries = fs.readdirSync(cacheDir, { withFileTypes: true }).map((e) => {
    const full = path.join(cacheDir, e.name);
    return { name: e.name, full, dir: e.isDirectory(), mtime: fs.statSync(full).mtimeMs };
  });
  const stale = entries.filter((e) => (e.name.startsWith("tmp-") || e.name.endsWith(".tmp")) && Date.now() - e.mtime > STALE_TMP_MS);
  const versions = entries.filter((e) => e.dir && !e.name.startsWith("tmp-") && e.name !== keep).sort((a, b) => b.mtime - a.mtime);
  for (const e of [...stale, ...versions.slice(KEEP - 1)]) fs.rmSync(e.full, { recursive: true, force: true });
  for (const e of entries.filter((e) => !e.dir && e.name.endsWith(".json"))) {
    try {
      const m = JSON.parse(fs.readFileSync(e.full, "utf8")) as Partial<Manifest>;
      if (typeof m.key === "string" && fs.existsSync(path.join(cacheDir, m.key))) continue;
    } catch {
      // Unreadable: it can serve no run.
    }
    fs.rmSync(e.full, { force: true });
  }
}

/** ts-node settings that change how it loads a program in ways a plain compile does not reproduce. */
function tsNodePluginsIn(options: Readonly<Record<string, unknown>>): string[] {
  const used: string[] = [];
  for (const name of ["require", "transpiler", "swc", "moduleTypes", "preferTsExts", "experimentalResolver", "esm", "scope", "compilerHost"]) {
    const v = options[name];
    if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0) && !(typeof v === "object" && v !== null && Object.keys(v).length === 0)) used.push(name);
  }
  return used;
}

/**
 * The program compiled (from the cache when nothing it was made from
 * changed), or why it runs through ts-node as usual. Never throws: a cache
 * that fails falls back to ts-node.
 */
export function compiledProgram(req: CompileRequest): CompileOutcome {
  try {
    return compile(req);
  } catch (e) {
    return { skipped: `the compile cache failed (${(e as Error).message}); running through ts-node` };
  }
}

function compile(req: CompileRequest): CompileOutcome {
  const env = req.env ?? process.env;
  if (req.options.typescript === false) return { skipped: "typescript is off in Pulumi.yaml" };
  const entry = typescriptEntryOf(req.programDirectory, req.entryPoint);
  if (!entry) return { skipped: "the entry point is not a TypeScript file" };
  const root = packageRootOf(req.programDirectory);
  if (!root) return { skipped: "no node_modules with @pulumi/pulumi above the program" };
  const relToRoot = path.relative(root, entry);
  if (!relToRoot || relToRoot.startsWith("..") || path.isAbsolute(relToRoot)) return { skipped: "the entry point is outside the package" };
  // cmd/run reads the package.json nearest the entry (type, exports, engines): the compiled entry must find the same one.
  const pkgDir = nearestPackageJsonDir(path.dirname(entry));
  if (pkgDir !== undefined && pkgDir !== root) return { skipped: `${path.join(pkgDir, "package.json")} is not at the package root ${root}` };
  const pkg = readPackageJson(root);
  if (pkg.type === "module") return { skipped: "an ES module package (cmd/run's ESM loader path)" };
  if (req.entryPoint === "." && pkg.exports !== undefined) return { skipped: "package.json has exports (cmd/run resolves the entry from them)" };
  const tsconfigPath = path.resolve(req.programDirectory, typeof req.options.tsconfig === "string" && req.options.tsconfig ? req.options.tsconfig : "tsconfig.json");
  if (!fs.existsSync(tsconfigPath)) return { skipped: `no ${path.basename(tsconfigPath)}` };

  // Versions from package.json: a cache hit need not load the compiler.
  let compilerPath: string;
  let tsNodePath: string;
  let versionOf: (pkg: string) => string;
  try {
    compilerPath = require.resolve("typescript", { paths: [req.programDirectory] });
    tsNodePath = require.resolve("ts-node", { paths: [req.programDirectory] });
    versionOf = (pkg) => String((JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [req.programDirectory] }), "utf8")) as { version?: unknown }).version);
  } catch {
    return { skipped: "no project-local typescript and ts-node" };
  }
  const tsNodeEnv = Object.entries(env)
    .filter(([k]) => k.startsWith("TS_NODE_"))
    .sort(([a], [b]) => a.localeCompare(b));
  const versions = [versionOf("typescript"), versionOf("ts-node"), tsNodeEnv];
  const cacheDir = path.join(root, ".pulumi", "compiled");
  const manifestPath = path.join(cacheDir, `${sha256(JSON.stringify([entry, tsconfigPath, versions])).slice(0, 16)}.json`);
  try {
    const m = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as Manifest;
    if (manifestMatches(m, cacheDir)) {
      const now = new Date();
      fs.utimesSync(path.join(cacheDir, m.key), now, now);
      return { program: { entry: path.join(cacheDir, m.key, m.entry), compiled: false } };
    }
  } catch {
    // No manifest yet, or an unreadable one: compile.
  }
  const ts = require(compilerPath) as Ts;
  const tsNode = require(tsNodePath) as typeof import("ts-node");

  // Every file the compiler reads outside node_modules (tsconfig and what it extends, sources, JSON) is part of the key,
  // and so is every such path it looked for in vain (a new file there could change what an import resolves to).
  const read = new Map<string, string>();
  const absent = new Set<string>();
  const readFile = (file: string): string | undefined => {
    const text = ts.sys.readFile(file);
    if (!inNodeModules(file)) {
      if (text !== undefined) read.set(path.resolve(file), sha256(text));
      else absent.add(path.resolve(file));
    }
    return text;
  };
  const probe = (exists: (p: string) => boolean) => (p: string) => {
    const found = exists(p);
    if (!found && !inNodeModules(p)) absent.add(path.resolve(p));
    return found;
  };
  const fileExists = probe(ts.sys.fileExists);
  const directoryExists = probe((p) => ts.sys.directoryExists(p));
  // ts-node's own reading of the config, with what cmd/run passes it (transpileOnly only spares building a checker here).
  const service = tsNode.create({
    cwd: req.programDirectory,
    project: tsconfigPath,
    skipProject: false,
    compiler: compilerPath,
    compilerOptions: pulumiTsNodeOptions(ts, tsconfigPath),
    transpileOnly: true,
    readFile,
    fileExists,
  });
  const plugins = tsNodePluginsIn(service.options as Record<string, unknown>);
  if (plugins.length > 0) return { skipped: `ts-node options a plain compile does not reproduce: ${plugins.join(", ")}` };
  const ignored = [...IGNORED_DIAGNOSTICS, ...(service.options.ignoreDiagnostics ?? []).map(Number)];
  const configErrors = service.config.errors.filter((d) => !ignored.includes(d.code));
  if (configErrors.length > 0) return { skipped: `tsconfig: ${formatDiagnostics(ts, configErrors, req.programDirectory).trim()}` };

  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `tmp-${process.pid}-${Date.now()}`);
  const options = { ...service.config.options, outDir: tmp, rootDir: root, noEmitOnError: true };
  const host = ts.createCompilerHost(options);
  host.readFile = readFile;
  host.fileExists = fileExists;
  host.directoryExists = directoryExists;
  const program = ts.createProgram({ rootNames: [entry], options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => !ignored.includes(d.code));
  if (diagnostics.length > 0) return { skipped: `type errors (ts-node reports them):\n${formatDiagnostics(ts, diagnostics, req.programDirectory)}` };

  // Node loads a .js beside a .ts before ts-node is asked: then ts-node runs that .js, not what we would compile.
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || program.isSourceFileFromExternalLibrary(sf) || inNodeModules(sf.fileName)) continue;
    const js = sf.fileName.replace(/\.(c|m)?tsx?$/, ".js");
    if (js === sf.fileName) continue;
    if (fs.existsSync(js)) return { skipped: `${js} is beside ${sf.fileName}: node would load the .js` };
    absent.add(path.resolve(js));
  }

  const emitted = program.emit();
  if (emitted.emitSkipped) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return { skipped: `emit failed: ${formatDiagnostics(ts, emitted.diagnostics, req.programDirectory)}` };
  }
  // What decides the packages the compiled code runs with, and how cmd/run treats the package.
  for (const file of [path.join(root, "package-lock.json"), path.join(root, "package.json")]) {
    if (fs.existsSync(file)) read.set(file, sha256(fs.readFileSync(file)));
    else absent.add(file);
  }
  for (const file of read.keys()) absent.delete(file);
  const files = Object.fromEntries([...read.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const { outDir: _outDir, ...keyOptions } = options;
  const key = sha256(JSON.stringify([versions, keyOptions, files])).slice(0, 20);
  const relEntry = relToRoot.replace(/\.ts$/, ".js");
  const final = path.join(cacheDir, key);
  moveIntoPlace(tmp, final, relEntry);
  const manifest: Manifest = { key, entry: relEntry, files, absent: [...absent].sort() };
  const aside = `${manifestPath}.${process.pid}.tmp`;
  fs.writeFileSync(aside, JSON.stringify(manifest));
  fs.renameSync(aside, manifestPath);
  prune(cacheDir, key);
  return { program: { entry: path.join(final, relEntry), compiled: true } };
}

/** Renames the fresh compile into place; if another run put the same version there first, keeps that one (it may be running). */
function moveIntoPlace(tmp: string, final: string, relEntry: string): void {
  if (!fs.existsSync(path.join(final, relEntry))) {
    try {
      // An incomplete directory of that name can only be debris (versions are renamed in whole).
      if (fs.existsSync(final)) fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
      return;
    } catch (e) {
      if (!fs.existsSync(path.join(final, relEntry))) throw e;
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
