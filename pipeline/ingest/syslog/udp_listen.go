package syslog

import (
	"context"
	"fmt"
	"net"
)

// listenUDP binds n sockets to address, sharing it with SO_REUSEPORT where
// the kernel spreads datagrams over them (Linux; elsewhere one socket).
//
// SO_REUSEPORT lets any socket of the same user with the option join the
// group, so the address is first taken without it, alone: a port held by
// anyone (another router, with or without readers) fails as it always did
// ("address already in use"), and port 0 resolves to a port no group
// holds (with the option set, the kernel may hand out a port of another
// same-user group). That socket is then closed and the group bound on its
// port. A later router is refused the same way, by this group.
func listenUDP(address string, n int) ([]*net.UDPConn, error) {
	if !reusePortSpreads {
		n = 1
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
	var lc net.ListenConfig
	if n > 1 {
		alone, err := lc.ListenPacket(context.Background(), "udp", address)
		if err != nil {
			return fail(err)
		}
		_, port, _ := net.SplitHostPort(alone.LocalAddr().String())
		_ = alone.Close()
		addr = net.JoinHostPort(host, port)
		lc.Control = reusePort
	}
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
