// What a dynamic resource stores in state as its provider: a reference to
// the provider class in this library ("components/host/sysctl#SysctlProvider"),
// not the provider's code.
//
// Why: Pulumi serializes a dynamic provider with everything it reaches (for
// ours: the SSH transport, the address checks, the scripts; 50-80 KB each)
// into the `__provider` input of every resource. That text rides in every
// engine event, check and diff, and in the state file (3.1 MB of a lab
// site's 3.2 MB), which made each site of a fleet preview cost mostly
// protobuf decoding. A reference is a few hundred bytes.
//
// What it changes: the engine runs a resource's read and delete with the
// provider stored in its state (pulumi/pulumi#6490). Stored as a reference,
// that is the provider of the ipv6gw checkout the command runs from, as
// diff and update always were: every version must handle the state of
// earlier ones. The reference stays the same text across versions, so a new
// version no longer shows every resource as updated.

import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { traceMark } from "../trace";

/** Our package's name (package.json), by which a consumer's program finds the library in its node_modules. */
export const PACKAGE_NAME = "ipv6gw";

/** Where a provider class lives: a module of this library and the class it exports. */
export interface ProviderReference {
  readonly package: string;
  /** The module, relative to the library's root and without extension ("components/host/sysctl"). */
  readonly module: string;
  /** The exported class; its static `instance` is the provider. */
  readonly export: string;
}

const METHODS = ["check", "diff", "create", "read", "update", "delete"] as const;
type Method = (typeof METHODS)[number];

/** The library's root: this file is components/host/provider-reference.{ts,js} under it, compiled or not. */
const LIBRARY_ROOT = path.resolve(__dirname, "..", "..");

/**
 * A provider that holds only a reference to `providerClass`, exported under
 * its own name by the module `filename` (the caller's __filename), and loads
 * its static `instance` where the engine runs it. It has the methods the
 * class has, so the engine's defaults apply to the others as before.
 */
export function providerReference(
  filename: string,
  providerClass: { readonly name: string; readonly prototype: pulumi.dynamic.ResourceProvider },
): pulumi.dynamic.ResourceProvider {
  const exportName = providerClass.name;
  const module = path.relative(LIBRARY_ROOT, filename).replace(/\.[jt]s$/, "").split(path.sep).join("/");
  if (module.startsWith("..")) throw new Error(`providerReference: ${filename} is outside the library root ${LIBRARY_ROOT}`);
  const ref: ProviderReference = { package: PACKAGE_NAME, module, export: exportName };
  const shim: Partial<Record<Method, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const method of METHODS) {
    if (typeof providerClass.prototype[method] !== "function") continue;
    shim[method] = (...args: unknown[]) => callReferencedProvider(ref, method, args);
  }
  return shim as pulumi.dynamic.ResourceProvider;
}

/** One call of the referenced provider's `method`, timed for the bench (trace.ts; nothing when not tracing). */
async function callReferencedProvider(ref: ProviderReference, method: Method, args: unknown[]): Promise<unknown> {
  const provider = await loadReferencedProvider(ref);
  const started = Date.now();
  try {
    return await (provider[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  } finally {
    traceMark("provider", "call", { provider: ref.export, method, ms: Date.now() - started });
  }
}

/**
 * The provider a reference names, loaded once per process. This runs in the
 * engine's dynamic-provider process from the text stored in state, so it
 * requires only Node's builtins and installed packages, and finds the
 * library from the process's directory (the program's): there, or in its
 * node_modules. The module loads from the program's compile cache when that
 * holds the current sources, else through ts-node, as the program does.
 */
export async function loadReferencedProvider(ref: ProviderReference): Promise<pulumi.dynamic.ResourceProvider> {
  const fs = require("fs") as typeof import("fs");
  const nodePath = require("path") as typeof import("path");
  const loaded: Map<string, pulumi.dynamic.ResourceProvider> = ((globalThis as Record<string, unknown>).__ipv6gwProviders ??= new Map()) as never;
  const key = `${ref.package}/${ref.module}#${ref.export}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const started = Date.now();

  const fix =
    `The engine runs a stored resource's provider from the ${ref.package} library the program uses. ` +
    `Run pulumi from the program's directory with a version of ${ref.package} that has ${ref.module}.ts, ` +
    "or drop the resource from state with `pulumi state delete <urn>` once it is gone from the box.";
  let root: string | undefined;
  for (let d = process.cwd(); !root; d = nodePath.dirname(d)) {
    try {
      if (JSON.parse(fs.readFileSync(nodePath.join(d, "package.json"), "utf8")).name === ref.package) root = d;
    } catch {
      // No readable package.json here: look further up.
    }
    if (nodePath.dirname(d) === d) break;
  }
  try {
    root ??= nodePath.dirname(require.resolve(`${ref.package}/package.json`, { paths: [process.cwd()] }));
  } catch {
    throw new Error(`cannot load the provider ${ref.export}: no ${ref.package} package at or above ${process.cwd()}, nor in its node_modules. ${fix}`);
  }
  // The program's compile cache (scripts/language-host/compiled-program.ts) may hold this very source compiled:
  // a copy whose every input file is unchanged spares loading TypeScript here, a second or so per command.
  const cache = nodePath.join(root, ".pulumi", "compiled");
  const hash = (f: string) => require("crypto").createHash("sha256").update(fs.readFileSync(f)).digest("hex");
  let file = nodePath.join(root, ref.module);
  for (const manifest of fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.endsWith(".json")) : []) {
    try {
      const m = JSON.parse(fs.readFileSync(nodePath.join(cache, manifest), "utf8")) as { key: string; files: Record<string, string>; absent: string[] };
      const compiled = nodePath.join(cache, m.key, ref.module);
      if (!fs.existsSync(`${compiled}.js`) || m.absent.some((f) => fs.existsSync(f))) continue;
      if (Object.entries(m.files).every(([f, h]) => hash(f) === h)) {
        file = compiled;
        break;
      }
    } catch {
      // Unreadable, or a file of it is gone: not this version.
    }
  }
  if (!fs.existsSync(`${file}.js`) && !require.extensions[".ts"]) {
    const tsNode = require(require.resolve("ts-node", { paths: [root] })) as typeof import("ts-node");
    tsNode.register({ transpileOnly: true, project: nodePath.join(root, "tsconfig.json") });
  }
  let provider: pulumi.dynamic.ResourceProvider | undefined;
  try {
    provider = (require(file) as Record<string, { instance?: pulumi.dynamic.ResourceProvider } | undefined>)[ref.export]?.instance;
  } catch (e) {
    throw new Error(`cannot load the provider ${ref.export} from ${file}: ${(e as Error).message}. ${fix}`);
  }
  if (!provider) throw new Error(`cannot load the provider ${ref.export}: ${file} exports no ${ref.export} with a static instance. ${fix}`);
  loaded.set(key, provider);
  traceMark("provider", "load", { provider: ref.export, from: file.includes(`${nodePath.sep}.pulumi${nodePath.sep}`) ? "compiled" : "source", ms: Date.now() - started });
  return provider;
}
