// Where the lab keeps things on the host: a cache that survives across runs
// (trees, apt repo, keys) and a runtime directory for one running lab.
import * as os from "os";
import * as path from "path";

/** Root of the project's cache: ${IPV6GW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipv6gw}. */
export function projectCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IPV6GW_CACHE) return env.IPV6GW_CACHE;
  const xdg = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  return path.join(xdg, "ipv6gw");
}

export interface LabPaths {
  /** Everything the lab caches: trees, apt repo, keys. */
  readonly cache: string;
  readonly trees: string;
  readonly keys: string;
  readonly sshPrivateKey: string;
  readonly sshPublicKey: string;
  readonly hostKeys: string;
  readonly wireguardKeys: string;
  /** Runtime state of the running lab. */
  readonly state: string;
  readonly labJson: string;
  readonly knownHosts: string;
  readonly lock: string;
  readonly boxes: string;
}

export function labPaths(env: NodeJS.ProcessEnv = process.env): LabPaths {
  const cache = path.join(projectCacheDir(env), "lab");
  const state = env.IPV6GW_LAB_DIR || "/var/lib/ipv6gw-lab";
  const keys = path.join(cache, "keys");
  return {
    cache,
    trees: path.join(cache, "trees"),
    keys,
    sshPrivateKey: path.join(keys, "id_ed25519"),
    sshPublicKey: path.join(keys, "id_ed25519.pub"),
    hostKeys: path.join(keys, "host"),
    wireguardKeys: path.join(keys, "wireguard.json"),
    state,
    labJson: path.join(state, "lab.json"),
    knownHosts: path.join(state, "known_hosts"),
    lock: path.join(state, "lock"),
    boxes: path.join(state, "boxes"),
  };
}

/** Per-box runtime paths under the state directory. */
export function boxPaths(paths: LabPaths, box: string) {
  const dir = path.join(paths.boxes, box);
  return {
    dir,
    upper: path.join(dir, "upper"),
    work: path.join(dir, "work"),
    root: path.join(dir, "root"),
    pidFile: path.join(dir, "nspawn.pid"),
    /** The container's PID 1 as "<pid> <start time>", so it can be stopped even if its nspawn is gone. */
    leaderFile: path.join(dir, "leader.pid"),
    console: path.join(dir, "console.log"),
  };
}
