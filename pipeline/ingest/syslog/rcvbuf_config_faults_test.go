package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import "testing"

// TestNegativeReceiveBufferAccepted: inputs.syslog.udp.
// receive_buffer_bytes is the one size of the syslog block Validate never
// looks at (SetDefaults replaces only 0). A negative value (-1, or a
// "-8388608" typo) passes Validate, `router validate` says OK, and
// `router run` hands it to setsockopt: with CAP_NET_ADMIN, SO_RCVBUFFORCE
// clamps it to the kernel's minimum (a few KiB), so every burst overflows
// the socket and datagrams are dropped; without it SO_RCVBUF takes it as a
// huge unsigned value and silently uses net.core.rmem_max. Either way the
// warning "UDP receive buffer smaller than configured" never fires (the
// kernel always gives more than a negative number). Validate should refuse
// a negative size, naming inputs.syslog.udp.receive_buffer_bytes and
// saying to omit it for the default of 8 MiB.
func TestNegativeReceiveBufferAccepted(t *testing.T) {
	c := Config{UDP: &UDPConfig{Address: "127.0.0.1:0", ReceiveBufferBytes: -1}}
	c.SetDefaults()
	if err := c.Validate("inputs.syslog"); err == nil {
		t.Errorf("inputs.syslog.udp.receive_buffer_bytes %d passes Validate", c.UDP.ReceiveBufferBytes)
	}
}
