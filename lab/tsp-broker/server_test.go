package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type testServer struct {
	*Server
	dev    *fakeDevice
	routes *fakeRoutes
	udp    *fakeUDP
	clock  time.Time
	logged []string
}

func newTestServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	s := testSettings(t, mutate...)
	a, err := newAssigner(s)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{dev: &fakeDevice{}, routes: newFakeRoutes(), udp: &fakeUDP{}, clock: time.Unix(1700000000, 0)}
	ts.Server = newServer(s, a, ts.dev, ts.routes, ts.udp, func(f string, args ...any) { ts.logged = append(ts.logged, sprintf(f, args...)) })
	ts.Server.now = func() time.Time { return ts.clock }
	return ts
}

// say sends one signalling datagram with this sequence and returns the reply payload.
func (ts *testServer) say(t *testing.T, peer string, seq uint32, msg string) string {
	t.Helper()
	n := len(ts.udp.sent)
	ts.handleDatagram(encodeRUDP(rudpHeader{Sequence: seq, Timestamp: seq * 7}, []byte(msg)), netip.MustParseAddrPort(peer))
	if len(ts.udp.sent) != n+1 {
		t.Fatalf("%q from %s got %d replies, want 1", msg, peer, len(ts.udp.sent)-n)
	}
	h, payload, err := parseRUDP(ts.udp.last().data)
	if err != nil || h.Sequence != seq || h.Timestamp != seq*7 {
		t.Fatalf("reply header %+v (%v), want sequence and timestamp echoed", h, err)
	}
	return string(payload)
}

func (ts *testServer) connect(t *testing.T, peer string, router bool) {
	t.Helper()
	ts.say(t, peer, 0xf00000f0, "VERSION=2.0.1\r\n")
	ts.say(t, peer, 0xf00000f1, "AUTHENTICATE PLAIN\r\n\x00")
	ts.say(t, peer, 0xf00000f2, "\x00todd\x00s3cret pass\r\n")
	req := hostRequest
	if router {
		req = gw6cRouterRequest
	}
	if offer := ts.say(t, peer, 0xf00000f3, string(framed(req))); !strings.Contains(offer, "200 Success") {
		t.Fatalf("offer %q", offer)
	}
	if ack := ts.say(t, peer, 0xf00000f4, acceptMsg); ack != "" {
		t.Fatalf("accept answered %q, want an empty ack", ack)
	}
}

func TestRetransmissionGetsTheSameReplyWithoutAdvancing(t *testing.T) {
	ts := newTestServer(t)
	peer := "198.51.100.2:40000"
	ts.say(t, peer, 0xf00000f0, "VERSION=2.0.1\r\n")
	challenge := ts.say(t, peer, 0xf00000f1, "AUTHENTICATE DIGEST-MD5\r\n\x00")
	if again := ts.say(t, peer, 0xf00000f1, "AUTHENTICATE DIGEST-MD5\r\n\x00"); again != challenge {
		t.Fatalf("retransmission got %q, first reply was %q", again, challenge)
	}
	if st := ts.negotiating[netip.MustParseAddrPort(peer)].conv.state; st != stDigest {
		t.Errorf("state %s after a retransmission, want digest", st)
	}
}

func TestRouterSessionRoutesAndCarriesPackets(t *testing.T) {
	ts := newTestServer(t)
	peer := "198.51.100.3:40000"
	ts.connect(t, peer, true)
	if !ts.routes.has("2001:db8:ffff:200::1:2/128") || !ts.routes.has("2001:db8:7777:1::/64") {
		t.Fatalf("routes %v", ts.routes.log)
	}
	// From the client: its tunnel address and its prefix may send, others may not.
	ts.handleDatagram(ipv6Packet("2001:db8:ffff:200::1:2", "2001:db8:ffff:200::1"), netip.MustParseAddrPort(peer))
	ts.handleDatagram(ipv6Packet("2001:db8:7777:1::1", "2001:db8:ffff::1"), netip.MustParseAddrPort(peer))
	ts.handleDatagram(ipv6Packet("2001:db8:7777:2::1", "2001:db8:ffff::1"), netip.MustParseAddrPort(peer))
	ts.handleDatagram(ipv6Packet("2001:db8:ffff:200::1:2", "2001:db8:ffff:200::1"), netip.MustParseAddrPort("198.51.100.3:40001"))
	if len(ts.dev.written) != 2 {
		t.Errorf("tun got %d packets, want 2 (spoofed source and unknown peer dropped)", len(ts.dev.written))
	}
	// Towards the client: its address and anything in its /64.
	for _, dst := range []string{"2001:db8:ffff:200::1:2", "2001:db8:7777:1:200:5eff:fe00:5311"} {
		ts.handleFromTun(ipv6Packet("2001:db8:ffff::1", dst))
		if got := ts.udp.last(); got.to != netip.MustParseAddrPort(peer) || got.data[0]>>4 != 6 {
			t.Errorf("packet to %s went to %s", dst, got.to)
		}
	}
	n := len(ts.udp.sent)
	ts.handleFromTun(ipv6Packet("2001:db8:ffff::1", "2001:db8:7777:2::1"))
	if len(ts.udp.sent) != n {
		t.Error("a packet for nobody's prefix was sent somewhere")
	}
	// A retransmitted accept still gets its ack.
	if ack := ts.say(t, peer, 0xf00000f4, acceptMsg); ack != "" {
		t.Errorf("retransmitted accept got %q", ack)
	}
}

func TestReconnectKeepsAddressesAndReplacesTheOldTunnel(t *testing.T) {
	ts := newTestServer(t)
	ts.connect(t, "198.51.100.3:40000", true)
	ts.connect(t, "198.51.100.3:40001", true)
	if len(ts.byPeer) != 1 || ts.byPeer[netip.MustParseAddrPort("198.51.100.3:40001")] == nil {
		t.Fatalf("sessions %v", ts.byPeer)
	}
	for _, l := range ts.routes.log {
		if strings.HasPrefix(l, "del ") {
			t.Errorf("reconnect removed a route it still needs: %v", ts.routes.log)
		}
	}
	ts.handleFromTun(ipv6Packet("2001:db8:ffff::1", "2001:db8:7777:1::1"))
	if got := ts.udp.last().to; got != netip.MustParseAddrPort("198.51.100.3:40001") {
		t.Errorf("traffic goes to %s, want the new tunnel", got)
	}
}

func TestSilentTunnelTimesOutWithItsRoutes(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.SessionTimeout = 60 })
	peer := "198.51.100.2:40000"
	ts.connect(t, peer, true)
	ts.clock = ts.clock.Add(80 * time.Second)
	ts.handleDatagram(ipv6Packet("2001:db8:ffff:200::1:2", "2001:db8:ffff:200::1"), netip.MustParseAddrPort(peer))
	ts.clock = ts.clock.Add(80 * time.Second)
	ts.sweep()
	if len(ts.byPeer) != 1 {
		t.Fatal("a tunnel that sent a keepalive 80 s ago (timeout: 3 x 30 s) was removed")
	}
	ts.clock = ts.clock.Add(20 * time.Second)
	ts.sweep()
	if len(ts.byPeer) != 0 || ts.routes.has("2001:db8:7777:1::/64") || ts.routes.has("2001:db8:ffff:200::1:2/128") {
		t.Fatalf("after 100 s of silence: sessions %d, routes %v", len(ts.byPeer), ts.routes.log)
	}
	raw, err := os.ReadFile(filepath.Join(ts.settings.RunDir, "sessions.json"))
	if err != nil || strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("sessions.json %q %v", raw, err)
	}
}

func TestSessionsFileListsLiveTunnels(t *testing.T) {
	ts := newTestServer(t)
	ts.connect(t, "198.51.100.3:40000", true)
	var list []map[string]any
	raw, _ := os.ReadFile(filepath.Join(ts.settings.RunDir, "sessions.json"))
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
		t.Fatalf("%s %v", raw, err)
	}
	want := map[string]any{"peer": "198.51.100.3:40000", "identity": "user todd", "hostType": "router", "address": "2001:db8:ffff:200::1:2", "prefix": "2001:db8:7777:1::/64", "keepalive": float64(30)}
	for k, v := range want {
		if list[0][k] != v {
			t.Errorf("%s = %v, want %v", k, list[0][k], v)
		}
	}
}

// Over real sockets on loopback: RUDP over UDP and the TCP framing, as the clients send them.
func TestOverLoopbackSockets(t *testing.T) {
	s := testSettings(t, func(c *Config) { c.Listen = "127.0.0.1" })
	a, _ := newAssigner(s)
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	srv := newServer(s, a, &fakeDevice{}, newFakeRoutes(), udp, func(string, ...any) {})
	go srv.serveUDP(udp)
	go srv.serveTCP(tcp)

	// RUDP: a DIGEST-MD5 login ending in the header-only poll.
	c, err := net.DialUDP("udp4", nil, udp.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seq := uint32(0xf00000f0)
	ask := func(msg string) string {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(encodeRUDP(rudpHeader{Sequence: seq}, []byte(msg))); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no reply to %q: %v", msg, err)
		}
		h, p, _ := parseRUDP(buf[:n])
		if h.Sequence != seq {
			t.Fatalf("reply sequence %x, want %x", h.Sequence, seq)
		}
		seq++
		return string(p)
	}
	if got := ask("VERSION=2.0.1\r\n"); !strings.HasPrefix(got, "CAPABILITY ") {
		t.Fatalf("capability %q", got)
	}
	ch, _ := decodeChallenge(ask("AUTHENTICATE DIGEST-MD5\r\n\x00"))
	ask(gw6cResponse("todd", ch["realm"], "s3cret pass", ch["nonce"], "127.0.0.1", 42))
	if got := ask(""); got != "200 Success\r\n" {
		t.Fatalf("poll after rspauth: %q", got)
	}

	// TCP: PLAIN with the AUTHENTICATE line and the credentials in one segment, then a request (refused: UDP only).
	conn, err := net.DialTCP("tcp4", nil, tcp.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	conn.Write([]byte("VERSION=2.0.1\r\n"))
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "CAPABILITY ") {
		t.Fatalf("TCP capability %q", line)
	}
	conn.Write([]byte("AUTHENTICATE PLAIN\r\n\x00\x00todd\x00s3cret pass\r\n"))
	if line, _ := r.ReadString('\n'); line != "200 Success\r\n" {
		t.Fatalf("TCP PLAIN %q", line)
	}
	conn.Write(framed(hostRequest))
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "Content-length: ") {
		t.Fatalf("TCP request reply %q", line)
	}
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "303 ") {
		t.Fatalf("TCP request status %q", line)
	}
}

func decodeChallenge(s string) (map[string]string, error) {
	raw, err := base64Decode(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	return parseDirectives(raw)
}
