package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// RFC 2831 section 4's example, an independent computation of the same function.
func TestDigestResponseMatchesRFC2831Example(t *testing.T) {
	got := digestResponse("chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth", "imap/elwood.innosoft.com", "AUTHENTICATE")
	if got != "d388dad90d4bbd760a152321f2143af7" {
		t.Errorf("response = %s, RFC 2831 says d388dad90d4bbd760a152321f2143af7", got)
	}
	rsp := digestResponse("chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth", "imap/elwood.innosoft.com", "")
	if rsp != "ea40f60335c427b5527b84dbabcdfffd" {
		t.Errorf("rspauth = %s, RFC 2831 says ea40f60335c427b5527b84dbabcdfffd", rsp)
	}
}

// gw6cResponse builds the client's message the way gw6c 5.1 formats it.
func gw6cResponse(user, realm, password, nonce, server string, cnonce int64) string {
	resp := digestResponse(user, realm, password, nonce, fmt.Sprint(cnonce), "00000001", "auth", "tsp/"+server, "AUTHENTICATE")
	s := fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%d",digest-uri="tsp/%s",response=%s,qop=auth`,
		user, realm, nonce, cnonce, server, resp)
	return base64.StdEncoding.EncodeToString([]byte(s)) + "\r\n"
}

func passwords(user string) (string, bool) {
	if user == "todd" {
		return "s3cret pass", true
	}
	return "", false
}

func TestDigestVerifyAcceptsGw6cStyleResponseAndAnswersRspauth(t *testing.T) {
	msg := gw6cResponse("todd", "ipv6gw-lab", "s3cret pass", "abc123", "198.51.100.1:3653", 1700000000)
	user, rspauth, err := digestVerify([]byte(msg), "ipv6gw-lab", "abc123", passwords)
	if err != nil || user != "todd" {
		t.Fatalf("verify: %q %v", user, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(rspauth)
	want := "rspauth=" + digestResponse("todd", "ipv6gw-lab", "s3cret pass", "abc123", "1700000000", "00000001", "auth", "tsp/198.51.100.1:3653", "")
	if string(raw) != want {
		t.Errorf("rspauth %q, want %q", raw, want)
	}
}

func TestDigestVerifyRefuses(t *testing.T) {
	good := gw6cResponse("todd", "ipv6gw-lab", "s3cret pass", "abc123", "198.51.100.1", 1)
	cases := map[string]struct {
		msg, nonce, want string
	}{
		"wrong password": {gw6cResponse("todd", "ipv6gw-lab", "guess", "abc123", "198.51.100.1", 1), "abc123", "wrong password"},
		"unknown user":   {gw6cResponse("eve", "ipv6gw-lab", "x", "abc123", "198.51.100.1", 1), "abc123", "no such user"},
		"stale nonce":    {good, "other", "another nonce"},
		"not base64":     {"%%%\r\n", "abc123", "not base64"},
	}
	for name, c := range cases {
		if _, _, err := digestVerify([]byte(c.msg), "ipv6gw-lab", c.nonce, passwords); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want it to say %q", name, err, c.want)
		}
	}
}

func TestDigestChallengeHasWhatGw6cDereferences(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(digestChallenge("ipv6gw-lab", "n0nce"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDirectives(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"realm": "ipv6gw-lab", "nonce": "n0nce", "qop": "auth", "charset": "utf-8", "algorithm": "md5-sess"} {
		if d[k] != v {
			t.Errorf("%s = %q, want %q", k, d[k], v)
		}
	}
}

func TestParseDirectivesQuotingAndEscapes(t *testing.T) {
	d, err := parseDirectives(`username="a\"b,c", nc=00000001,qop=auth`)
	if err != nil || d["username"] != `a"b,c` || d["nc"] != "00000001" || d["qop"] != "auth" {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := parseDirectives(`username="open`); err == nil {
		t.Error("an unterminated quote parsed")
	}
}

func TestParsePlain(t *testing.T) {
	for _, in := range []string{"\x00todd\x00pw:with\x00nul?\r\n", "\x00\x00todd\x00pw:with\x00nul?\r\n"} {
		u, p, err := parsePlain([]byte(in))
		if err != nil || u != "todd" || p != "pw:with\x00nul?" {
			t.Errorf("parsePlain(%q) = %q %q %v", in, u, p, err)
		}
	}
	if _, _, err := parsePlain([]byte("todd\x00pw\r\n")); err == nil {
		t.Error("credentials without the leading NUL parsed")
	}
}
