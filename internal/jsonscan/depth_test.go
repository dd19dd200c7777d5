package jsonscan

import (
	"strings"
	"testing"
)

func TestTooDeep(t *testing.T) {
	nest := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	arr := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`{"a":1}`, false},
		{nest(128), false},
		{nest(129), true},
		{arr(129), true},
		{`{"s":"` + strings.Repeat("{", 500) + `"}`, false},                          // brackets in a string
		{`{"s":"\"` + strings.Repeat("[", 500) + `"}`, false},                        // after an escaped quote
		{`[` + strings.Repeat(`{},`, 300) + `{}]`, false},                            // many brackets, shallow
		{`{"s":"` + strings.Repeat("[", 200) + `` + strings.Repeat("[", 200), false}, // unterminated string
	} {
		if got := TooDeep([]byte(c.in), MaxDepth); got != c.want {
			t.Errorf("TooDeep(%.40q...) = %v, want %v", c.in, got, c.want)
		}
	}
}

func BenchmarkTooDeep(b *testing.B) {
	rec := []byte(`{"@timestamp":"2026-11-28T10:00:00Z","event":{"dataset":"fortinet.fortigate","action":"deny"},"source":{"ip":"10.0.0.5","port":51234},"destination":{"ip":"8.8.8.8","port":53},"message":"` + strings.Repeat("x", 900) + `"}`)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		TooDeep(rec, MaxDepth)
	}
}
