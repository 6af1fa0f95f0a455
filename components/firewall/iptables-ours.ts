// What of the live ip6tables filter table is ours, and how ours is swapped
// for another version without touching anything else. One awk program, run
// on the box over `ip6tables-save -t filter` at the moment it acts (an apply,
// a rollback minutes later, a read), so whatever Docker, fail2ban or libvirt
// added in the meantime is seen and left alone.
//
// Ours: every rule whose comment starts with "ipv6gw:" in a built-in chain
// (the jumps into our chains), and every rule of our chains. Our chains: the
// ones the wanted text declares, the targets of those jumps, and any chain
// holding a rule with our comment.
//
// mode=ours prints ours in the renderer's form (see render-ruleset.ts).
// mode=plan prints an `ip6tables-restore --noflush` input that replaces ours
// with the wanted text in one transaction: our chains declared (created or
// flushed), our jumps deleted (each by its full rule spec), chains no longer
// wanted deleted, the wanted rules appended. Built-in chains, their policies
// and every other chain are not in it, so they stay as they are.
//
// Variables: want=<file with the wanted text> (may be /dev/null), chains="<names>" (more of our chains).

export const IPTABLES_OURS_AWK = String.raw`
function builtin(c) { return c == "INPUT" || c == "FORWARD" || c == "OUTPUT" }
function ourcomment(l) { return index(l, "--comment \"ipv6gw:") > 0 || index(l, "--comment ipv6gw:") > 0 }
BEGIN {
  n = split(chains, a, " "); for (i = 1; i <= n; i++) mine[a[i]] = 1
  if (want != "") while ((getline l < want) > 0) {
    if (l ~ /^:/) { split(substr(l, 2), a, " "); if (!builtin(a[1])) { wanted[a[1]] = 1; mine[a[1]] = 1; wchains[++nw] = a[1] } }
    else if (l ~ /^-A /) wrules[++nr] = l
  }
}
/^\*/ { infilter = ($0 == "*filter"); next }
!infilter || /^#/ { next }
/^:/ { split(substr($0, 2), a, " "); if (!builtin(a[1])) { exists[a[1]] = 1; order[++nc] = a[1] }; next }
/^-A / {
  n = split($0, f, " "); c = f[2]
  lines[++nl] = $0; lchain[nl] = c
  if (ourcomment($0)) {
    if (builtin(c)) { for (i = 3; i < n; i++) if (f[i] == "-j" || f[i] == "-g") mine[f[i + 1]] = 1 }
    else mine[c] = 1
  }
}
END {
  print "*filter"
  if (mode == "ours") {
    for (i = 1; i <= nc; i++) if (order[i] in mine) print ":" order[i] " -"
    for (i = 1; i <= nl; i++) if (builtin(lchain[i]) ? ourcomment(lines[i]) : (lchain[i] in mine)) print lines[i]
  } else {
    for (i = 1; i <= nw; i++) print ":" wchains[i] " -"
    for (i = 1; i <= nc; i++) if ((order[i] in mine) && !(order[i] in wanted)) print ":" order[i] " -"
    for (i = 1; i <= nl; i++) if (builtin(lchain[i]) && ourcomment(lines[i])) { l = lines[i]; sub(/^-A /, "-D ", l); print l }
    for (i = 1; i <= nc; i++) if ((order[i] in mine) && !(order[i] in wanted)) print "-X " order[i]
    for (i = 1; i <= nr; i++) print wrules[i]
  }
  print "COMMIT"
}
`;
