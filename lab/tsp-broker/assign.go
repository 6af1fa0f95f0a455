package main

// Stable address assignment. Every client identity owns a slot k, and the
// slot fixes its addresses, so a client that reconnects (a new UDP port, a
// restarted gw6c) gets the same tunnel address and the same /64:
//
//   server tunnel end   <tunnelPrefix>::1
//   client tunnel end   <tunnelPrefix>::k:2          (group 7 = k)
//   delegated /64       <delegationPrefix /48>:k::/64 (group 4 = k)
//
// Users have fixed slots from the configuration. Anonymous clients are
// identified by their IPv4 source address (behind NAT: the NAT's address)
// and get the lowest free slot from anonymousFirstSlot up, remembered in
// <stateDir>/anonymous-slots.json across broker restarts.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
)

const maxSlot = 0xffff

// Assignment is what a slot gives a client.
type Assignment struct {
	Slot          int
	ClientAddress netip.Addr
	Prefix        netip.Prefix // the /64 delegated in router mode
}

func serverAddress(tunnelPrefix netip.Prefix) netip.Addr {
	b := tunnelPrefix.Addr().As16()
	b[15] = 1
	return netip.AddrFrom16(b)
}

func assignmentFor(s *Settings, slot int) Assignment {
	c := s.tunnelPrefix.Addr().As16()
	c[12], c[13], c[15] = byte(slot>>8), byte(slot), 2
	p := s.delegationPrefix.Addr().As16()
	p[6], p[7] = byte(slot>>8), byte(slot)
	return Assignment{Slot: slot, ClientAddress: netip.AddrFrom16(c), Prefix: netip.PrefixFrom(netip.AddrFrom16(p), 64)}
}

// expandedPrefix writes a prefix's address with all eight groups, four hex
// digits each: gw6c cuts TSP_PREFIX from the offer by character count.
func expandedPrefix(a netip.Addr) string {
	b := a.As16()
	out := make([]byte, 0, 39)
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, fmt.Sprintf("%02x%02x", b[i], b[i+1])...)
	}
	return string(out)
}

// Assigner hands out slots: fixed for users, remembered for anonymous sources.
type Assigner struct {
	mu        sync.Mutex
	settings  *Settings
	file      string
	anonymous map[string]int // IPv4 source address -> slot
}

func newAssigner(s *Settings) (*Assigner, error) {
	a := &Assigner{settings: s, file: filepath.Join(s.StateDir, "anonymous-slots.json"), anonymous: map[string]int{}}
	raw, err := os.ReadFile(a.file)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &a.anonymous); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON (%v); remove it to start afresh", a.file, err)
		}
	case os.IsNotExist(err):
	default:
		return nil, fmt.Errorf("cannot read %s: %w", a.file, err)
	}
	return a, nil
}

// forUser is the assignment of a configured user.
func (a *Assigner) forUser(name string) (Assignment, bool) {
	u, ok := a.settings.users[name]
	if !ok {
		return Assignment{}, false
	}
	return assignmentFor(a.settings, u.Slot), true
}

// forAnonymous is the assignment of an anonymous client seen from this IPv4 address.
func (a *Assigner) forAnonymous(source netip.Addr) (Assignment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := source.String()
	if slot, ok := a.anonymous[key]; ok {
		return assignmentFor(a.settings, slot), nil
	}
	used := map[int]bool{}
	for _, s := range a.anonymous {
		used[s] = true
	}
	for slot := a.settings.AnonymousFirstSlot; slot <= maxSlot; slot++ {
		if used[slot] {
			continue
		}
		a.anonymous[key] = slot
		if err := a.save(); err != nil {
			delete(a.anonymous, key)
			return Assignment{}, err
		}
		return assignmentFor(a.settings, slot), nil
	}
	return Assignment{}, fmt.Errorf("no free anonymous slot left (%d..%d are taken)", a.settings.AnonymousFirstSlot, maxSlot)
}

func (a *Assigner) save() error {
	if err := os.MkdirAll(filepath.Dir(a.file), 0o755); err != nil {
		return err
	}
	raw, _ := json.MarshalIndent(a.anonymous, "", "  ")
	tmp := a.file + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, a.file)
}
