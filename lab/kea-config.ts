// isp's Kea DHCPv6 configuration in the native scenario: IA_NA addresses
// from the isp-gw link's /64 and IA_PD prefixes from the renumbering epoch's
// pool, with the short lifetimes of lab/topology.ts NATIVE. Pure: model in,
// text out (Kea reads JSON with comments).
import { parsePrefix } from "../components/net/ipv6";
import { NativePlan } from "./topology";

/** Where Kea keeps its leases on isp (Debian's StateDirectory=kea). */
export const KEA_LEASE_FILE = "/var/lib/kea/kea-leases6.csv";
export const KEA_CONFIG_FILE = "/etc/kea/kea-dhcp6.conf";

export interface KeaConfigModel {
  readonly native: NativePlan;
  /** This epoch's delegation pool (lab/delegation.ts epochPool). */
  readonly pool: string;
  /** The epoch, for the header comment. */
  readonly epoch: number;
}

export function renderKeaConfig(model: KeaConfigModel): string {
  const n = model.native;
  const pool = parsePrefix(model.pool);
  const l = n.lifetimes;
  const config = {
    Dhcp6: {
      "interfaces-config": { interfaces: [n.wanInterface] },
      "lease-database": { type: "memfile", persist: true, name: KEA_LEASE_FILE, "lfc-interval": 3600 },
      "renew-timer": l.renew,
      "rebind-timer": l.rebind,
      "preferred-lifetime": l.preferred,
      "valid-lifetime": l.valid,
      // Expired leases go at once, so a lease that ran out never blocks the pool for long.
      "expired-leases-processing": { "reclaim-timer-wait-time": 5, "hold-reclaimed-time": 0, "flush-reclaimed-timer-wait-time": 5 },
      subnet6: [
        {
          id: 1,
          subnet: n.wanPrefix,
          interface: n.wanInterface,
          pools: [{ pool: `${n.addressPool.first}-${n.addressPool.last}` }],
          "pd-pools": [{ prefix: pool.address, "prefix-len": pool.length, "delegated-len": n.delegatedLength }],
        },
      ],
      loggers: [{ name: "kea-dhcp6", output_options: [{ output: "stdout" }], severity: "INFO" }],
    },
  };
  return [
    `// ipv6gw lab: isp's DHCPv6 server on ${n.wanInterface}, renumbering epoch ${model.epoch}.`,
    "// Rendered by lab/kea-config.ts; `npm run lab -- isp renumber` rewrites it.",
    JSON.stringify(config, null, 2),
    "",
  ].join("\n");
}
