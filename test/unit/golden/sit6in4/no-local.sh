#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# 6in4 tunnel tun6in4: 2001:db8:ffff::2/64 over IPv4 (kernel-chosen source) -> 198.51.100.1.
# Usage: $0 up|down
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin

case "${1:-}" in
up)
    # Re-running converges: an existing tunnel is changed, address and routes replaced.
    if ip link show dev tun6in4 >/dev/null 2>&1; then
        ip tunnel change tun6in4 mode sit remote 198.51.100.1 ttl 255
    else
        ip tunnel add tun6in4 mode sit remote 198.51.100.1 ttl 255
    fi
    ip link set dev tun6in4 up
    ip link set dev tun6in4 mtu 1480
    ip -6 addr replace 2001:db8:ffff::2/64 dev tun6in4
    ip -6 route replace ::/0 dev tun6in4
    ;;
down)
    # Best effort: what is already gone is fine.
    ip -6 route del ::/0 dev tun6in4 2>/dev/null || true
    ip -6 addr del 2001:db8:ffff::2/64 dev tun6in4 2>/dev/null || true
    ip link set dev tun6in4 down 2>/dev/null || true
    ip tunnel del tun6in4 2>/dev/null || true
    ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
