// What the native scenario's boxes hold, read from inside them, for the
// native site's end-to-end tests and the renumbering benchmark: each
// interface's global addresses with their lifetimes, each client's EUI-64
// address in a /64, and waiting for a condition with a deadline.
import { labSh, loadLab } from "../lab/client";
import { slaacAddress } from "../components/net/eui64";
import { canonicalIpv6, prefixContains } from "../components/net/ipv6";
import { parse } from "yaml";
import * as fs from "fs";
import * as path from "path";

export interface Held {
  readonly address: string;
  readonly length: number;
  /** Seconds; -1 for forever. */
  readonly valid: number;
  readonly preferred: number;
  readonly tentative: boolean;
}

const seconds = (v: string) => (v === "forever" ? -1 : Number(v.replace(/sec$/, "")));

/** A box's global IPv6 addresses on an interface, as the kernel holds them now. */
export function held(box: string, ifname = "eth0"): Held[] {
  const found: Held[] = [];
  for (const line of labSh(box, `ip -6 -o addr show dev ${ifname} scope global`).split("\n")) {
    const m = /inet6 ([0-9a-f:]+)\/(\d+) .*valid_lft (\S+) preferred_lft (\S+)/.exec(line);
    if (m) found.push({ address: canonicalIpv6(m[1]), length: Number(m[2]), valid: seconds(m[3]), preferred: seconds(m[4]), tentative: / tentative /.test(line) });
  }
  return found;
}

/** The address a client's MAC gives it by SLAAC (EUI-64) in a /64. */
export function eui64In(box: string, prefix64: string): string {
  const mac = loadLab().boxes[box as "c1"]!.interfaces.eth0.mac;
  return slaacAddress(prefix64, mac);
}

/** What a box holds in a /64 (one EUI-64 address at most, from our RAs), or undefined. */
export function heldIn(box: string, prefix64: string, ifname = "eth0"): Held | undefined {
  return held(box, ifname).find((h) => prefixContains(prefix64, h.address));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value; throws naming `what` and the last state after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, everyMs = 2000, last: () => string = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last() ? `; last seen: ${last()}` : ""}`);
    await sleep(everyMs);
  }
}

/** The lab's native site (stacks/Pulumi.lab-native.yaml), as a fresh object to change. */
export function labNativeSite(): Record<string, unknown> & { tunnel: Record<string, unknown> } {
  return structuredClone(parse(fs.readFileSync(path.join(__dirname, "../stacks/Pulumi.lab-native.yaml"), "utf8")).config["ipv6gw:site"]);
}

/** Until every client holds a preferred EUI-64 address in its LAN's new /64 and its old one deprecated: then resolves with when. */
export async function renumbered(clients: readonly { box: string; old: string; next: string }[], timeoutMs: number): Promise<number> {
  const state = () => clients.map((c) => `${c.box}: ${JSON.stringify(held(c.box))}`).join("; ");
  await waitFor(
    "every client to prefer its address in the new /64 and hold the old one deprecated",
    () =>
      clients.every((c) => {
        const fresh = heldIn(c.box, c.next);
        const old = heldIn(c.box, c.old);
        return fresh && !fresh.tentative && fresh.preferred > 0 && fresh.address === eui64In(c.box, c.next) && (!old || old.preferred === 0);
      })
        ? true
        : undefined,
    timeoutMs,
    1000,
    state,
  );
  return Date.now();
}
