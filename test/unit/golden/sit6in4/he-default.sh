#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# 6in4 tunnel he-ipv6: 2001:db8:ffff::2/64 over IPv4 198.51.100.2 -> 198.51.100.1.
# Usage: $0 up|down
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin

case "${1:-}" in
up)
    # Re-running converges: an existing tunnel is changed, address and routes replaced.
    if ip link show dev he-ipv6 >/dev/null 2>&1; then
        ip tunnel change he-ipv6 mode sit remote 198.51.100.1 local 198.51.100.2 ttl 255
    else
        ip tunnel add he-ipv6 mode sit remote 198.51.100.1 local 198.51.100.2 ttl 255
    fi
    ip link set dev he-ipv6 up
    ip link set dev he-ipv6 mtu 1480
    ip -6 addr replace 2001:db8:ffff::2/64 dev he-ipv6
    ip -6 route replace ::/0 dev he-ipv6
    ;;
down)
    # Best effort: what is already gone is fine.
    ip -6 route del ::/0 dev he-ipv6 2>/dev/null || true
    ip -6 addr del 2001:db8:ffff::2/64 dev he-ipv6 2>/dev/null || true
    ip link set dev he-ipv6 down 2>/dev/null || true
    ip tunnel del he-ipv6 2>/dev/null || true
    ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
