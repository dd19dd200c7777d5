package syslog

import (
	"net"
	"syscall"
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
