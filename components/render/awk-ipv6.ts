// IPv6 address text in POSIX awk (Debian's awk is mawk: no gawk extensions),
// for scripts that must work out, on the box, what only the box knows: the
// /64 of an address dhcpcd put there. Pure text; unit tests run it with awk.

/**
 * pad(g): a group to four hex digits. expand(a): an address (no length, no
 * zone) as eight four-digit groups, "2001:0db8:...". compress(full): eight
 * full groups back to RFC 5952 text (lower case, no leading zeros, the
 * first longest run of two or more zero groups as "::").
 */
export const AWK_IPV6_FUNCTIONS = String.raw`
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
`.trim();
