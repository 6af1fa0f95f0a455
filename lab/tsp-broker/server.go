package main

// The broker's running state: negotiations by client address and port,
// established v6udpv4 tunnels (sessions), and the data path between the
// UDP socket and the tun device.

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// packetDevice is the tun device: whole IPv6 packets, no extra header.
type packetDevice interface {
	ReadPacket(buf []byte) (int, error)
	WritePacket(pkt []byte) error
}

// routeTable routes an address or prefix into the tun device.
type routeTable interface {
	Add(p netip.Prefix) error
	Del(p netip.Prefix) error
}

// udpSender is the listening UDP socket as the server uses it.
type udpSender interface {
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// session is an established v6udpv4 tunnel.
type session struct {
	Peer       netip.AddrPort `json:"peer"`
	Identity   string         `json:"identity"`
	HostType   string         `json:"hostType"`
	Address    netip.Addr     `json:"address"`
	Prefix     string         `json:"prefix,omitempty"`
	Keepalive  int            `json:"keepalive"`
	Since      time.Time      `json:"since"`
	LastSeen   time.Time      `json:"lastSeen"`
	PacketsIn  uint64         `json:"packetsIn"`
	PacketsOut uint64         `json:"packetsOut"`
	Dropped    uint64         `json:"droppedSource"`
	prefix     netip.Prefix
	conv       *conversation
	rudp       rudpCache
}

// rudpCache answers a retransmitted signalling datagram with the reply it already got.
type rudpCache struct {
	valid    bool
	sequence uint32
	reply    []byte
}

type negotiation struct {
	conv     *conversation
	rudp     rudpCache
	lastSeen time.Time
}

// Server holds every negotiation and session; one mutex guards them.
type Server struct {
	settings *Settings
	assigner *Assigner
	dev      packetDevice
	routes   routeTable
	udp      udpSender
	log      func(format string, args ...any)
	now      func() time.Time

	mu          sync.Mutex
	negotiating map[netip.AddrPort]*negotiation
	byPeer      map[netip.AddrPort]*session
	byIdentity  map[string]*session
	byAddress   map[netip.Addr]*session
	byPrefix    map[netip.Prefix]*session
}

func newServer(s *Settings, a *Assigner, dev packetDevice, routes routeTable, udp udpSender, log func(string, ...any)) *Server {
	return &Server{
		settings: s, assigner: a, dev: dev, routes: routes, udp: udp, log: log, now: time.Now,
		negotiating: map[netip.AddrPort]*negotiation{},
		byPeer:      map[netip.AddrPort]*session{},
		byIdentity:  map[string]*session{},
		byAddress:   map[netip.Addr]*session{},
		byPrefix:    map[netip.Prefix]*session{},
	}
}

// handleDatagram is everything that arrives on the UDP socket.
func (s *Server) handleDatagram(d []byte, peer netip.AddrPort) {
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	switch classify(d) {
	case kindSignalling:
		s.handleSignalling(d, peer)
	case kindIPv6:
		s.handleTunnelled(d, peer)
	}
}

func (s *Server) reply(peer netip.AddrPort, h rudpHeader, payload []byte) []byte {
	out := encodeRUDP(h, payload)
	if _, err := s.udp.WriteToUDPAddrPort(out, peer); err != nil {
		s.log("udp %s: cannot send: %v", peer, err)
	}
	return out
}

func (s *Server) handleSignalling(d []byte, peer netip.AddrPort) {
	h, payload, err := parseRUDP(d)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()

	// A retransmission gets the reply it already got (the client's state must not advance twice).
	if sess := s.byPeer[peer]; sess != nil {
		sess.LastSeen = now
		if sess.rudp.valid && sess.rudp.sequence == h.Sequence {
			s.reply(peer, h, sess.rudp.reply[rudpHeaderLen:])
			return
		}
		if !startsWith(payload, "VERSION=") {
			// Established tunnels have nothing more to negotiate: answer so the client does not hang.
			sess.rudp = rudpCache{true, h.Sequence, s.reply(peer, h, nil)}
			return
		}
	}
	n := s.negotiating[peer]
	if n != nil && n.rudp.valid && n.rudp.sequence == h.Sequence {
		n.lastSeen = now
		s.reply(peer, h, n.rudp.reply[rudpHeaderLen:])
		return
	}
	if n == nil || startsWith(payload, "VERSION=") {
		n = &negotiation{conv: newConversation(s.settings, s.assigner, overUDP, peer, s.log)}
		s.negotiating[peer] = n
		s.log("udp %s: negotiation starts", peer)
	}
	n.lastSeen = now
	var out []byte
	if len(payload) == 0 {
		out = n.conv.poll()
	} else {
		out = n.conv.handle(payload)
	}
	n.rudp = rudpCache{true, h.Sequence, s.reply(peer, h, out)}
	switch n.conv.state {
	case stEstablished:
		delete(s.negotiating, peer)
		s.establish(n, now)
	case stClosed:
		// Kept until it idles out, so retransmissions still get their answer.
	}
}

func startsWith(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// establish turns an accepted offer into a routed tunnel. A client that
// comes back (new port, restarted gw6c) replaces its old tunnel.
func (s *Server) establish(n *negotiation, now time.Time) {
	c := n.conv
	sess := &session{
		Peer: c.peer, Identity: c.identity(), HostType: c.hostType, Address: c.assignment.ClientAddress,
		Keepalive: c.offer.Keepalive, Since: now, LastSeen: now, conv: c, rudp: n.rudp,
	}
	if c.hostType == "router" {
		sess.prefix = c.assignment.Prefix
		sess.Prefix = sess.prefix.String()
	}
	if old := s.byIdentity[sess.Identity]; old != nil {
		s.log("session %s from %s replaces its tunnel from %s", sess.Identity, sess.Peer, old.Peer)
		s.drop(old, sess)
	}
	if other := s.byAddress[sess.Address]; other != nil {
		s.drop(other, sess)
	}
	s.byPeer[sess.Peer] = sess
	s.byIdentity[sess.Identity] = sess
	s.byAddress[sess.Address] = sess
	if err := s.routes.Add(netip.PrefixFrom(sess.Address, 128)); err != nil {
		s.log("session %s: cannot route %s: %v", sess.Identity, sess.Address, err)
	}
	if sess.prefix.IsValid() {
		s.byPrefix[sess.prefix] = sess
		if err := s.routes.Add(sess.prefix); err != nil {
			s.log("session %s: cannot route %s: %v", sess.Identity, sess.prefix, err)
		}
	}
	what := sess.Address.String()
	if sess.prefix.IsValid() {
		what += ", prefix " + sess.prefix.String()
	}
	s.log("session up: %s from %s (v6udpv4, %s, TSP %s, keepalive %d s): %s", sess.Identity, sess.Peer, sess.HostType, c.version, sess.Keepalive, what)
	s.writeSessions()
}

// drop removes a session and the routes that no `keep` session still needs.
func (s *Server) drop(old, keep *session) {
	delete(s.byPeer, old.Peer)
	if s.byIdentity[old.Identity] == old {
		delete(s.byIdentity, old.Identity)
	}
	if s.byAddress[old.Address] == old {
		delete(s.byAddress, old.Address)
	}
	if keep == nil || keep.Address != old.Address {
		if err := s.routes.Del(netip.PrefixFrom(old.Address, 128)); err != nil {
			s.log("session %s: cannot remove the route to %s: %v", old.Identity, old.Address, err)
		}
	}
	if old.prefix.IsValid() {
		if s.byPrefix[old.prefix] == old {
			delete(s.byPrefix, old.prefix)
		}
		if keep == nil || keep.prefix != old.prefix {
			if err := s.routes.Del(old.prefix); err != nil {
				s.log("session %s: cannot remove the route to %s: %v", old.Identity, old.prefix, err)
			}
		}
	}
}

// handleTunnelled takes an IPv6 packet a client sent through its tunnel.
func (s *Server) handleTunnelled(pkt []byte, peer netip.AddrPort) {
	s.mu.Lock()
	sess := s.byPeer[peer]
	if sess == nil {
		s.mu.Unlock()
		return
	}
	sess.LastSeen = s.now()
	src, _, ok := ipv6Addresses(pkt)
	if !ok || (src != sess.Address && !(sess.prefix.IsValid() && sess.prefix.Contains(src))) {
		// Only the tunnel address and the delegated prefix may send through the tunnel.
		sess.Dropped++
		s.mu.Unlock()
		return
	}
	sess.PacketsIn++
	s.mu.Unlock()
	if err := s.dev.WritePacket(pkt); err != nil {
		s.log("tun: cannot write a packet from %s: %v", sess.Identity, err)
	}
}

// handleFromTun sends a packet the kernel routed into the tun to its tunnel.
func (s *Server) handleFromTun(pkt []byte) {
	_, dst, ok := ipv6Addresses(pkt)
	if !ok {
		return
	}
	s.mu.Lock()
	sess := s.byAddress[dst]
	if sess == nil {
		sess = s.byPrefix[netip.PrefixFrom(dst, 64).Masked()]
	}
	if sess == nil {
		s.mu.Unlock()
		return
	}
	sess.PacketsOut++
	peer := sess.Peer
	s.mu.Unlock()
	if _, err := s.udp.WriteToUDPAddrPort(pkt, peer); err != nil {
		s.log("udp %s: cannot send a tunnelled packet: %v", peer, err)
	}
}

// ipv6Addresses reads source and destination of an IPv6 packet.
func ipv6Addresses(pkt []byte) (src, dst netip.Addr, ok bool) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return netip.Addr{}, netip.Addr{}, false
	}
	src = netip.AddrFrom16([16]byte(pkt[8:24]))
	dst = netip.AddrFrom16([16]byte(pkt[24:40]))
	return src, dst, true
}

// sweep removes silent tunnels and idle negotiations.
func (s *Server) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for peer, n := range s.negotiating {
		if now.Sub(n.lastSeen) > time.Minute {
			delete(s.negotiating, peer)
		}
	}
	for _, sess := range s.byPeer {
		if limit := s.settings.timeoutFor(sess.Keepalive); now.Sub(sess.LastSeen) > limit {
			s.log("session down: %s from %s sent nothing for %s", sess.Identity, sess.Peer, limit)
			s.drop(sess, nil)
		}
	}
	// Also refreshes lastSeen and the packet counters.
	s.writeSessions()
}

// writeSessions publishes the live tunnels in <runDir>/sessions.json.
func (s *Server) writeSessions() {
	list := make([]*session, 0, len(s.byPeer))
	for _, sess := range s.byPeer {
		list = append(list, sess)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Identity < list[j].Identity })
	raw, _ := json.MarshalIndent(list, "", "  ")
	file := filepath.Join(s.settings.RunDir, "sessions.json")
	if err := os.MkdirAll(s.settings.RunDir, 0o755); err == nil {
		tmp := file + ".tmp"
		if err = os.WriteFile(tmp, append(raw, '\n'), 0o644); err == nil {
			err = os.Rename(tmp, file)
		}
		if err != nil {
			s.log("cannot write %s: %v", file, err)
		}
	}
}

// serveUDP reads the socket until it is closed.
func (s *Server) serveUDP(conn *net.UDPConn) error {
	buf := make([]byte, 65536)
	for {
		n, peer, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		d := make([]byte, n)
		copy(d, buf[:n])
		s.handleDatagram(d, peer)
	}
}

// serveTun reads the tun device until it fails.
func (s *Server) serveTun() error {
	buf := make([]byte, 65536)
	for {
		n, err := s.dev.ReadPacket(buf)
		if err != nil {
			return err
		}
		s.handleFromTun(buf[:n])
	}
}
