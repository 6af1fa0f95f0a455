// @ts-check
"use strict";
// `node scripts/ts-run.js <file.ts> [args]`: runs one of our TypeScript
// entry points as `ts-node --transpile-only` would (each file transpiled on
// require, no type check, __dirname and stack traces those of the .ts
// files), but keeps each file's JavaScript in .pulumi/ts-run/, keyed by its
// path, its text, tsconfig.json and the TypeScript version. A run whose
// files are all cached never loads TypeScript: `npm start` begins about a
// second sooner. IPV6GW_TS_RUN_CACHE names another cache directory.

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const CACHE = process.env.IPV6GW_TS_RUN_CACHE || path.join(ROOT, ".pulumi", "ts-run");
/** Entries not written again for this long go when another file is transpiled. */
const STALE_MS = 14 * 24 * 3600 * 1000;

const TSCONFIG = path.join(ROOT, "tsconfig.json");
const salt = [fs.readFileSync(TSCONFIG, "utf8"), require("typescript/package.json").version, "ts-run 1"].join("\0");

/** @type {import("typescript") | undefined} */
let ts;
/** @type {import("typescript").CompilerOptions | undefined} */
let options;

/** @param {string} source @param {string} filename */
function transpile(source, filename) {
  ts ??= require("typescript");
  if (!options) {
    const read = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
    if (read.error) throw new Error(`ts-run: ${TSCONFIG}: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
    // As ts-node: CommonJS, source maps inline (stack traces name the .ts lines).
    options = { ...parsed.options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, inlineSources: true, declaration: false, noEmit: false };
  }
  return ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
}

/** @param {string} file @param {string} text */
function writeAtomically(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function removeStale() {
  const now = Date.now();
  for (const name of fs.readdirSync(CACHE)) {
    const file = path.join(CACHE, name);
    try {
      if (now - fs.statSync(file).mtimeMs > STALE_MS) fs.rmSync(file, { force: true });
    } catch {
      // Gone already (another run's cleanup).
    }
  }
}

/** @param {NodeJS.Module} module @param {string} filename */
require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha256").update(`${salt}\0${filename}\0${source}`).digest("hex").slice(0, 32);
  const cached = path.join(CACHE, `${key}.js`);
  let js;
  try {
    js = fs.readFileSync(cached, "utf8");
  } catch {
    js = transpile(source, filename);
    try {
      writeAtomically(cached, js);
      removeStale();
    } catch {
      // A cache that cannot be written only costs the next run a transpile.
    }
  }
  /** @type {NodeJS.Module & { _compile(code: string, filename: string): void }} */ (module)._compile(js, filename);
};

process.setSourceMapsEnabled(true);
const entry = process.argv[2];
if (!entry || !entry.endsWith(".ts")) {
  console.error("usage: node scripts/ts-run.js <file.ts> [args]");
  process.exit(2);
}
// As ts-node runs it: argv[1] is the script, and it is require.main.
process.argv.splice(1, 2, path.resolve(entry));
// runMain: Node's own start of the main module.
require("module").runMain();
