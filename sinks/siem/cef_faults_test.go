package siem

// Fault tests from a review of the syslog/CEF encoding: each failed before
// the fix of the bug it describes (the comments describe the code as it was
// found), and states the behaviour the ArcSight CEF specification
// ("Implementing ArcSight Common Event Format (CEF)", v25/v26) or the syslog
// RFCs require.

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// reviewCEFTime is 2026-11-28T00:00:00.123456789Z.
const reviewCEFTime = int64(1795824000123456789)

// reviewCEFFrame encodes raw as one framed syslog message with the CEF body
// under cfg (format cef forced; address and default_host filled in).
func reviewCEFFrame(t *testing.T, cfg SyslogConfig, raw string) string {
	t.Helper()
	cfg.Format = "cef"
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:514"
	}
	if cfg.DefaultHost == "" {
		cfg.DefaultHost = "router-1"
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.SetDefaults()
	e := newSyslogEncoder(&cfg)
	ev := pipeline.Event{Raw: []byte(raw), Time: reviewCEFTime, Ingest: reviewCEFTime,
		SourceType: "windows.security", Priority: pipeline.P1}
	var p fastjson.Parser
	var scratch []byte
	out, ok := e.appendFrame(nil, &ev, &p, &scratch)
	if !ok {
		t.Fatal("message refused")
	}
	return string(out)
}

// reviewCEFBody returns the CEF record of a newline-framed message.
func reviewCEFBody(t *testing.T, msg string) string {
	t.Helper()
	i := strings.Index(msg, "CEF:0|")
	if i < 0 {
		t.Fatalf("no CEF record in %q", msg)
	}
	return strings.TrimSuffix(msg[i:], "\n")
}

// reviewCEFSplit splits a CEF record at its 7th unescaped '|' into the
// header (escapes kept) and the extension.
func reviewCEFSplit(t *testing.T, rec string) (header, ext string) {
	t.Helper()
	pipes := 0
	for i := 0; i < len(rec); i++ {
		switch rec[i] {
		case '\\':
			i++
		case '|':
			if pipes++; pipes == 7 {
				return rec[:i], rec[i+1:]
			}
		}
	}
	t.Fatalf("fewer than 7 unescaped '|' in %q", rec)
	return "", ""
}

// reviewCEFExt returns the raw (still escaped) value of key in a CEF
// extension: from after "key=" up to the space before the next
// "otherkey=" (an unescaped '=' preceded by a key).
func reviewCEFExt(ext, key string) (string, bool) {
	var start int
	switch {
	case strings.HasPrefix(ext, key+"="):
		start = len(key) + 1
	case strings.Contains(ext, " "+key+"="):
		start = strings.Index(ext, " "+key+"=") + len(key) + 2
	default:
		return "", false
	}
	rest := ext[start:]
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '=':
			// back up over the key to the space before it
			j := strings.LastIndexByte(rest[:i], ' ')
			if j < 0 {
				return rest, true
			}
			return rest[:j], true
		}
	}
	return rest, true
}

// reviewCtl lists the C0 control characters (other than TAB) and DEL found
// in s.
func reviewCtl(s string) []string {
	var found []string
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			found = append(found, fmtByte(c))
		}
	}
	return found
}

func fmtByte(c byte) string {
	const hex = "0123456789abcdef"
	return `\x` + string(hex[c>>4]) + string(hex[c&0xf])
}

// reviewCtlEvent is a normalized event (canonical JSON: control characters
// are \u00XX escapes, exactly as the normalizer writes them) whose message,
// user name and dataset carry NUL, BEL, BS, ESC (an ANSI "clear screen"
// sequence), VT, FF and DEL, as an attacker-controlled user name or a raw
// terminal log line does. fastjson unescapes them into raw bytes.
const reviewCtlEvent = `{"@timestamp":"2026-11-28T00:00:00.123Z",` +
	`"message":"logon failed\u0000 for \u001b[2J\u001b[31madmin\u0007\u0008\u000b\u000c\u007f",` +
	`"event":{"dataset":"win\u0000sec\u001b"},` +
	`"user":{"name":"adm\u0000in\u001b[0m"},"host":{"name":"ws-1"}}`

// TestCEFHeaderControlChars: appendCEFHeader (cef.go) only rewrites
// CR and LF; every other control character of the event data goes raw into
// the CEF header (Device Event Class ID from event.dataset, Name from
// message). The CEF spec allows only printable text in the header (CR/LF
// are not allowed there at all, and there is no escape for other control
// characters), and the record must stay one line of text: a NUL ends the
// string for C-based receivers and relays (rsyslog, which fronts Sentinel's
// AMA and most QRadar/ArcSight collectors, rewrites it to "#000" by default
// with $EscapeControlCharactersOnReceive, so the Name/Class ID no longer
// match the event; syslog-ng truncates at it), and with framing: newline
// some receivers use NUL as the frame TRAILER (RFC 6587 §3.4.2), so the
// message is split. ESC sequences are also replayed into analysts' consoles
// (terminal injection). Correct: header fields derived from event data map
// every C0 control character and DEL to a space (as CR and LF already are),
// or drop them.
func TestCEFHeaderControlChars(t *testing.T) {
	for _, framing := range []string{"newline", "octet_counting"} {
		msg := reviewCEFFrame(t, SyslogConfig{Framing: framing}, reviewCtlEvent)
		header, _ := reviewCEFSplit(t, reviewCEFBody(t, msg))
		if bad := reviewCtl(header); len(bad) > 0 {
			t.Errorf("framing %s: CEF header carries raw control characters %v:\n%q", framing, bad, header)
		}
	}
}

// TestCEFExtensionControlChars: appendCEFValue (cef.go) escapes only
// \ = LF CR; NUL, ESC, BEL, BS, VT, FF and DEL from the event go raw into
// extension values (msg, suser, ...). The CEF spec defines no escape for
// them and requires the record to be a single line of text; raw control
// bytes are rewritten by rsyslog (#000, #033 ...) before the SIEM sees them,
// cut the value (and all following keys) for receivers that treat NUL as a
// string end or as the non-transparent framing TRAILER (RFC 6587 §3.4.2),
// and inject terminal sequences into analysts' consoles. Correct: extension
// values never carry raw C0 controls or DEL: replace them (by a space, or
// U+FFFD, or a visible \uXXXX-style text), as LF/CR are already escaped.
func TestCEFExtensionControlChars(t *testing.T) {
	msg := reviewCEFFrame(t, SyslogConfig{Framing: "newline"}, reviewCtlEvent)
	_, ext := reviewCEFSplit(t, reviewCEFBody(t, msg))
	for _, key := range []string{"msg", "suser"} {
		v, ok := reviewCEFExt(ext, key)
		if !ok {
			t.Fatalf("no %s in extension %q", key, ext)
		}
		if bad := reviewCtl(v); len(bad) > 0 {
			t.Errorf("%s carries raw control characters %v: %q", key, bad, v)
		}
	}
	// The framed message as a whole (newline framing) must not hold a NUL
	// either: it would end the frame for a NUL-trailer receiver.
	if i := strings.IndexByte(msg, 0); i >= 0 {
		t.Errorf("newline-framed message holds a NUL at %d: %q", i, msg)
	}
}

func reviewAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TestCEFNumericTimestampNotMillis: for a timestamp key (rt, start,
// end, art, deviceCustomDate1, ...) appendCEF converts only JSON *strings*
// (timeparse.Parse, which applies the epoch-unit heuristics); a JSON
// *number* is copied verbatim. The CEF spec's Time Stamp type is
// milliseconds since the epoch (or one of the listed "MMM dd [yyyy]
// HH:mm:ss[.SSS] [zzz]" formats), and the package contract says timestamp
// keys "get epoch milliseconds". Epoch seconds (Zeek ts, many JSON logs:
// 1795824000 or 1795824000.5) are read by ArcSight/QRadar as milliseconds,
// i.e. 1970-01-21, and a fraction is not a valid value at all; epoch
// nanoseconds (Cloudflare, Kubernetes) land in the year 56 million. Yet
// the same values as strings ("1795824000") are converted correctly.
// Correct: convert numbers too, with the same unit heuristics
// (timeparse.FromEpoch/ParseEpoch), to integer epoch milliseconds, or leave
// the key out when the value is not a plausible time.
func TestCEFNumericTimestampNotMillis(t *testing.T) {
	cfg := SyslogConfig{Framing: "newline", CEF: CEFConfig{Extension: map[string]string{
		"start": "event.start", "end": "event.end", "deviceCustomDate1": "event.created",
	}}}
	raw := `{"event":{"start":1795824000,"end":1795824000.5,"created":1795824000123456789}}`
	_, ext := reviewCEFSplit(t, reviewCEFBody(t, reviewCEFFrame(t, cfg, raw)))
	for key, want := range map[string]string{
		"start":             "1795824000000", // epoch seconds
		"end":               "1795824000500", // epoch seconds with a fraction
		"deviceCustomDate1": "1795824000123", // epoch nanoseconds
	} {
		got, ok := reviewCEFExt(ext, key)
		if !ok {
			t.Errorf("%s missing from %q", key, ext)
			continue
		}
		if got != want {
			t.Errorf("%s=%s, want %s (epoch milliseconds)", key, got, want)
		}
	}
}

// TestCEFUnparsedTimestampVerbatim: when a timestamp key's string does
// not parse, appendCEF falls through to appendCEFValue and sends the text
// as the value ("end=in 5 minutes", "rt=2026-13-45T99:00:00Z"). A CEF Time
// Stamp must be epoch milliseconds or one of the spec's date formats; the
// receiver fails to convert it (ArcSight logs a parse error and drops the
// field, QRadar falls back to its receive time), so the record carries a
// value no SIEM reads, against the documented contract that timestamp keys
// "get epoch milliseconds". Correct: leave the key out (or send the text
// under a string key such as a csN with a label) when the value is not a
// time.
func TestCEFUnparsedTimestampVerbatim(t *testing.T) {
	cfg := SyslogConfig{Framing: "newline", CEF: CEFConfig{Extension: map[string]string{
		"end": "event.end", "art": "event.ingested",
	}}}
	raw := `{"event":{"end":"in 5 minutes","ingested":"2026-13-45T99:00:00Z"}}`
	_, ext := reviewCEFSplit(t, reviewCEFBody(t, reviewCEFFrame(t, cfg, raw)))
	for _, key := range []string{"end", "art"} {
		if got, ok := reviewCEFExt(ext, key); ok && !reviewAllDigits(got) {
			t.Errorf("%s=%q is not epoch milliseconds (extension %q)", key, got, ext)
		}
	}
}

// TestCEFFlexDate1NotTimestamp: cefTimestampKeys (cef.go) lacks
// flexDate1, a Time Stamp key of the CEF extension dictionary (spec v25
// and v26: "flexDate1 ... Time Stamp", with flexDate1Label). Mapped to
// @timestamp, it is not given the event time in epoch milliseconds like rt
// is: appendCEF reads the raw "@timestamp" string and sends
// "flexDate1=2026-11-28T00:00:00.123Z", an ISO 8601 text that is none of
// the CEF timestamp formats, so ArcSight cannot convert it. Correct: list
// flexDate1 in cefTimestampKeys (and document it in CEFConfig.Extension).
func TestCEFFlexDate1NotTimestamp(t *testing.T) {
	cfg := SyslogConfig{Framing: "newline", CEF: CEFConfig{Extension: map[string]string{
		"flexDate1": "@timestamp", "rt": "@timestamp",
	}}}
	raw := `{"@timestamp":"2026-11-28T00:00:00.123Z"}`
	_, ext := reviewCEFSplit(t, reviewCEFBody(t, reviewCEFFrame(t, cfg, raw)))
	rt, _ := reviewCEFExt(ext, "rt")
	got, ok := reviewCEFExt(ext, "flexDate1")
	if !ok || got != rt || !reviewAllDigits(got) {
		t.Errorf("flexDate1=%q, want epoch milliseconds %q like rt (extension %q)", got, rt, ext)
	}
}
