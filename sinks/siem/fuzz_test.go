package siem

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// --- a test-only CEF parser ---

// cefPair is one extension pair, its value unescaped.
type cefPair struct{ key, value string }

// parseCEF splits a CEF record into its 7 header fields (unescaped: \\ and
// \| are the only escapes allowed there) and its extension pairs: each key
// ([A-Za-z0-9_]+) is preceded by a single space (or starts the extension)
// and followed by the first unescaped '=', and its value runs up to the
// space before the next key. Values are unescaped per the CEF spec (\\ \=
// \n \r; any other escape is an error). Raw CR and LF are errors anywhere.
func parseCEF(rec string) (hdr []string, ext []cefPair, err error) {
	if i := strings.IndexAny(rec, "\r\n"); i >= 0 {
		return nil, nil, errors.New("raw CR or LF at " + strconv.Itoa(i))
	}
	var cur []byte
	i := 0
	for ; i < len(rec) && len(hdr) < 7; i++ {
		switch c := rec[i]; c {
		case '\\':
			if i+1 >= len(rec) || rec[i+1] != '\\' && rec[i+1] != '|' {
				return nil, nil, errors.New("bad escape in header at " + strconv.Itoa(i))
			}
			cur = append(cur, rec[i+1])
			i++
		case '|':
			hdr = append(hdr, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	if len(hdr) < 7 {
		return nil, nil, errors.New("fewer than 7 unescaped '|' in the header")
	}
	rest := rec[i:]
	if rest == "" {
		return hdr, nil, nil
	}
	// Unescaped '=' delimit the pairs.
	var eqs []int
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			if j+1 >= len(rest) || strings.IndexByte(`\=nr`, rest[j+1]) < 0 {
				return nil, nil, errors.New("bad escape in extension at " + strconv.Itoa(j))
			}
			j++
		case '=':
			eqs = append(eqs, j)
		}
	}
	if len(eqs) == 0 {
		return nil, nil, errors.New("extension without '='")
	}
	starts := make([]int, len(eqs)) // key starts
	for k, p := range eqs {
		ks := p
		for ks > 0 && cefKeyByte(rest[ks-1]) {
			ks--
		}
		switch {
		case ks == p:
			return nil, nil, errors.New("empty key before '=' at " + strconv.Itoa(p))
		case k == 0 && ks != 0:
			return nil, nil, errors.New("extension does not start with a key")
		case k > 0 && (ks == 0 || rest[ks-1] != ' ' || ks-1 <= eqs[k-1]):
			return nil, nil, errors.New("key " + strconv.Quote(rest[ks:p]) + " not preceded by a space")
		}
		starts[k] = ks
	}
	for k, p := range eqs {
		end := len(rest)
		if k+1 < len(eqs) {
			end = starts[k+1] - 1
		}
		ext = append(ext, cefPair{key: rest[starts[k]:p], value: cefUnescape(rest[p+1 : end])})
	}
	return hdr, ext, nil
}

func cefKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// cefUnescape undoes extension escaping (escapes already validated).
func cefUnescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			switch s[i] {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			default:
				c = s[i]
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestParseCEF(t *testing.T) {
	hdr, ext, err := parseCEF(`CEF:0|A\|B\\|p|1|sig|n a|10|a=x y b=c\=d\\ e\n c=`)
	if err != nil || len(hdr) != 7 || hdr[1] != `A|B\` || hdr[5] != "n a" ||
		!reflect.DeepEqual(ext, []cefPair{{"a", "x y"}, {"b", "c=d\\ e\n"}, {"c", ""}}) {
		t.Fatalf("%q %q %v", hdr, ext, err)
	}
	for _, bad := range []string{"CEF:0|a|b|c|d|e|f", "CEF:0|a|b|c|d|e|f|g|x", "CEF:0|a|b|c|d|e|f|a=b\\x", "CEF:0|a\\b|b|c|d|e|f|",
		"CEF:0|a|b|c|d|e|f|a=b\nc", "CEF:0|a|b|c|d|e|f| a=b", "CEF:0|a|b|c|d|e|f|a=b\\nc=d", "CEF:0|a|b|c|d|e|f|a=b=c"} {
		if _, _, err := parseCEF(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// --- FuzzCEF ---

// headerText is what a CEF header field holds for s: CR and LF become
// spaces.
func headerText(s string) string {
	return mapBytes(s, func(c byte) bool { return c < 0x20 || c == 0x7f })
}

// valueTextOf is s as an extension value reads back: control characters
// but CR and LF (escaped) are written as spaces.
func valueTextOf(s string) string {
	return mapBytes(s, func(c byte) bool { return (c < 0x20 && c != '\r' && c != '\n') || c == 0x7f })
}

// mapBytes is s with every byte ctl reports replaced by a space (bytes, not
// runes: invalid UTF-8 stays as it is).
func mapBytes(s string, ctl func(byte) bool) string {
	b := []byte(s)
	for i, c := range b {
		if ctl(c) {
			b[i] = ' '
		}
	}
	return string(b)
}

// fuzzCEFConfig is the default CEF mapping plus severity_field and two
// keys whose values are an object and an array.
func fuzzCEFConfig(vendor string) SyslogConfig {
	ext := DefaultCEFExtension()
	ext["cs1"] = "labels"
	ext["cs2"] = "tags"
	cfg := SyslogConfig{Address: "127.0.0.1:514", DefaultHost: "router-1", Format: "cef", Framing: "newline",
		CEF: CEFConfig{DeviceVendor: vendor, SeverityField: "event.severity", Extension: ext}}
	cfg.SetDefaults()
	return cfg
}

// lookupPath follows a dot path in a decoded JSON object.
func lookupPath(m map[string]any, path string) (any, bool) {
	var v any = m
	for seg := range strings.SplitSeq(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[seg]; !ok {
			return nil, false
		}
	}
	return v, true
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

const fuzzIngest = int64(1795824000123456789)

// FuzzCEF encodes events built from fuzzed strings (message, source.ip,
// user.name, event.dataset, host.name, event.action, a label, a severity
// given as a number or a string, the source type) with a fuzzed device
// vendor, and parses the record back with parseCEF: no raw CR or LF, exactly
// 7 unescaped '|' before the extension (every header field unescapes to its
// source, CR and LF as spaces), a valid severity (0..10 or a name), and
// exactly the expected extension keys, each value unescaping to the field's
// text (objects and arrays: equivalent compact JSON). An arbitrary Raw
// (raw, when not empty) must give a record that parses too, with only
// configured keys, each once.
func FuzzCEF(f *testing.F) {
	f.Add("logrouter", "Login | failed for a=b\\c\nnext line\r", "10.0.0.1", "dom\\user=x|y", "okta|system", "ws-1", "deny", "l",
		int64(443), uint8(1), 7.9, "", "crowdstrike.falcon", uint8(1), testTime, []byte(nil))
	f.Add(`Acme|Corp\`, "", "", "", "", "", "", "", int64(0), uint8(0), 0.0, "", "", uint8(0), int64(0), []byte(nil))
	f.Add("v\r\nx", "a \\= b", " lead", "trail ", "\\", "h h", "=", " k=v ", int64(-1), uint8(2), 0.0, "Very-High", "st|x\\", uint8(3), int64(-5), []byte(nil))
	f.Add("v", "x k=y", "1 suser=evil", "\\n", "\r", "", "a\\", "\u2028\x00\x7f\xff", int64(1<<53), uint8(2), 0.0, "10", "", uint8(9), int64(1), []byte(nil))
	f.Add("v", "msg", "", "", "", "", "", "", int64(0), uint8(1), -0.5, "11", "", uint8(2), testTime,
		[]byte(`{"message":"x\ny","event":{"dataset":"a|b","severity":"high"},"source":{"ip":["1","="]},"user":{"name":{"a":"b\\c"}}}`))
	f.Add("v", "", "", "", "", "", "", "", int64(0), uint8(1), 10.0, "", "", uint8(1), testTime, []byte(`[1,2]`))
	f.Add("v", "", "", "", "", "", "", "", int64(0), uint8(1), 1e300, "", "", uint8(1), testTime, []byte(`{"message":"a\u0000b\r","source":{"port":1e999},"event":{"severity":NaN}}`))
	f.Fuzz(func(t *testing.T, vendor, msg, srcIP, user, dataset, host, action, label string, port int64,
		sevKind uint8, sevNum float64, sevStr, sourceType string, prio uint8, evTime int64, raw []byte) {
		cfg := fuzzCEFConfig(vendor)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("config: %v", err)
		}
		enc := newSyslogEncoder(&cfg).cef
		var p fastjson.Parser
		var scratch []byte
		ev := pipeline.Event{Priority: pipeline.Priority(prio), SourceType: sourceType, Time: evTime, Ingest: fuzzIngest}

		event := map[string]any{
			"@timestamp": "2026-11-28T00:00:00.123Z",
			"message":    msg,
			"source":     map[string]any{"ip": srcIP, "port": port},
			"user":       map[string]any{"name": user},
			"event":      map[string]any{"dataset": dataset, "action": action},
			"host":       map[string]any{"name": host},
			"labels":     map[string]any{"k": label, "n": port, "ok": true},
			"tags":       []any{label, msg, nil},
		}
		switch sevKind % 3 {
		case 1:
			if !math.IsNaN(sevNum) && !math.IsInf(sevNum, 0) {
				event["event"].(map[string]any)["severity"] = sevNum
			}
		case 2:
			event["event"].(map[string]any)["severity"] = sevStr
		}
		doc, err := json.Marshal(event)
		if err != nil {
			t.Fatal(err)
		}
		dv, err := decodeJSON(doc) // the event as JSON says it (invalid UTF-8 replaced)
		if err != nil {
			t.Fatal(err)
		}
		m := dv.(map[string]any)
		ev.Raw = doc
		v, err := p.ParseBytes(doc)
		if err != nil {
			t.Fatalf("fastjson refuses %s: %v", doc, err)
		}
		rec := string(enc.appendCEF(nil, &ev, v, &scratch))
		hdr, ext, err := parseCEF(rec)
		if err != nil {
			t.Fatalf("%s: %v\nrecord %q", doc, err, rec)
		}
		str := func(path string) string {
			s, _ := lookupPath(m, path)
			x, _ := s.(string)
			return x
		}
		wantSig := DefaultCEFSignatureID
		if d := str("event.dataset"); d != "" {
			wantSig = d
		} else if sourceType != "" {
			wantSig = sourceType
		}
		wantName := DefaultCEFName
		if s := str("message"); s != "" {
			wantName = s
		}
		wantHdr := []string{"CEF:0", headerText(cfg.CEF.DeviceVendor), // after SetDefaults: empty means logrouter
			DefaultCEFProduct, DefaultCEFVersion, headerText(wantSig), headerText(wantName),
			wantSeverity(m, ev.Priority, cfg.CEF.SeverityByPriority)}
		if !reflect.DeepEqual(hdr, wantHdr) {
			t.Fatalf("%s: header %q, want %q\nrecord %q", doc, hdr, wantHdr, rec)
		}
		got := map[string]string{}
		for _, pr := range ext {
			if _, dup := got[pr.key]; dup {
				t.Fatalf("key %s twice in %q", pr.key, rec)
			}
			got[pr.key] = pr.value
		}
		for key, path := range cfg.CEF.Extension {
			g, present := got[key]
			delete(got, key)
			if key == "rt" {
				tm := ev.Time
				if tm <= 0 {
					tm = ev.Ingest
				}
				if w := strconv.FormatInt(tm/1e6, 10); g != w {
					t.Fatalf("rt=%q, want %q\nrecord %q", g, w, rec)
				}
				continue
			}
			x, ok := lookupPath(m, path)
			if s, isStr := x.(string); !ok || x == nil || isStr && s == "" {
				if present {
					t.Fatalf("%s=%q for absent or empty %s\nrecord %q", key, g, path, rec)
				}
				continue
			}
			if !present {
				t.Fatalf("%s missing for %s=%v\nrecord %q", key, path, x, rec)
			}
			switch x := x.(type) {
			case string:
				if g != valueTextOf(x) {
					t.Fatalf("%s=%q, want %q\nrecord %q", key, g, x, rec)
				}
			case json.Number:
				if g != x.String() {
					t.Fatalf("%s=%q, want %s\nrecord %q", key, g, x, rec)
				}
			case bool:
				if g != strconv.FormatBool(x) {
					t.Fatalf("%s=%q, want %v", key, g, x)
				}
			default:
				gv, err := decodeJSON([]byte(g))
				// A raw DEL inside compact JSON is written as a space.
				if err != nil || !reflect.DeepEqual(gv, delToSpace(x)) {
					t.Fatalf("%s=%q (%v), want JSON equal to %v\nrecord %q", key, g, err, x, rec)
				}
			}
		}
		if len(got) != 0 {
			t.Fatalf("unexpected keys %v in %q", got, rec)
		}

		// Arbitrary Raw: still a well-formed record.
		if len(raw) == 0 {
			return
		}
		ev.Raw = raw
		v, _ = p.ParseBytes(raw)
		if v != nil && v.Type() != fastjson.TypeObject {
			v = nil
		}
		rec = string(enc.appendCEF(nil, &ev, v, &scratch))
		hdr, ext, err = parseCEF(rec)
		if err != nil {
			t.Fatalf("raw %q: %v\nrecord %q", raw, err, rec)
		}
		if hdr[0] != "CEF:0" || hdr[1] != headerText(cfg.CEF.DeviceVendor) || !validCEFSeverity(hdr[6]) {
			t.Fatalf("raw %q: header %q", raw, hdr)
		}
		if v == nil && len(ext) != 0 {
			t.Fatalf("raw %q does not parse, yet extension %q", raw, ext)
		}
		seen := map[string]bool{}
		for _, pr := range ext {
			if _, ok := cfg.CEF.Extension[pr.key]; !ok || seen[pr.key] {
				t.Fatalf("raw %q: key %q unexpected or repeated in %q", raw, pr.key, rec)
			}
			seen[pr.key] = true
		}
	})
}

// wantSeverity is the documented severity: event.severity as a number
// 0..10 (truncated) or a string 0..10 or a severity name, else by priority.
func wantSeverity(m map[string]any, prio pipeline.Priority, byPrio map[string]int) string {
	if x, ok := lookupPath(m, "event.severity"); ok {
		switch x := x.(type) {
		case json.Number:
			if f, err := strconv.ParseFloat(x.String(), 64); err == nil && f >= 0 && f <= 10 {
				return strconv.Itoa(int(f))
			}
		case string:
			if n, err := strconv.Atoi(x); err == nil && n >= 0 && n <= 10 {
				return strconv.Itoa(n)
			}
			for _, name := range cefSeverityNames {
				if strings.EqualFold(x, name) {
					return name
				}
			}
		}
	}
	switch prio {
	case pipeline.P1, pipeline.P2:
		return strconv.Itoa(byPrio[prio.String()])
	}
	return strconv.Itoa(byPrio["P3"])
}

func validCEFSeverity(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 0 && n <= 10 && strconv.Itoa(n) == s
	}
	for _, name := range cefSeverityNames {
		if s == name {
			return true
		}
	}
	return false
}

// --- FuzzSyslogFrame ---

// FuzzSyslogFrame frames two events (an arbitrary Raw, fuzzed source type,
// host names, app name, priorities and times) into one buffer with every
// combination of RFC 5424/3164, octet counting/newline framing and JSON/CEF
// body, then reads the stream back: with octet counting every frame is
// "LEN SP MSG" where LEN (decimal, no leading zero) is exactly MSG's byte
// length; with newline framing every message ends at its single '\n' and
// holds no CR. Each message has a valid header (PRI as configured for its
// priority, the timestamp of the event, PRINTUSASCII HOSTNAME, APP-NAME and
// MSGID within their limits) and its body is Raw (CR/LF as spaces with
// newline framing) or a CEF record that parseCEF accepts. A message over
// max_message_bytes is refused and leaves the buffer as it was.
func FuzzSyslogFrame(f *testing.F) {
	raw := []byte(`{"@timestamp":"2026-11-28T00:00:00.123Z","host":{"name":"ws-1"},"message":"x"}`)
	for mode := range uint8(8) {
		f.Add(raw, "crowdstrike.falcon", "", "", "", uint8(1), uint8(3), testTime, int64(0), mode, uint16(0))
	}
	f.Add([]byte("{\"a\":\"x\ny\r\"}\n"), "a b", "", "", "lr", uint8(2), uint8(0), int64(0), int64(-1500), uint8(2), uint16(0))
	f.Add([]byte(`{"host":{"name":"my host\"x"},"message":"m\r\n|="}`), "", "siem-fwd", "", "", uint8(3), uint8(9), int64(-1), int64(1), uint8(6), uint16(0))
	f.Add([]byte("1234567890"), strings.Repeat("s", 40), "h:[x]", "def host\n", "app:[1]", uint8(0), uint8(1), int64(math.MinInt64), int64(math.MinInt64), uint8(1), uint16(80))
	f.Add([]byte(""), "\x00", "", "\xff", "", uint8(1), uint8(1), int64(math.MaxInt64), int64(0), uint8(5), uint16(1))
	f.Add(raw, "x", "", "", "", uint8(1), uint8(2), testTime, int64(0), uint8(0), uint16(len(raw)+62))
	f.Fuzz(func(t *testing.T, raw []byte, st, hostCfg, defHost, app string, prio1, prio2 uint8, evTime, ingest int64, mode uint8, maxMsg uint16) {
		rfc3164, newline, cef := mode&1 != 0, mode&2 != 0, mode&4 != 0
		cfg := SyslogConfig{Address: "127.0.0.1:514", Hostname: hostCfg, DefaultHost: defHost, AppName: app, MaxMessageBytes: int(maxMsg)}
		if rfc3164 {
			cfg.SyslogFormat = "rfc3164"
		}
		if newline {
			cfg.Framing = "newline"
		}
		if cef {
			cfg.Format = "cef"
		}
		if cfg.DefaultHost == "" {
			cfg.DefaultHost = "router-1"
		}
		if cfg.Validate() != nil { // a bad hostname or app_name
			cfg.Hostname, cfg.AppName = "", ""
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("config: %v", err)
		}
		cfg.SetDefaults()
		e := newSyslogEncoder(&cfg)
		unlimited := cfg
		unlimited.MaxMessageBytes = 0
		eu := newSyslogEncoder(&unlimited)

		var p fastjson.Parser
		var scratch []byte
		var out []byte
		var prios []pipeline.Priority
		for _, prio := range []uint8{prio1, prio2} {
			ev := pipeline.Event{Priority: pipeline.Priority(prio), SourceType: st, Time: evTime, Ingest: ingest, Raw: raw}
			before := append([]byte(nil), out...)
			var ok bool
			out, ok = e.appendFrame(out, &ev, &p, &scratch)
			full, _ := eu.appendFrame(nil, &ev, &p, &scratch)
			fullLen := len(full) - 1 // the '\n'
			if !newline {
				fullLen = len(full) - bytes.IndexByte(full, ' ') - 1
			}
			if want := maxMsg == 0 || fullLen <= int(maxMsg); ok != want {
				t.Fatalf("message of %d bytes, max_message_bytes %d: accepted %v", fullLen, maxMsg, ok)
			}
			if !bytes.HasPrefix(out, before) {
				t.Fatalf("appendFrame changed the bytes before it")
			}
			if !ok {
				if len(out) != len(before) {
					t.Fatalf("refused message left %d bytes", len(out)-len(before))
				}
				continue
			}
			if !bytes.Equal(out[len(before):], full) {
				t.Fatalf("frame %q differs from the unlimited encoder's %q", out[len(before):], full)
			}
			prios = append(prios, ev.Priority)
		}

		// Read the stream back.
		var msgs [][]byte
		if newline {
			if bytes.IndexByte(out, '\r') >= 0 {
				t.Fatalf("CR in newline-framed output %q", out)
			}
			for rest := out; len(rest) > 0; {
				i := bytes.IndexByte(rest, '\n')
				if i < 0 {
					t.Fatalf("unterminated message %q", rest)
				}
				msgs = append(msgs, rest[:i])
				rest = rest[i+1:]
			}
		} else {
			for rest := out; len(rest) > 0; {
				sp := bytes.IndexByte(rest, ' ')
				if sp <= 0 || sp > 10 || rest[0] == '0' {
					t.Fatalf("bad octet count in %q", rest)
				}
				n, err := strconv.Atoi(string(rest[:sp]))
				if err != nil || n <= 0 {
					t.Fatalf("bad octet count %q", rest[:sp])
				}
				rest = rest[sp+1:]
				if n > len(rest) {
					t.Fatalf("octet count %d, only %d bytes follow", n, len(rest))
				}
				msgs = append(msgs, rest[:n])
				rest = rest[n:]
			}
		}
		if len(msgs) != len(prios) {
			t.Fatalf("%d messages read back, %d written: %q", len(msgs), len(prios), out)
		}
		tm := evTime
		if tm <= 0 {
			tm = ingest
		}
		for i, msg := range msgs {
			if maxMsg > 0 && len(msg) > int(maxMsg) {
				t.Fatalf("message of %d bytes over max_message_bytes %d", len(msg), maxMsg)
			}
			body, err := checkSyslogHeader(string(msg), &cfg, prios[i], st, tm)
			if err != nil {
				t.Fatalf("%v\nmessage %q", err, msg)
			}
			switch {
			case cef:
				if !strings.HasPrefix(body, "CEF:0|") {
					t.Fatalf("CEF body %q", body)
				}
				if _, _, err := parseCEF(body); err != nil {
					t.Fatalf("CEF body %q: %v", body, err)
				}
			case newline:
				if w := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(raw)); body != w {
					t.Fatalf("body %q, want %q", body, w)
				}
			default:
				if body != string(raw) {
					t.Fatalf("body %q, want Raw %q", body, raw)
				}
			}
		}
	})
}

// checkSyslogHeader checks a message's header and returns its body.
func checkSyslogHeader(msg string, cfg *SyslogConfig, prio pipeline.Priority, st string, tm int64) (string, error) {
	rfc3164 := cfg.SyslogFormat == "rfc3164"
	if !strings.HasPrefix(msg, "<") {
		return "", errors.New("no PRI")
	}
	end := strings.IndexByte(msg, '>')
	if end < 2 || end > 4 || (msg[1] == '0' && end > 2) {
		return "", errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(msg[1:end])
	if err != nil || pri < 0 || pri > 191 {
		return "", errors.New("bad PRI")
	}
	sevName := cfg.Severity["P3"]
	if prio == pipeline.P1 || prio == pipeline.P2 {
		sevName = cfg.Severity[prio.String()]
	}
	fac, _ := parseFacility(cfg.Facility)
	sev, _ := parseSeverity(sevName)
	if pri != fac*8+sev {
		return "", errors.New("PRI " + strconv.Itoa(pri) + " for " + prio.String() + ", want " + strconv.Itoa(fac*8+sev))
	}
	rest := msg[end+1:]
	field := func(name string, max int) (string, error) {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return "", errors.New("no space after " + name)
		}
		v := rest[:i]
		rest = rest[i+1:]
		if v == "" || len(v) > max {
			return "", errors.New(name + " " + strconv.Quote(v) + ": empty or too long")
		}
		for j := 0; j < len(v); j++ {
			if c := v[j]; c < 33 || c > 126 {
				return "", errors.New(name + " " + strconv.Quote(v) + ": not PRINTUSASCII")
			}
		}
		return v, nil
	}
	var host string
	if rfc3164 {
		if len(rest) < 16 || rest[15] != ' ' {
			return "", errors.New("short RFC 3164 timestamp")
		}
		ts, err := time.Parse(time.Stamp, rest[:15])
		want := time.Unix(0, tm).UTC()
		if err != nil || ts.Month() != want.Month() || ts.Day() != want.Day() || ts.Hour() != want.Hour() ||
			ts.Minute() != want.Minute() || ts.Second() != want.Second() {
			return "", errors.New("RFC 3164 timestamp " + strconv.Quote(rest[:15]) + " for " + want.String())
		}
		rest = rest[16:]
		if host, err = field("HOSTNAME", maxSyslogHostname); err != nil {
			return "", err
		}
		i := strings.Index(rest, ": ")
		if i < 0 {
			return "", errors.New("no TAG")
		}
		if tag, want := rest[:i], headerFieldOf(cfg.AppName, maxRFC3164Tag, true); tag != want {
			return "", errors.New("TAG " + strconv.Quote(tag) + ", want " + strconv.Quote(want))
		}
		rest = rest[i+2:]
	} else {
		if !strings.HasPrefix(rest, "1 ") {
			return "", errors.New("no version")
		}
		rest = rest[2:]
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return "", errors.New("no TIMESTAMP")
		}
		ts, err := time.Parse(time.RFC3339Nano, rest[:i])
		if err != nil || !strings.HasSuffix(rest[:i], "Z") || ts.UnixNano() != tm-tm%1000 {
			return "", errors.New("TIMESTAMP " + strconv.Quote(rest[:i]) + " for " + strconv.FormatInt(tm, 10))
		}
		rest = rest[i+1:]
		if host, err = field("HOSTNAME", maxSyslogHostname); err != nil {
			return "", err
		}
		app, err := field("APP-NAME", maxSyslogAppName)
		if err != nil {
			return "", err
		}
		if app != cfg.AppName {
			return "", errors.New("APP-NAME " + strconv.Quote(app) + ", want " + strconv.Quote(cfg.AppName))
		}
		if _, err := field("PROCID", 1); err != nil {
			return "", err
		}
		msgid, err := field("MSGID", maxSyslogMsgID)
		if err != nil {
			return "", err
		}
		if want := headerFieldOf(st, maxSyslogMsgID, false); msgid != want && !(st == "" && msgid == "-") {
			return "", errors.New("MSGID " + strconv.Quote(msgid) + ", want " + strconv.Quote(want))
		}
		if !strings.HasPrefix(rest, "- ") {
			return "", errors.New("no STRUCTURED-DATA")
		}
		rest = rest[2:]
	}
	if cfg.Hostname != "" && host != cfg.Hostname {
		return "", errors.New("HOSTNAME " + strconv.Quote(host) + ", want " + strconv.Quote(cfg.Hostname))
	}
	return rest, nil
}

// headerFieldOf is s as a syslog header field: at most max bytes, bytes
// outside PRINTUSASCII (and, in an RFC 3164 TAG, ':' '[' ']') as '_'.
func headerFieldOf(s string, max int, tag bool) string {
	b := []byte(s[:min(len(s), max)])
	for i, c := range b {
		if c < 33 || c > 126 || tag && strings.IndexByte(":[]", c) >= 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

// delToSpace is x with DEL in every string replaced by a space.
func delToSpace(x any) any {
	switch x := x.(type) {
	case string:
		return strings.ReplaceAll(x, "\x7f", " ")
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = delToSpace(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ReplaceAll(k, "\x7f", " ")] = delToSpace(e)
		}
		return out
	}
	return x
}
