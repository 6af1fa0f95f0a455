package main

// One TSP negotiation, transport-independent: each client message goes in,
// at most one reply comes out, and a reply meant for the client's next read
// (DIGEST-MD5's "200 Success" after rspauth) is queued. Over RUDP an empty
// reply is still sent (the client waits for its sequence to come back) and
// the queued one answers the client's header-only poll; over TCP the queue
// is written after the reply.

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

type convState int

const (
	stVersion convState = iota
	stAuth
	stPlain
	stDigest
	stRequest
	stAccept
	stEstablished
	stClosed
)

func (s convState) String() string {
	return [...]string{"version", "auth", "plain", "digest", "request", "accept", "established", "closed"}[s]
}

type transportKind string

const (
	overUDP transportKind = "udp"
	overTCP transportKind = "tcp"
)

const (
	msgSuccess    = "200 Success\r\n"
	msgAuthFailed = "300 Authentication failed\r\n"
	msgBadVersion = "302 Unsupported client version\r\n"
)

// conversation is the broker's side of one negotiation.
type conversation struct {
	settings  *Settings
	assigner  *Assigner
	transport transportKind
	peer      netip.AddrPort
	log       func(format string, args ...any)

	state   convState
	version string
	nonce   string
	// user is the authenticated account; empty for anonymous.
	user    string
	pending [][]byte
	// Set once an offer was made, kept for the session.
	offer      offer
	assignment Assignment
	hostType   string
}

func newConversation(s *Settings, a *Assigner, t transportKind, peer netip.AddrPort, log func(string, ...any)) *conversation {
	return &conversation{settings: s, assigner: a, transport: t, peer: peer, log: log}
}

func (c *conversation) identity() string {
	if c.user != "" {
		return "user " + c.user
	}
	return "anonymous " + c.peer.Addr().String()
}

// poll answers a header-only read: the queued message, if any.
func (c *conversation) poll() []byte {
	if len(c.pending) == 0 {
		return nil
	}
	m := c.pending[0]
	c.pending = c.pending[1:]
	return m
}

func (c *conversation) fail(reply []byte, format string, args ...any) []byte {
	c.log("%s %s: %s", c.transport, c.peer, fmt.Sprintf(format, args...))
	c.state = stClosed
	return reply
}

// handle takes one client message and returns the reply (nil: nothing to say).
func (c *conversation) handle(msg []byte) []byte {
	switch c.state {
	case stVersion:
		return c.handleVersion(msg)
	case stAuth:
		return c.handleAuth(msg)
	case stPlain:
		user, password, err := parsePlain(msg)
		if err != nil {
			return c.fail([]byte(msgAuthFailed), "PLAIN: %v", err)
		}
		if u, ok := c.settings.users[user]; !ok || u.Password != password {
			return c.fail([]byte(msgAuthFailed), "PLAIN: authentication failed for %q", user)
		}
		c.user = user
		c.state = stRequest
		c.log("%s %s: authenticated %q with PLAIN", c.transport, c.peer, user)
		return []byte(msgSuccess)
	case stDigest:
		user, rspauth, err := digestVerify(msg, c.settings.Realm, c.nonce, func(u string) (string, bool) {
			x, ok := c.settings.users[u]
			return x.Password, ok
		})
		if err != nil {
			return c.fail([]byte(msgAuthFailed), "DIGEST-MD5 for %q: %v", user, err)
		}
		c.user = user
		c.state = stRequest
		c.pending = append(c.pending, []byte(msgSuccess))
		c.log("%s %s: authenticated %q with DIGEST-MD5", c.transport, c.peer, user)
		return []byte(rspauth + "\r\n")
	case stRequest:
		return c.handleRequest(msg)
	case stAccept:
		return c.handleAccept(msg)
	}
	return nil
}

func (c *conversation) handleVersion(msg []byte) []byte {
	line := strings.Trim(string(msg), "\r\n\x00")
	v, ok := strings.CutPrefix(line, "VERSION=")
	if !ok {
		return c.fail([]byte(msgBadVersion), "expected VERSION=..., got %q", firstLine(msg))
	}
	supported := false
	for _, s := range c.settings.Versions {
		supported = supported || s == v
	}
	if !supported {
		return c.fail([]byte(msgBadVersion), "version %s not spoken (speaks %s); the client may fall back", v, strings.Join(c.settings.Versions, ", "))
	}
	c.version = v
	c.state = stAuth
	return []byte(c.capability())
}

// capability lists what the broker offers. v6v4 (6in4) is never listed: it
// needs the sit kernel module, which the lab's kernel lacks.
func (c *conversation) capability() string {
	caps := []string{"CAPABILITY", "TUNNEL=V6UDPV4", "AUTH=DIGEST-MD5", "AUTH=PLAIN"}
	if c.settings.Anonymous {
		caps = append(caps, "AUTH=ANONYMOUS")
	}
	return strings.Join(caps, " ") + "\r\n"
}

func (c *conversation) handleAuth(msg []byte) []byte {
	line := strings.Trim(string(msg), "\r\n\x00")
	mech, ok := strings.CutPrefix(strings.ToUpper(line), "AUTHENTICATE ")
	if !ok {
		return c.fail([]byte(msgAuthFailed), "expected AUTHENTICATE <mechanism>, got %q", firstLine(msg))
	}
	switch strings.TrimSpace(mech) {
	case "ANONYMOUS":
		if !c.settings.Anonymous {
			return c.fail([]byte(msgAuthFailed), "anonymous access is off")
		}
		c.state = stRequest
		return []byte(msgSuccess)
	case "PLAIN":
		// The client sends its credentials next; over RUDP this gets an empty ack.
		c.state = stPlain
		return nil
	case "DIGEST-MD5":
		c.nonce = newNonce()
		c.state = stDigest
		return []byte(digestChallenge(c.settings.Realm, c.nonce) + "\r\n")
	}
	return c.fail([]byte(msgAuthFailed), "mechanism %q is not offered (DIGEST-MD5, PLAIN, ANONYMOUS are)", strings.TrimSpace(mech))
}

func (c *conversation) handleRequest(msg []byte) []byte {
	body, err := contentBody(msg)
	if err != nil {
		return c.fail(statusReply(500, "Invalid request"), "%v", err)
	}
	req, err := parseTunnelRequest(body)
	if err != nil {
		return c.fail(statusReply(500, "Invalid request"), "%v", err)
	}
	if req.Action != "create" {
		return c.fail(statusReply(500, "Invalid request"), "tunnel action %q, expected create", req.Action)
	}
	if strings.EqualFold(req.Proxy, "yes") {
		return c.fail(statusReply(303, "Unsupported tunnel mode: proxy tunnels are not offered"), "proxy tunnel asked for")
	}
	switch req.Type {
	case "v6udpv4", "v6anyv4":
		if c.transport == overTCP {
			return c.fail(statusReply(303, "Unsupported tunnel mode: v6udpv4 needs the TSP session over UDP, and v6v4 (6in4) needs the sit kernel module, which this broker's kernel lacks"),
				"%s asked for over TCP: only v6udpv4 is offered, and only over UDP", req.Type)
		}
	case "v6v4":
		return c.fail(statusReply(303, "Unsupported tunnel mode: v6v4 (6in4) needs the sit kernel module, which this broker's kernel lacks; use v6udpv4"), "v6v4 asked for")
	default:
		return c.fail(statusReply(303, "Unsupported tunnel mode"), "tunnel type %q asked for", req.Type)
	}

	var a Assignment
	if c.user != "" {
		var ok bool
		if a, ok = c.assigner.forUser(c.user); !ok {
			return c.fail(statusReply(310, "Server side error"), "user %q vanished from the configuration", c.user)
		}
	} else if a, err = c.assigner.forAnonymous(c.peer.Addr()); err != nil {
		return c.fail(statusReply(310, "Server side error"), "%v", err)
	}
	o := offer{
		TunnelType: "v6udpv4",
		Lifetime:   604800,
		ServerV4:   c.settings.serverIPv4,
		ServerV6:   serverAddress(c.settings.tunnelPrefix),
		ClientV4:   c.peer.Addr(),
		ClientV6:   a.ClientAddress,
		Keepalive:  c.settings.keepaliveFor(req.keepaliveRequested()),
	}
	c.hostType = "host"
	if r := req.Client.Router; r != nil {
		if r.Prefix == nil || strings.TrimSpace(r.Prefix.Length) == "" {
			return c.fail(statusReply(520, "Missing prefix length"), "router request without <prefix length>")
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(r.Prefix.Length), "%d", &n); err != nil || n < 1 || n > 128 {
			return c.fail(statusReply(518, "Unsupported prefix length"), "prefix length %q", r.Prefix.Length)
		}
		if n != 64 {
			// The lab delegates /64s only; the offer's length is what the client uses.
			c.log("%s %s: %s asked for a /%d; offering its /64", c.transport, c.peer, c.identity(), n)
		}
		c.hostType = "router"
		o.Prefix = a.Prefix
		o.DNSServer = c.settings.dnsServer
	}
	c.offer, c.assignment = o, a
	c.state = stAccept
	return o.render()
}

func (c *conversation) handleAccept(msg []byte) []byte {
	body, err := contentBody(msg)
	if err != nil {
		return c.fail(statusReply(500, "Invalid request"), "%v", err)
	}
	req, err := parseTunnelRequest(bytes.TrimSpace(body))
	if err != nil {
		return c.fail(statusReply(500, "Invalid request"), "%v", err)
	}
	if req.Action != "accept" {
		return c.fail(nil, "client answered the offer with action %q; no tunnel", req.Action)
	}
	c.state = stEstablished
	return nil
}
