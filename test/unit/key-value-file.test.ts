// KeyValueFile against a fake box whose answers come from running each
// expected script on this machine, on a file in a temporary directory: the
// rules still name every script exactly, and what the awk edit does to a real
// file is what the assertions see.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KeyValueFileProvider, editScript, readScript } from "../../components/host/key-value-file";
import { shq } from "../../components/host/remote";
import { Answer, FakeRemote, Rule, connection, opener } from "./fake-remote";

/** Runs the script here, as the box would run it. */
const here: Answer = (script, stdin) => {
  const r = spawnSync("sh", ["-c", script], { input: stdin ?? "", encoding: "utf8" });
  return { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
};

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-kv-"));
  file = path.join(dir, "network");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const exists = () => `[ -e ${shq(file)} ]`;
const removeIfEmpty = () => `[ -s ${shq(file)} ] || rm -f ${shq(file)}`;
/** A box that runs exactly these scripts, here. */
const box = (...scripts: string[]) => new FakeRemote(scripts.map((s): Rule => [s, here]));

describe("KeyValueFile", () => {
  it("sets and removes only its keys, keeps every other line and the file's mode, and puts the old values back on delete", async () => {
    const original = "# network\nNETWORKING=yes\nNETWORKING_IPV6=no\nHOSTNAME=gw.example\nIPV6_AUTOCONF=yes\n";
    fs.writeFileSync(file, original, { mode: 0o640 });
    const inputs = { connection, path: file, set: { NETWORKING_IPV6: "yes", IPV6FORWARDING: "yes" }, remove: ["IPV6_AUTOCONF"] };
    const keys = ["NETWORKING_IPV6", "IPV6FORWARDING", "IPV6_AUTOCONF"];
    const desired = { NETWORKING_IPV6: "yes", IPV6FORWARDING: "yes", IPV6_AUTOCONF: null };
    const restore = { NETWORKING_IPV6: "no", IPV6FORWARDING: null, IPV6_AUTOCONF: "yes" };
    const remote = box(exists(), readScript(file, keys), editScript(file, desired), editScript(file, restore));
    const p = new KeyValueFileProvider(opener(remote));

    const { id, outs } = await p.create(inputs);
    expect(id).toBe(file);
    expect(fs.readFileSync(file, "utf8")).toBe("# network\nNETWORKING=yes\nNETWORKING_IPV6=yes\nHOSTNAME=gw.example\nIPV6FORWARDING=yes\n");
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(outs).toEqual({ ...inputs, previous: restore, createdFile: false });
    expect(remote.scripts).toEqual([exists(), readScript(file, keys), editScript(file, desired)]);

    await p.delete(id, outs);
    expect(fs.readFileSync(file, "utf8")).toBe(original);
  });

  it("keeps one line per key, where the first was, and remembers the value sh saw (the last)", async () => {
    fs.writeFileSync(file, "A=1\nB=keep\nA=2\n");
    const remote = box(exists(), readScript(file, ["A"]), editScript(file, { A: "3" }));
    const { outs } = await new KeyValueFileProvider(opener(remote)).create({ connection, path: file, set: { A: "3" }, remove: [] });
    expect(fs.readFileSync(file, "utf8")).toBe("A=3\nB=keep\n");
    expect(outs.previous).toEqual({ A: "2" });
  });

  it("creates a missing file, and removes it on delete unless something else was added to it", async () => {
    const inputs = { connection, path: file, set: { IPV6INIT: "yes" }, remove: [] };
    const p = new KeyValueFileProvider(opener(box(exists(), readScript(file, ["IPV6INIT"]), editScript(file, { IPV6INIT: "yes" }), editScript(file, { IPV6INIT: null }), removeIfEmpty())));
    const { outs } = await p.create(inputs);
    expect(outs.createdFile).toBe(true);
    expect(outs.previous).toEqual({ IPV6INIT: null });
    expect(fs.readFileSync(file, "utf8")).toBe("IPV6INIT=yes\n");
    await p.delete(file, outs);
    expect(fs.existsSync(file)).toBe(false);

    await p.create(inputs);
    fs.appendFileSync(file, "# added by someone else\n");
    await p.delete(file, outs);
    expect(fs.readFileSync(file, "utf8")).toBe("# added by someone else\n");
  });

  it("on update, remembers the old values of newly managed keys and gives released keys back theirs", async () => {
    fs.writeFileSync(file, "A=1\nB=x\n");
    const olds = { connection, path: file, set: { A: "1" }, remove: [], previous: { A: "0" }, createdFile: false };
    const news = { connection, path: file, set: { B: "2" }, remove: [] };
    const remote = box(readScript(file, ["B"]), editScript(file, { A: "0", B: "2" }));
    const { outs } = await new KeyValueFileProvider(opener(remote)).update(file, olds, news);
    expect(fs.readFileSync(file, "utf8")).toBe("A=0\nB=2\n");
    expect(outs).toEqual({ ...news, previous: { A: "0", B: "x" }, createdFile: false });
  });

  it("stores new provider code without touching the box", async () => {
    const remote = new FakeRemote();
    const state = { connection, path: file, set: { A: "1" }, remove: [], previous: { A: null }, createdFile: true };
    const { outs } = await new KeyValueFileProvider(opener(remote)).update(file, { ...state, __provider: "v1" } as never, { ...state, __provider: "v2" } as never);
    expect(outs).toMatchObject({ previous: { A: null }, createdFile: true });
    expect(remote.calls).toEqual([]);
  });

  it.each([
    ["as set (quotes as the distribution writes them)", 'NETWORKING_IPV6="yes"\n', { NETWORKING_IPV6: "yes" }, ["IPV6_AUTOCONF"]],
    ["with a value changed by hand", "NETWORKING_IPV6=no\n", { NETWORKING_IPV6: "no" }, ["IPV6_AUTOCONF"]],
    ["with a line appended by hand, which sh reads last and so wins", "NETWORKING_IPV6=yes\nNETWORKING_IPV6=no\n", { NETWORKING_IPV6: "no" }, ["IPV6_AUTOCONF"]],
    ["with a removed key put back by hand", "NETWORKING_IPV6=yes\nIPV6_AUTOCONF=yes\n", { NETWORKING_IPV6: "yes" }, []],
    ["with our key deleted by hand", "HOSTNAME=gw\n", {}, ["IPV6_AUTOCONF"]],
  ])("reads the file %s", async (_what, content, set, remove) => {
    fs.writeFileSync(file, content);
    const state = { connection, path: file, set: { NETWORKING_IPV6: "yes" }, remove: ["IPV6_AUTOCONF"], previous: { NETWORKING_IPV6: "no", IPV6_AUTOCONF: "yes" }, createdFile: false };
    const p = new KeyValueFileProvider(opener(box(readScript(file, ["NETWORKING_IPV6", "IPV6_AUTOCONF"]))));
    const read = await p.read(file, state);
    expect(read.props).toEqual({ ...state, set, remove });
    expect(read.inputs).toEqual({ connection, path: file, set, remove });
    const unchanged = JSON.stringify(set) === JSON.stringify(state.set) && remove.length === 1;
    expect(await p.diff(file, { ...state, ...read.props, __provider: "v1" } as never, { ...state, __provider: "v1" } as never)).toMatchObject({ changes: !unchanged });
  });

  it("reads a missing file as none of its keys set", async () => {
    const state = { connection, path: file, set: { A: "1" }, remove: ["B"] };
    const read = await new KeyValueFileProvider(opener(box(readScript(file, ["A", "B"])))).read(file, state);
    expect(read.props).toMatchObject({ set: {}, remove: ["B"] });
  });

  it("fails with the box's words when the edit fails", async () => {
    const etc = "/etc/sysconfig/network";
    const remote = new FakeRemote([
      [`[ -e ${shq(etc)} ]`, {}],
      [readScript(etc, ["A"]), {}],
      [editScript(etc, { A: "1" }), { code: 1, stderr: "mktemp: failed to create file via template: Read-only file system\n" }],
    ]);
    await expect(new KeyValueFileProvider(opener(remote)).create({ connection, path: etc, set: { A: "1" }, remove: [] })).rejects.toThrow(
      "editing /etc/sysconfig/network failed on root@fake.example:22 (exit 1): mktemp: failed to create file via template: Read-only file system",
    );
  });

  it("refuses keys that are not shell names and values a shell would not read as plain text, without asking the box", async () => {
    const remote = new FakeRemote();
    const { failures } = await new KeyValueFileProvider(opener(remote)).check({}, { connection, path: "/etc/sysconfig/network", set: { "IPV6-INIT": "yes", IPV6_DEFAULTDEV: "$(reboot)" }, remove: ["9LIVES"] });
    expect(failures.map((f) => f.property).sort()).toEqual(["remove.0", "set.IPV6-INIT", "set.IPV6_DEFAULTDEV"]);
    expect(remote.calls).toEqual([]);
  });

  it.each(["a b", "x;reboot", "x|y", "x&y", "<x", "(x)", "x\ty"])("refuses the value %j, which a sourcing shell would split or run", async (value) => {
    const { failures } = await new KeyValueFileProvider(opener(new FakeRemote())).check({}, { connection, path: "/etc/sysconfig/network", set: { A: value }, remove: [] });
    expect(failures.map((f) => f.property)).toEqual(["set.A"]);
  });
});
