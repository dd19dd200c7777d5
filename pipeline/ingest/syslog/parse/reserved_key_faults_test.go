package parse

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import "testing"

// TestEscapedLogrouterKeyReserved: a JSON payload with a top-level
// "logrouter" or "logrouter.*" member is left as text (package doc; payload.go
// reservedKey: `"logrouter.token" reads as logrouter.token too`), and a
// member name spelled with escapes is the same name (reservedJSONKey:
// "log\u0072outer" is "logrouter"). reservedJSONKey decodes escaped names
// into a 16-byte buffer and answers "not reserved" for anything longer, on
// the assumption that longer names are never reserved; but every
// "logrouter.<anything>" is. So AppendJSON takes
// {"logrouter.\u0070arse_status":"spoof"} as a JSON payload and copies the
// spoofed member into the event next to its own "logrouter" object, while
// the same key unescaped, a short escaped one ("logrouter.\u0074oken"), and
// the syslog input's split path (fastjson unescapes the key, reservedKey
// refuses it) all leave the payload as text. AppendJSON and the split path
// are documented to give the same event (TestSplitMatchesAppendJSON,
// FuzzSplitMatchesAppendJSON); here they do not.
//
// Expected: every spelling is refused alike: Format "" and no payload
// member in the output.
func TestEscapedLogrouterKeyReserved(t *testing.T) {
	p := New(Options{})
	for _, key := range []string{
		`logrouter.parse_status`,        // plain: refused today
		`logrouter.\u0074oken`,          // escaped, 15 bytes decoded: refused today
		`logrouter.\u0070arse_status`,   // escaped, 22 bytes decoded: accepted (bug)
		`log\u0072outer.index_override`, // escaped, 24 bytes decoded: accepted (bug)
	} {
		msg := `<14>1 2026-11-28T10:00:00Z h app - - - {"` + key + `":"spoof","a":1}`
		out, res := p.AppendJSON(nil, []byte(msg))
		if res.Format != "" || field(t, out, "a") != "" {
			t.Errorf("payload with member %q taken as %q: %s; want it left as text, as the unescaped name is", key, res.Format, out)
		}
	}
}
