package normalize

// A review: docs/schema.md's statement on values that do not convert
// (12f05ad "a value that does not convert is set aside, not left to be
// refused"), held against convert/setAside. It fails on the code as found.

import (
	"strings"
	"testing"
)

// TestUnconvertedListOrObjectNotLeftInPlace
//
// What is wrong: docs/schema.md (conversions, item 3) says "a value that
// does not convert to `int`, `float`, `bool` or `ip` is moved, as a
// string, to `logrouter.unconverted` under the field's path ...: left in
// place, an `ip` or `long` mapping would refuse the whole document (and
// its replay from the quarantine again)", and README.md says such a value
// "is set aside under logrouter.unconverted instead of making OpenSearch
// refuse the document". convert (profile.go) does not try a list or an
// object at all: "default: return true // an array or null: left as it
// is" and "return true // an object ...: left as it is". A list holding a
// value that is no address (an X-Forwarded-For chain as a list, where RFC
// 7239 section 6 lets a proxy write "unknown") or an object stays where
// the profile converts to ip/int, so an index mapping source.ip as ip (the
// ECS templates) refuses the document, which is exactly what the docs say
// cannot happen; nothing is set aside.
//
// How to reproduce: a profile converting source.ip to ip and source.port to
// int; an event {"source":{"ip":["203.0.113.7","unknown"],"port":{"n":"443"}}}.
//
// Expected (the docs): neither value stays at source.ip / source.port as
// it came; what does not convert is under logrouter.unconverted (or the
// docs say that lists and objects are left as they are).
func TestUnconvertedListOrObjectNotLeftInPlace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:    "p",
		Convert: OrderedMap{Keys: []string{"source.ip", "source.port"}, Values: []string{"ip", "int"}},
	}}
	out, _ := faultAppend(t, cfg, `{"@timestamp":"2026-11-30T10:00:00Z","source":{"ip":["203.0.113.7","unknown"],"port":{"n":"443"}}}`,
		&EventMeta{SourceType: []byte("p")})
	if strings.Contains(out, `"ip":["203.0.113.7","unknown"]`) {
		t.Errorf("a list holding a non-address stays at source.ip (an ip mapping refuses the document), not set aside:\n%s", out)
	}
	if strings.Contains(out, `"port":{"n":"443"}`) {
		t.Errorf("an object stays at source.port (an integer mapping refuses the document), not set aside:\n%s", out)
	}
}
