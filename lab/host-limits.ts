// The host's kernel limits that grow with the number of boxes. Each box's
// systemd (PID 1, journald, logind, dbus) holds several inotify instances,
// all counted against root's fs.inotify.max_user_instances (128 by default
// on Debian): beyond a dozen boxes, systemd in the next one cannot start
// ("Failed to create control group inotify object: Too many open files").
import * as fs from "fs";

const INOTIFY_INSTANCES = "/proc/sys/fs/inotify/max_user_instances";

/** What the host needs for this many boxes (each takes about four; sixteen leaves room), never below the default. Pure. */
export function inotifyInstancesFor(boxes: number): number {
  return Math.max(128, 16 * boxes);
}

/** Raises fs.inotify.max_user_instances when it is below what the boxes need (never lowers it); says so. */
export function ensureInotifyInstances(boxes: number, log: (line: string) => void, file = INOTIFY_INSTANCES): void {
  const current = Number(fs.readFileSync(file, "utf8").trim());
  const needed = inotifyInstancesFor(boxes);
  if (current >= needed) return;
  fs.writeFileSync(file, `${needed}\n`);
  log(`raised fs.inotify.max_user_instances from ${current} to ${needed}: each of the ${boxes} boxes' systemd holds several`);
}
