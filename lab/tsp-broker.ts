// The lab's TSP broker (lab/tsp-broker, Go, standard library only): built on
// the host with the machine's Go and cached outside the repository under
// <cache>/lab/tsp-broker/<key>/tsp-broker, the key being a hash of its
// sources (tests excluded), so it is rebuilt exactly when they change.
// `lab up` makes sure it exists and bind-mounts it into isp.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LabError } from "./errors";
import { LabPaths } from "./paths";
import { check, elapsed } from "./run";
import { readLabJson } from "./state";

/** The broker's Go module. */
export const TSP_BROKER_SOURCE = path.join(__dirname, "tsp-broker");
/** The binary's name inside its cache entry. */
export const TSP_BROKER_BINARY = "tsp-broker";

/** Files that make the binary: the module's sources, not its tests. */
function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && (e.name === "go.mod" || e.name === "go.sum" || (e.name.endsWith(".go") && !e.name.endsWith("_test.go"))))
    .map((e) => e.name)
    .sort();
}

/** The cache key of the broker built from `dir`: "tsp-broker-<16 hex digits>". */
export function tspBrokerKey(dir = TSP_BROKER_SOURCE): string {
  const h = createHash("sha256");
  for (const f of sourceFiles(dir)) h.update(`${f}\0`).update(fs.readFileSync(path.join(dir, f))).update("\0");
  return `tsp-broker-${h.digest("hex").slice(0, 16)}`;
}

/** The Go toolchain: `go` on PATH, else in the usual install directories. */
export function findGo(env: NodeJS.ProcessEnv = process.env, fallbacks: readonly string[] = ["/usr/local/go/bin"]): string {
  for (const d of [...(env.PATH ?? "").split(":").filter(Boolean), ...fallbacks]) {
    const p = path.join(d, "go");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new LabError(
    "the lab's TSP broker (lab/tsp-broker) is built with Go, and no 'go' is on PATH or in /usr/local/go/bin; " +
      "install Go >= 1.22 (https://go.dev/dl), then run 'npm run lab -- up' again",
  );
}

/** Where the build with this key is cached. */
export function tspBrokerDir(paths: LabPaths, key: string): string {
  return path.join(paths.cache, "tsp-broker", key);
}

export interface TspBrokerBuild {
  readonly key: string;
  /** The cache entry (what isp bind-mounts). */
  readonly dir: string;
  readonly binary: string;
}

/**
 * Builds the broker unless the cache has this source's build; returns where
 * it is. Older builds are removed, except the one a running lab booted
 * with (isp has it mounted).
 */
export async function ensureTspBroker(paths: LabPaths, log: (line: string) => void): Promise<TspBrokerBuild> {
  let keep: string | undefined;
  try {
    keep = readLabJson(paths)?.trees.tspBroker;
  } catch {
    // An unreadable lab.json (an older lab's) keeps nothing: `up` restarts such a lab anyway.
  }
  const key = tspBrokerKey();
  const dir = tspBrokerDir(paths, key);
  const root = path.dirname(dir);
  const binary = path.join(dir, TSP_BROKER_BINARY);
  if (!fs.existsSync(binary)) {
    const go = findGo();
    const tmp = `${dir}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const start = Date.now();
    log(`building the TSP broker ${key} from lab/tsp-broker with ${go} (cached in ${root})`);
    await check(`building the lab's TSP broker (lab/tsp-broker)`, go, ["build", "-trimpath", "-o", path.join(tmp, TSP_BROKER_BINARY), "."], {
      cwd: TSP_BROKER_SOURCE,
      env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOWORK: "off", GOFLAGS: "-mod=mod" },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`built ${key} in ${elapsed(start)}`);
  }
  for (const name of fs.readdirSync(root)) {
    if (name !== key && name !== keep) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  return { key, dir, binary };
}
