// tsp-broker: the ipv6gw lab's TSP tunnel broker (RFC 5572, as the gw6c 5.1
// and gogoc clients speak it). It negotiates over RUDP (UDP) and TCP on
// port 3653 (anonymous, PLAIN, DIGEST-MD5; host and router mode), and
// carries v6udpv4 tunnels: IPv6 packets in UDP on the negotiation's socket,
// bridged to a tun device whose routes lead each client's tunnel address
// and delegated /64 back to it. v6v4 (6in4) is not offered: it needs the
// sit kernel module, which the lab's kernel lacks.
//
// Usage: tsp-broker -config /etc/ipv6gw-lab/tsp-broker.json
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	configPath := flag.String("config", "/etc/ipv6gw-lab/tsp-broker.json", "JSON configuration (see config.go)")
	flag.Parse()
	logger := log.New(os.Stderr, "", 0)
	logf := func(format string, args ...any) { logger.Printf(format, args...) }
	if err := run(*configPath, logf); err != nil {
		logger.Printf("tsp-broker: %v", err)
		os.Exit(1)
	}
}

func run(configPath string, logf func(string, ...any)) error {
	s, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	assigner, err := newAssigner(s)
	if err != nil {
		return err
	}
	tun, err := openTun(s.TunInterface)
	if err != nil {
		return err
	}
	server6 := serverAddress(s.tunnelPrefix)
	if err := configureTun(s.TunInterface, server6, 1280); err != nil {
		return fmt.Errorf("cannot configure %s: %w", s.TunInterface, err)
	}
	addr := netip.AddrPortFrom(s.listen, uint16(s.Port))
	udp, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return fmt.Errorf("cannot listen on UDP %s: %w", addr, err)
	}
	tcp, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return fmt.Errorf("cannot listen on TCP %s: %w", addr, err)
	}
	srv := newServer(s, assigner, tun, ipRoutes{dev: s.TunInterface}, udp, logf)
	srv.writeSessions()

	errs := make(chan error, 3)
	go func() { errs <- fmt.Errorf("UDP listener: %w", srv.serveUDP(udp)) }()
	go func() { errs <- fmt.Errorf("TCP listener: %w", srv.serveTCP(tcp)) }()
	go func() { errs <- fmt.Errorf("tun %s: %w", s.TunInterface, srv.serveTun()) }()
	go func() {
		for range time.Tick(2 * time.Second) {
			srv.sweep()
		}
	}()

	users := make([]string, 0, len(s.Users))
	for _, u := range s.Users {
		users = append(users, fmt.Sprintf("%s (slot %d)", u.Name, u.Slot))
	}
	logf("listening on UDP and TCP %s; TSP %v; tunnel ends in %s (server %s) on %s; router mode delegates /64s of %s; users: %v; anonymous: %v",
		addr, s.Versions, s.tunnelPrefix, server6, s.TunInterface, s.delegationPrefix, users, s.Anonymous)
	logf("v6v4 (6in4) is not offered: it needs the sit kernel module, which the lab's kernel lacks")
	if err := notifyReady(); err != nil {
		logf("cannot tell systemd the broker is ready: %v", err)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-errs:
		return err
	case got := <-sig:
		logf("stopping on %s", got)
		return nil
	}
}
