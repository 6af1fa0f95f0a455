package main

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
)

func newTestConversation(t *testing.T, tr transportKind, mutate ...func(*Config)) (*conversation, *[]string) {
	t.Helper()
	s := testSettings(t, mutate...)
	a, err := newAssigner(s)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	logf := func(f string, args ...any) { logged = append(logged, strings.TrimSpace(sprintf(f, args...))) }
	return newConversation(s, a, tr, netip.MustParseAddrPort("198.51.100.3:40000"), logf), &logged
}

func mustSay(t *testing.T, c *conversation, msg, want string) string {
	t.Helper()
	got := string(c.handle([]byte(msg)))
	if !strings.HasPrefix(got, want) {
		t.Fatalf("after %q (state %s): got %q, want it to start with %q", msg, c.state, got, want)
	}
	return got
}

const hostRequest = "<tunnel action=\"create\" type=\"v6udpv4\" proxy=\"no\">\r\n <client>\r\n  <address type=\"ipv4\">203.0.113.2</address>\r\n" +
	"  <keepalive interval=\"30\">\r\n    <address type=\"ipv6\">::</address>\r\n  </keepalive>\r\n </client>\r\n</tunnel>\r\n"

const acceptMsg = "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n"

func TestAnonymousHostModeToEstablished(t *testing.T) {
	c, _ := newTestConversation(t, overUDP)
	mustSay(t, c, "VERSION=2.0.1\r\n", "CAPABILITY TUNNEL=V6UDPV4 AUTH=DIGEST-MD5 AUTH=PLAIN AUTH=ANONYMOUS\r\n")
	mustSay(t, c, "AUTHENTICATE ANONYMOUS\r\n\x00", "200 Success\r\n")
	offer := mustSay(t, c, string(framed(hostRequest)), "Content-length: ")
	for _, want := range []string{"200 Success\r\n", "type=\"v6udpv4\"", "<address type=\"ipv6\">2001:db8:ffff:200::100:2</address>", "<address type=\"ipv4\">198.51.100.3</address>"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	if strings.Contains(offer, "<router>") {
		t.Error("host mode got a prefix")
	}
	if out := c.handle([]byte(acceptMsg)); out != nil || c.state != stEstablished || c.hostType != "host" {
		t.Fatalf("accept: %q state %s", out, c.state)
	}
}

func TestPlainRouterModeGetsTheUsersPrefix(t *testing.T) {
	c, _ := newTestConversation(t, overUDP)
	mustSay(t, c, "VERSION=2.0.0\r\n", "CAPABILITY ")
	if out := c.handle([]byte("AUTHENTICATE PLAIN\r\n\x00")); out != nil {
		t.Fatalf("PLAIN got %q before the credentials", out)
	}
	mustSay(t, c, "\x00todd\x00s3cret pass\r\n", "200 Success")
	offer := mustSay(t, c, string(framed(gw6cRouterRequest)), "Content-length: ")
	if !strings.Contains(offer, "<prefix length=\"64\">2001:0db8:7777:0001:0000:0000:0000:0000</prefix>") ||
		!strings.Contains(offer, ">2001:db8:ffff:200::1:2<") || !strings.Contains(offer, "<dns_server>") {
		t.Errorf("offer:\n%s", offer)
	}
	c.handle([]byte(acceptMsg))
	if c.state != stEstablished || c.hostType != "router" || c.identity() != "user todd" {
		t.Errorf("state %s host type %s identity %s", c.state, c.hostType, c.identity())
	}
}

func TestDigestMD5QueuesSuccessForThePoll(t *testing.T) {
	c, _ := newTestConversation(t, overUDP)
	mustSay(t, c, "VERSION=2.0.1\r\n", "CAPABILITY ")
	challenge := mustSay(t, c, "AUTHENTICATE DIGEST-MD5\r\n\x00", "")
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(challenge))
	d, _ := parseDirectives(string(raw))
	rsp := mustSay(t, c, gw6cResponse("todd", d["realm"], "s3cret pass", d["nonce"], "198.51.100.1", 1234), "")
	if r, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(rsp)); !strings.HasPrefix(string(r), "rspauth=") {
		t.Fatalf("after the response: %q", rsp)
	}
	if got := string(c.poll()); got != "200 Success\r\n" {
		t.Fatalf("poll gave %q", got)
	}
	if c.poll() != nil || c.state != stRequest {
		t.Errorf("second poll not empty, or state %s", c.state)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		tr     transportKind
		msgs   []string
		want   string
	}{
		{"old version", nil, overUDP, []string{"VERSION=1.0.1\r\n"}, "302 Unsupported client version"},
		{"version not spoken", func(c *Config) { c.Versions = []string{"2.0.0"} }, overUDP, []string{"VERSION=2.0.1\r\n"}, "302 "},
		{"wrong password", nil, overUDP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE PLAIN\r\n\x00", "\x00todd\x00nope\r\n"}, "300 Authentication failed"},
		{"anonymous off", func(c *Config) { c.Anonymous = false }, overUDP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE ANONYMOUS\r\n\x00"}, "300 "},
		{"passdss", nil, overUDP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE PASSDSS-3DES-1\r\n\x00"}, "300 "},
		{"v6v4 needs sit", nil, overUDP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE ANONYMOUS\r\n\x00",
			string(framed(strings.Replace(hostRequest, "v6udpv4", "v6v4", 1)))}, "Content-length: 1"},
		{"v6udpv4 over TCP", nil, overTCP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE ANONYMOUS\r\n\x00", string(framed(hostRequest))}, "Content-length: "},
		{"router without length", nil, overUDP, []string{"VERSION=2.0.1\r\n", "AUTHENTICATE ANONYMOUS\r\n\x00",
			string(framed(strings.Replace(gw6cRouterRequest, "<prefix length=\"64\"/>", "<prefix/>", 1)))}, "Content-length: "},
	}
	for _, tc := range cases {
		var mut []func(*Config)
		if tc.mutate != nil {
			mut = append(mut, tc.mutate)
		}
		c, _ := newTestConversation(t, tc.tr, mut...)
		var out string
		for _, m := range tc.msgs {
			out = string(c.handle([]byte(m)))
		}
		if !strings.HasPrefix(out, tc.want) || c.state != stClosed {
			t.Errorf("%s: last reply %q (state %s), want %q and closed", tc.name, out, c.state, tc.want)
		}
	}
}

func TestRefusalStatusLines(t *testing.T) {
	c, _ := newTestConversation(t, overTCP)
	c.handle([]byte("VERSION=2.0.1\r\n"))
	c.handle([]byte("AUTHENTICATE ANONYMOUS\r\n\x00"))
	body, _ := contentBody(c.handle(framed(hostRequest)))
	if !strings.HasPrefix(string(body), "303 Unsupported tunnel mode: v6udpv4 needs the TSP session over UDP") {
		t.Errorf("TCP refusal %q", body)
	}
	c, _ = newTestConversation(t, overUDP)
	c.handle([]byte("VERSION=2.0.1\r\n"))
	c.handle([]byte("AUTHENTICATE ANONYMOUS\r\n\x00"))
	body, _ = contentBody(c.handle(framed(strings.Replace(gw6cRouterRequest, "<prefix length=\"64\"/>", "<prefix/>", 1))))
	if string(body) != "520 Missing prefix length\r\n" {
		t.Errorf("router refusal %q", body)
	}
}

func TestOtherPrefixLengthsGetTheSlotsSlash64(t *testing.T) {
	c, logged := newTestConversation(t, overUDP)
	c.handle([]byte("VERSION=2.0.1\r\n"))
	c.handle([]byte("AUTHENTICATE ANONYMOUS\r\n\x00"))
	offer := string(c.handle(framed(strings.Replace(gw6cRouterRequest, "length=\"64\"", "length=\"48\"", 1))))
	if !strings.Contains(offer, "<prefix length=\"64\">2001:0db8:7777:0100:") {
		t.Errorf("offer:\n%s", offer)
	}
	if !strings.Contains(strings.Join(*logged, "\n"), "asked for a /48; offering its /64") {
		t.Errorf("log %v", *logged)
	}
}
