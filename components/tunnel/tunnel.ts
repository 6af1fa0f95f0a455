// What every tunnel driver gives the site: the prefix it brings, the /64
// for the LAN, its interface, and whether it runs radvd itself.

import * as pulumi from "@pulumi/pulumi";

export interface TunnelOutputs {
  /** The tunnel's interface on the gateway ("wg0", "tun", "he-ipv6"). */
  readonly interface: string;
  /** The global prefix routed to the site ("2001:db8:8888::/48"). */
  readonly prefix: pulumi.Output<string>;
  /** The /64 advertised on the LAN. */
  readonly lanPrefix: pulumi.Output<string>;
  /** True when the tunnel client runs its own radvd (gw6c in router mode): the site's Radvd must stand aside. */
  readonly ownsRadvd: boolean;
  /** True when the tunnel client puts <prefix>::1 on the LAN interface itself (gw6c router mode). */
  readonly ownsLanAddress: boolean;
  /** The name of the process or unit that must be running, for the checks. */
  readonly process: string;
}
