package syslog

import (
	"net"
	"testing"
	"time"
)

// TestOversizedPartialFrameNotIncomplete
//
// Fault: a connection that ends inside an octet-counted frame whose
// announced length is over max_message_bytes is not treated as an
// unfinished frame. framer.cut's oversize branch runs first: at the end of
// the stream (eof) it takes whatever came (avail < max) and returns it as
// frameTruncated, so stream.add parses it and delivers it as an event
// (on_oversize: truncate; counted as an oversize "truncate") or
// quarantines it as too_large. docs/architecture.md: "A connection that
// ends inside an octet-counted frame leaves half a message: it is
// quarantined as incomplete_frame, never parsed as if it were whole";
// here the first 90 bytes of a 5000-byte message (a Windows event or a
// stack trace whose sender was reset after its first TCP segment) are
// delivered as a message of their own.
//
// Sequence: max_message_bytes 480; a sender announces "5000 " and sends
// 90 bytes of the message, then closes its connection.
//
// Expected: as for a frame within the limit (TestPartialFrameNotSilentlyLost):
// nothing delivered, one record quarantined as incomplete_frame.
//
// Actual: the 90 bytes are delivered as an event; nothing is quarantined.
func TestOversizedPartialFrameNotIncomplete(t *testing.T) {
	f := reviewStart(t, Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxMessageBytes: 480})
	_, addr, _ := f.srv.Addrs()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	const frag = "<13>1 2026-11-28T00:00:00Z h app - - - oversizePartialMarker first bytes of a long message"
	if _, err := c.Write([]byte("5000 " + frag)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.Close()
	delivered, reasons := f.waitOutcome("oversizePartialMarker")
	if delivered != 0 || len(reasons) != 1 || reasons[0] != "incomplete_frame" {
		t.Errorf("%d of the 5000 announced bytes, then the connection closed: delivered %d, quarantined %v; want it quarantined once as incomplete_frame",
			len(frag), delivered, reasons)
	}
}
