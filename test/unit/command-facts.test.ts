// Facts read once per pulumi command (components/host/command-facts.ts): a
// stand-in /proc says which processes run, a stand-in reader counts dials.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cliCommandId, commandFactsReader, factsKey } from "../../components/host/command-facts";
import type { Connection } from "../../components/host/connection";
import type { HostFactsData } from "../../components/host/host-facts";

const gw: Connection = { host: "192.0.2.1", user: "root", privateKey: "KEY" };
const c1: Connection = { host: "192.0.2.11", user: "root", privateKey: "KEY" };

let dir: string;
let proc: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-command-facts-"));
  proc = path.join(dir, "proc");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A process in the stand-in /proc: "pid (comm) S ppid ..." with its start time as field 22. */
function spawnProc(pid: number, comm: string, ppid: number, start = 1000 + pid) {
  fs.mkdirSync(path.join(proc, String(pid)), { recursive: true });
  const rest = Array.from({ length: 30 }, (_, i) => (i === 17 ? String(start) : "0"));
  fs.writeFileSync(path.join(proc, String(pid), "stat"), `${pid} (${comm}) S ${ppid} ${rest.join(" ")}\n`);
}

/** A reader that answers with the box's host and counts each dial. */
function counting() {
  const dials: string[] = [];
  const read = async (c: Connection) => {
    dials.push(c.host);
    return { hostname: c.host } as unknown as HostFactsData;
  };
  return { dials, read };
}

describe("the pulumi command a program runs under", () => {
  it("is the nearest `pulumi` ancestor, by pid and start time", () => {
    spawnProc(100, "pulumi", 1);
    spawnProc(200, "pulumi-language-", 100);
    spawnProc(300, "node", 200);
    expect(cliCommandId(proc, 300)).toBe("100-1100");
  });

  it("reads a command name with spaces and parentheses", () => {
    spawnProc(100, "pulumi", 1);
    spawnProc(300, "my (odd) node", 100);
    expect(cliCommandId(proc, 300)).toBe("100-1100");
  });

  it("is none without a pulumi ancestor (a fleet preview's own process) or without /proc", () => {
    spawnProc(200, "bash", 1);
    spawnProc(300, "node", 200);
    expect(cliCommandId(proc, 300)).toBeUndefined();
    expect(cliCommandId(path.join(dir, "missing"), 300)).toBeUndefined();
  });
});

describe("facts read once per command", () => {
  const options = () => ({ dir: path.join(dir, "cache"), procRoot: proc });

  it("the update's program takes what the preview's read, box by box; another command reads again", async () => {
    spawnProc(100, "pulumi", 1);
    const preview = counting();
    const first = commandFactsReader(preview.read, { ...options(), command: "100-1100" });
    expect(await first(gw)).toEqual({ hostname: "192.0.2.1" });
    expect(await first(c1)).toEqual({ hostname: "192.0.2.11" });
    expect(preview.dials).toEqual(["192.0.2.1", "192.0.2.11"]);

    // The update runs the program again, in a new process of the same command.
    const update = counting();
    const second = commandFactsReader(update.read, { ...options(), command: "100-1100" });
    expect(await second(gw)).toEqual({ hostname: "192.0.2.1" });
    expect(await second(c1)).toEqual({ hostname: "192.0.2.11" });
    expect(update.dials).toEqual([]);

    spawnProc(101, "pulumi", 1);
    const next = counting();
    await commandFactsReader(next.read, { ...options(), command: "101-1101" })(gw);
    expect(next.dials).toEqual(["192.0.2.1"]);
  });

  it("a different credential or user for the same box is a different read", async () => {
    spawnProc(100, "pulumi", 1);
    const r = counting();
    const read = commandFactsReader(r.read, { ...options(), command: "100-1100" });
    await read(gw);
    await read({ ...gw, privateKey: "OTHER" });
    await read({ ...gw, user: "admin" });
    expect(r.dials).toHaveLength(3);
    expect(factsKey(gw)).not.toContain("KEY");
  });

  it("removes what commands that have ended read (a reused pid with another start time is another command)", async () => {
    spawnProc(100, "pulumi", 1);
    await commandFactsReader(counting().read, { ...options(), command: "100-1100" })(gw);
    await commandFactsReader(counting().read, { ...options(), command: "100-999" })(gw);
    expect(fs.readdirSync(options().dir)).toHaveLength(2);
    fs.rmSync(path.join(proc, "100"), { recursive: true });
    spawnProc(102, "pulumi", 1);
    commandFactsReader(counting().read, { ...options(), command: "102-1102" });
    expect(fs.readdirSync(options().dir)).toEqual([]);
  });

  it("reads again when an entry is older than its limit (a prompt left open), and never keeps a failed read", async () => {
    spawnProc(100, "pulumi", 1);
    const r = counting();
    await commandFactsReader(r.read, { ...options(), command: "100-1100", maxAgeSeconds: 0 })(gw);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await commandFactsReader(r.read, { ...options(), command: "100-1100", maxAgeSeconds: 0 })(gw);
    expect(r.dials).toHaveLength(2);

    const failing = commandFactsReader(() => Promise.reject(new Error("connection refused")), { ...options(), command: "100-1100" });
    await expect(failing(c1)).rejects.toThrow("connection refused");
    const again = counting();
    await commandFactsReader(again.read, { ...options(), command: "100-1100" })(c1);
    expect(again.dials).toEqual(["192.0.2.11"]);
  });

  it("caches nothing in a directory others can write, or without a command", async () => {
    spawnProc(100, "pulumi", 1);
    const shared = path.join(dir, "shared");
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777);
    const r = counting();
    for (let i = 0; i < 2; i++) await commandFactsReader(r.read, { dir: shared, procRoot: proc, command: "100-1100" })(gw);
    expect(r.dials).toHaveLength(2);
    expect(fs.readdirSync(shared)).toEqual([]);

    const none = counting();
    for (let i = 0; i < 2; i++) await commandFactsReader(none.read, { ...options(), command: undefined })(gw);
    expect(none.dials).toHaveLength(2);
  });
});
