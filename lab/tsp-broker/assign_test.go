package main

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSlotAddresses(t *testing.T) {
	s := testSettings(t)
	if got := serverAddress(s.tunnelPrefix); got != netip.MustParseAddr("2001:db8:ffff:200::1") {
		t.Errorf("server %s", got)
	}
	cases := []struct {
		slot           int
		client, prefix string
	}{
		{1, "2001:db8:ffff:200::1:2", "2001:db8:7777:1::/64"},
		{256, "2001:db8:ffff:200::100:2", "2001:db8:7777:100::/64"},
		{0xffff, "2001:db8:ffff:200::ffff:2", "2001:db8:7777:ffff::/64"},
	}
	for _, c := range cases {
		a := assignmentFor(s, c.slot)
		if a.ClientAddress.String() != c.client || a.Prefix.String() != c.prefix {
			t.Errorf("slot %d: %s %s, want %s %s", c.slot, a.ClientAddress, a.Prefix, c.client, c.prefix)
		}
	}
}

func TestUsersKeepTheirSlotAndAnonymousSourcesTheirsAcrossRestarts(t *testing.T) {
	s := testSettings(t)
	a, err := newAssigner(s)
	if err != nil {
		t.Fatal(err)
	}
	todd, ok := a.forUser("todd")
	if !ok || todd.Slot != 1 {
		t.Fatalf("todd %+v %v", todd, ok)
	}
	if _, ok := a.forUser("eve"); ok {
		t.Error("an unknown user got an assignment")
	}
	gw, _ := a.forAnonymous(netip.MustParseAddr("198.51.100.2"))
	nat, _ := a.forAnonymous(netip.MustParseAddr("198.51.100.3"))
	again, _ := a.forAnonymous(netip.MustParseAddr("198.51.100.2"))
	if gw.Slot != 256 || nat.Slot != 257 || again != gw {
		t.Errorf("anonymous slots %d %d %d", gw.Slot, nat.Slot, again.Slot)
	}
	// A restarted broker reads the assignments back.
	b, err := newAssigner(s)
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := b.forAnonymous(netip.MustParseAddr("198.51.100.3")); x.Slot != 257 {
		t.Errorf("after restart 198.51.100.3 has slot %d, want 257", x.Slot)
	}
}

func TestConfigValidationNamesTheField(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"listen":     {func(c *Config) { c.Listen = "2001:db8::1" }, "'listen' must be an IPv4 address"},
		"tunnel /64": {func(c *Config) { c.TunnelPrefix = "2001:db8:ffff:200::/56" }, "'tunnelPrefix' must be an IPv6 /64"},
		"host bits":  {func(c *Config) { c.DelegationPrefix = "2001:db8:7777:1::/48" }, "has host bits set"},
		"dup slot":   {func(c *Config) { c.Users = append(c.Users, User{Name: "ann", Password: "x", Slot: 1}) }, "share slot 1"},
		"slot range": {func(c *Config) { c.Users = []User{{Name: "ann", Password: "x", Slot: 300}} }, "'slot' must be 1..255"},
		"version":    {func(c *Config) { c.Versions = []string{"1.0.1"} }, "1.0.1 has no accept step"},
		"keepalive":  {func(c *Config) { c.KeepaliveMin = 60; c.KeepaliveDefault = 30 }, "keepaliveMin (60) <= keepaliveDefault (30)"},
	}
	for name, c := range cases {
		cfg := Config{Listen: "127.0.0.1", TunnelPrefix: "2001:db8:ffff:200::/64", DelegationPrefix: "2001:db8:7777::/48",
			DNSServer: "2001:db8:ffff::fe", Users: []User{{Name: "todd", Password: "pw", Slot: 1}}, StateDir: "/x", RunDir: "/y"}
		c.mutate(&cfg)
		if _, err := cfg.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}

func TestKeepaliveIsTheClientsWithinBounds(t *testing.T) {
	s := testSettings(t)
	for req, want := range map[int]int{0: 30, 1: 5, 10: 10, 99999: 3600} {
		if got := s.keepaliveFor(req); got != want {
			t.Errorf("keepaliveFor(%d) = %d, want %d", req, got, want)
		}
	}
}
