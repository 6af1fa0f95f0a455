// One read of each box's facts for a whole fleet run: sites that share a box
// (a jump host, or the lab's one gateway behind several stacks) share the
// read, and its SSH connection; a box that cannot be reached fails every
// site on it at once with the same message.

import { factsKey } from "../../components/host/command-facts";
import { HostFactsData, getHostFacts } from "../../components/host/host-facts";
import type { FactsReader } from "../../components/stack-config";

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
