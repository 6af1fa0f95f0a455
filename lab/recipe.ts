// The recipes of the cached trees and of the local apt repository, as data.
// Each cache entry is keyed by a hash of its recipe, so changing anything
// here (a package, a line of a script) rebuilds exactly what depends on it.
// Pure: no I/O.
import { createHash } from "crypto";

export const DEBIAN = {
  suite: "bookworm",
  mirror: "http://deb.debian.org/debian",
  variant: "minbase",
} as const;

/** Installed in every box by debootstrap. */
export const BASE_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  "cron",
  "sudo",
  "iproute2",
  "iputils-ping",
  "procps",
  "curl",
  "netcat-openbsd",
  "kmod",
  "ca-certificates",
  "less",
  // What Ansible needs on a managed box (its modules run in python3; apt's uses python3-apt), as on
  // Debian's server and cloud images: the bench's Ansible baseline (bench/ansible) runs against the lab.
  "python3",
  "python3-apt",
] as const;

/**
 * Preinstalled in the infra layer that isp, outside and natbox boot from.
 * Kea and radvd serve the native scenario's isp (disabled in the layer, enabled per box).
 */
export const INFRA_PACKAGES = ["wireguard-go", "wireguard-tools", "iptables", "busybox", "kea-dhcp6-server", "radvd"] as const;

/** Units the infra layer's packages enable on install, which only the boxes that need them enable again. */
const INFRA_DISABLED_UNITS = ["kea-dhcp6-server.service", "radvd.service"];

/**
 * What the local apt repository offers a box (with everything they depend on
 * beyond the base tree): the packages the project may install, and the infra
 * layer's.
 */
export const APT_REPO_PACKAGES = [
  "radvd",
  "iptables",
  "iptables-persistent",
  "netfilter-persistent",
  "wireguard-go",
  "wireguard-tools",
  "net-tools",
  "ndisc6",
  "build-essential",
  "g++",
  "make",
  "libssl-dev",
  "tcpdump",
  "busybox",
  // The firewall's nftables backend; the preflight e2e also enables its service to show it is refused.
  "nftables",
  // Native scenario: the ISP's DHCPv6 server, and the DHCPv6-PD clients
  // Debian ships for a gateway to choose from (systemd-networkd is in systemd).
  "kea-dhcp6-server",
  "dhcpcd-base",
  "wide-dhcpv6-client",
  // Packets the firewall e2e tests send from outside (ESP, AH, ICMPv6 errors quoting a LAN connection).
  "python3-scapy",
] as const;

/** Where boxes see the local apt repository (bind-mounted read-only). */
export const APT_REPO_MOUNT = "/srv/ipv6gw-apt";

/** Fixed uids of the lab's users, so per-box files can be owned by them from the host. */
export const LAB_USERS = { admin: 1000, nosudo: 1001 } as const;

/**
 * Units by lab service: baked into the infra layer, except the TSP broker's,
 * which box-files.ts writes per box (its configuration holds the lab's
 * generated password, and its binary is bind-mounted from the cache).
 */
export const SERVICE_UNITS = {
  wireguard: { unit: "wg-quick@wg0.service", target: "/lib/systemd/system/wg-quick@.service" },
  httpd: { unit: "ipv6gw-lab-httpd.service", target: "/etc/systemd/system/ipv6gw-lab-httpd.service" },
  nat: { unit: "ipv6gw-lab-nat.service", target: "/etc/systemd/system/ipv6gw-lab-nat.service" },
  dhcp6: { unit: "kea-dhcp6-server.service", target: "/lib/systemd/system/kea-dhcp6-server.service" },
  radvd: { unit: "radvd.service", target: "/lib/systemd/system/radvd.service" },
  tsp: { unit: "ipv6gw-lab-tsp-broker.service", target: "/etc/systemd/system/ipv6gw-lab-tsp-broker.service" },
} as const;

/** Where the box running the TSP broker sees its cached build (bind-mounted read-only), and its configuration. */
export const TSP_BROKER_MOUNT = "/opt/ipv6gw-lab/tsp-broker";
export const TSP_BROKER_CONFIG = "/etc/ipv6gw-lab/tsp-broker.json";
/** The broker's live tunnels, as JSON (inside the box). */
export const TSP_BROKER_SESSIONS = "/run/ipv6gw-tsp-broker/sessions.json";

/** The page `outside` serves; its body contains this line. */
export const OUTSIDE_PAGE_LINE = "ipv6gw lab: hello from outside";

/** Units a container has no use for, or that would race the project's apt/dpkg runs. */
const MASKED_UNITS = [
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "dpkg-db-backup.timer",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "getty@tty1.service",
  "systemd-pstore.service",
];

const SSHD_CONFIG = `# ipv6gw lab: key-only logins, one pinned host key; sshd logs to the journal.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
LogLevel INFO
`;

/** Shell script run inside the freshly debootstrapped tree (under systemd-nspawn, no network). */
export function baseCustomizeScript(): string {
  return `set -eu
export DEBIAN_FRONTEND=noninteractive
useradd --create-home --uid ${LAB_USERS.admin} --user-group --shell /bin/bash admin
useradd --create-home --uid ${LAB_USERS.nosudo} --user-group --shell /bin/bash nosudo
usermod -p '*' admin
usermod -p '*' nosudo
install -d -m 0700 /root/.ssh
install -d -m 0700 -o admin -g admin /home/admin/.ssh
install -d -m 0700 -o nosudo -g nosudo /home/nosudo/.ssh
printf 'admin ALL=(ALL:ALL) NOPASSWD: ALL\\n' > /etc/sudoers.d/ipv6gw-lab-admin
chmod 0440 /etc/sudoers.d/ipv6gw-lab-admin
rm -f /etc/ssh/ssh_host_*
cat > /etc/ssh/sshd_config.d/ipv6gw-lab.conf <<'SSHD'
${SSHD_CONFIG}SSHD
echo 'deb [trusted=yes] file:${APT_REPO_MOUNT} ./' > /etc/apt/sources.list
printf 'Acquire::Languages "none";\\n' > /etc/apt/apt.conf.d/99ipv6gw-lab
rm -rf /var/lib/apt/lists/*
apt-get clean
systemctl mask ${MASKED_UNITS.join(" ")}
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\\nStorage=volatile\\n' > /etc/systemd/journald.conf.d/ipv6gw-lab.conf
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id
echo lab > /etc/hostname
`;
}

/** Shell script run in an overlay over the base tree, with the local apt repo mounted, to make the infra layer. */
export function infraCustomizeScript(): string {
  return `set -eu
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
apt-get update
apt-get install -y --no-install-recommends ${INFRA_PACKAGES.join(" ")}
systemctl disable ${INFRA_DISABLED_UNITS.join(" ")}
rm -f /usr/sbin/policy-rc.d
apt-get clean
rm -rf /var/lib/apt/lists/*
mkdir -p /srv/ipv6gw-lab/www
printf '<!doctype html>\\n<title>outside</title>\\n<pre>\\n${OUTSIDE_PAGE_LINE}\\n</pre>\\n' > /srv/ipv6gw-lab/www/index.html
cat > ${SERVICE_UNITS.httpd.target} <<'UNIT'
[Unit]
Description=ipv6gw lab: HTTP server on port 80 for outside-in checks
After=network.target

[Service]
ExecStart=/bin/busybox httpd -f -p [::]:80 -h /srv/ipv6gw-lab/www
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
UNIT
cat > ${SERVICE_UNITS.nat.target} <<'UNIT'
[Unit]
Description=ipv6gw lab: masquerade IPv4 from lan0 out of wan0
After=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/sysctl -w net.ipv4.ip_forward=1
ExecStart=/usr/sbin/iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
ExecStop=/usr/sbin/iptables -t nat -D POSTROUTING -o wan0 -j MASQUERADE

[Install]
WantedBy=multi-user.target
UNIT
`;
}

/** Short stable hash of any JSON-able value. */
export function recipeHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** Bump to force a rebuild of everything when the build procedure (not the data) changes. */
const RECIPE_VERSION = 1;

export function baseRecipe() {
  return { version: RECIPE_VERSION, debian: DEBIAN, packages: BASE_PACKAGES, script: baseCustomizeScript() };
}

export function aptRepoRecipe(baseHash: string) {
  return { version: RECIPE_VERSION, base: baseHash, debian: DEBIAN, packages: APT_REPO_PACKAGES };
}

export function infraRecipe(baseHash: string, repoHash: string) {
  return { version: RECIPE_VERSION, base: baseHash, repo: repoHash, packages: INFRA_PACKAGES, script: infraCustomizeScript() };
}

/** Cache directory names (under the trees directory), one per layer. */
export interface TreeKeys {
  readonly base: string;
  readonly repo: string;
  readonly infra: string;
}

/** The cache entries for the current recipes. */
export function cacheKeys(): TreeKeys {
  const base = `base-${recipeHash(baseRecipe())}`;
  const repo = `apt-repo-${recipeHash(aptRepoRecipe(base))}`;
  const infra = `infra-${recipeHash(infraRecipe(base, repo))}`;
  return { base, repo, infra };
}
