package main

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// A router-mode request exactly as gw6c 5.1 builds it (xml_req.c), CRLF lines.
const gw6cRouterRequest = "<tunnel action=\"create\" type=\"v6anyv4\" proxy=\"no\">\r\n" +
	" <client>\r\n" +
	"  <address type=\"ipv4\">203.0.113.2</address>\r\n" +
	"  <keepalive interval=\"30\">\r\n    <address type=\"ipv6\">::</address>\r\n  </keepalive>\r\n" +
	"  <router>\r\n   <prefix length=\"64\"/>\r\n   <dns_server>\r\n     <address type=\"dn\">ns.example</address>\r\n   </dns_server>\r\n  </router>\r\n" +
	" </client>\r\n" +
	"</tunnel>\r\n"

func TestParseGw6cRequest(t *testing.T) {
	body, err := contentBody(framed(gw6cRouterRequest))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseTunnelRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != "create" || r.Type != "v6anyv4" || r.Proxy != "no" || r.keepaliveRequested() != 30 {
		t.Errorf("parsed %+v", r)
	}
	if len(r.Client.Addresses) != 1 || r.Client.Addresses[0].Type != "ipv4" || r.Client.Addresses[0].Value != "203.0.113.2" {
		t.Errorf("client address %+v", r.Client.Addresses)
	}
	if r.Client.Router == nil || r.Client.Router.Prefix == nil || r.Client.Router.Prefix.Length != "64" {
		t.Fatalf("router %+v", r.Client.Router)
	}
	if len(r.Client.Router.DNSServer) != 1 || r.Client.Router.DNSServer[0].Value != "ns.example" {
		t.Errorf("dns_server %+v", r.Client.Router.DNSServer)
	}
}

func TestContentBodyChecksLength(t *testing.T) {
	if _, err := contentBody([]byte("Content-length: 10\r\nshort")); err == nil || !strings.Contains(err.Error(), "says 10 bytes, got 5") {
		t.Errorf("err %v", err)
	}
	if _, err := contentBody([]byte("<tunnel/>")); err == nil {
		t.Error("a body without Content-length parsed")
	}
}

func TestOfferAsGw6cReadsIt(t *testing.T) {
	o := offer{
		TunnelType: "v6udpv4", Lifetime: 604800,
		ServerV4: netip.MustParseAddr("198.51.100.1"), ServerV6: netip.MustParseAddr("2001:db8:ffff:200::1"),
		ClientV4: netip.MustParseAddr("198.51.100.3"), ClientV6: netip.MustParseAddr("2001:db8:ffff:200::1:2"),
		Keepalive: 30, Prefix: netip.MustParsePrefix("2001:db8:7777:1::/64"), DNSServer: netip.MustParseAddr("2001:db8:ffff::fe"),
	}
	out := string(o.render())
	head, rest, _ := strings.Cut(out, "\r\n")
	// Content-length counts the status line too (gw6c reads that many bytes after the first line).
	if head != "Content-length: "+itoa(len(rest)) {
		t.Errorf("first line %q for a %d-byte body", head, len(rest))
	}
	if !strings.HasPrefix(rest, "200 Success\r\n<tunnel action=\"info\" type=\"v6udpv4\" lifetime=\"604800\">") {
		t.Errorf("body starts %q", rest[:60])
	}
	for _, want := range []string{
		"<prefix length=\"64\">2001:0db8:7777:0001:0000:0000:0000:0000</prefix>",
		"<address type=\"ipv6\">2001:db8:ffff:200::1:2</address>",
		"<dns_server>\r\n    <address type=\"ipv6\">2001:db8:ffff::fe</address>",
		"<keepalive interval=\"30\">\r\n   <address type=\"ipv6\">2001:db8:ffff:200::1</address>",
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("offer lacks %q:\n%s", want, rest)
		}
	}
	if strings.Contains(rest, "<?xml") || strings.Contains(rest, "'") {
		t.Error("offer has an XML declaration or single quotes, which gw6c cannot parse")
	}
	// Host mode: no router element.
	o.Prefix = netip.Prefix{}
	if strings.Contains(string(o.render()), "<router>") {
		t.Error("host-mode offer has a router element")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// gw6c keeps the first ceil(len/16)*4 digits plus separators of the offered prefix as TSP_PREFIX.
func gw6cTruncate(prefix string, plen int) string {
	groups := (plen + 15) / 16
	return prefix[:groups*4+groups-1]
}

func TestExpandedPrefixSurvivesGw6cTruncation(t *testing.T) {
	cases := []struct {
		addr string
		plen int
		want string
	}{
		{"2001:db8:7777:1::", 64, "2001:0db8:7777:0001"},
		{"2001:db8:7777:ab00::", 56, "2001:0db8:7777:ab00"},
		{"2001:db8:7777::", 48, "2001:0db8:7777"},
	}
	for _, c := range cases {
		if got := gw6cTruncate(expandedPrefix(netip.MustParseAddr(c.addr)), c.plen); got != c.want {
			t.Errorf("%s/%d -> TSP_PREFIX %q, want %q", c.addr, c.plen, got, c.want)
		}
	}
}
