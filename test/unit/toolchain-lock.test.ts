// scripts/toolchain.sh started twice at once, with an empty cache: one
// builds, the other waits for it and takes its result. No Pulumi is built: a
// fake `go` first on PATH does just what the script asks of it, counts its
// builds, and holds its build until the test has seen the second command
// waiting, so the two certainly overlap.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

const FAKE_GO = `#!/bin/sh
# go env GOVERSION | go env GOMODCACHE | go mod download <mod@version>... | go mod edit ... | go build ... -o <out> ...
set -e
case "$1 $2" in
  "env GOVERSION") echo go1.25.11 ;;
  "env GOMODCACHE") echo "$FAKE_GO_DIR/modcache" ;;
  "mod download")
    shift 2
    for m in "$@"; do mkdir -p "$FAKE_GO_DIR/modcache/$m/cmd/pulumi"; echo "module \${m%@*}" > "$FAKE_GO_DIR/modcache/$m/go.mod"; done ;;
  "mod edit") ;;
  build*)
    shift
    out=""; version=""
    while [ $# -gt 0 ]; do
      case "$1" in
        -o) out=$2; shift ;;
        -ldflags) version=$(printf '%s' "$2" | sed -n 's/.*version\\.Version=\\([^ ]*\\).*/\\1/p'); shift ;;
      esac
      shift
    done
    echo "build $$" >> "$FAKE_GO_DIR/builds"
    while [ ! -e "$FAKE_GO_DIR/release" ]; do sleep 0.05; done
    printf '#!/bin/sh\\necho run >> "$FAKE_GO_DIR/version-runs"\\nsleep 0.2\\necho %s\\n' "$version" > "$out"
    chmod 0755 "$out" ;;
  *) echo "fake go: unexpected: go $*" >&2; exit 2 ;;
esac
`;

/** The tools the script uses, and nothing else (no pulumi, no real go): a PATH of links to them. */
const TOOLS = ["bash", "sh", "flock", "mktemp", "sed", "date", "tr", "readlink", "cp", "chmod", "mkdir", "rm", "mv", "sleep", "cat", "dirname", "tail"];

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly done: Promise<number | null>;
}

function start(env: NodeJS.ProcessEnv): Run {
  const child = spawn("bash", [path.join(ROOT, "scripts", "toolchain.sh")], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const run = { child, stdout: "", stderr: "" } as Run & { done: Promise<number | null> };
  child.stdout!.on("data", (d) => (run.stdout += d));
  child.stderr!.on("data", (d) => (run.stderr += d));
  // "close": the process has exited and every copy of its output pipes is closed, as `$(toolchain.sh)` waits for.
  (run as { done: Promise<number | null> }).done = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  return run;
}

describe("scripts/toolchain.sh build lock", () => {
  let dir: string;
  const runs: Run[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-toolchain-"));
  });
  afterEach(() => {
    fs.writeFileSync(path.join(dir, "go", "release"), "");
    for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.pid) process.kill(r.child.pid);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("builds once when two commands start at once: the second waits, then both print the same bin dir", async () => {
    const bin = path.join(dir, "bin");
    const goDir = path.join(dir, "go");
    const cache = path.join(dir, "cache");
    fs.mkdirSync(bin);
    fs.mkdirSync(goDir);
    for (const tool of TOOLS) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      expect(found).toMatch(/^\//);
      fs.symlinkSync(found, path.join(bin, tool));
    }
    fs.writeFileSync(path.join(bin, "go"), FAKE_GO, { mode: 0o755 });
    const env = { PATH: bin, HOME: dir, IPV6GW_CACHE: cache, FAKE_GO_DIR: goDir, LC_ALL: "C" };

    runs.push(start(env), start(env));
    const builds = () => (fs.existsSync(path.join(goDir, "builds")) ? fs.readFileSync(path.join(goDir, "builds"), "utf8").trim().split("\n") : []);
    const waiting = () => runs.filter((r) => r.stderr.includes("another command is building or checking the toolchain; waiting for it")).length;
    // Hold the build until the other command is seen waiting (or, without a lock, building too); the deadline only keeps a broken script from hanging the test.
    const deadline = Date.now() + 30_000;
    while (!((builds().length >= 1 && waiting() >= 1) || builds().length >= 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(path.join(goDir, "release"), "");
    const codes = await Promise.all(runs.map((r) => r.done));

    expect(builds()).toHaveLength(1);
    expect(waiting()).toBe(1);
    expect(codes).toEqual([0, 0]);
    const binDir = path.join(cache, "toolchain", "pulumi-v3.248.0");
    expect(runs.map((r) => r.stdout.trim().split("\n").at(-1))).toEqual([binDir, binDir]);
    expect(runs.map((r) => r.stderr).find((e) => e.includes("waiting for it"))).toContain(`using cached ${binDir}/pulumi`);
    expect(spawnSync(path.join(binDir, "pulumi"), ["version"], { encoding: "utf8", env }).stdout.trim()).toBe("v3.248.0");
    expect(fs.readdirSync(binDir).sort()).toEqual([".version", "pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]);
    // The build asked the binary its version once (and the check above once more); later commands read the record beside it.
    const versionRuns = () => fs.readFileSync(path.join(goDir, "version-runs"), "utf8").trim().split("\n").length;
    expect(versionRuns()).toBe(2);
    const again = start(env);
    runs.push(again);
    expect(await again.done).toBe(0);
    expect(again.stdout.trim().split("\n").at(-1)).toBe(binDir);
    expect(versionRuns()).toBe(2);
    // A binary newer than the record is asked again.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(binDir, "pulumi"), later, later);
    const after = start(env);
    runs.push(after);
    expect(await after.done).toBe(0);
    expect(versionRuns()).toBe(3);
    // Nothing the build started still holds the lock once both commands are done.
    expect(spawnSync("flock", ["-n", path.join(cache, "toolchain", ".build.lock"), "true"]).status).toBe(0);
  }, 60_000);
});
