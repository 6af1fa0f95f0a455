#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# 6in4 tunnel sit-he: 2001:db8:ffff::2/64 over IPv4 192.168.1.2 -> 203.0.113.1.
# Usage: $0 up|down
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin

case "${1:-}" in
up)
    # Re-running converges: an existing tunnel is changed, address and routes replaced.
    if ip link show dev sit-he >/dev/null 2>&1; then
        ip tunnel change sit-he mode sit remote 203.0.113.1 local 192.168.1.2 ttl 64
    else
        ip tunnel add sit-he mode sit remote 203.0.113.1 local 192.168.1.2 ttl 64
    fi
    ip link set dev sit-he up
    ip link set dev sit-he mtu 1472
    ip -6 addr replace 2001:db8:ffff::2/64 dev sit-he
    ip -6 route replace ::/0 dev sit-he
    ip -6 route replace 2000::/3 dev sit-he
    ;;
down)
    # Best effort: what is already gone is fine.
    ip -6 route del 2000::/3 dev sit-he 2>/dev/null || true
    ip -6 route del ::/0 dev sit-he 2>/dev/null || true
    ip -6 addr del 2001:db8:ffff::2/64 dev sit-he 2>/dev/null || true
    ip link set dev sit-he down 2>/dev/null || true
    ip tunnel del sit-he 2>/dev/null || true
    ;;
*)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
