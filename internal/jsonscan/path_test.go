package jsonscan

import "testing"

func TestPathAppendWith(t *testing.T) {
	p := NewPath("dedup", "count")
	for _, c := range []struct {
		in   string
		n    uint64
		want string
	}{
		{`{"a":1}`, 3, `{"a":1,"dedup":{"count":3}}`},
		{`{}`, 3, `{"dedup":{"count":3}}`},
		{`{"dedup":{"id":1}}`, 3, `{"dedup":{"id":1,"count":3}}`},
		{`{"dedup":{"count":1},"b":2}`, 3, `{"dedup":{"count":3},"b":2}`}, // raised
		{`{"dedup":{"count":5}}`, 3, `{"dedup":{"count":5}}`},             // never lowered
		{`{"dedup":{"count":"x"}}`, 3, `{"dedup":{"count":"x"}}`},         // not ours to touch
		{`{"dedup":"x"}`, 3, `{"dedup":"x"}`},                             // a scalar in the way
		{`[1]`, 3, `[1]`},
	} {
		if got := string(p.AppendWith(nil, []byte(c.in), c.n)); got != c.want {
			t.Errorf("%s with %d: got %s, want %s", c.in, c.n, got, c.want)
		}
	}
}
