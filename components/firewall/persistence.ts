// Where each distribution loads ip6tables rules at boot, what installs that
// loader, and which service runs it. Pure: facts in, plan out.

import { HostFactsData } from "../host/host-facts";

export interface PersistencePlan {
  /** Packages: ip6tables itself and the boot loader of rules. */
  readonly packages: readonly string[];
  /** The file the loader reads. */
  readonly path: string;
  /** The service that loads it at boot. */
  readonly service: string;
}

export function persistencePlan(f: Pick<HostFactsData, "distro" | "distroVersion" | "packageManager">): PersistencePlan {
  const major = Number(f.distroVersion.split(".")[0]) || 0;
  switch (f.packageManager) {
    case "apt":
      return { packages: ["iptables", "netfilter-persistent", "iptables-persistent"], path: "/etc/iptables/rules.v6", service: "netfilter-persistent" };
    case "dnf":
      return { packages: ["iptables-services"], path: "/etc/sysconfig/ip6tables", service: "ip6tables" };
    case "yum":
      // CentOS/RHEL 5 and 6 split IPv6 into iptables-ipv6 (HOWTO step 16); 7+ ship iptables-services.
      return major > 0 && major < 7
        ? { packages: ["iptables-ipv6"], path: "/etc/sysconfig/ip6tables", service: "ip6tables" }
        : { packages: ["iptables-services"], path: "/etc/sysconfig/ip6tables", service: "ip6tables" };
    case "urpmi":
      return { packages: ["iptables-ipv6"], path: "/etc/sysconfig/ip6tables", service: "ip6tables" };
    case "emerge":
      return { packages: ["net-firewall/iptables"], path: "/var/lib/ip6tables/rules-save", service: "ip6tables" };
    case "apk":
      return { packages: ["ip6tables"], path: "/etc/iptables/rules6-save", service: "ip6tables" };
    default:
      throw new Error(`no known way to persist ip6tables rules on ${f.distro} ${f.distroVersion} (no supported package manager)`);
  }
}
