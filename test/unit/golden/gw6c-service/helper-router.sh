#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# gw6c's runtime helper: prestart | cleanup | prefix (see components/render/gw6c-runtime.ts).
d=/run/ipv6gw-gw6c
template=/usr/local/gw6c/template/linux.gw6c.sh

# What a dead gw6c left (the LAN address, routes, its radvd): removed by gw6c's
# own teardown, run with what the template hook recorded. A live gw6c keeps it.
cleanup() {
  [ -f "$d/tsp.env" ] || return 0
  pidof gw6c >/dev/null 2>&1 && return 0
  if [ -f "$template" ]; then
    (set -a; . "$d/tsp.env"; TSP_OPERATION=TSP_TUNNEL_TEARDOWN; /bin/sh "$template") >> /usr/local/gw6c/logs/gw6c.log 2>&1 || true
  fi
  rm -f "$d/tsp.env"
  echo "ipv6gw: removed what a gw6c that is gone left behind" >> /usr/local/gw6c/logs/gw6c.log
}

case "$1" in
  prestart)
    mkdir -p "$d" && chmod 0700 "$d"
    cleanup
    # gw6c's template starts radvd with -u radvd -p /var/run/radvd/radvd.pid (Debian's radvd user is in group nogroup).
    install -d -o radvd -g "$(id -gn radvd)" -m 0755 /run/radvd || exit 1
    # Back off after failed starts, so a broker is not hammered (and does not ban us).
    n=$(cat "$d/failures" 2>/dev/null || echo 0)
    case "$n" in ''|*[!0-9]*) n=0 ;; esac
    if [ "$n" -gt 0 ]; then
      s=10; i=1; while [ "$i" -lt "$n" ] && [ "$s" -lt 600 ]; do s=$((s * 2)); i=$((i + 1)); done
      [ "$s" -gt 600 ] && s=600
      echo "ipv6gw: start $((n + 1)) after a failed one: waiting $s s" >> /usr/local/gw6c/logs/gw6c.log
      sleep "$s"
    fi
    echo $((n + 1)) > "$d/failures"
    ;;
  cleanup)
    cleanup
    ;;
  prefix)
    # The LAN /64 of the live tunnel only: a recorded prefix, a running gw6c, and its address on the LAN.
    [ -f "$d/tsp.env" ] && pidof gw6c >/dev/null 2>&1 || exit 1
    (set -a; . "$d/tsp.env"; [ -n "$TSP_PREFIX" ] || exit 1
      [ -n "$(ip -6 -o addr show dev "$TSP_HOME_INTERFACE" to "$TSP_PREFIX::1/128" 2>/dev/null)" ] || exit 1
      echo "$TSP_PREFIX::/64")
    ;;
  *)
    echo "usage: $0 prestart|cleanup|prefix" >&2
    exit 2
    ;;
esac
