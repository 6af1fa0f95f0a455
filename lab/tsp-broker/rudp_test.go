package main

import (
	"bytes"
	"testing"
)

func TestRUDPHeaderRoundTripInNetworkOrder(t *testing.T) {
	// gw6c's first header: sequence 240 | 0xf0000000, sent big-endian (F0 00 00 F0).
	d := encodeRUDP(rudpHeader{Sequence: 0xf00000f0, Timestamp: 0x01020304}, []byte("VERSION=2.0.1\r\n"))
	if !bytes.Equal(d[:8], []byte{0xf0, 0, 0, 0xf0, 1, 2, 3, 4}) {
		t.Fatalf("header bytes % x", d[:8])
	}
	h, payload, err := parseRUDP(d)
	if err != nil || h.Sequence != 0xf00000f0 || h.Timestamp != 0x01020304 || string(payload) != "VERSION=2.0.1\r\n" {
		t.Fatalf("parsed %+v %q %v", h, payload, err)
	}
	if _, _, err := parseRUDP(d[:7]); err == nil {
		t.Fatal("a 7-byte datagram parsed as RUDP")
	}
}

func TestClassifyTellsSignallingFromIPv6Data(t *testing.T) {
	cases := []struct {
		d    []byte
		want datagramKind
	}{
		{[]byte{0xf0, 0, 0, 0xf0, 0, 0, 0, 0}, kindSignalling},
		{[]byte{0xf0, 0, 0, 0xf0}, kindUnknown}, // too short for a header
		{ipv6Packet("2001:db8::1", "2001:db8::2"), kindIPv6},
		{[]byte{0x45, 0, 0, 20}, kindUnknown}, // IPv4 is not carried
		{nil, kindUnknown},
	}
	for _, c := range cases {
		if got := classify(c.d); got != c.want {
			t.Errorf("classify(% x) = %v, want %v", c.d, got, c.want)
		}
	}
}
