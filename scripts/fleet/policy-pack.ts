// The policy pack, compiled for fleet runs. From TypeScript the pack starts
// by type-checking itself (about 9 s of CPU here); compiled, in about a
// second, and a fleet run starts it once for all its sites (shared.ts): its
// PulumiPolicy.yaml names the runtime ipv6gw-fleet, which the CLI runs with
// the analyzer plugin that hands over the running pack. The build goes under
// .pulumi/ so the pack resolves node_modules from the repository, is keyed by
// the sources it is made from, and is reused until they change. `npm run
// lint` type-checks the same sources.

import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The pack's own directory in the repository. */
export const POLICY_DIR = "policy";

function filesUnder(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []))
    .sort();
}

/** A hash of everything the compiled pack is made of. */
export function packSourceHash(root: string): string {
  const hash = crypto.createHash("sha256");
  const files = [
    ...filesUnder(path.join(root, POLICY_DIR), ".ts"),
    ...filesUnder(path.join(root, "components"), ".ts"),
    ...["tsconfig.json", "package-lock.json", `${POLICY_DIR}/package.json`, `${POLICY_DIR}/PulumiPolicy.yaml`, "scripts/fleet/policy-pack.ts"].map((f) => path.join(root, f)),
  ];
  for (const f of files) hash.update(path.relative(root, f)).update("\0").update(fs.readFileSync(f)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

/**
 * The compiled pack's directory (what `--policy-pack` takes): built now, or
 * the one built from the same sources before.
 */
export function compiledPolicyPack(root: string): string {
  const base = path.join(root, ".pulumi", "fleet");
  const dir = path.join(base, `policy-${packSourceHash(root)}`);
  const pack = (d: string) => path.join(d, POLICY_DIR);
  if (fs.existsSync(pack(dir))) return pack(dir);
  // Built aside and renamed into place, so two runs never see half a pack.
  const work = `${dir}.partial-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const tsconfig = path.join(work, "tsconfig.json");
    // The repository's compiler options; no type check here (lint does that), only the pack and what it imports.
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(root, "tsconfig.json"),
        compilerOptions: { outDir: work, rootDir: root, noEmit: false, noCheck: true, sourceMap: false, types: ["node"] },
        files: [path.join(root, POLICY_DIR, "index.ts")],
        include: [],
      }),
    );
    const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", tsconfig], { cwd: root, encoding: "utf8" });
    if (tsc.status !== 0) throw new Error(`compiling the policy pack (${POLICY_DIR}/) failed:\n${tsc.stdout}${tsc.stderr}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, POLICY_DIR, "package.json"), "utf8"));
    fs.writeFileSync(path.join(pack(work), "package.json"), JSON.stringify({ ...manifest, main: "index.js" }, null, 2));
    // The CLI runs a pack of this runtime with the analyzer plugin pulumi-analyzer-policy-ipv6gw-fleet (shared.ts),
    // which hands it the fleet's one running copy of the pack instead of starting one per site.
    fs.writeFileSync(path.join(pack(work), "PulumiPolicy.yaml"), fs.readFileSync(path.join(root, POLICY_DIR, "PulumiPolicy.yaml"), "utf8").replace(/^runtime: .*$/m, "runtime: ipv6gw-fleet"));
    fs.renameSync(work, dir);
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    if (fs.existsSync(pack(dir))) return pack(dir); // another run finished the same build first
    throw e;
  }
  // Older builds are of older sources.
  for (const old of fs.readdirSync(base)) if (/^policy-[0-9a-f]+$/.test(old) && path.join(base, old) !== dir) fs.rmSync(path.join(base, old), { recursive: true, force: true });
  return pack(dir);
}
