// Which resource plugins a program needs: every package under node_modules
// whose package.json says `"pulumi": {"resource": true}`, as the Go host's
// getPackagesFromDir finds them.

import * as fs from "fs";
import * as path from "path";

export interface ResourcePackage {
  readonly name: string;
  /** With a leading "v", as the engine expects. */
  readonly version: string;
  readonly server: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
}

export function pluginOf(pkg: PackageJson, where: string): ResourcePackage | undefined {
  if (!pkg.pulumi?.resource) return undefined;
  let name = pkg.pulumi.name;
  if (!name) {
    if (!pkg.name?.startsWith("@pulumi/")) {
      throw new Error(`${where}: third-party plugin package "${pkg.name}" lacks "pulumi.name"`);
    }
    name = pkg.name.slice("@pulumi/".length);
  }
  const version = pkg.pulumi.version || pkg.version;
  if (!version) throw new Error(`${where}: plugin package "${name}" has no version`);
  return { name, version: version.startsWith("v") ? version : `v${version}`, server: pkg.pulumi.server ?? "" };
}

export function findResourcePackages(programDirectory: string): ResourcePackage[] {
  const found = new Map<string, ResourcePackage>();
  const visit = (nodeModules: string) => {
    let entries: string[];
    try {
      entries = fs.readdirSync(nodeModules);
    } catch {
      return;
    }
    for (const entry of entries) {
      const dirs = entry.startsWith("@")
        ? fs.readdirSync(path.join(nodeModules, entry)).map((e) => path.join(nodeModules, entry, e))
        : [path.join(nodeModules, entry)];
      for (const dir of dirs) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
          const plugin = pluginOf(JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson, file);
          if (plugin) found.set(`${plugin.name}@${plugin.version}`, plugin);
        }
        visit(path.join(dir, "node_modules"));
      }
    }
  };
  visit(path.join(programDirectory, "node_modules"));
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
