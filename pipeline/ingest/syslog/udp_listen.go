package syslog

import (
	"context"
	"fmt"
	"net"
)

// listenUDP binds n sockets to address, sharing it with SO_REUSEPORT where
// the kernel spreads datagrams over them (Linux; elsewhere one socket). With
// port 0 the first socket's port is taken by the others.
func listenUDP(address string, n int) ([]*net.UDPConn, error) {
	if !reusePortSpreads {
		n = 1
	}
	var lc net.ListenConfig
	if n > 1 {
		lc.Control = reusePort
	}
	var pcs []*net.UDPConn
	fail := func(err error) ([]*net.UDPConn, error) {
		for _, pc := range pcs {
			_ = pc.Close()
		}
		return nil, fmt.Errorf("inputs.syslog.udp: listen on %s: %w (change inputs.syslog.udp.address)", address, err)
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("inputs.syslog.udp.address: %w", err)
	}
	addr := address
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return fail(err)
		}
		uc, ok := pc.(*net.UDPConn)
		if !ok {
			_ = pc.Close()
			return fail(fmt.Errorf("not a UDP socket: %T", pc))
		}
		pcs = append(pcs, uc)
		// The same host as configured (a wildcard stays the same
		// wildcard), on the port the first socket got.
		_, port, _ := net.SplitHostPort(uc.LocalAddr().String())
		addr = net.JoinHostPort(host, port)
	}
	return pcs, nil
}
