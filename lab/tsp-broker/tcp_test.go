package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestTCPFramerSplitsMessagesByShape(t *testing.T) {
	stream := "VERSION=2.0.1\r\n" +
		"AUTHENTICATE PLAIN\r\n\x00" + "\x00todd\x00pw\r\n" +
		string(framed(hostRequest)) +
		acceptMsg
	f := tcpFramer{bufio.NewReader(strings.NewReader(stream))}
	want := []string{"VERSION=2.0.1\r\n", "AUTHENTICATE PLAIN\r\n", "\x00todd\x00pw\r\n", string(framed(hostRequest)), acceptMsg}
	for i, w := range want {
		got, err := f.next()
		if err != nil || string(got) != w {
			t.Fatalf("message %d: %q %v, want %q", i, got, err, w)
		}
	}
	if _, err := f.next(); err == nil {
		t.Error("a message after the end of the stream")
	}
}
