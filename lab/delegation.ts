// Which prefixes the native scenario's ISP delegates: the pool of each
// renumbering epoch, and the prefix its first client gets. Pure.
import { subnet } from "../components/net/ipv6";
import { NativePlan } from "./topology";

/** Kea's prefix-delegation pool in `epoch` (0 after up; `isp renumber` adds 1): the epoch-th /epochLength of pdPool. */
export function epochPool(native: NativePlan, epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`epochPool: epoch must be a whole number >= 0, got ${epoch}`);
  return subnet(native.pdPool, epoch, native.epochLength);
}

/**
 * The prefix Kea delegates first in `epoch`: the pool's first /delegatedLength
 * (Kea 2.2's iterative allocator starts at the pool's beginning whenever the
 * pool changes). A second client (another DUID) gets the next one.
 */
export function delegatedPrefix(native: NativePlan, epoch: number): string {
  return subnet(epochPool(native, epoch), 0, native.delegatedLength);
}
