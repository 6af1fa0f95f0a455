package main

// The broker's tun device (no packet information header: whole IPv6
// packets) and the routes into it, set with iproute2's `ip`.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"
)

const (
	tunSetIff = 0x400454ca // TUNSETIFF
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

type tunDevice struct {
	f    *os.File
	name string
}

// openTun creates (or attaches to) the tun device `name`.
func openTun(name string) (*tunDevice, error) {
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open /dev/net/tun (is the tun module there, and the device visible in this container?): %w", err)
	}
	var req [40]byte // struct ifreq: name[16], flags (short), padding
	copy(req[:15], name)
	*(*uint16)(unsafe.Pointer(&req[16])) = iffTun | iffNoPI
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), tunSetIff, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
		f.Close()
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, errno)
	}
	return &tunDevice{f: f, name: name}, nil
}

func (t *tunDevice) ReadPacket(buf []byte) (int, error) { return t.f.Read(buf) }

func (t *tunDevice) WritePacket(pkt []byte) error {
	_, err := t.f.Write(pkt)
	return err
}

// ip runs iproute2 and returns its error output as the error.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// configureTun brings the device up with the server's tunnel address.
func configureTun(name string, server netip.Addr, mtu int) error {
	if err := ip("link", "set", "dev", name, "mtu", fmt.Sprint(mtu), "up"); err != nil {
		return err
	}
	return ip("-6", "addr", "replace", netip.PrefixFrom(server, 128).String(), "dev", name)
}

type ipRoutes struct{ dev string }

func (r ipRoutes) Add(p netip.Prefix) error {
	return ip("-6", "route", "replace", p.String(), "dev", r.dev)
}
func (r ipRoutes) Del(p netip.Prefix) error {
	return ip("-6", "route", "del", p.String(), "dev", r.dev)
}
