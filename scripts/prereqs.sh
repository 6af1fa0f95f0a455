#!/usr/bin/env bash
# Installs the Debian packages the host needs for the lab (npm run lab) and
# the tests that drive it. Idempotent, and fast when everything is there:
# installed packages are checked with dpkg first, apt runs only for what is
# missing.
#
#   systemd-container  systemd-nspawn boots the boxes
#   debootstrap        builds the boxes' Debian tree
#   dpkg-dev           dpkg-scanpackages indexes the local apt repository
#   iproute2           ip: namespaces, veth pairs, bridges
#   openssh-client     ssh and ssh-keygen: lab keys, host keys, logins
#   util-linux, mount  nsenter, mount, umount
#   procps             sysctl inside the boxes' namespaces
#   iptables           host-side firewall tools the tests may inspect with
#   gcc, libc6-dev, make  the gw6c stand-in's build (test/fixtures/gw6c-standin)
#   net-tools          ifconfig and route: the stand-in's template, run by its
#                      tests in scratch namespaces on the host
#   ansible-core       the bench's Ansible baseline (bench/ansible), which an
#                      e2e test keeps converging to the site's end state
set -euo pipefail

PACKAGES=(systemd-container debootstrap dpkg-dev iproute2 openssh-client util-linux mount procps iptables gcc libc6-dev make net-tools ansible-core)

say() { printf 'prereqs: %s\n' "$*" >&2; }
die() { printf 'prereqs: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it runs apt-get install); try: sudo bash scripts/prereqs.sh"
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian and its derivatives only"

# One dpkg-query for all of them (one each took a third of a second).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | awk '$2 " " $3 " " $4 == "install ok installed" { print $1 }' || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  printf '%s\n' "$installed" | grep -qxF -- "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  say "all present: ${PACKAGES[*]}"
  exit 0
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || die "apt-get update failed; is Debian's mirror reachable?"
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed (output above)"
say "installed: ${missing[*]}"
