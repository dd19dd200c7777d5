package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current output")

// testNow is the receive time of the corpus (its RFC 3164 timestamps have no
// year).
var testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newTestParser() *Parser {
	return New(Options{Now: func() time.Time { return testNow }})
}

// corpusLines returns the messages of a corpus file: one per line, bytes
// as they are (tabs, BOMs, invalid UTF-8), without the final newline.
func corpusLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte{'\n'})
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	return lines
}

func allCorpus(t testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/corpus/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var all [][]byte
	for _, f := range files {
		all = append(all, corpusLines(t, f)...)
	}
	return all
}

// TestGolden parses every corpus line and compares the output with
// testdata/golden/<name>.json byte for byte (regenerate with -update).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.log")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".log")
		t.Run(name, func(t *testing.T) {
			p := newTestParser()
			var out []byte
			for i, line := range corpusLines(t, f) {
				start := len(out)
				var res Result
				out, res = p.AppendJSON(out, line)
				checkOutput(t, p, line, out[start:], res)
				if t.Failed() {
					t.Fatalf("%s:%d: %q", f, i+1, line)
				}
				out = append(out, '\n')
				total++
			}
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				got, exp := bytes.Split(out, []byte{'\n'}), bytes.Split(want, []byte{'\n'})
				for i := 0; i < max(len(got), len(exp)); i++ {
					var g, e []byte
					if i < len(got) {
						g = got[i]
					}
					if i < len(exp) {
						e = exp[i]
					}
					if !bytes.Equal(g, e) {
						t.Fatalf("%s line %d differs (run go test -update if intended)\n got: %s\nwant: %s", golden, i+1, g, e)
					}
				}
			}
		})
	}
	if !*update && total < 60 {
		t.Errorf("corpus has %d messages, want at least 60", total)
	}
}

// checkOutput verifies one output object: valid JSON for encoding/json and
// fastjson, an object that ends with logrouter, and every word of MSG
// represented somewhere in it.
func checkOutput(t testing.TB, p *Parser, msg, out []byte, res Result) {
	t.Helper()
	if len(out) == 0 {
		t.Errorf("empty output")
		return
	}
	if !json.Valid(out) {
		t.Errorf("invalid JSON: %s", out)
		return
	}
	var fp fastjson.Parser
	v, err := fp.ParseBytes(out)
	if err != nil {
		t.Errorf("fastjson: %v: %s", err, out)
		return
	}
	o, err := v.Object()
	if err != nil {
		t.Errorf("not an object: %s", out)
		return
	}
	status := string(o.Get("logrouter").GetStringBytes("parse_status"))
	if status != res.Status.String() {
		t.Errorf("parse_status %q, Result.Status %v: %s", status, res.Status, out)
	}
	if got := string(o.Get("logrouter").GetStringBytes("payload")); got != res.Format {
		t.Errorf("logrouter.payload %q, Result.Format %q: %s", got, res.Format, out)
	}
	// No duplicate keys, except those a JSON payload brought itself.
	seen := map[string]bool{}
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if seen[string(k)] && res.Format != FormatJSON {
			t.Errorf("duplicate top-level key %q: %s", k, out)
		}
		seen[string(k)] = true
	})
	body := msg
	if res.Status != StatusRaw {
		body = p.h.body
	}
	if res.Format == "" {
		// Plain text: MSG is the message, exactly (invalid UTF-8 replaced).
		if got, want := string(v.GetStringBytes("message")), sanitize(body); got != want && len(body) > 0 {
			t.Errorf("message %q, want %q", got, want)
		}
	}
	if res.Format == FormatWinXML || res.Format == FormatWinClassic {
		// A Windows event's markup (element and attribute names, the
		// namespace) and its rendering's repeats of System's fields are
		// not data: the words check does not apply. Its values are held
		// by FuzzWinXML and FuzzWinClassic (generated events parse back
		// to what they were made of) and the golden files.
		if len(fastjson.GetString(out, "winlog", "event_id")) == 0 {
			t.Errorf("a Windows event without winlog.event_id: %s", out)
		}
		return
	}
	if res.Format == FormatNXLogXML {
		// Element names are its keys; entities are resolved.
		if len(fastjson.GetString(out, "EventID")) == 0 || len(fastjson.GetString(out, "Channel")) == 0 {
			t.Errorf("NXLog's record without EventID or Channel: %s", out)
		}
		return
	}
	checkRepresented(t, body, out)
}

// sanitize replaces each invalid UTF-8 byte by U+FFFD, as AppendString does.
func sanitize(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// checkRepresented fails when a word (run of ASCII letters and digits) of
// msg appears nowhere in out, ignoring case: nothing of MSG may be silently
// dropped. Format markers that only select the parser are exempt. Each word
// is looked up among the output's words first, then as a substring (an
// escape such as \ufffd may be glued to it).
func checkRepresented(t testing.TB, msg, out []byte) {
	t.Helper()
	lout := bytes.ToLower(out)
	// A LEEF 2.0 delimiter may be any character, a letter or a digit too
	// ("LEEF:2|...|e|e0=" separates at each e): it is consumed, not data,
	// so words are also split at it.
	var delim byte
	if d := fastjson.GetString(out, "leef", "delimiter"); len(d) == 1 {
		delim = bytes.ToLower([]byte(d))[0]
	}
	isWord := func(c byte) bool {
		return (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') && (delim == 0 || c != delim)
	}
	words := func(b []byte, f func(w []byte)) {
		for i := 0; i < len(b); {
			if !isWord(b[i]) {
				i++
				continue
			}
			j := i
			for j < len(b) && isWord(b[j]) {
				j++
			}
			f(b[i:j])
			i = j
		}
	}
	have := map[string]bool{}
	words(lout, func(w []byte) { have[string(w)] = true })
	checked := map[string]bool{"mswineventlog": true}
	words(bytes.ToLower(msg), func(w []byte) {
		if checked[string(w)] || t.Failed() {
			return
		}
		checked[string(w)] = true
		if !have[string(w)] && !bytes.Contains(lout, w) {
			t.Errorf("word %q of MSG is missing from the output: %s", w, out)
		}
	})
}
