import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureInotifyInstances, inotifyInstancesFor } from "../../lab/host-limits";

describe("the host's inotify instances", () => {
  const dirs: string[] = [];
  const file = () => {
    dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), "ipv6gw-limits-")));
    return path.join(dirs[dirs.length - 1], "max_user_instances");
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("are raised for a lab of 37 boxes above Debian's default of 128, saying so", () => {
    const f = file();
    fs.writeFileSync(f, "128\n");
    const said: string[] = [];
    ensureInotifyInstances(37, (l) => said.push(l), f);
    expect(fs.readFileSync(f, "utf8")).toBe(`${inotifyInstancesFor(37)}\n`);
    expect(said).toEqual([`raised fs.inotify.max_user_instances from 128 to ${inotifyInstancesFor(37)}: each of the 37 boxes' systemd holds several`]);
  });

  it("stay at the default for the default lab", () => {
    expect(inotifyInstancesFor(5)).toBe(128);
    expect(inotifyInstancesFor(37)).toBe(592);
  });

  it("are left alone when already enough, and never lowered", () => {
    const f = file();
    fs.writeFileSync(f, "8192\n");
    const said: string[] = [];
    ensureInotifyInstances(37, (l) => said.push(l), f);
    expect(fs.readFileSync(f, "utf8")).toBe("8192\n");
    expect(said).toEqual([]);
  });
});
