#!/bin/sh
# Managed by ipv6gw (Pulumi). Changes made here are overwritten.
# The LANs' router advertisements follow the delegated prefix (RFC 9096).
# Run by dhcpcd on its events, and as `pd-hook render` by ipv6gw-radvd.service
# and ipv6gw-pd-refresh.timer. The delegated prefix is read here, on the box.
set -u
case "${1:-}" in
  render) event=0 ;;
  "") event=1; case "${reason:-}" in
       BOUND6|RENEW6|REBIND6|REBOOT6|DELEGATED6|EXPIRE6|RELEASE6|TIMEOUT) ;;
       *) exit 0 ;; # the ISP's RAs and the like change no LAN
     esac ;;
  *) echo "usage: $0 [render]" >&2; exit 2 ;;
esac
lans="eth0 eth1"
mkdir -p /run/ipv6gw /var/lib/ipv6gw/pd
exec 9>/run/ipv6gw/pd-hook.lock
flock 9
work=$(mktemp -d /run/ipv6gw/pd-hook.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
now=$(date +%s)
# 1. the delegated /64s each LAN holds, with the lease's remaining lifetimes
for lan in $lans; do ip -6 -o addr show dev "$lan" scope global dynamic 2>/dev/null | sed "s/^/$lan /"; done > "$work/held"
[ -f /var/lib/ipv6gw/pd/advertised ] || : > /var/lib/ipv6gw/pd/advertised
# 2. what to advertise, and the new record of what was advertised
awk -v now="$now" -v event="$event" -v plim=2700 -v vlim=5400 -v margin=22 -v hold=30 -v records="$work/records" -v state="$work/state" '
function pad(g) { while (length(g) < 4) g = "0" g; return g }
function expand(a,   i, n, m, h, t, hp, tp, out) {
  a = tolower(a); out = ""
  if (index(a, "::")) {
    h = substr(a, 1, index(a, "::") - 1); t = substr(a, index(a, "::") + 2)
    n = (h == "") ? 0 : split(h, hp, ":")
    m = (t == "") ? 0 : split(t, tp, ":")
    for (i = 1; i <= n; i++) out = out pad(hp[i]) ":"
    for (i = 1; i <= 8 - n - m; i++) out = out "0000:"
    for (i = 1; i <= m; i++) out = out pad(tp[i]) ":"
  } else {
    n = split(a, hp, ":")
    for (i = 1; i <= n; i++) out = out pad(hp[i]) ":"
  }
  return substr(out, 1, length(out) - 1)
}
function compress(full,   g, i, run, start, best, bestlen, out) {
  split(full, g, ":")
  for (i = 1; i <= 8; i++) { sub(/^0+/, "", g[i]); if (g[i] == "") g[i] = "0" }
  run = 0; bestlen = 0
  for (i = 1; i <= 8; i++) {
    if (g[i] == "0") { if (run == 0) start = i; run++; if (run > bestlen) { bestlen = run; best = start } } else run = 0
  }
  if (bestlen < 2) { out = g[1]; for (i = 2; i <= 8; i++) out = out ":" g[i]; return out }
  out = ""
  for (i = 1; i < best; i++) out = out (i > 1 ? ":" : "") g[i]
  out = out "::"
  for (i = best + bestlen; i <= 8; i++) out = out g[i] (i < 8 ? ":" : "")
  return out
}
function net64(a) { return compress(substr(expand(a), 1, 19) ":0000:0000:0000:0000") "/64" }
function secs(v) { sub(/sec$/, "", v); return v == "forever" ? -1 : v + 0 }
function cap(v, lim) { return (v < 0 || v > lim) ? lim : v }
function later(a, b) { return a > b ? a : b }
FILENAME == ARGV[1] { if (NF == 4) { until[$1 " " $2] = $3 + 0; was[$1 " " $2] = $4 }; next }
{
  addr = ""; p = 0; v = 0
  for (i = 2; i < NF; i++) {
    if ($i == "inet6") addr = $(i + 1)
    else if ($i == "valid_lft") v = secs($(i + 1))
    else if ($i == "preferred_lft") p = secs($(i + 1))
  }
  if (split(addr, a, "/") != 2 || a[2] != 64) next
  full = expand(a[1]); net = net64(a[1])
  k = $1 " " net
  # Held is current, deprecated too (preferred 0): its lease is still valid and routed, so hosts keep
  # their addresses and the LAN its default router until the lease runs out.
  pc = cap(p, plim) - margin; vc = cap(v, vlim) - margin
  if (pc < 0) pc = 0
  if (vc < pc) vc = pc
  current[k] = pc " " vc; key[k] = substr(full, 1, 19)
  until[k] = later(until[k], now + vc)
}
END {
  for (k in until) {
    split(k, f, " ")
    if (k in current) {
      kind = "current"
      printf "%s %s %s current %s\n", f[1], key[k], f[2], current[k] > records
    } else if (was[k] == "current" && !event && until[k] > now) {
      # While its lease lasts only dhcpcd withdraws a /64: a render between its events (at boot before
      # the lease is back, the timer) leaves one the LAN no longer holds out of the RAs, the addresses
      # of its hosts untouched. Once the lease has run out, any render withdraws it (dhcpcd may be late).
      printf "%s %s %d current\n", f[1], f[2], until[k] > state
      continue
    } else {
      kind = "stale"
      # Just withdrawn: lifetimes 0 for long enough that every host hears it.
      if (was[k] == "current") until[k] = later(until[k], now + hold)
      if (until[k] <= now) continue
      s = f[2]; sub(/\/64$/, "", s)
      printf "%s %s %s stale 0 0\n", f[1], substr(expand(s), 1, 19), f[2] > records
    }
    printf "%s %s %d %s\n", f[1], f[2], until[k], kind > state
  }
}
' /var/lib/ipv6gw/pd/advertised "$work/held" || exit 1
: >> "$work/records"; : >> "$work/state"
# 3. radvd's config, prefixes in address order
LC_ALL=C sort "$work/records" | while read -r lan key prefix kind p v; do
  if [ "$kind" = current ]; then
    : > "$work/$lan.current"
    printf '    prefix %s {\n        AdvOnLink on;\n        AdvAutonomous on;\n        AdvValidLifetime %s;\n        AdvPreferredLifetime %s;\n        DecrementLifetimes on;\n    };\n' "$prefix" "$v" "$p"
  else
    printf '    prefix %s {\n        AdvOnLink on;\n        AdvAutonomous on;\n        # Withdrawn (RFC 9096): hosts stop using it.\n        AdvValidLifetime 0;\n        AdvPreferredLifetime 0;\n    };\n' "$prefix"
  fi >> "$work/$lan.prefixes"
done
{
  echo '# Managed by ipv6gw (Pulumi). Changes made here are overwritten.'
  echo
  if [ -e "$work/eth0.current" ]; then
    cat <<'EOF'
interface eth0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
EOF
  else
    # No delegated /64 here: hosts must not route through us (RFC 7084 G-4).
    cat <<'EOF'
interface eth0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvDefaultLifetime 0;
EOF
  fi
  if [ -e "$work/eth0.prefixes" ]; then cat "$work/eth0.prefixes"; fi
  cat <<'EOF'
    prefix fd12:3456:789a::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
    DNSSL lab.example { };
};
EOF
  echo
  if [ -e "$work/eth1.current" ]; then
    cat <<'EOF'
interface eth1 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
EOF
  else
    # No delegated /64 here: hosts must not route through us (RFC 7084 G-4).
    cat <<'EOF'
interface eth1 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvDefaultLifetime 0;
EOF
  fi
  if [ -e "$work/eth1.prefixes" ]; then cat "$work/eth1.prefixes"; fi
  cat <<'EOF'
    RDNSS 2001:db8:ffff::53 { };
};
EOF
} > "$work/radvd.conf"
# 4. radvd checks it, then reloads (a config it refused would stop it)
if ! radvd --configtest --config "$work/radvd.conf" > "$work/check" 2>&1; then
  echo "ipv6gw pd-hook: radvd refuses the new config, the old one stays:" >&2; cat "$work/check" "$work/radvd.conf" >&2; exit 1
fi
mv -f "$work/radvd.conf" /run/ipv6gw/radvd.conf
LC_ALL=C sort "$work/state" > "$work/state.sorted"
if [ "$(cut -d' ' -f1,2,4 /var/lib/ipv6gw/pd/advertised)" != "$(cut -d' ' -f1,2,4 "$work/state.sorted")" ]; then
  echo "ipv6gw pd-hook (${reason:-$1}): advertising $(awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $4 }' "$work/state.sorted")" >&2
fi
mv -f "$work/state.sorted" /var/lib/ipv6gw/pd/advertised.new && mv -f /var/lib/ipv6gw/pd/advertised.new /var/lib/ipv6gw/pd/advertised
if systemctl -q is-active ipv6gw-radvd.service; then systemctl reload ipv6gw-radvd.service; fi
