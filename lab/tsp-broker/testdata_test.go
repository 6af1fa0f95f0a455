package main

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

// testSettings is a valid configuration for tests (state in a temp dir).
func testSettings(t *testing.T, mutate ...func(*Config)) *Settings {
	t.Helper()
	c := Config{
		Listen:           "127.0.0.1",
		TunnelPrefix:     "2001:db8:ffff:200::/64",
		DelegationPrefix: "2001:db8:7777::/48",
		DNSServer:        "2001:db8:ffff::fe",
		Realm:            "ipv6gw-lab",
		Anonymous:        true,
		Users:            []User{{Name: "todd", Password: "s3cret pass", Slot: 1}},
		StateDir:         t.TempDir(),
		RunDir:           t.TempDir(),
	}
	for _, m := range mutate {
		m(&c)
	}
	s, err := c.validate()
	if err != nil {
		t.Fatalf("test settings invalid: %v", err)
	}
	return s
}

// fakeDevice records what the server writes into the tun.
type fakeDevice struct {
	mu      sync.Mutex
	written [][]byte
}

func (d *fakeDevice) ReadPacket([]byte) (int, error) { select {} }
func (d *fakeDevice) WritePacket(p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.written = append(d.written, append([]byte{}, p...))
	return nil
}

// fakeRoutes keeps the route table the server asked for.
type fakeRoutes struct {
	mu     sync.Mutex
	routes map[netip.Prefix]bool
	log    []string
}

func newFakeRoutes() *fakeRoutes { return &fakeRoutes{routes: map[netip.Prefix]bool{}} }
func (r *fakeRoutes) Add(p netip.Prefix) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[p] = true
	r.log = append(r.log, "add "+p.String())
	return nil
}
func (r *fakeRoutes) Del(p netip.Prefix) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.routes, p)
	r.log = append(r.log, "del "+p.String())
	return nil
}
func (r *fakeRoutes) has(p string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.routes[netip.MustParsePrefix(p)]
}

// fakeUDP records datagrams the server sends.
type sent struct {
	to   netip.AddrPort
	data []byte
}
type fakeUDP struct {
	mu   sync.Mutex
	sent []sent
}

func (u *fakeUDP) WriteToUDPAddrPort(b []byte, a netip.AddrPort) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sent = append(u.sent, sent{a, append([]byte{}, b...)})
	return len(b), nil
}
func (u *fakeUDP) last() sent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sent[len(u.sent)-1]
}

// ipv6Packet is a minimal IPv6 header (+ payload) from src to dst.
func ipv6Packet(src, dst string, payload ...byte) []byte {
	p := make([]byte, 40+len(payload))
	p[0] = 0x60
	p[4], p[5] = byte(len(payload)>>8), byte(len(payload))
	p[6], p[7] = 59, 64
	s := netip.MustParseAddr(src).As16()
	d := netip.MustParseAddr(dst).As16()
	copy(p[8:24], s[:])
	copy(p[24:40], d[:])
	copy(p[40:], payload)
	return p
}

func sprintf(f string, args ...any) string { return fmt.Sprintf(f, args...) }

func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}
