#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# ipv6gw-gw6c-template-hook: records what gw6c hands its template (TSP_*), then
# runs gw6c's own template (/usr/local/gw6c/template/linux.gw6c.sh) unchanged, with gw6c's arguments.
d=/run/ipv6gw-gw6c
if [ "$TSP_OPERATION" = TSP_TUNNEL_CREATION ]; then
  mkdir -p "$d" && chmod 0700 "$d"
  # One TSP_NAME='value' per line, quoted for sh, so the helper can source it.
  env | grep '^TSP_[A-Z0-9_]*=' | sed "s/'/'\\\\''/g; s/=/='/; s/\$/'/" > "$d/tsp.env.tmp" && mv -f "$d/tsp.env.tmp" "$d/tsp.env"
fi
/bin/sh /usr/local/gw6c/template/linux.gw6c.sh "$@"
rc=$?
case "$TSP_OPERATION" in
  # A tunnel came up: the restart back-off starts over.
  TSP_TUNNEL_CREATION) [ "$rc" -eq 0 ] && rm -f "$d/failures" ;;
  # gw6c tore its tunnel down itself: nothing is left to clean.
  TSP_TUNNEL_TEARDOWN) rm -f "$d/tsp.env" ;;
esac
exit "$rc"
