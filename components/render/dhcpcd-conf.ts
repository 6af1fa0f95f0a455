// dhcpcd as the gateway's DHCPv6 prefix-delegation client (RFC 8415): its
// configuration and the systemd unit of ours that runs it on the WAN. Pure.
//
// dhcpcd asks the ISP for a prefix of the hinted length on the WAN, puts
// <prefix>::1/64 of each LAN's subnet id on that LAN with the lease's
// lifetimes (renewed at T1, removed when the ISP withdraws the prefix or the
// lease runs out), and runs our hook on every event. It touches nothing else:
// no IPv4, no resolv.conf, no other interface. The delegated prefix appears
// nowhere here, so a renumbering changes no file we declare.

import { MANAGED_HEADER, checkAbsolutePath, checkIfname, checkInteger, renderError } from "./kit";

export interface DhcpcdLan {
  /** The LAN interface on the gateway ("eth0"). */
  readonly interface: string;
  /** Which /64 of the delegated prefix (dhcpcd's sla_id): 0 is the first. */
  readonly subnetId: number;
}

export interface DhcpcdConf {
  /** The interface facing the ISP. */
  readonly wanInterface: string;
  /** The prefix length to ask for (a hint; the ISP may delegate another), 48..64. */
  readonly prefixLength: number;
  readonly lans: readonly DhcpcdLan[];
  /** Also ask for an address on the WAN (IA_NA). */
  readonly requestAddress: boolean;
  /** dhcpcd's `script`: our hook instead of dhcpcd-run-hooks. */
  readonly hookPath: string;
}

/** Where our dhcpcd keeps its configuration (not /etc/dhcpcd.conf: the distribution's dhcpcd may use that). */
export const DHCPCD_CONF_PATH = "/etc/ipv6gw/dhcpcd.conf";
export const DHCPCD_UNIT = "ipv6gw-dhcpcd.service";
/** The IAIDs we ask with: fixed, so a new configuration renews the same lease. */
const IAID_NA = 1;
const IAID_PD = 2;

/** Throws "<what>: '<field>' <problem>, got <value>; <fix>" on the first problem. */
export function validateDhcpcdConf(c: DhcpcdConf): void {
  const what = "dhcpcd.conf";
  checkIfname(what, "wanInterface", c.wanInterface, "the interface facing the ISP, e.g. wan0");
  checkInteger(what, "prefixLength", c.prefixLength, 48, 64, "ask for a /48 to a /64 (most ISPs delegate a /56)");
  checkAbsolutePath(what, "hookPath", c.hookPath, "e.g. /usr/local/lib/ipv6gw/pd-hook");
  if (c.lans.length === 0) renderError(what, "lans", "must name at least one LAN", "none", "give the LAN interface and its subnet id");
  const ids = new Set<number>();
  const names = new Set<string>([c.wanInterface]);
  c.lans.forEach((lan, i) => {
    checkIfname(what, `lans[${i}].interface`, lan.interface);
    if (names.has(lan.interface)) renderError(what, `lans[${i}].interface`, lan.interface === c.wanInterface ? "is the WAN interface" : "is named twice", `'${lan.interface}'`, "give each LAN its own interface");
    names.add(lan.interface);
    checkInteger(what, `lans[${i}].subnetId`, lan.subnetId, 0, 2 ** (64 - c.prefixLength) - 1, `a /${c.prefixLength} holds subnet ids 0-${2 ** (64 - c.prefixLength) - 1}`);
    if (ids.has(lan.subnetId)) renderError(what, `lans[${i}].subnetId`, "is used twice", String(lan.subnetId), "give each LAN its own subnet id");
    ids.add(lan.subnetId);
  });
}

/**
 * dhcpcd.conf: IPv6 only, on the WAN and the LANs only; RAs taken on the
 * WAN (the ISP's default route) and never on a LAN; one IA_PD with the
 * length hint, each LAN's /64 (suffix ::1) named by interface and subnet id.
 */
export function renderDhcpcdConf(c: DhcpcdConf): string {
  validateDhcpcdConf(c);
  const delegations = c.lans.map((l) => `${l.interface}/${l.subnetId}/64/1`).join(" ");
  return [
    MANAGED_HEADER,
    `# DHCPv6 prefix delegation on ${c.wanInterface}; read by ${DHCPCD_UNIT}.`,
    "# Interfaces come from the kernel, not udev (a container has none).",
    "nodev",
    "ipv6only",
    "noipv4",
    "noipv4ll",
    "# RAs only on the WAN (below): the LANs hear ours.",
    "noipv6rs",
    "# Our hook instead of dhcpcd-run-hooks: it rewrites the LANs' router advertisements, nothing else.",
    `script ${c.hookPath}`,
    `allowinterfaces ${[c.wanInterface, ...c.lans.map((l) => l.interface)].join(" ")}`,
    "",
    `interface ${c.wanInterface}`,
    "  ipv6rs",
    ...(c.requestAddress ? [`  ia_na ${IAID_NA}`] : []),
    `  ia_pd ${IAID_PD}/::/${c.prefixLength} ${delegations}`,
    ...c.lans.flatMap((l) => ["", `interface ${l.interface}`, "  noipv6rs"]),
    "",
  ].join("\n");
}

export interface DhcpcdUnit {
  readonly wanInterface: string;
  readonly configPath: string;
  /** The unit that loads the firewall at boot: dhcpcd starts after it, and only if it loaded. Default none. */
  readonly firewallBootUnit?: string;
}

/**
 * Our unit for dhcpcd: after the firewall's boot unit and only if it loaded
 * (Requires=), so at boot no delegated prefix reaches a LAN before the
 * firewall stands; restarted if it dies.
 */
export function renderDhcpcdUnit(u: DhcpcdUnit): string {
  checkIfname("ipv6gw-dhcpcd.service", "wanInterface", u.wanInterface);
  checkAbsolutePath("ipv6gw-dhcpcd.service", "configPath", u.configPath, DHCPCD_CONF_PATH);
  if (u.firewallBootUnit !== undefined && !/^[A-Za-z0-9_.@-]+\.service$/.test(u.firewallBootUnit)) renderError("ipv6gw-dhcpcd.service", "firewallBootUnit", "must be a systemd service unit name", `'${u.firewallBootUnit}'`, "e.g. netfilter-persistent.service");
  return [
    MANAGED_HEADER,
    "[Unit]",
    `Description=ipv6gw: DHCPv6 prefix delegation on ${u.wanInterface} (dhcpcd)`,
    ...(u.firewallBootUnit ? [`Requires=${u.firewallBootUnit}`, `After=${u.firewallBootUnit} network-pre.target`] : ["After=network-pre.target"]),
    "Wants=network-pre.target",
    "",
    "[Service]",
    // -M: manager mode, for the WAN and every LAN it delegates to; -B: stay in the foreground for systemd.
    `ExecStart=/usr/sbin/dhcpcd -B -M -6 -f ${u.configPath}`,
    "Restart=on-failure",
    "RestartSec=5",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
