// isp's radvd.conf in the native scenario: router advertisements on the
// isp-gw link as an ISP sends them (M and O flags for DHCPv6, the link's
// /64 for SLAAC, a default route). Pure.
import { NativePlan } from "./topology";

export function renderIspRadvdConfig(native: NativePlan): string {
  const ra = native.ra;
  return [
    `# ipv6gw lab: isp's router advertisements on ${native.wanInterface} (rendered by lab/isp-radvd-config.ts)`,
    `interface ${native.wanInterface} {`,
    "  AdvSendAdvert on;",
    `  MinRtrAdvInterval ${ra.minInterval};`,
    `  MaxRtrAdvInterval ${ra.maxInterval};`,
    `  AdvDefaultLifetime ${ra.routerLifetime};`,
    "  # Addresses (IA_NA) and other configuration by DHCPv6 too; the LAN prefix only by DHCPv6-PD.",
    "  AdvManagedFlag on;",
    "  AdvOtherConfigFlag on;",
    `  prefix ${native.wanPrefix} {`,
    "    AdvOnLink on;",
    "    AdvAutonomous on;",
    "  };",
    "};",
    "",
  ].join("\n");
}
