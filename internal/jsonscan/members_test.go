package jsonscan

import (
	"errors"
	"strings"
	"testing"
)

func TestElementsAndMembers(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: elements joined by |, or "error"
	}{
		{`[]`, ``}, {` [ ] `, ``}, {`null`, ``},
		{`[1,"a",{"b":[2,3]},[4],true]`, `1|"a"|{"b":[2,3]}|[4]|true`},
		{` [ {"x":"]"} , 2 ] `, `{"x":"]"}|2`},
		{`[1 2]`, `error`}, {`[1,]`, `error`}, {`[1]x`, `error`}, {`{"a":1}`, `error`}, {`[`, `error`},
	} {
		var got []string
		err := Elements([]byte(tc.in), func(el []byte) error { got = append(got, string(el)); return nil })
		switch {
		case tc.want == "error":
			if !errors.Is(err, ErrFraming) {
				t.Errorf("Elements(%q) = %q, %v; want a framing error", tc.in, got, err)
			}
		case err != nil || strings.Join(got, "|") != tc.want:
			t.Errorf("Elements(%q) = %q, %v; want %q", tc.in, strings.Join(got, "|"), err, tc.want)
		}
	}
	var keys []string
	if err := Members([]byte(` {"a" : 1, "b\"c":{"d":[]} } `), func(k, v []byte) error {
		keys = append(keys, string(k)+"="+string(v))
		return nil
	}); err != nil || strings.Join(keys, ",") != `a=1,b\"c={"d":[]}` {
		t.Errorf("Members: %q, %v", keys, err)
	}
	if err := Members([]byte(`{"a":1,}`), func(k, v []byte) error { return nil }); !errors.Is(err, ErrFraming) {
		t.Errorf("Members of a malformed object: %v", err)
	}
	d := []byte(`{"a":[1,2],"b":3}`)
	if got := string(Splice(d, d[5:10], "[{}]")); got != `{"a":[{}],"b":3}` {
		t.Errorf("Splice = %s", got)
	}
}
