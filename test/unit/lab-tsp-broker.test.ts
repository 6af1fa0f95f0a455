// The TSP broker's cache key: a hash of its Go sources (not its tests), so
// `lab up` rebuilds and restarts exactly when the broker itself changed.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findGo, TSP_BROKER_SOURCE, tspBrokerKey } from "../../lab/tsp-broker";

describe("the TSP broker's build key", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsp-broker-key-"));
    for (const f of fs.readdirSync(TSP_BROKER_SOURCE)) fs.copyFileSync(path.join(TSP_BROKER_SOURCE, f), path.join(dir, f));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is a hash of the sources, the same for an identical copy", () => {
    expect(tspBrokerKey(dir)).toMatch(/^tsp-broker-[0-9a-f]{16}$/);
    expect(tspBrokerKey(dir)).toBe(tspBrokerKey(TSP_BROKER_SOURCE));
  });

  it("changes when a source file or go.mod changes", () => {
    const before = tspBrokerKey(dir);
    fs.appendFileSync(path.join(dir, "main.go"), "\n// changed\n");
    const afterSource = tspBrokerKey(dir);
    expect(afterSource).not.toBe(before);
    fs.appendFileSync(path.join(dir, "go.mod"), "\n");
    expect(tspBrokerKey(dir)).not.toBe(afterSource);
  });

  it("ignores the tests: changing them rebuilds nothing", () => {
    const before = tspBrokerKey(dir);
    fs.appendFileSync(path.join(dir, "auth_test.go"), "\n// changed\n");
    fs.writeFileSync(path.join(dir, "extra_test.go"), "package main\n");
    expect(tspBrokerKey(dir)).toBe(before);
  });
});

describe("finding Go", () => {
  let bin: string;
  beforeEach(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-go-"));
    fs.writeFileSync(path.join(bin, "go"), "#!/bin/sh\n", { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(bin, { recursive: true, force: true }));

  it("takes go from PATH first, then the install directories", () => {
    expect(findGo({ PATH: `${bin}:/nonexistent` }, ["/nonexistent2"])).toBe(path.join(bin, "go"));
    expect(findGo({ PATH: "/nonexistent" }, [bin])).toBe(path.join(bin, "go"));
  });

  it("says how to get Go when there is none", () => {
    expect(() => findGo({ PATH: "/nonexistent" }, [])).toThrow("install Go >= 1.22 (https://go.dev/dl), then run 'npm run lab -- up' again");
  });
});

describe("the broker's own tests", () => {
  it("pass (go test in lab/tsp-broker: framing, parsing, DIGEST-MD5 against RFC 2831's example, assignment, sessions, loopback sockets)", () => {
    const r = spawnSync(findGo(), ["test", "-count=1", "./..."], {
      cwd: TSP_BROKER_SOURCE,
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOWORK: "off", GOFLAGS: "-mod=mod" },
    });
    expect({ status: r.status, output: r.status === 0 ? "" : r.stdout + r.stderr }).toEqual({ status: 0, output: "" });
  }, 300_000);
});
