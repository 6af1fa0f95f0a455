// What a gateway box must have before anything is changed on it, checked
// against its facts at preview. Pure: facts in, problems out.

import { HostFactsData, OtherFirewall } from "../host/host-facts";
import { Problem, problem } from "../problems";

export interface GatewayNeeds {
  /** The LAN interface, when the gateway has one LAN (a native uplink checks its own). */
  readonly lanInterface?: string;
  readonly uplinkInterface?: string;
  /** The tunnel (or native uplink) the site runs, if any. */
  readonly tunnel?: "wireguard" | "gw6c" | "sit6in4" | "dhcpv6-pd";
  /** gw6c: the tunnel mode asked for. */
  readonly gw6cTunnelMode?: "v6anyv4" | "v6v4" | "v6udpv4" | "v4v6";
}

/** "2.6.18-398.el5" -> [2, 6, 18]. */
export function kernelVersion(release: string): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [];
}

export function kernelAtLeast(release: string, wanted: readonly number[]): boolean {
  const v = kernelVersion(release);
  if (v.length === 0) return false;
  for (let i = 0; i < wanted.length; i++) {
    if ((v[i] ?? 0) !== wanted[i]) return (v[i] ?? 0) > wanted[i];
  }
  return true;
}

/** Why each other firewall manager cannot share the box with ours, and the fix. */
const OTHER_FIREWALL: Record<OtherFirewall, string> = {
  firewalld:
    "firewalld is running: it filters the same packets from its own nftables table, so it would block what this firewall lets through (the LAN going out); " +
    "stop it with 'systemctl disable --now firewalld'",
  ufw:
    "ufw is enabled: its chains and default policies (routed traffic dropped) filter the same packets, so it would block what this firewall lets through, and both would manage INPUT and FORWARD; " +
    "turn it off with 'ufw disable'",
  nftables:
    "nftables.service is enabled and its config starts with 'flush ruleset': whenever it starts, restarts or reloads it deletes every table, this firewall's too " +
    "(table ip6 ipv6gw, or the ip6tables filter table holding its chains), and forwarding stays on with no firewall; " +
    "disable it with 'systemctl disable nftables', or replace 'flush ruleset' with deleting only its own tables (e.g. 'table inet filter; delete table inet filter' before that table)",
};

/**
 * Everything that stops this box from being the gateway asked for; empty when
 * it can. Paths are those of the gateway's arguments (`lanInterface`), empty
 * for what the box as a whole lacks.
 */
export function gatewayProblems(f: HostFactsData, needs: GatewayNeeds): Problem[] {
  const box: string[] = [];
  const problems: Problem[] = [];
  const names = f.interfaces.map((i) => i.name);
  if (!f.features.ipv6) box.push("the kernel has no IPv6 (/proc/net/if_inet6 is missing): use a kernel with CONFIG_IPV6");
  else if (!f.ipv6Enabled) box.push("IPv6 is disabled (net.ipv6.conf.all.disable_ipv6=1 or ipv6.disable=1 on the kernel command line): enable it");
  if (!kernelAtLeast(f.kernel, [2, 6, 20])) {
    box.push(`kernel ${f.kernel || "(unknown)"} is older than 2.6.20, where stateful IPv6 filtering (conntrack) was broken (HOWTO step 17): upgrade the kernel`);
  }
  if (!f.features.conntrack) box.push("no IPv6 connection tracking (nf_conntrack; nf_conntrack_ipv6 before Linux 4.19): load or build it, the firewall is stateful");
  if (!f.features.ip6tablesFilter) box.push("no ip6tables filter table (ip6_tables/ip6table_filter or nf_tables): build or load it");
  if (!f.features.reject) box.push("no REJECT target for IPv6 (ip6t_REJECT / nf_reject_ipv6): the firewall answers with icmp6-adm-prohibited");
  if (!f.packageManager) box.push("no supported package manager (apt, dnf, yum, urpmi, emerge, apk)");
  if (!f.serviceManager) box.push("no supported service manager (systemd, OpenRC, SysV init)");
  for (const other of f.otherFirewalls) box.push(OTHER_FIREWALL[other]);
  if (needs.lanInterface !== undefined && !names.includes(needs.lanInterface)) {
    problems.push(problem(["lanInterface"], `is '${needs.lanInterface}', which does not exist on the box (it has ${names.join(", ") || "none"}): name its LAN interface`));
  }
  if (needs.uplinkInterface && !names.includes(needs.uplinkInterface)) {
    problems.push(problem(["uplinkInterface"], `is '${needs.uplinkInterface}', which does not exist on the box (it has ${names.join(", ")}): name its uplink interface`));
  }
  switch (needs.tunnel) {
    case "wireguard":
      if (!f.features.wireguard && !f.features.tun) {
        box.push("neither the wireguard module nor TUN (/dev/net/tun) for wireguard-go: load one of them");
      }
      break;
    case "sit6in4":
      if (!f.features.sit) box.push("the kernel has no sit (CONFIG_IPV6_SIT) for 6in4: load the sit module, or use a wireguard tunnel");
      break;
    case "gw6c": {
      const mode = needs.gw6cTunnelMode ?? "v6anyv4";
      if (mode === "v4v6") box.push("gw6c tunnel_mode v4v6 is not supported on Linux: use v6anyv4, v6v4 or v6udpv4");
      if ((mode === "v6udpv4" || mode === "v6anyv4") && !f.features.tun) box.push("gw6c needs TUN (/dev/net/tun) for v6udpv4: load the tun module");
      if ((mode === "v6v4" || mode === "v6anyv4") && !f.features.sit) {
        box.push(
          mode === "v6anyv4"
            ? "the kernel has no sit, and with tunnel_mode v6anyv4 the broker may pick v6v4 (6in4): set tunnelMode v6udpv4, or load sit"
            : "the kernel has no sit (CONFIG_IPV6_SIT) for tunnel_mode v6v4: load sit or use v6udpv4",
        );
      }
      break;
    }
  }
  return [...box.map((m) => problem([], m)), ...problems];
}
