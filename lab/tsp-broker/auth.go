package main

// Authentication mechanisms as the TSP clients use them: PLAIN
// ("\0user\0password\r\n") and DIGEST-MD5 in RFC 2831's form, with the
// client's choices: qop=auth, nc=00000001, digest-uri "tsp/<server as the
// client was configured>". PASSDSS-3DES-1 is not implemented (and never
// advertised: gw6c's auth_method=any would pick it first).

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// parsePlain reads PLAIN's credentials: NUL, user, NUL, password, CRLF.
func parsePlain(msg []byte) (user, password string, err error) {
	s := strings.TrimRight(string(msg), "\r\n\x00")
	if !strings.HasPrefix(s, "\x00") {
		return "", "", errors.New("PLAIN credentials must start with a NUL byte")
	}
	// Over TCP the NUL ending "AUTHENTICATE PLAIN" may precede the credentials' own.
	parts := strings.SplitN(strings.TrimLeft(s, "\x00"), "\x00", 2)
	if len(parts) != 2 {
		return "", "", errors.New("PLAIN credentials must be NUL user NUL password")
	}
	return parts[0], parts[1], nil
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newNonce is a fresh random nonce for a DIGEST-MD5 challenge.
func newNonce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("no randomness for a nonce: %v", err))
	}
	return hex.EncodeToString(b)
}

// digestChallenge is the server's first DIGEST-MD5 message, base64-encoded.
// gw6c needs realm, nonce, qop and charset (it dereferences each).
func digestChallenge(realm, nonce string) string {
	c := fmt.Sprintf(`realm="%s",nonce="%s",qop="auth",algorithm=md5-sess,charset=utf-8`, realm, nonce)
	return base64.StdEncoding.EncodeToString([]byte(c))
}

// parseDirectives reads RFC 2831 directives: name=value or name="quoted",
// comma-separated; backslash escapes inside quotes.
func parseDirectives(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("directive without '=' at %q", s[i:])
		}
		name := strings.ToLower(strings.TrimSpace(s[i : i+eq]))
		i += eq + 1
		var v strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					v.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					i++
					closed = true
					break
				}
				v.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted value of %s", name)
			}
		} else {
			for i < len(s) && s[i] != ',' {
				v.WriteByte(s[i])
				i++
			}
		}
		out[name] = strings.TrimRight(v.String(), " \t\r\n")
	}
	return out, nil
}

// digestResponse computes RFC 2831's response value (qop=auth, no authzid).
// method is "AUTHENTICATE" for the client's response and "" for rspauth.
func digestResponse(user, realm, password, nonce, cnonce, nc, qop, uri, method string) string {
	inner := md5.Sum([]byte(user + ":" + realm + ":" + password))
	a1 := md5hex(string(inner[:]) + ":" + nonce + ":" + cnonce)
	a2 := md5hex(method + ":" + uri)
	return md5hex(a1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + a2)
}

// digestVerify checks a client's base64 DIGEST-MD5 response against the
// nonce sent and the user's password (looked up by name). It returns the
// user name and the base64 "rspauth=..." the server answers with.
func digestVerify(encoded []byte, realm, nonce string, password func(user string) (string, bool)) (user string, rspauth string, err error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Trim(string(encoded), "\r\n\x00 "))
	if err != nil {
		return "", "", fmt.Errorf("response is not base64: %v", err)
	}
	d, err := parseDirectives(string(raw))
	if err != nil {
		return "", "", err
	}
	for _, k := range []string{"username", "nonce", "cnonce", "nc", "digest-uri", "response"} {
		if d[k] == "" {
			return "", "", fmt.Errorf("response lacks %s", k)
		}
	}
	user = d["username"]
	if d["nonce"] != nonce {
		return user, "", errors.New("response is for another nonce")
	}
	if r, ok := d["realm"]; ok && r != realm {
		return user, "", fmt.Errorf("response is for realm %q, not %q", r, realm)
	}
	qop := d["qop"]
	if qop == "" {
		qop = "auth"
	}
	if qop != "auth" {
		return user, "", fmt.Errorf("qop %q is not supported (only auth)", qop)
	}
	if !strings.HasPrefix(d["digest-uri"], "tsp/") {
		return user, "", fmt.Errorf("digest-uri %q does not start with tsp/", d["digest-uri"])
	}
	pw, ok := password(user)
	if !ok {
		return user, "", fmt.Errorf("no such user %q", user)
	}
	want := digestResponse(user, realm, pw, nonce, d["cnonce"], d["nc"], qop, d["digest-uri"], "AUTHENTICATE")
	if !strings.EqualFold(want, d["response"]) {
		return user, "", errors.New("wrong password (digest response does not match)")
	}
	rsp := digestResponse(user, realm, pw, nonce, d["cnonce"], d["nc"], qop, d["digest-uri"], "")
	return user, base64.StdEncoding.EncodeToString([]byte("rspauth=" + rsp)), nil
}
