// The fake box itself: it answers only the scripts it was told about, and a
// script it was not told about fails the test, even when the provider catches
// the error.
import { FakeClock, FakeRemote, checkNoStrays, inTurn } from "./fake-remote";

describe("FakeRemote", () => {
  it("answers a script named exactly, with exit 0 and empty output unless told otherwise", async () => {
    const box = new FakeRemote([
      ["cat /etc/hostname", { stdout: "gw\n" }],
      ["true", {}],
    ]);
    expect(await box.run("cat /etc/hostname")).toEqual({ code: 0, stdout: "gw\n", stderr: "" });
    expect(await box.run("true", { stdin: "x" })).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(box.calls).toEqual([{ script: "cat /etc/hostname" }, { script: "true", stdin: "x" }]);
  });

  it("refuses a script it was not told about, naming its first lines and how to add a rule", async () => {
    const box = new FakeRemote([["cat /etc/hostname", {}]]);
    const script = ["set -e", "cat /etc/hostname", "a", "b", "c", "d", "e", "f"].join("\n");
    await expect(box.run(script, { stdin: "secret-free input" })).rejects.toThrow(
      'FakeRemote root@fake.example:22 was not told about this script (stdin: "secret-free input"):\n    | set -e\n    | cat /etc/hostname\n    | a\n    | b\n    | c\n    | d\n    | ... (2 more lines)\nIf the provider is meant to run it, add a rule to the FakeRemote\'s list: [exactScript, { code, stdout, stderr }],',
    );
    // A provider may catch that error: the check after each test still fails it (here it runs early, to see that).
    expect(() => checkNoStrays()).toThrow(/^scripts no rule matched during this test \(the provider may have caught the error\):\n\nFakeRemote root@fake.example:22 was not told about this script/);
    expect(() => checkNoStrays()).not.toThrow();
  });

  it("matches a RegExp rule only against the whole script", async () => {
    const box = new FakeRemote([[/cat \/etc\/\w+/, { stdout: "matched" }]]);
    expect((await box.run("cat /etc/hostname")).stdout).toBe("matched");
    await expect(box.run("cat /etc/hostname; reboot")).rejects.toThrow(/was not told about this script/);
    await expect(box.run("sudo cat /etc/hostname")).rejects.toThrow(/was not told about this script/);
    expect(() => checkNoStrays()).toThrow(/cat \/etc\/hostname; reboot[\s\S]*sudo cat \/etc\/hostname/);
  });

  it("answers in turn, repeating the last answer", async () => {
    const box = new FakeRemote([["probe", inTurn({ code: 1 }, { code: 0 })]]);
    expect([(await box.run("probe")).code, (await box.run("probe")).code, (await box.run("probe")).code]).toEqual([1, 0, 0]);
  });
});

describe("FakeClock", () => {
  it("never waits: a sleep moves the time on and is recorded", async () => {
    const clock = new FakeClock(1000);
    await clock.sleep(2000);
    clock.advance(500);
    expect(clock.now()).toBe(3500);
    expect(clock.sleeps).toEqual([2000]);
  });
});
