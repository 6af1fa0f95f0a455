// What a box is: distribution, kernel, interfaces, IPv6, netfilter, package
// and service managers, kernel features. Read-only.
//
// Two ways in: `getHostFacts()` runs in the program (like a provider's data
// source) so components can decide and preflight at preview, and the
// `HostFacts` resource records the same facts in state, where a refresh shows
// what changed (a new kernel, a removed module).

import * as pulumi from "@pulumi/pulumi";
import { Connection } from "./connection";
import { bigIntToIpv6 } from "../net/ipv6";
import { DETECT_PACKAGE_MANAGER, DETECT_SERVICE_MANAGER, PackageManager, ServiceManager } from "./platform";
import { HostResourceArgs, RemoteOpener, checkInputs, providerChanged, sshOpener, withConnection } from "./provider-kit";
import { Remote, mustRun } from "./remote";
import { openFreshRemote } from "./ssh-transport";
import { CommandFacts, cliCommandId, commandFacts } from "./command-facts";
import { ReferencedResource, providerReference } from "./provider-reference";

export interface InterfaceFacts {
  readonly name: string;
  /** Lower-case colon form; "" for interfaces without one (tun, sit). */
  readonly mac: string;
  readonly up: boolean;
  /** IPv6 addresses with prefix length, scope and flags, as `ip -6 addr` reports them. */
  readonly ipv6: readonly { readonly address: string; readonly scope: string; readonly tentative: boolean }[];
}

/** Kernel features the gateway needs; true when present as built-in, module or usable device. */
export interface KernelFeatures {
  readonly ipv6: boolean;
  readonly tun: boolean;
  readonly conntrack: boolean;
  readonly ip6tablesFilter: boolean;
  readonly reject: boolean;
  /** nf_tables: loaded, built, or a module the kernel can load (or an nft/iptables-nft that lists tables). */
  readonly nftables: boolean;
  readonly sit: boolean;
  readonly wireguard: boolean;
}

export interface HostFactsData {
  /** os-release ID ("debian", "fedora", "centos", "gentoo", "mandriva"...), or "unknown". */
  readonly distro: string;
  readonly distroVersion: string;
  readonly prettyName: string;
  /** `uname -r`. */
  readonly kernel: string;
  readonly interfaces: readonly InterfaceFacts[];
  /** IPv6 is compiled in and not disabled for the whole box. */
  readonly ipv6Enabled: boolean;
  /** "nf_tables", "legacy", or "" when ip6tables is not installed. */
  readonly ip6tablesBackend: string;
  readonly ip6tablesVersion: string;
  /** `nft --version`'s version ("1.0.6"), or "" when nft is not installed. */
  readonly nftVersion: string;
  readonly packageManager: PackageManager | "";
  readonly serviceManager: ServiceManager | "";
  /** Loaded modules (from /proc/modules). */
  readonly modules: readonly string[];
  readonly features: KernelFeatures;
  /** Which network configuration stack manages interfaces. */
  readonly networkStack: "networkmanager" | "networkd" | "ifupdown" | "ifcfg" | "none";
  /** net.ipv6.conf.all.forwarding at the time of reading. */
  readonly ipv6Forwarding: boolean;
  /**
   * Other firewall managers that would fight ours: "firewalld" (running),
   * "ufw" (enabled), "nftables" (nftables.service enabled with a config that
   * flushes the whole ruleset, as Debian's default /etc/nftables.conf does).
   */
  readonly otherFirewalls: readonly OtherFirewall[];
  /** How the stack's own SSH session reached the box; absent when sshd did not say. */
  readonly management?: ManagementPath;
}

export type OtherFirewall = "firewalld" | "ufw" | "nftables";

/**
 * How the session that read the facts reached the box (sshd's
 * SSH_CONNECTION): the address it came from, the box's address and port it
 * connected to, and the interface holding that address. A firewall must keep
 * this path open, or the stack locks itself out.
 */
export interface ManagementPath {
  readonly clientAddress: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** "" when the address is on no interface (e.g. reached through a NAT). */
  readonly interface: string;
}

/**
 * Prints one `key=value` line per fact. Features are probed by what works,
 * not only by module lists, because many kernels build them in (and since
 * Linux 4.19 nf_conntrack_ipv6 is part of nf_conntrack).
 */
export const FACTS_SCRIPT = [
  "if [ -r /etc/os-release ]; then . /etc/os-release",
  "elif [ -r /etc/gentoo-release ]; then ID=gentoo; PRETTY_NAME=$(cat /etc/gentoo-release)",
  "elif [ -r /etc/mandriva-release ]; then ID=mandriva; PRETTY_NAME=$(cat /etc/mandriva-release)",
  "elif [ -r /etc/redhat-release ]; then ID=centos; PRETTY_NAME=$(cat /etc/redhat-release); VERSION_ID=$(sed -n 's/[^0-9]*\\([0-9][0-9.]*\\).*/\\1/p' /etc/redhat-release)",
  "fi",
  'echo "distro=${ID:-unknown}"',
  'echo "distroVersion=${VERSION_ID:-}"',
  'echo "prettyName=${PRETTY_NAME:-}"',
  'echo "kernel=$(uname -r)"',
  "for d in /sys/class/net/*; do",
  '  n=${d##*/}; m=$(cat "$d/address" 2>/dev/null); f=$(cat "$d/flags" 2>/dev/null || echo 0)',
  '  echo "iface=$n $m $(( f & 1 ))"',
  "done",
  "if [ -r /proc/net/if_inet6 ]; then",
  '  echo "ipv6=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || echo 0)"',
  "  awk '{print \"addr6=\" $6 \" \" $1 \" \" $3 \" \" $4 \" \" $5}' /proc/net/if_inet6",
  "else",
  '  echo "ipv6=absent"',
  "fi",
  'echo "forwarding=$(cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null || echo 0)"',
  'if command -v ip6tables >/dev/null 2>&1; then echo "ip6tables=$(ip6tables -V 2>/dev/null | head -n 1)"; else echo "ip6tables="; fi',
  'if command -v nft >/dev/null 2>&1; then echo "nft=$(nft --version 2>/dev/null | head -n 1)"; nft list tables >/dev/null 2>&1 && echo "proc=nf_tables"; else echo "nft="; fi',
  '[ -n "$(find /lib/modules/$(uname -r) -name \'nf_tables.ko*\' 2>/dev/null | head -n 1)" ] && echo "kmod=nf_tables"',
  `echo "pkg=$(${DETECT_PACKAGE_MANAGER.replace(/\n/g, "; ")})"`,
  `echo "svc=$(${DETECT_SERVICE_MANAGER.replace(/\n/g, "; ")})"`,
  "[ -r /proc/modules ] && echo \"modules=$(awk '{print $1}' /proc/modules | tr '\\n' ' ')\"",
  'cfg=""',
  'if [ -r /proc/config.gz ]; then cfg=$(zcat /proc/config.gz 2>/dev/null); elif [ -r "/boot/config-$(uname -r)" ]; then cfg=$(cat "/boot/config-$(uname -r)"); fi',
  "for k in CONFIG_TUN CONFIG_IPV6_SIT CONFIG_WIREGUARD CONFIG_NF_CONNTRACK CONFIG_IP6_NF_IPTABLES CONFIG_IP6_NF_FILTER CONFIG_IP6_NF_TARGET_REJECT CONFIG_NF_TABLES; do",
  '  v=$(printf \'%s\\n\' "$cfg" | sed -n "s/^$k=//p"); [ -n "$v" ] && echo "kconfig=$k=$v"',
  "done",
  '[ -c /dev/net/tun ] && echo "dev=tun"',
  '[ -e /proc/sys/net/netfilter/nf_conntrack_max ] && echo "proc=conntrack"',
  '[ -r /proc/net/ip6_tables_names ] && echo "proc=ip6_tables"',
  'if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet NetworkManager 2>/dev/null; then echo "net=networkmanager"',
  'elif command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet systemd-networkd 2>/dev/null; then echo "net=networkd"',
  'elif [ -d /etc/sysconfig/network-scripts ]; then echo "net=ifcfg"',
  "elif [ -f /etc/network/interfaces ] && grep -qE '^\\s*iface\\s+[^l]' /etc/network/interfaces /etc/network/interfaces.d/* 2>/dev/null; then echo \"net=ifupdown\"",
  'else echo "net=none"; fi',
  'if { command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet firewalld 2>/dev/null; } || pidof firewalld >/dev/null 2>&1; then echo "otherfw=firewalld"; fi',
  "if { [ -x /usr/sbin/ufw ] || command -v ufw >/dev/null 2>&1; } && grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf; then echo \"otherfw=ufw\"; fi",
  "if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet nftables 2>/dev/null && grep -qs '^[[:space:]]*flush[[:space:]]\\+ruleset' /etc/nftables.conf /etc/sysconfig/nftables.conf; then echo \"otherfw=nftables\"; fi",
  // How this very session came in: SSH_CONNECTION="client cport server sport" (via sudo: IPV6GW_SSH_CONNECTION).
  'c=${SSH_CONNECTION:-$IPV6GW_SSH_CONNECTION}',
  // A link-local server address comes with its zone (fe80::1%eth0), which ip does not print: compare without it.
  'if [ -n "$c" ]; then set -- $c; echo "mgmt=$1 $3 $4 $(ip -o addr show 2>/dev/null | awk -v a="${3%%\\%*}" \'{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }\')"; fi',
  "true",
].join("\n");

function managementOf(line: string): { management?: ManagementPath } {
  const [clientAddress, serverAddress, port, iface = ""] = line.split(" ");
  if (!clientAddress || !serverAddress || !/^\d+$/.test(port ?? "")) return {};
  const bare = (a: string) => a.replace(/%.*$/, "");
  // The zone of a link-local address names the interface that holds it.
  const zone = /%([^%]+)$/.exec(serverAddress)?.[1] ?? "";
  return { management: { clientAddress: bare(clientAddress), serverAddress: bare(serverAddress), serverPort: Number(port), interface: iface || zone } };
}

/** IPv6 address from /proc/net/if_inet6's 32 hex digits. */
function hexToIpv6(hex: string): string {
  return bigIntToIpv6(BigInt(`0x${hex}`));
}

const SCOPES: Record<string, string> = { "00": "global", "20": "link", "10": "host", "40": "site" };

export function parseFacts(stdout: string): HostFactsData {
  const kv: [string, string][] = stdout
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
  const one = (k: string) => kv.find(([key]) => key === k)?.[1] ?? "";
  const all = (k: string) => kv.filter(([key]) => key === k).map(([, v]) => v);

  const addrs = all("addr6").map((v) => {
    const [name, hex, plen, scope, flags] = v.split(" ");
    return { name, address: `${hexToIpv6(hex)}/${parseInt(plen, 16)}`, scope: SCOPES[scope] ?? scope, tentative: (parseInt(flags, 16) & 0x40) !== 0 };
  });
  const interfaces = all("iface")
    .map((v) => {
      const [name, mac = "", up = "0"] = v.split(" ");
      return {
        name,
        mac: mac.toLowerCase(),
        up: up === "1",
        ipv6: addrs.filter((a) => a.name === name).map(({ address, scope, tentative }) => ({ address, scope, tentative })),
      };
    })
    .filter((i) => i.name !== "*");

  const ip6 = one("ip6tables");
  const backend = /nf_tables/.test(ip6) ? "nf_tables" : /legacy/.test(ip6) || /v1\.[0-7]\./.test(ip6) ? "legacy" : ip6 ? "legacy" : "";
  const modules = one("modules").split(" ").filter(Boolean).sort();
  const kconfig = new Map(all("kconfig").map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)] as [string, string]));
  const has = (mods: string[], configs: string[], probe = false) =>
    probe || mods.some((m) => modules.includes(m)) || configs.some((c) => kconfig.get(c) === "y" || kconfig.get(c) === "m");
  const procs = all("proc");
  const ipv6State = one("ipv6");

  return {
    distro: one("distro") || "unknown",
    distroVersion: one("distroVersion"),
    prettyName: one("prettyName"),
    kernel: one("kernel"),
    interfaces,
    ipv6Enabled: ipv6State === "0",
    ip6tablesBackend: backend,
    ip6tablesVersion: (/v(\d+\.\d+(\.\d+)?)/.exec(ip6) ?? [])[1] ?? "",
    nftVersion: (/v(\d+\.\d+(\.\d+)?)/.exec(one("nft")) ?? [])[1] ?? "",
    packageManager: (one("pkg") as PackageManager) || "",
    serviceManager: (one("svc") as ServiceManager) || "",
    modules,
    features: {
      ipv6: ipv6State !== "absent" && ipv6State !== "",
      tun: has(["tun"], ["CONFIG_TUN"], all("dev").includes("tun")),
      conntrack: has(["nf_conntrack", "nf_conntrack_ipv6"], ["CONFIG_NF_CONNTRACK"], procs.includes("conntrack")),
      ip6tablesFilter: has(["ip6table_filter", "ip6_tables", "nf_tables"], ["CONFIG_IP6_NF_FILTER", "CONFIG_IP6_NF_IPTABLES"], procs.includes("ip6_tables")),
      reject: has(["ip6t_REJECT", "nf_reject_ipv6", "nft_reject_inet", "nft_reject_ipv6"], ["CONFIG_IP6_NF_TARGET_REJECT"]),
      nftables: has(["nf_tables"], ["CONFIG_NF_TABLES"], procs.includes("nf_tables") || all("kmod").includes("nf_tables") || backend === "nf_tables"),
      sit: has(["sit"], ["CONFIG_IPV6_SIT"]),
      wireguard: has(["wireguard"], ["CONFIG_WIREGUARD"]),
    },
    networkStack: (one("net") as HostFactsData["networkStack"]) || "none",
    ipv6Forwarding: one("forwarding") === "1",
    otherFirewalls: [...new Set(all("otherfw"))].sort() as OtherFirewall[],
    ...managementOf(one("mgmt")),
  };
}

export async function readFacts(remote: Remote): Promise<HostFactsData> {
  return parseFacts(await mustRun(remote, "reading host facts", FACTS_SCRIPT));
}

/**
 * Reads a box's facts from the program, over a connection of its own that is
 * closed at once (an open one would keep the program from exiting). Runs at
 * preview too, so components can fail early and decide with plain values.
 */
export async function getHostFacts(connection: Connection): Promise<HostFactsData> {
  const remote = await openFreshRemote(connection);
  try {
    return await readFacts(remote);
  } finally {
    remote.close();
  }
}

/**
 * The facts a box keeps while we work on it: what it is, not what it is
 * doing. Addresses, forwarding, loaded modules, tunnel interfaces and the
 * installed ip6tables change as the stack builds the gateway, and would show
 * as drift on every refresh.
 */
export function stableFacts(f: HostFactsData): HostFactsData {
  return {
    ...f,
    interfaces: f.interfaces.filter((i) => i.mac !== "" && i.name !== "lo").map((i) => ({ name: i.name, mac: i.mac, up: true, ipv6: [] })),
    ipv6Forwarding: false,
    modules: [],
    // ip6tables comes and goes with the packages a stack installs.
    ip6tablesBackend: "",
    ip6tablesVersion: "",
    nftVersion: "",
    // Seen through the tools, which come and go too.
    features: { ...f.features, nftables: false },
  };
}

interface FactsState {
  connection: Connection;
  /** The stable facts the program read this command (HostFactsArgs.observed). */
  observed?: HostFactsData;
  facts?: HostFactsData;
}

export interface HostFactsArgs extends HostResourceArgs {
  /**
   * The box's facts as the program read them for this command (its preflight
   * judged them): recorded as they are, the box is not read again. Stable
   * facts only (stableFacts): the rest changes as the stack works. Refresh
   * reads the box. Default: read the box at create.
   */
  readonly observed?: pulumi.Input<HostFactsData>;
}

export class HostFactsProvider implements pulumi.dynamic.ResourceProvider {
  static readonly instance = new HostFactsProvider(sshOpener, () => commandFacts({ command: cliCommandId() }));
  /** What resources store as their provider (provider-reference.ts). */
  static readonly reference = providerReference(__filename, HostFactsProvider);
  /** The command's facts, once looked up (undefined inside: there is no command to remember for). */
  private remembered?: { facts: CommandFacts | undefined };
  /** @param command the command's facts (command-facts.ts), where a refresh leaves what it read for the program. */
  constructor(
    private readonly open: RemoteOpener,
    private readonly command: () => CommandFacts | undefined = () => undefined,
  ) {}

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    const { z } = require("zod") as typeof import("zod");
    const { factsValue } = require("../schema-kit") as typeof import("../schema-kit");
    return checkInputs(news, z.object({ observed: factsValue.optional() }));
  }

  /** The observed facts when the program passed them, else the box's. */
  private async factsOf(s: FactsState): Promise<HostFactsData> {
    return s.observed ?? stableFacts(await readFacts(await this.open(s.connection)));
  }

  /** Facts are observed, never desired: only a new version of this code is worth an update. */
  async diff(_id: string, olds: FactsState, news: FactsState) {
    return { changes: providerChanged(olds as never, news as never) };
  }

  async update(_id: string, _olds: FactsState, news: FactsState) {
    return { outs: { ...news, facts: await this.factsOf(news) } };
  }

  async create(inputs: FactsState) {
    const facts = await this.factsOf(inputs);
    return { id: `facts:${facts.kernel}`, outs: { ...inputs, facts } };
  }

  async read(id: string, props: FactsState) {
    const all = await readFacts(await this.open(props.connection));
    // A refresh before the program (up --refresh): the program takes these instead of dialling the box again.
    (this.remembered ??= { facts: this.command() }).facts?.put(props.connection, all);
    const facts = stableFacts(all);
    return { id, props: withConnection(props, { ...props, facts }) };
  }

  async delete() {
    // Read-only: nothing on the box belongs to this resource.
  }
}

/** A box's stable facts (see stableFacts), recorded in state; refresh re-reads them. */
export class HostFacts extends ReferencedResource {
  declare readonly facts: pulumi.Output<HostFactsData>;

  constructor(name: string, args: HostFactsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      HostFactsProvider.reference,
      name,
      { ...args, facts: undefined },
      { ...opts, additionalSecretOutputs: ["connection", ...(opts?.additionalSecretOutputs ?? [])] },
      "ipv6gw:host",
      "HostFacts",
    );
  }
}
