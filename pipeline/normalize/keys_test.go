package normalize

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

func TestSearchableKey(t *testing.T) {
	tests := []struct {
		key  string
		top  bool
		want string
	}{
		{"message", true, "message"},
		{"source.ip", true, "source.ip"},
		{"_id", true, "__id"},
		{"_id", false, "_id"}, // metadata names are refused at the root only
		{"_source", true, "__source"},
		{"_type", true, "__type"},
		{"_idx", true, "_idx"},
		{"_", true, "_"},
		{"", false, "_"},
		{" ", false, "_"},
		{"\t", true, "_"},
		{".", false, "_._"},
		{"a..b", false, "a._.b"},
		{".a", false, "_.a"},
		{"a.", false, "a._"},
		{"a. .b", false, "a._.b"},
		{" a", false, " a"}, // blank at an end but not only blank: accepted
		{"a b", false, "a b"},
		{"__id", true, "__id"}, // idempotent: an edge's output read again at a gateway
	}
	for _, tc := range tests {
		if got := string(searchableKey([]byte(tc.key), tc.top)); got != tc.want {
			t.Errorf("searchableKey(%q, top=%v) = %q, want %q", tc.key, tc.top, got, tc.want)
		}
		again := string(searchableKey([]byte(tc.want), tc.top))
		if again != tc.want {
			t.Errorf("not idempotent: %q -> %q -> %q", tc.key, tc.want, again)
		}
	}
}

// TestSearchableKeysInOutput: names OpenSearch refuses never reach the
// output, at the root, nested, inside arrays and in labels; values are kept.
func TestSearchableKeysInOutput(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	in := `{"_id":{"$oid":"65a1"},"_index":"x","":"empty","a..b":1,"obj":{"_id":"nested ok","":2,"c.":3},"arr":[{"":4,"d..e":5}],"msg":"hi"}`
	out, _ := normalizeOne(t, n, in, &EventMeta{Fields: mustParse(t, `{"":"lbl"}`)})
	for _, bad := range []string{`"_id":{`, `"_index":`, `"":`, `"a..b"`, `"c."`, `"d..e"`} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %s: %s", bad, out)
		}
	}
	for _, want := range []string{`"__id":{"$oid":"65a1"}`, `"__index":"x"`, `"_":"empty"`, `"a._.b":1`, `"_id":"nested ok"`, `"_":2`, `"c._":3`, `{"_":4,"d._.e":5}`, `"labels":{"_":"lbl"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s: %s", want, out)
		}
	}
}

func BenchmarkSearchableKey(b *testing.B) {
	keys := [][]byte{[]byte("message"), []byte("source"), []byte("ip"), []byte("event_data"), []byte("TargetUserName"), []byte("a.b")}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			searchableKey(k, true)
		}
	}
}

func mustParse(t testing.TB, s string) *fastjson.Value {
	t.Helper()
	v, err := fastjson.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzPlainKeyDot(f *testing.F) {
	for _, s := range []string{"", ".", "a.b", "abcdefgh.", "abcdefghijklmnop", "\x00.\xff", ".......\"."} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		plain, dot := plainKeyDot(k)
		if plain != plainKey(k) || dot != strings.Contains(string(k), ".") {
			t.Fatalf("plainKeyDot(%q) = %v, %v", k, plain, dot)
		}
	})
}
