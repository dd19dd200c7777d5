package siem

import (
	"crypto/tls"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// unsentBytes returns how many bytes written to c its peer's TCP has not
// acknowledged yet (Linux SIOCOUTQ: the send queue, sent or not), or -1
// when that cannot be told. For TLS they are bytes of TLS records, a few
// more than the plaintext they carry: taken as plaintext they over-count,
// which keeps more for replay, never less.
func unsentBytes(c net.Conn) int {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	if err := rc.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ); err == nil {
			n = v
		}
	}); err != nil {
		return -1
	}
	return n
}
