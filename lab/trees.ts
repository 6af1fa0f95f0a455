// The cached trees: the debootstrapped base, the local apt repository and
// the infra layer. Each lives in trees/<name>-<hash of its recipe>/ and is
// built in a temporary directory, then renamed into place, so an interrupted
// build is never mistaken for a finished one.
import * as fs from "fs";
import * as path from "path";
import { buildAptRepo } from "./apt-repo";
import { LabError } from "./errors";
import { mountOverlay, mountsUnder, unmountAll } from "./mounts";
import { nspawnScript } from "./nspawn";
import { LabPaths } from "./paths";
import {
  APT_REPO_MOUNT,
  aptRepoRecipe,
  BASE_PACKAGES,
  baseCustomizeScript,
  baseRecipe,
  cacheKeys,
  DEBIAN,
  infraCustomizeScript,
  infraRecipe,
  INFRA_PACKAGES,
} from "./recipe";
import { check, elapsed } from "./run";

export interface Trees {
  /** The base root filesystem (lowest overlay layer of every box). */
  readonly base: string;
  /** The local apt repository (flat: Packages and .debs). */
  readonly repo: string;
  /** The infra layer (overlay layer above base for isp, outside, natbox). */
  readonly infra: string;
}

const MARKER = "recipe.json";

type Log = (line: string) => void;

/** Returns the cached entry, building it first when its recipe has no finished build. */
async function ensureEntry(
  trees: string,
  key: string,
  recipe: unknown,
  log: Log,
  build: (dir: string) => Promise<void>,
): Promise<string> {
  const dir = path.join(trees, key);
  if (fs.existsSync(path.join(dir, MARKER))) return dir;
  const tmp = `${dir}.tmp`;
  await removeEntry(tmp);
  fs.mkdirSync(tmp, { recursive: true });
  const start = Date.now();
  log(`building ${key} (cached in ${trees}; done once per recipe)`);
  try {
    await build(tmp);
  } catch (err) {
    await unmountAll(tmp);
    throw err;
  }
  fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify(recipe, null, 2) + "\n");
  await removeEntry(dir);
  fs.renameSync(tmp, dir);
  log(`built ${key} in ${elapsed(start)}`);
  return dir;
}

async function removeEntry(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  const failed = await unmountAll(dir);
  if (failed.length > 0) throw new LabError(`cannot clear ${dir}: still mounted:\n  ${failed.join("\n  ")}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function buildBase(dir: string, log: Log): Promise<void> {
  const root = path.join(dir, "root");
  log(`debootstrap ${DEBIAN.suite} (${DEBIAN.variant}) from ${DEBIAN.mirror}`);
  await check(
    `debootstrap of the base tree into ${root} (needs ${DEBIAN.mirror})`,
    "debootstrap",
    [`--variant=${DEBIAN.variant}`, `--include=${BASE_PACKAGES.join(",")}`, DEBIAN.suite, root, DEBIAN.mirror],
  );
  log("customizing the base tree (users, sshd, apt sources, units)");
  await nspawnScript(`customizing the base tree ${root}`, {
    root,
    machine: "ipv6gw-build-base",
    script: baseCustomizeScript(),
  });
}

async function buildInfra(dir: string, base: string, repo: string, log: Log): Promise<void> {
  const overlay = {
    lower: [base],
    upper: path.join(dir, "layer"),
    work: path.join(dir, "work"),
    merged: path.join(dir, "merged"),
  };
  log(`installing the infra layer (${INFRA_PACKAGES.join(", ")}) from the local repo`);
  await mountOverlay(overlay);
  try {
    await nspawnScript(`building the infra layer in ${overlay.merged}`, {
      root: overlay.merged,
      machine: "ipv6gw-build-infra",
      bindRo: [[repo, APT_REPO_MOUNT]],
      script: infraCustomizeScript(),
    });
  } finally {
    await unmountAll(overlay.merged);
  }
  fs.rmSync(overlay.work, { recursive: true, force: true });
  fs.rmSync(overlay.merged, { recursive: true, force: true });
}

/** Makes sure every cached tree exists for the current recipes, building what is missing. */
export async function ensureTrees(paths: LabPaths, log: Log): Promise<Trees> {
  fs.mkdirSync(paths.trees, { recursive: true });
  const keys = cacheKeys();
  const baseDir = await ensureEntry(paths.trees, keys.base, baseRecipe(), log, (d) => buildBase(d, log));
  const base = path.join(baseDir, "root");
  const repoDir = await ensureEntry(paths.trees, keys.repo, aptRepoRecipe(keys.base), log, (d) =>
    buildAptRepo(d, base, log),
  );
  const repo = path.join(repoDir, "repo");
  const infraDir = await ensureEntry(paths.trees, keys.infra, infraRecipe(keys.base, keys.repo), log, (d) =>
    buildInfra(d, base, repo, log),
  );
  await pruneStale(paths.trees, Object.values(keys), log);
  return { base, repo, infra: path.join(infraDir, "layer") };
}

/** Removes cache entries of older recipes that nothing has mounted. */
async function pruneStale(trees: string, current: readonly string[], log: Log): Promise<void> {
  for (const name of fs.readdirSync(trees)) {
    if (current.includes(name)) continue;
    const dir = path.join(trees, name);
    if (mountsUnder(dir).length > 0) continue;
    if (mountPointsUsing(dir)) continue;
    log(`removing stale cache entry ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** True when a mounted overlay uses `dir` as a layer. */
function mountPointsUsing(dir: string): boolean {
  return fs.readFileSync("/proc/mounts", "utf8").includes(dir + "/");
}
