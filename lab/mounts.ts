// Overlay mounts: one per box (and one per build step), lowerdirs shared.
import * as fs from "fs";
import { check, run } from "./run";

/** Mount points listed in /proc/mounts, with octal escapes decoded. */
export function mountPoints(): string[] {
  return fs
    .readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[1].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return mountPoints()
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

export interface OverlaySpec {
  /** Lower directories, topmost first. */
  readonly lower: readonly string[];
  readonly upper: string;
  readonly work: string;
  readonly merged: string;
}

export async function mountOverlay(spec: OverlaySpec): Promise<void> {
  for (const d of [spec.upper, spec.work, spec.merged]) fs.mkdirSync(d, { recursive: true });
  for (const d of spec.lower) {
    if (!fs.existsSync(d)) throw new Error(`overlay lower directory ${d} is missing`);
  }
  const options = `lowerdir=${spec.lower.join(":")},upperdir=${spec.upper},workdir=${spec.work}`;
  await check(`mounting the overlay at ${spec.merged}`, "mount", ["-t", "overlay", "overlay", "-o", options, spec.merged]);
}

/** Unmounts everything at or below `dir`; returns what it could not unmount. */
export async function unmountAll(dir: string): Promise<string[]> {
  const failed: string[] = [];
  for (const m of mountsUnder(dir)) {
    let r = await run("umount", [m]);
    if (r.code !== 0) r = await run("umount", ["--lazy", m]);
    if (r.code !== 0) failed.push(`${m}: ${r.stderr.trim()}`);
  }
  return failed;
}
