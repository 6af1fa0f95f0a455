// One read of each box's facts for a whole fleet run: sites that share a box
// (a jump host, or the lab's one gateway behind several stacks) share the
// read, and its SSH connection; a box that cannot be reached fails every
// site on it at once with the same message.

import * as crypto from "crypto";
import type { Connection } from "../../components/host/connection";
import { HostFactsData, getHostFacts } from "../../components/host/host-facts";
import type { FactsReader } from "../../components/stack-config";

/**
 * Who is asked for facts: the same box, port, user, pinned key and
 * credential read the same (a site with a wrong key must not borrow
 * another site's read).
 */
export function factsKey(c: Connection): string {
  const proxy = c.proxy ? `${c.proxy.user ?? "root"}@${c.proxy.host}:${c.proxy.port ?? 22}>` : "";
  const credential = crypto.createHash("sha256").update(`${c.privateKey ?? ""}\0${c.password ?? ""}\0${c.proxy?.privateKey ?? ""}`).digest("hex").slice(0, 16);
  return `${proxy}${c.user ?? "root"}@${c.host}:${c.port ?? 22}#${c.hostKey ?? (c.dangerouslySkipHostKeyCheck ? "any" : "")}#${credential}`;
}

export interface FactsCache {
  readonly read: FactsReader;
  /** How many times each box was actually asked. */
  readonly reads: ReadonlyMap<string, number>;
}

export function factsCache(read: FactsReader = getHostFacts): FactsCache {
  const cached = new Map<string, Promise<HostFactsData>>();
  const reads = new Map<string, number>();
  return {
    reads,
    read: (c) => {
      const key = factsKey(c);
      let facts = cached.get(key);
      if (!facts) {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        facts = read(c);
        cached.set(key, facts);
      }
      return facts;
    },
  };
}
