package syslog

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tuneUDP sizes the receive buffer (SO_RCVBUFFORCE when the process may,
// else SO_RCVBUF) and asks the kernel to report drops (SO_RXQ_OVFL).
func (s *Server) tuneUDP(pc *net.UDPConn) {
	want := s.cfg.UDP.ReceiveBufferBytes
	raw, err := pc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, want) != nil {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, want)
		}
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
		if got, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil && got < want {
			s.log.Warn("UDP receive buffer smaller than configured (raise net.core.rmem_max or grant CAP_NET_ADMIN)",
				"configured", want, "kernel_gave", got/2)
		}
	})
}

// rxqOverflow reads the SO_RXQ_OVFL counter (datagrams dropped since the
// socket opened) from a control message.
func rxqOverflow(oob []byte) (uint32, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			d := m.Data
			return uint32(d[0]) | uint32(d[1])<<8 | uint32(d[2])<<16 | uint32(d[3])<<24, true
		}
	}
	return 0, false
}

// reusePortSpreads: Linux spreads a port's datagrams over the sockets bound
// to it with SO_REUSEPORT (by a hash of the sender's address and port).
const reusePortSpreads = true

// reusePort sets SO_REUSEPORT before bind (a net.ListenConfig.Control).
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}

// discardQueued reads the datagrams queued on pc without waiting, until
// none is left or for at most within, and returns the messages they held
// (messagesIn).
func discardQueued(pc *net.UDPConn, buf []byte, within time.Duration) int {
	raw, err := pc.SyscallConn()
	if err != nil {
		return 0
	}
	// RawConn.Read returns at once, without calling the function, when
	// the read deadline has passed, which is how a drain that ran out of
	// time leaves the socket. The function never waits, so no deadline is
	// needed.
	_ = pc.SetReadDeadline(time.Time{})
	n := 0
	stop := time.Now().Add(within)
	_ = raw.Read(func(fd uintptr) bool {
		for time.Now().Before(stop) {
			m, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			if err != nil {
				break // EAGAIN: nothing left
			}
			n += messagesIn(buf[:m])
		}
		return true // never wait for more
	})
	return n
}
