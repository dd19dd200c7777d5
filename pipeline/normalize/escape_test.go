package normalize

import (
	"encoding/json"
	"testing"
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

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("hello\n\"x\"\xff"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q: %s", s, out)
		}
	})
}
