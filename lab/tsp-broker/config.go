package main

// The broker's configuration: a JSON file the lab writes into isp
// (lab/box-files.ts), or a test writes for its own broker.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"time"
)

// User is an account that may authenticate with PLAIN or DIGEST-MD5.
type User struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	// Slot fixes the user's addresses: tunnel address and delegated /64 (see assign.go).
	Slot int `json:"slot"`
}

// Config is the broker's whole configuration.
type Config struct {
	// Listen is the IPv4 address the UDP and TCP listeners bind; Port defaults to 3653.
	Listen string `json:"listen"`
	Port   int    `json:"port"`
	// ServerIPv4 is the tunnel's IPv4 end named in offers; defaults to Listen.
	ServerIPv4 string `json:"serverIPv4"`
	// TunInterface is the tun device the broker creates for v6udpv4 data (default tsp0).
	TunInterface string `json:"tunInterface"`
	// TunnelPrefix holds the tunnel ends: ::1 is the server, slot k's client is ::k:2 (a /64).
	TunnelPrefix string `json:"tunnelPrefix"`
	// DelegationPrefix is a /48 whose /64 number k is delegated to slot k in router mode.
	DelegationPrefix string `json:"delegationPrefix"`
	// DNSServer is the IPv6 address router-mode offers name as DNS server.
	DNSServer string `json:"dnsServer"`
	// Realm is the DIGEST-MD5 realm.
	Realm string `json:"realm"`
	// Versions the broker speaks; any other VERSION gets 302 (default 2.0.2, 2.0.1, 2.0.0).
	Versions []string `json:"versions"`
	// Anonymous allows AUTH=ANONYMOUS; anonymous clients get a slot per IPv4 source address.
	Anonymous bool `json:"anonymous"`
	// AnonymousFirstSlot is where anonymous slots start (default 256).
	AnonymousFirstSlot int    `json:"anonymousFirstSlot"`
	Users              []User `json:"users"`
	// Keepalive intervals in seconds: Default when the client asks for none,
	// otherwise the client's request clamped to [Min, Max].
	KeepaliveDefault int `json:"keepaliveDefault"`
	KeepaliveMin     int `json:"keepaliveMin"`
	KeepaliveMax     int `json:"keepaliveMax"`
	// SessionTimeout in seconds: a tunnel that sent nothing for this long
	// (at least 3 keepalive intervals) is removed with its routes.
	SessionTimeout int `json:"sessionTimeout"`
	// StateDir keeps the anonymous slot assignments across restarts.
	StateDir string `json:"stateDir"`
	// RunDir gets sessions.json, the live tunnels, for tests and people.
	RunDir string `json:"runDir"`
}

// Settings is a validated Config with parsed values.
type Settings struct {
	Config
	listen           netip.Addr
	serverIPv4       netip.Addr
	tunnelPrefix     netip.Prefix
	delegationPrefix netip.Prefix
	dnsServer        netip.Addr
	users            map[string]User
	sessionTimeout   time.Duration
}

func loadConfig(path string) (*Settings, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the configuration: %w", err)
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	s, err := c.validate()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (c Config) validate() (*Settings, error) {
	s := &Settings{Config: c, users: map[string]User{}}
	var err error
	if s.listen, err = netip.ParseAddr(c.Listen); err != nil || !s.listen.Is4() {
		return nil, fmt.Errorf("'listen' must be an IPv4 address, got %q", c.Listen)
	}
	if s.Port == 0 {
		s.Port = 3653
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, fmt.Errorf("'port' must be 1..65535, got %d", c.Port)
	}
	if s.ServerIPv4 == "" {
		s.ServerIPv4 = c.Listen
	}
	if s.serverIPv4, err = netip.ParseAddr(s.ServerIPv4); err != nil || !s.serverIPv4.Is4() {
		return nil, fmt.Errorf("'serverIPv4' must be an IPv4 address, got %q", c.ServerIPv4)
	}
	if s.listen.IsUnspecified() && c.ServerIPv4 == "" {
		return nil, fmt.Errorf("'serverIPv4' is required when 'listen' is 0.0.0.0")
	}
	if s.TunInterface == "" {
		s.TunInterface = "tsp0"
	}
	if len(s.TunInterface) > 15 {
		return nil, fmt.Errorf("'tunInterface' must be at most 15 bytes, got %q", c.TunInterface)
	}
	if s.tunnelPrefix, err = netip.ParsePrefix(c.TunnelPrefix); err != nil || !s.tunnelPrefix.Addr().Is6() || s.tunnelPrefix.Bits() != 64 {
		return nil, fmt.Errorf("'tunnelPrefix' must be an IPv6 /64, got %q", c.TunnelPrefix)
	}
	if s.tunnelPrefix.Masked() != s.tunnelPrefix {
		return nil, fmt.Errorf("'tunnelPrefix' %q has host bits set; write %s", c.TunnelPrefix, s.tunnelPrefix.Masked())
	}
	if s.delegationPrefix, err = netip.ParsePrefix(c.DelegationPrefix); err != nil || !s.delegationPrefix.Addr().Is6() || s.delegationPrefix.Bits() != 48 {
		return nil, fmt.Errorf("'delegationPrefix' must be an IPv6 /48, got %q", c.DelegationPrefix)
	}
	if s.delegationPrefix.Masked() != s.delegationPrefix {
		return nil, fmt.Errorf("'delegationPrefix' %q has host bits set; write %s", c.DelegationPrefix, s.delegationPrefix.Masked())
	}
	if s.dnsServer, err = netip.ParseAddr(c.DNSServer); err != nil || !s.dnsServer.Is6() {
		return nil, fmt.Errorf("'dnsServer' must be an IPv6 address, got %q", c.DNSServer)
	}
	if s.Realm == "" {
		s.Realm = "tsp-broker"
	}
	if len(s.Versions) == 0 {
		s.Versions = []string{"2.0.2", "2.0.1", "2.0.0"}
	}
	for _, v := range s.Versions {
		if v != "2.0.0" && v != "2.0.1" && v != "2.0.2" {
			return nil, fmt.Errorf("'versions' may hold 2.0.0, 2.0.1 and 2.0.2 (1.0.1 has no accept step and is not implemented), got %q", v)
		}
	}
	if s.AnonymousFirstSlot == 0 {
		s.AnonymousFirstSlot = 256
	}
	if s.AnonymousFirstSlot < 1 || s.AnonymousFirstSlot > maxSlot {
		return nil, fmt.Errorf("'anonymousFirstSlot' must be 1..%d, got %d", maxSlot, c.AnonymousFirstSlot)
	}
	slots := map[int]string{}
	for _, u := range c.Users {
		if u.Name == "" || len(u.Name) > 253 {
			return nil, fmt.Errorf("a user name must be 1..253 characters, got %q", u.Name)
		}
		if u.Password == "" {
			return nil, fmt.Errorf("user %q has no password", u.Name)
		}
		if _, dup := s.users[u.Name]; dup {
			return nil, fmt.Errorf("user %q is listed twice", u.Name)
		}
		if u.Slot < 1 || u.Slot >= s.AnonymousFirstSlot {
			return nil, fmt.Errorf("user %q: 'slot' must be 1..%d (below anonymousFirstSlot), got %d", u.Name, s.AnonymousFirstSlot-1, u.Slot)
		}
		if other, dup := slots[u.Slot]; dup {
			return nil, fmt.Errorf("users %q and %q share slot %d; give each its own", other, u.Name, u.Slot)
		}
		slots[u.Slot] = u.Name
		s.users[u.Name] = u
	}
	if s.KeepaliveDefault == 0 {
		s.KeepaliveDefault = 30
	}
	if s.KeepaliveMin == 0 {
		s.KeepaliveMin = 5
	}
	if s.KeepaliveMax == 0 {
		s.KeepaliveMax = 3600
	}
	if s.KeepaliveMin < 1 || s.KeepaliveMin > s.KeepaliveMax || s.KeepaliveDefault < s.KeepaliveMin || s.KeepaliveDefault > s.KeepaliveMax {
		return nil, fmt.Errorf("keepalive intervals must satisfy 1 <= keepaliveMin (%d) <= keepaliveDefault (%d) <= keepaliveMax (%d)",
			s.KeepaliveMin, s.KeepaliveDefault, s.KeepaliveMax)
	}
	if s.SessionTimeout == 0 {
		s.SessionTimeout = 120
	}
	if s.SessionTimeout < 1 {
		return nil, fmt.Errorf("'sessionTimeout' must be positive, got %d", c.SessionTimeout)
	}
	s.sessionTimeout = time.Duration(s.SessionTimeout) * time.Second
	if s.StateDir == "" || s.RunDir == "" {
		return nil, fmt.Errorf("'stateDir' and 'runDir' are required")
	}
	return s, nil
}

// keepaliveFor is the interval offered to a client that asked for `requested` seconds (0: none asked).
func (s *Settings) keepaliveFor(requested int) int {
	if requested <= 0 {
		return s.KeepaliveDefault
	}
	if requested < s.KeepaliveMin {
		return s.KeepaliveMin
	}
	if requested > s.KeepaliveMax {
		return s.KeepaliveMax
	}
	return requested
}

// timeoutFor is how long a tunnel with this keepalive interval may stay silent.
func (s *Settings) timeoutFor(keepalive int) time.Duration {
	min := 3 * time.Duration(keepalive) * time.Second
	if s.sessionTimeout > min {
		return s.sessionTimeout
	}
	return min
}
