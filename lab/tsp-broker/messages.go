package main

// TSP messages: the client's XML tunnel request and accept, the broker's
// offer, and the "Content-length: N\r\n" framing around them.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

type xmlAddress struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// tunnelRequest is the client's <tunnel action="create"> (or "accept").
type tunnelRequest struct {
	XMLName xml.Name `xml:"tunnel"`
	Action  string   `xml:"action,attr"`
	Type    string   `xml:"type,attr"`
	Proxy   string   `xml:"proxy,attr"`
	Client  struct {
		Addresses []xmlAddress `xml:"address"`
		Keepalive *struct {
			Interval string `xml:"interval,attr"`
		} `xml:"keepalive"`
		Router *struct {
			Protocol string `xml:"protocol,attr"`
			Prefix   *struct {
				Length string `xml:"length,attr"`
			} `xml:"prefix"`
			DNSServer []xmlAddress `xml:"dns_server>address"`
		} `xml:"router"`
	} `xml:"client"`
}

// contentBody splits "Content-length: N\r\n<body>" and checks N against the body.
func contentBody(msg []byte) ([]byte, error) {
	const prefix = "content-length:"
	nl := bytes.IndexByte(msg, '\n')
	if nl < 0 || !strings.HasPrefix(strings.ToLower(string(msg[:nl])), prefix) {
		return nil, fmt.Errorf("expected 'Content-length: N' first, got %q", firstLine(msg))
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(msg[len(prefix):nl])))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("bad Content-length line %q", firstLine(msg))
	}
	body := msg[nl+1:]
	if len(body) < n {
		return nil, fmt.Errorf("Content-length says %d bytes, got %d", n, len(body))
	}
	return body[:n], nil
}

func firstLine(msg []byte) string {
	s := string(msg)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

func parseTunnelRequest(body []byte) (*tunnelRequest, error) {
	var r tunnelRequest
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("tunnel request is not XML the broker understands: %v", err)
	}
	r.Action = strings.ToLower(r.Action)
	r.Type = strings.ToLower(r.Type)
	return &r, nil
}

// keepaliveRequested is the interval the client suggested, 0 if none.
func (r *tunnelRequest) keepaliveRequested() int {
	if r.Client.Keepalive == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.Client.Keepalive.Interval))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// framed prefixes a body with its Content-length line.
func framed(body string) []byte {
	return []byte(fmt.Sprintf("Content-length: %d\r\n%s", len(body), body))
}

// statusReply is an error status in the framing the client expects after a request.
func statusReply(code int, text string) []byte {
	return framed(fmt.Sprintf("%d %s\r\n", code, text))
}

// offer is what the broker grants.
type offer struct {
	TunnelType string // v6udpv4
	Lifetime   int
	ServerV4   netip.Addr
	ServerV6   netip.Addr
	ClientV4   netip.Addr
	ClientV6   netip.Addr
	Keepalive  int
	// Router mode only:
	Prefix    netip.Prefix
	DNSServer netip.Addr
}

// render writes the offer as gw6c 5.1 parses it: status line counted in
// Content-length, no <?xml?> declaration, double-quoted attributes, every
// <address> with a type, the prefix fully expanded.
func (o offer) render() []byte {
	var b strings.Builder
	b.WriteString("200 Success\r\n")
	fmt.Fprintf(&b, "<tunnel action=\"info\" type=\"%s\" lifetime=\"%d\">\r\n", o.TunnelType, o.Lifetime)
	b.WriteString(" <server>\r\n")
	fmt.Fprintf(&b, "  <address type=\"ipv4\">%s</address>\r\n", o.ServerV4)
	fmt.Fprintf(&b, "  <address type=\"ipv6\">%s</address>\r\n", o.ServerV6)
	b.WriteString(" </server>\r\n")
	b.WriteString(" <client>\r\n")
	fmt.Fprintf(&b, "  <address type=\"ipv4\">%s</address>\r\n", o.ClientV4)
	fmt.Fprintf(&b, "  <address type=\"ipv6\">%s</address>\r\n", o.ClientV6)
	if o.Prefix.IsValid() {
		b.WriteString("  <router>\r\n")
		fmt.Fprintf(&b, "   <prefix length=\"%d\">%s</prefix>\r\n", o.Prefix.Bits(), expandedPrefix(o.Prefix.Addr()))
		b.WriteString("   <dns_server>\r\n")
		fmt.Fprintf(&b, "    <address type=\"ipv6\">%s</address>\r\n", o.DNSServer)
		b.WriteString("   </dns_server>\r\n")
		b.WriteString("  </router>\r\n")
	}
	fmt.Fprintf(&b, "  <keepalive interval=\"%d\">\r\n", o.Keepalive)
	fmt.Fprintf(&b, "   <address type=\"ipv6\">%s</address>\r\n", o.ServerV6)
	b.WriteString("  </keepalive>\r\n")
	b.WriteString(" </client>\r\n")
	b.WriteString("</tunnel>\r\n")
	return framed(b.String())
}
