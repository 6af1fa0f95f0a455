// Where the firewall is loaded at boot, what installs that loader, and which
// service runs it, per backend and distribution. Pure: facts in, plan out.
//
// ip6tables: the distribution's own loader (netfilter-persistent, the
// iptables-services unit, the init scripts), reading a file that holds ours
// only. At boot the table is empty, so loading ours whole is right, and
// Docker, fail2ban and libvirt add theirs when they start, after it.
//
// nftables: a unit of ours, ipv6gw-firewall.service, that loads our table
// with `nft -f` before network-pre.target (so before any interface is
// configured) and after nftables.service (so a config that starts with
// `flush ruleset` cannot wipe it at boot). Not /etc/nftables.conf: that file
// is the owner's, distributions keep it in different places, and
// nftables.service flushes the whole ruleset when it stops. Our unit loads
// our table only, and it is the unit IPv6 forwarding waits for.

import { HostFactsData } from "../host/host-facts";
import { MANAGED_HEADER } from "../render/kit";
import { RulesetBackend } from "./ruleset-scripts";

export interface PersistencePlan {
  /** Packages: the backend's tool and the boot loader of rules. */
  readonly packages: readonly string[];
  /** The file the loader reads. */
  readonly path: string;
  /** The service that loads it at boot. */
  readonly service: string;
}

export const NFT_BOOT_SERVICE = "ipv6gw-firewall";
export const NFT_BOOT_PATH = "/etc/ipv6gw/firewall.nft";
export const NFT_BOOT_UNIT_PATH = `/etc/systemd/system/${NFT_BOOT_SERVICE}.service`;

type Facts = Pick<HostFactsData, "distro" | "distroVersion" | "packageManager">;

function ip6tablesPlan(f: Facts): PersistencePlan {
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

function nftPlan(f: Facts & Pick<HostFactsData, "serviceManager">): PersistencePlan {
  if (f.serviceManager !== "systemd") {
    throw new Error(
      `the nftables backend loads its table at boot with a systemd unit, and ${f.distro} ${f.distroVersion} runs ${f.serviceManager || "no known service manager"}: ` +
        "use firewall.backend iptables, whose rules the distribution's own init scripts load",
    );
  }
  if (!f.packageManager) throw new Error(`no known way to install nftables on ${f.distro} ${f.distroVersion} (no supported package manager)`);
  return { packages: [f.packageManager === "emerge" ? "net-firewall/nftables" : "nftables"], path: NFT_BOOT_PATH, service: NFT_BOOT_SERVICE };
}

export function persistencePlan(f: Facts & Partial<Pick<HostFactsData, "serviceManager">>, backend: RulesetBackend = "iptables"): PersistencePlan {
  return backend === "nftables" ? nftPlan({ ...f, serviceManager: f.serviceManager ?? "" }) : ip6tablesPlan(f);
}

/**
 * ipv6gw-firewall.service: loads our nftables table at boot, before any
 * interface is configured, and only ours. No ExecStop: stopping the unit (or
 * shutting down) must not open the firewall. Pure.
 */
export function renderNftBootUnit(nftPath = "/usr/sbin/nft", rulesPath = NFT_BOOT_PATH): string {
  return [
    MANAGED_HEADER,
    "[Unit]",
    "Description=ipv6gw: the IPv6 firewall (nftables table ip6 ipv6gw)",
    "DefaultDependencies=no",
    "Wants=network-pre.target",
    "Before=network-pre.target shutdown.target",
    // A config that starts with `flush ruleset` loads first, so it cannot wipe ours at boot.
    "After=nftables.service",
    "Conflicts=shutdown.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${nftPath} -f ${rulesPath}`,
    "",
    "[Install]",
    "WantedBy=sysinit.target",
    "",
  ].join("\n");
}
