package main

// TSP over TCP: the same negotiation as over RUDP, on a byte stream. The
// client writes each message with one send() and expects no reply to
// AUTHENTICATE PLAIN nor to its accept, so messages are told apart by their
// shape: "Content-length: N" lines carry N more bytes, anything else is one
// CRLF line. AUTHENTICATE lines end in a NUL byte, which is dropped.
//
// Only negotiation happens over TCP: v6udpv4 needs the session's UDP socket
// and v6v4 needs sit, so a tunnel request over TCP gets 303.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// tcpFramer splits the client's byte stream into TSP messages.
type tcpFramer struct{ r *bufio.Reader }

func (f tcpFramer) next() ([]byte, error) {
	line, err := f.r.ReadBytes('\n')
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	// A NUL that ended the previous AUTHENTICATE line in a later segment shows up here.
	head := bytes.TrimLeft(line, "\x00")
	if h := strings.ToLower(string(head)); strings.HasPrefix(h, "content-length:") {
		n, err := strconv.Atoi(strings.TrimSpace(h[len("content-length:"):]))
		if err != nil || n < 0 || n > 65536 {
			return nil, fmt.Errorf("bad Content-length line %q", firstLine(head))
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(f.r, body); err != nil {
			return nil, err
		}
		return append(append([]byte{}, head...), body...), nil
	}
	if strings.HasPrefix(strings.ToUpper(string(head)), "AUTHENTICATE ") && f.r.Buffered() > 0 {
		if b, _ := f.r.Peek(1); b[0] == 0 {
			_, _ = f.r.ReadByte()
		}
	}
	return line, nil
}

// serveTCP accepts negotiations until the listener is closed.
func (s *Server) serveTCP(l *net.TCPListener) error {
	for {
		conn, err := l.AcceptTCP()
		if err != nil {
			return err
		}
		go s.tcpConversation(conn)
	}
}

func (s *Server) tcpConversation(conn *net.TCPConn) {
	defer conn.Close()
	_ = conn.SetNoDelay(true)
	peer := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	s.log("tcp %s: negotiation starts", peer)
	c := newConversation(s.settings, s.assigner, overTCP, peer, s.log)
	f := tcpFramer{bufio.NewReader(conn)}
	for c.state != stClosed && c.state != stEstablished {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
		msg, err := f.next()
		if err != nil {
			if err != io.EOF {
				s.log("tcp %s: %v", peer, err)
			}
			return
		}
		s.mu.Lock()
		out := c.handle(msg)
		s.mu.Unlock()
		if len(out) > 0 {
			if _, err := conn.Write(out); err != nil {
				return
			}
		}
		for {
			s.mu.Lock()
			more := c.poll()
			s.mu.Unlock()
			if more == nil {
				break
			}
			// The client reads rspauth and "200 Success" with two recv() calls: two segments.
			time.Sleep(200 * time.Millisecond)
			if _, err := conn.Write(more); err != nil {
				return
			}
		}
	}
}
