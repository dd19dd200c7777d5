//go:build !linux

package syslog

import (
	"net"
	"syscall"
	"time"
)

// tuneUDP sizes the receive buffer. Only Linux reports dropped datagrams
// (SO_RXQ_OVFL, sockopt_linux.go): elsewhere the drop counter stays 0, and
// logrouter is built for Linux containers; this lets developers build and
// test on their laptops.
func (s *Server) tuneUDP(pc *net.UDPConn) {
	_ = pc.SetReadBuffer(s.cfg.UDP.ReceiveBufferBytes)
}

// rxqOverflow: no drop counter outside Linux.
func rxqOverflow([]byte) (uint32, bool) { return 0, false }

// reusePortSpreads: elsewhere SO_REUSEPORT does not spread datagrams over
// the sockets (BSDs and macOS hand them to one), so udp.readers is 1.
const reusePortSpreads = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }

// discardQueued: elsewhere what is left at close is not counted.
func discardQueued(*net.UDPConn, []byte, time.Duration) int { return 0 }
