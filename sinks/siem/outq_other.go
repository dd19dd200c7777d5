//go:build !linux

package siem

import "net"

// unsentBytes cannot tell what the peer acknowledged on this system: -1
// (replay_age alone decides what is kept for replay).
func unsentBytes(net.Conn) int { return -1 }
