// One table of what the firewall lets through on the lab, per preset, and the
// probes that check it on the real boxes. The same table holds for both
// backends: that is what the firewall e2e tests assert.
//
// A probe's verdict: "through" (the packet reached its target: the target
// answered, or a capture on the target saw it), "refused" (the gateway
// answered with ICMPv6 administratively prohibited), or "dropped" (neither).
// Packets are built with scapy (Debian's python3-scapy, from the lab's apt
// repository) on outside; captures run tcpdump on the target.
import { labSh } from "../../lab/client";

export type Verdict = "through" | "refused" | "dropped";

export const OUTSIDE = "2001:db8:ffff::1";
export const C1 = "2001:db8:8888:0:200:5eff:fe00:5311";
export const GATEWAY = "2001:db8:8888::1";

export interface Probe {
  readonly name: string;
  readonly expected: { readonly howto: Verdict; readonly rfc4890: Verdict };
}

/** The table: from outside to a client and to the gateway, from the LAN, and on the gateway itself. */
export const VERDICTS: readonly Probe[] = [
  { name: "outside -> client: TCP SYN to port 80", expected: { howto: "refused", rfc4890: "refused" } },
  { name: "outside -> client: UDP to port 9", expected: { howto: "refused", rfc4890: "refused" } },
  { name: "outside -> client: ICMPv6 echo-request", expected: { howto: "through", rfc4890: "through" } },
  { name: "outside -> client: ICMPv6 packet-too-big quoting the client's connection out", expected: { howto: "through", rfc4890: "through" } },
  { name: "outside -> client: ESP", expected: { howto: "through", rfc4890: "through" } },
  // Step 17 lets ESP through but not AH; RFC 6092 REC-21 asks for AH too.
  { name: "outside -> client: AH", expected: { howto: "refused", rfc4890: "through" } },
  { name: "outside -> gateway: TCP SYN to port 22", expected: { howto: "refused", rfc4890: "refused" } },
  { name: "outside -> gateway: UDP to port 9", expected: { howto: "refused", rfc4890: "refused" } },
  { name: "outside -> gateway: ICMPv6 echo-request", expected: { howto: "through", rfc4890: "through" } },
  { name: "client -> outside: TCP to port 80, and the answer back", expected: { howto: "through", rfc4890: "through" } },
  { name: "client -> gateway: TCP SYN to port 22", expected: { howto: "through", rfc4890: "through" } },
  { name: "gateway -> itself over loopback: TCP to port 22", expected: { howto: "through", rfc4890: "through" } },
];

/** Sends one packet from outside and prints how it was answered: answered, refused, other-error or none. */
export const PROBE_PY = String.raw`
import sys
from scapy.all import IPv6, TCP, UDP, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6PacketTooBig, ICMPv6DestUnreach, AsyncSniffer, conf, raw
from scapy.layers.inet6 import in6_chksum
from scapy.layers.ipsec import ESP, AH
conf.verb = 0
dst, kind = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
if kind == "tcp":
    p = IPv6(src="${OUTSIDE}", dst=dst) / TCP(sport=43210, dport=int(arg), flags="S")
elif kind == "udp":
    p = IPv6(src="${OUTSIDE}", dst=dst) / UDP(sport=43210, dport=int(arg)) / b"ipv6gw"
elif kind == "echo":
    p = IPv6(src="${OUTSIDE}", dst=dst) / ICMPv6EchoRequest(id=4242, seq=1)
elif kind == "esp":
    p = IPv6(src="${OUTSIDE}", dst=dst) / ESP(spi=4242, seq=1, data=b"ipv6gw-esp-probe")
elif kind == "ah":
    # A UDP datagram behind the AH header, its checksum computed here (scapy cannot see through AH), and the
    # AH length set (scapy leaves it 0): otherwise conntrack finds no protocol and calls the packet invalid.
    u = UDP(raw(UDP(sport=43210, dport=9, chksum=0) / b"ipv6gw-ah-probe"))
    u.chksum = in6_chksum(17, IPv6(src="${OUTSIDE}", dst=dst), raw(u))
    p = IPv6(src="${OUTSIDE}", dst=dst) / AH(spi=4242, seq=1, nh=17, payloadlen=4, icv=b"\x00" * 12) / u
elif kind == "ptb":
    # An error a router on the way would send about the client's connection out (source port arg, to our port 80).
    p = IPv6(src=dst.split(",")[1], dst=dst.split(",")[0]) / ICMPv6PacketTooBig(mtu=1280) / IPv6(src=dst.split(",")[0], dst=dst.split(",")[1], hlim=63) / TCP(sport=int(arg), dport=80, flags="A")
    dst = dst.split(",")[0]
# The interface towards the target: scapy's default is the IPv4 default route's, which outside has none of.
iface = conf.route6.route(dst)[0]
s = AsyncSniffer(iface=iface, filter="ip6 and not src host ${OUTSIDE}", timeout=3, store=True)
s.start()
import socket, time
time.sleep(0.5)
# Sent through the kernel (a raw socket with our own header), which finds the next hop's MAC itself:
# scapy's own neighbour discovery sometimes gives up and broadcasts.
out_sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
out_sock.sendto(raw(p), (dst, 0))
s.join()
out = "none"
for r in s.results or []:
    if ICMPv6DestUnreach in r:
        out = "refused" if r[ICMPv6DestUnreach].code == 1 else ("answered" if r[ICMPv6DestUnreach].code == 4 else "other-error")
        break
    if (TCP in r and r[TCP].dport == 43210) or ICMPv6EchoReply in r:
        out = "answered"
        break
print(out, iface, len(s.results or []))
`;

function outside(kind: string, dst: string, arg = ""): string {
  labSh("outside", `cat > /tmp/ipv6gw-probe.py <<'PY'\n${PROBE_PY}\nPY`);
  // The verdict, then for a failing test's message: the interface and how many packets came back.
  return labSh("outside", `python3 /tmp/ipv6gw-probe.py '${dst}' ${kind} ${arg}`, 60_000).trim().split(" ")[0];
}

/** Sends from outside while tcpdump on `box` waits for the packet; "through" if it saw it. */
function outsideSeenOn(box: string, filter: string, kind: string, dst: string, arg = ""): Verdict {
  labSh(box, `rm -f /tmp/ipv6gw-seen; (timeout 15 tcpdump -ni eth0 -c 1 -l '${filter}' > /tmp/ipv6gw-seen 2>/dev/null & echo $! > /tmp/ipv6gw-seen.pid); sleep 1`);
  const answer = outside(kind, dst, arg);
  const seen = labSh(
    box,
    'p=$(cat /tmp/ipv6gw-seen.pid); i=0; while [ $i -lt 10 ] && kill -0 "$p" 2>/dev/null && [ ! -s /tmp/ipv6gw-seen ]; do sleep 0.5; i=$((i+1)); done; cat /tmp/ipv6gw-seen; kill "$p" 2>/dev/null; rm -f /tmp/ipv6gw-seen.pid; true',
  ).trim();
  return seen !== "" ? "through" : answer === "refused" ? "refused" : "dropped";
}

function fromOutside(kind: string, dst: string, arg = ""): Verdict {
  const a = outside(kind, dst, arg);
  return a === "answered" ? "through" : a === "refused" ? "refused" : "dropped";
}

/** A TCP connect from inside a box: through when it connects, refused on EACCES (ICMPv6 adm-prohibited). */
function connectFrom(box: string, address: string, port: number): Verdict {
  const out = labSh(box, `timeout 8 bash -c 'exec 3<>/dev/tcp/${address}/${port}' 2>&1 && echo connected || true`);
  return out.includes("connected") ? "through" : out.includes("Permission denied") ? "refused" : "dropped";
}

/** Runs every probe of the table on the lab as it stands now. */
export function runProbes(): Record<string, Verdict> {
  const v: Record<string, Verdict> = {};
  v[VERDICTS[0].name] = fromOutside("tcp", C1, "80");
  v[VERDICTS[1].name] = fromOutside("udp", C1, "9");
  v[VERDICTS[2].name] = fromOutside("echo", C1);
  // The client's connection out, which the packet-too-big quotes (conntrack keeps it after it closes).
  const port = labSh("c1", `curl -s -o /dev/null -m 10 --local-port 40000-40999 -w '%{local_port}' 'http://[${OUTSIDE}]/'`).trim();
  v[VERDICTS[3].name] = outsideSeenOn("c1", "icmp6 and ip6[40] == 2", "ptb", `${C1},${OUTSIDE}`, port);
  v[VERDICTS[4].name] = outsideSeenOn("c1", "ip6 proto 50", "esp", C1);
  v[VERDICTS[5].name] = outsideSeenOn("c1", "ip6 proto 51", "ah", C1);
  v[VERDICTS[6].name] = fromOutside("tcp", GATEWAY, "22");
  v[VERDICTS[7].name] = fromOutside("udp", GATEWAY, "9");
  v[VERDICTS[8].name] = fromOutside("echo", GATEWAY);
  v[VERDICTS[9].name] = labSh("c1", `curl -fsS -m 10 'http://[${OUTSIDE}]/' >/dev/null && echo ok || true`).includes("ok") ? "through" : "dropped";
  v[VERDICTS[10].name] = connectFrom("c1", GATEWAY, 22);
  v[VERDICTS[11].name] = connectFrom("gw", "::1", 22);
  return v;
}

/** The table's column for a preset, keyed like runProbes' result. */
export function expectedFor(preset: "howto" | "rfc4890"): Record<string, Verdict> {
  return Object.fromEntries(VERDICTS.map((p) => [p.name, p.expected[preset]]));
}

/** tcpdump and scapy where the probes run (the lab's offline apt repository has both). */
export function installProbeTools(): void {
  const install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends";
  labSh("outside", `apt-get update -q >/dev/null && ${install} python3-scapy tcpdump >/dev/null`, 300_000);
  labSh("c1", `apt-get update -q >/dev/null && ${install} tcpdump >/dev/null`, 300_000);
}
