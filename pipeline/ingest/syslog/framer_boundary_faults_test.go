package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestTrailerNotCountedAgainstMax: a message of exactly
// max_message_bytes is not oversize ("MaxMessageBytes bounds one message;
// longer ones are cut", config.go). Its framing trailer is no part of it:
// the framer itself drops a "\r\n" (LF framing) and the "\n" rsyslog and
// syslog-ng put inside octet-counted frames (trimEOL). But framer.cut
// compares the length *with* the trailer against max (the LF path checks
// len(frame) > f.max before trimEOL; the octet path checks n > f.max where n
// counts the in-frame "\n"), so such a message comes back frameTruncated:
// counted in logrouter_syslog_oversize_total and, with
// on_oversize: quarantine, quarantined as too_large instead of delivered.
// (rsyslog's RSYSLOG_SyslogProtocol23Format, recommended in
// docs/shippers.md with octet counting, ends every message with "\n".)
//
// Expected: both frames come back whole (frameWhole), with the full message.
func TestTrailerNotCountedAgainstMax(t *testing.T) {
	const max = 480
	msg := "<13>" + strings.Repeat("x", max-4) // exactly max bytes
	for _, tc := range []struct{ name, in string }{
		{"lf framing, CRLF trailer", msg + "\r\n"},
		{"octet counting, LF inside the count (rsyslog)", fmt.Sprintf("%d %s\n", len(msg)+1, msg)},
	} {
		f := newFramer(strings.NewReader(tc.in+"<13>next\n"), max)
		fr, cut, err := f.next()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if cut != frameWhole || string(fr) != msg {
			t.Errorf("%s: a message of exactly max_message_bytes (%d) came back with cut %d (0 whole, 1 truncated), %d bytes; want it whole", tc.name, max, cut, len(fr))
		}
		fr, cut, err = f.next()
		if err != nil || cut != frameWhole || string(fr) != "<13>next" {
			t.Errorf("%s: next frame %q cut %d err %v", tc.name, fr, cut, err)
		}
		if _, _, err := f.next(); err != io.EOF {
			t.Errorf("%s: want EOF, got %v", tc.name, err)
		}
	}
}
