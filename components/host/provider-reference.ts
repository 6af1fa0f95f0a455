// What a dynamic resource stores in state as its provider: a reference to
// the provider class in this library ("components/host/sysctl#SysctlProvider")
// with a small loader, not the provider's code.
//
// Why: Pulumi serializes a dynamic provider with everything it reaches (for
// ours: the SSH transport, the address checks, the scripts; 50-80 KB each)
// into the `__provider` input of every resource. That text rides in every
// engine event (old and new inputs and outputs: four copies), check, diff and
// policy analysis, and in the state file, so it was most of what each site
// of a fleet preview cost. Even a reference, put through Pulumi's serializer,
// came to 7.5 KB (it wraps every function it reaches); the text is written
// here instead: one self-contained loader and the reference, about 3 KB.
//
// What it changes: the engine runs a resource's read and delete with the
// provider stored in its state (pulumi/pulumi#6490). Stored as a reference,
// that is the provider of the ipv6gw checkout the command runs from, as
// diff and update always were: every version must handle the state of
// earlier ones. Two texts that reference the same class are the same
// provider (referencedClass), so a new loader never shows a resource as
// updated.

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

/** What a dynamic resource of ours stores as `__provider`, and what it refers to. */
export interface ReferencedProvider {
  readonly reference: ProviderReference;
  /** The module text the engine's dynamic-provider process evaluates (`exports.handler()` gives the provider). */
  readonly text: string;
}

const METHODS = ["check", "diff", "create", "read", "update", "delete"] as const;
type Method = (typeof METHODS)[number];

/** The library's root: this file is components/host/provider-reference.{ts,js} under it, compiled or not. */
const LIBRARY_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The provider of `providerClass`, exported under its own name by the module
 * `filename` (the caller's __filename), as a reference the engine turns back
 * into the class's static `instance` where it runs it. It has the methods the
 * class has, so the engine's defaults apply to the others as before.
 */
export function providerReference(
  filename: string,
  providerClass: { readonly name: string; readonly prototype: pulumi.dynamic.ResourceProvider },
): ReferencedProvider {
  const module = path.relative(LIBRARY_ROOT, filename).replace(/\.[jt]s$/, "").split(path.sep).join("/");
  if (module.startsWith("..")) throw new Error(`providerReference: ${filename} is outside the library root ${LIBRARY_ROOT}`);
  const reference: ProviderReference = { package: PACKAGE_NAME, module, export: providerClass.name };
  const methods = METHODS.filter((m) => typeof providerClass.prototype[m] === "function");
  // The reference comes first and alone on its line: referencedClass reads it back. The functions'
  // lines without their indentation: the text is stored four times per resource in every engine event.
  const source = (f: (...args: never[]) => unknown) => f.toString().replace(/^[ \t]+/gm, "");
  const text = `const reference = ${JSON.stringify(reference)};\nexports.handler = () => (${source(referencedProvider)})(reference, ${JSON.stringify(methods)}, ${source(traceMark)});\n`;
  return { reference, text };
}

/** The class a stored `__provider` text references (this format or Pulumi's serialization of the earlier shim), if it is a reference. */
export function referencedClass(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  const m = /\{"?package"?: ?"([^"]+)", ?"?module"?: ?"([^"]+)", ?"?export"?: ?"([^"]+)"\}/.exec(text);
  return m ? `${m[1]}/${m[2]}#${m[3]}` : undefined;
}

/**
 * A dynamic resource whose provider is stored as a reference. As
 * pulumi.dynamic.Resource (the same resource type, the same provider plugin),
 * with the `__provider` text written by providerReference.
 */
export abstract class ReferencedResource extends pulumi.CustomResource {
  constructor(provider: ReferencedProvider, name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions | undefined, module: string, type: string) {
    if (props.__provider) throw new Error("A dynamic resource must not define the __provider key");
    super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, __provider: provider.text }, opts);
  }
}

/**
 * The provider object the stored text makes in the engine's process: each
 * method loads the referenced class (once per process) and calls its
 * instance, timed for the bench by `mark` (trace.ts's traceMark, stored
 * beside it as its source). Stored as its own source text, so it is self-contained: only
 * Node's builtins and installed packages, found from the process's directory
 * (the program's), there or in its node_modules. The module loads from the
 * program's compile cache (scripts/language-host/compiled-program.ts) when
 * that holds the current sources, sparing TypeScript a second or so, else
 * through ts-node as the program does. No comments inside: they would be
 * stored too.
 */
export function referencedProvider(ref: ProviderReference, methods: readonly Method[], mark: typeof traceMark): pulumi.dynamic.ResourceProvider {
  const fs = require("fs") as typeof import("fs");
  const p = require("path") as typeof import("path");
  const load = (): pulumi.dynamic.ResourceProvider => {
    const loaded: Map<string, pulumi.dynamic.ResourceProvider> = ((globalThis as Record<string, unknown>).__ipv6gwProviders ??= new Map()) as never;
    const key = `${ref.package}/${ref.module}#${ref.export}`;
    const cached = loaded.get(key);
    if (cached) return cached;
    const started = Date.now();
    const fix = `Run pulumi from the program's directory with a version of ${ref.package} that has ${ref.module}.ts, or drop the resource from state with \`pulumi state delete <urn>\` once it is gone from the box.`;
    let root: string | undefined;
    const nameAt = (d: string): unknown => {
      try {
        return JSON.parse(fs.readFileSync(p.join(d, "package.json"), "utf8")).name;
      } catch {
        return undefined;
      }
    };
    for (let d = process.cwd(); !root; d = p.dirname(d)) {
      if (nameAt(d) === ref.package) root = d;
      if (p.dirname(d) === d) break;
    }
    try {
      root ??= p.dirname(require.resolve(`${ref.package}/package.json`, { paths: [process.cwd()] }));
    } catch {
      throw new Error(`cannot load the provider ${ref.export}: no ${ref.package} package at or above ${process.cwd()}, nor in its node_modules. ${fix}`);
    }
    const cache = p.join(root, ".pulumi", "compiled");
    const hash = (f: string) => require("crypto").createHash("sha256").update(fs.readFileSync(f)).digest("hex");
    let file = p.join(root, ref.module);
    for (const manifest of fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.endsWith(".json")) : []) {
      try {
        const m = JSON.parse(fs.readFileSync(p.join(cache, manifest), "utf8")) as { key: string; files: Record<string, string>; absent: string[] };
        const compiled = p.join(cache, m.key, ref.module);
        if (fs.existsSync(`${compiled}.js`) && !m.absent.some((f) => fs.existsSync(f)) && Object.entries(m.files).every(([f, h]) => hash(f) === h)) {
          file = compiled;
          break;
        }
      } catch {
        continue;
      }
    }
    if (!fs.existsSync(`${file}.js`) && !require.extensions[".ts"]) {
      require(require.resolve("ts-node", { paths: [root] })).register({ transpileOnly: true, project: p.join(root, "tsconfig.json") });
    }
    let provider: pulumi.dynamic.ResourceProvider | undefined;
    try {
      provider = require(file)[ref.export]?.instance;
    } catch (e) {
      throw new Error(`cannot load the provider ${ref.export} from ${file}: ${(e as Error).message}. ${fix}`);
    }
    if (!provider) throw new Error(`cannot load the provider ${ref.export}: ${file} exports no ${ref.export} with a static instance. ${fix}`);
    loaded.set(key, provider);
    mark("provider", "load", { provider: ref.export, from: file.includes(`${p.sep}.pulumi${p.sep}`) ? "compiled" : "source", ms: Date.now() - started });
    return provider;
  };
  const shim: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of methods) {
    shim[method] = async (...args: unknown[]) => {
      const provider = load() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const started = Date.now();
      try {
        return await provider[method](...args);
      } finally {
        const o = Object(args[args.length - 1]);
        const what = o.name ?? o.path ?? o.key ?? o.names;
        mark("provider", "call", { provider: ref.export, method, ms: Date.now() - started, what: what === undefined ? undefined : String(what) });
      }
    };
  }
  return shim as unknown as pulumi.dynamic.ResourceProvider;
}
