package normalize

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\n\r\t\x00\x1f", "é漢字", "\xff\xfe", "a\u2028b", "<>&"} {
		got := AppendString(nil, []byte(s))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q -> %s: invalid JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s) // encoding/json also replaces invalid UTF-8
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: round trip %q, want %q", s, back, wantBack)
		}
	}
}

func TestValidNumber(t *testing.T) {
	for s, ok := range map[string]bool{"0": true, "-1": true, "1.5e10": true, "1E-3": true, "01": false, "1.": false,
		".5": false, "+1": false, "1.2.3": false, "inf": false, "NaN": false, "-": false, "1e": false} {
		if validNumber([]byte(s)) != ok {
			t.Errorf("validNumber(%q) = %v", s, !ok)
		}
	}
}

// TestPlain8 checks the eight-byte test against the byte table for every
// byte value in every lane, with plain bytes around it (and the byte next to
// the lane below, where a borrow would come from).
func TestPlain8(t *testing.T) {
	for c := 0; c < 256; c++ {
		for lane := 0; lane < 8; lane++ {
			for _, fill := range []byte{' ', 'a', '~', '#', '!', '[', ']'} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[lane] = byte(c)
				x := uint64(0)
				for i := 7; i >= 0; i-- {
					x = x<<8 | uint64(b[i])
				}
				if got, want := plain8(x), c < utf8.RuneSelf && safeASCII[c]; got != want {
					t.Fatalf("plain8(% x) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

func TestAppendStringMatchesReference(t *testing.T) {
	cases := []string{"", "1234567", "12345678", "123456789", strings.Repeat("plain text ", 20),
		"ends with quote 12345\"", "\"starts with quote 1234", strings.Repeat("a", 7) + "\x7f" + strings.Repeat("b", 9),
		strings.Repeat("x", 15) + "\x1f", "tab\tin the middle of a long line", strings.Repeat("é", 9), "abcdefg\xffhijklmno",
		"abcdefgh\u2028ijklmnop", "user=\"root\" path=C:\\Windows\\System32 msg=ok"}
	for _, s := range cases {
		got, want := AppendString([]byte("x"), []byte(s)), appendStringRef([]byte("x"), []byte(s))
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("hello\n\"x\"\xff"))
	f.Add([]byte("0123456789abcdef\\0123456789\u2028"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q: %s", s, out)
		}
		if ref := appendStringRef(nil, s); !bytes.Equal(out, ref) {
			t.Fatalf("%q: fast path wrote %s, byte at a time %s", s, out, ref)
		}
		if key := appendKey(nil, s, plainKey(s)); !bytes.Equal(key, out) {
			t.Fatalf("%q: appendKey wrote %s, AppendString %s", s, key, out)
		}
	})
}

// TestPlainKey: a key is plain exactly when every byte is printable ASCII
// other than '"' and '\\' (byte by byte, each position of an 8-byte word
// and the tail), and a plain key is written as AppendString writes it.
func TestPlainKey(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 0x20 && c < 0x7f && c != '"' && c != '\\' || c == 0x7f
		for _, n := range []int{1, 7, 8, 9, 16, 17} {
			for pos := 0; pos < n; pos++ {
				k := bytes.Repeat([]byte("a"), n)
				k[pos] = byte(c)
				if got := plainKey(k); got != want {
					t.Fatalf("byte %#x at %d of %d: plainKey %v, want %v", c, pos, n, got, want)
				}
				if want && !bytes.Equal(appendKey(nil, k, true), AppendString(nil, k)) {
					t.Fatalf("byte %#x at %d of %d: written otherwise than AppendString", c, pos, n)
				}
			}
		}
	}
	if !plainKey(nil) || string(appendKey(nil, nil, true)) != `""` {
		t.Error("the empty key")
	}
}

func BenchmarkAppendString(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"ascii-short", "sshd"},
		{"ascii-message", "Accepted publickey for deploy from 10.20.30.40 port 52344 ssh2: RSA SHA256:Zm9vYmFyYmF6cXV4"},
		{"escapes", `cmd.exe /c "C:\\Windows\\Temp\\a.bat"\tline2\nline3`},
		{"utf8", "Überweisung fehlgeschlagen: Konto gesperrt — 账户已锁定"},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := []byte(c.s)
			dst := make([]byte, 0, 4*len(src)+2)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendString(dst[:0], src)
			}
		})
	}
}

// appendStringRef is AppendString one byte at a time, without the
// eight-byte fast path: the oracle the tests compare it with.
func appendStringRef(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\xef\xbf\xbd"...) // U+FFFD as its bytes, as a real one is written (one spelling, one hash)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// TestAppendUnescaped: literals the normalizer wrote (AppendString's
// output) unescape back to their input, surrogate pairs included; an
// unpaired surrogate becomes U+FFFD.
func TestAppendUnescaped(t *testing.T) {
	for _, in := range []string{"plain", `C:\Temp\a "q" /`, "tab\tnl\nff\fbs\bcr\r", "\x01\x1f", "é😀", "mixed é \" \\ 😀 end"} {
		q := AppendString(nil, []byte(in))
		if got := string(appendUnescaped(nil, q[1:len(q)-1])); got != in {
			t.Errorf("%q: escaped %s, unescaped %q", in, q, got)
		}
	}
	for esc, want := range map[string]string{`\u00e9`: "é", `\ud83d\ude00`: "😀", `\ud83d`: "\ufffd", `\ud83dx`: "\ufffdx", `\ude00\ud83d`: "\ufffd\ufffd", `\/`: "/"} {
		if got := string(appendUnescaped(nil, []byte(esc))); got != want {
			t.Errorf("%s: %q, want %q", esc, got, want)
		}
	}
}

// TestPlainKeyNotReusedAcrossEvents: the walk's plainness answer is tied
// to a key's address; a later event parsed by the same parser puts other
// key bytes at that address (fastjson unescapes keys in place), which are
// checked afresh (the walk checks each key before its node is made; the
// answer is also cleared at each Build and at the end of each object's
// walk, for nodes made from the event's bytes without a walk).
func TestPlainKeyNotReusedAcrossEvents(t *testing.T) {
	cfg := DefaultConfig()
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	for _, in := range []string{`{"ab":1}`, `{"a\u0022":1}`, `{"ab":{"cd":1}}`, `{"a\u005c":{"c\u0022":1}}`} {
		v, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := n.Append(nil, v, nil, testMeta(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("%s: invalid JSON out: %s", in, out)
		}
	}
}
