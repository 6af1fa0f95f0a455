package main

// RUDP framing as the TSP clients (gw6c 5.1, gogoc) use it over UDP: an
// 8-byte header {sequence, timestamp}, both big-endian, then the payload.
// Signalling datagrams carry 0xF in the top nibble of the sequence; a
// datagram whose first nibble is 6 is an IPv6 packet of an established
// v6udpv4 tunnel (no header at all).

import (
	"encoding/binary"
	"errors"
)

const rudpHeaderLen = 8

// rudpHeader is the 8-byte header of a signalling datagram.
type rudpHeader struct {
	Sequence  uint32
	Timestamp uint32
}

// datagramKind tells signalling from tunnelled IPv6 data by the first nibble.
type datagramKind int

const (
	kindUnknown datagramKind = iota
	kindSignalling
	kindIPv6
)

func classify(d []byte) datagramKind {
	if len(d) == 0 {
		return kindUnknown
	}
	switch d[0] >> 4 {
	case 0xF:
		if len(d) >= rudpHeaderLen {
			return kindSignalling
		}
	case 6:
		return kindIPv6
	}
	return kindUnknown
}

var errShortDatagram = errors.New("datagram shorter than the 8-byte RUDP header")

// parseRUDP splits a signalling datagram into header and payload.
func parseRUDP(d []byte) (rudpHeader, []byte, error) {
	if len(d) < rudpHeaderLen {
		return rudpHeader{}, nil, errShortDatagram
	}
	h := rudpHeader{Sequence: binary.BigEndian.Uint32(d[0:4]), Timestamp: binary.BigEndian.Uint32(d[4:8])}
	return h, d[rudpHeaderLen:], nil
}

// encodeRUDP builds a reply: the client matches replies by the identical
// sequence, and measures its RTT from the echoed timestamp.
func encodeRUDP(h rudpHeader, payload []byte) []byte {
	out := make([]byte, rudpHeaderLen+len(payload))
	binary.BigEndian.PutUint32(out[0:4], h.Sequence)
	binary.BigEndian.PutUint32(out[4:8], h.Timestamp)
	copy(out[rudpHeaderLen:], payload)
	return out
}
