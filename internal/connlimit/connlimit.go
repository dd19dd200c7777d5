// Package connlimit bounds a server's open connections, in total and per
// source address, so that one sender (or a flood from one host) cannot
// take every file descriptor or every slot of the others.
package connlimit

import (
	"net"
	"net/netip"
	"sync"
)

// Reasons a connection is refused.
const (
	ReasonMax   = "max_connections"
	ReasonPerIP = "max_connections_per_ip"
)

// Limiter counts open connections. Acquire a connection when it is
// accepted and Release it when it closes; only acquired connections are
// released (a refused one's Release is a no-op). Safe for concurrent use.
type Limiter struct {
	max, perIP int // perIP < 0: no bound per address

	mu    sync.Mutex
	open  map[net.Conn]netip.Addr
	byKey map[netip.Addr]int
}

// New returns a Limiter of at most max connections, perIP of them from one
// source address (Key); perIP < 0 bounds only the total.
func New(max, perIP int) *Limiter {
	return &Limiter{max: max, perIP: perIP, open: map[net.Conn]netip.Addr{}, byKey: map[netip.Addr]int{}}
}

// Acquire takes a slot for c, or reports why it cannot (ReasonMax,
// ReasonPerIP): the caller then closes c.
func (l *Limiter) Acquire(c net.Conn) (reason string, ok bool) {
	k := Key(c.RemoteAddr())
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.open) >= l.max {
		return ReasonMax, false
	}
	if l.perIP >= 0 && l.byKey[k] >= l.perIP {
		return ReasonPerIP, false
	}
	l.open[c] = k
	l.byKey[k]++
	return "", true
}

// Release frees c's slot, if it has one.
func (l *Limiter) Release(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.open[c]
	if !ok {
		return
	}
	delete(l.open, c)
	if l.byKey[k] <= 1 {
		delete(l.byKey, k)
	} else {
		l.byKey[k]--
	}
}

// Open returns how many connections hold a slot.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// Key is the source address a per-address bound counts under: the address,
// IPv4-mapped IPv6 unmapped, and an IPv6 sender's whole /64 (which one host
// can rotate through). The zero Addr for a non-IP connection.
func Key(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		ip = a.AddrPort().Addr().Unmap()
	default:
		return netip.Addr{}
	}
	return KeyOf(ip)
}

// KeyOf is Key for an address already taken from its connection: an IPv6
// address's /64, any other address as it is.
func KeyOf(ip netip.Addr) netip.Addr {
	if ip.Is6() && !ip.Is4In6() {
		return netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip
}

// Listener returns ln refusing, at Accept, the connections l has no slot
// for: each is closed at once and reported to refused (which may be nil),
// and Accept goes on to the next (it never blocks on the bound, so a flood
// from one address does not keep the others out). A connection accepted
// holds its slot until it is closed. A TLS server wraps this listener, so a
// refused connection costs no handshake (nor its failure's log line).
func (l *Limiter) Listener(ln net.Listener, refused func(c net.Conn, reason string)) net.Listener {
	return &listener{Listener: ln, l: l, refused: refused}
}

type listener struct {
	net.Listener
	l       *Limiter
	refused func(net.Conn, string)
}

func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if reason, ok := ln.l.Acquire(c); !ok {
			if ln.refused != nil {
				ln.refused(c, reason)
			}
			_ = c.Close()
			continue
		}
		return &conn{Conn: c, l: ln.l}, nil
	}
}

// conn releases its slot when closed (once).
type conn struct {
	net.Conn
	l    *Limiter
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.Release(c.Conn) })
	return err
}
