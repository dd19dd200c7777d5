package normalize

// Fault tests from a review of 8168594 (FieldKey: an object's key includes
// its members' set-aside values) and 335d900 (convert kind list). Each
// failed on that code; the comments describe it.

import (
	"strings"
	"testing"
)

// TestFieldKeyKeepEmptyObjectAllSetAside
//
// What is wrong: FieldKey adds asideUnder's sum only `if !empty`. With
// normalize.keep_empty: true, an object whose every member was set aside
// (source {"ip":"host-a"} with source.ip converted to ip) stays in the
// output as "source":{} (the value moved to logrouter.unconverted), and
// FieldKey returns kind Object with the hash of no members: the same key
// for source.ip "host-a" and "host-b". Without keep_empty the key is
// Missing and route falls back to the content hash, so only keep_empty is
// hit; there the second event is dropped as a repeat of the first, the
// very case 8168594 was made for ("two events that differed only in a
// source.ip that did not convert ... got the same key, and the second was
// dropped as a repeat").
// Reproduce: Config.KeepEmpty, profile fw converting source.ip to ip,
// dedup.key_fields [source]; events {"source":{"ip":"host-a"}} and
// {"source":{"ip":"host-b"}}.
// Expected: different keys (FieldKey's doc: an object's key covers its
// content; 8168594: "keep different keys").
func TestFieldKeyKeepEmptyObjectAllSetAside(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeepEmpty = true
	cfg.Profiles = []ProfileSpec{{Name: "fw", Convert: OrderedMap{Keys: []string{"source.ip"}, Values: []string{"ip"}}}}
	n := mustCompile(t, cfg).New()
	fw := &EventMeta{SourceType: []byte("fw")}
	src := CompilePath("source")
	a := fieldKeyOf(t, n, &src, `{"source":{"ip":"host-a"}}`, fw)
	b := fieldKeyOf(t, n, &src, `{"source":{"ip":"host-b"}}`, fw)
	if a[0] == byte(Missing) || b[0] == byte(Missing) {
		t.Fatalf("precondition: with keep_empty, source stays (as {}): keys %x, %x", a, b)
	}
	if a == b {
		t.Errorf("keep_empty: source with set-aside ips host-a and host-b: the same key %x (the second event is dropped as a repeat)", a)
	}
}

// TestConvertListNoneWordsSetAside
//
// What is wrong: convert treats the words <null>, null, (null), nil,
// none, n/a, na as placeholders for every kind but string, lower and
// address, so for list too: a Parameters or ExtendedProperties string
// "None" or "N/A" is removed from the event, not set aside.
// Reproduce: convert {Parameters: list}; {"Parameters":"None"}.
// Expected: set aside as logrouter.unconverted.Parameters "None":
// docs/schema.md: "`list` (a list stays as it is; any other value is set
// aside as below ...)" and "for `int`, `float`, `bool` and `ip` the words
// `<null>`, `null`, ... are placeholders too": not for list. The value is
// lost otherwise (neither in the event nor its content hash).
func TestConvertListNoneWordsSetAside(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "m", Convert: OrderedMap{Keys: []string{"Parameters"}, Values: []string{"list"}}}}
	m := &EventMeta{SourceType: []byte("m")}
	for _, w := range []string{"None", "N/A", "null"} {
		out, _ := faultAppend(t, cfg, `{"Parameters":"`+w+`","x":1}`, m)
		if !strings.Contains(out, `"unconverted":{"Parameters":"`+w+`"}`) {
			t.Errorf("Parameters %q under convert list: want it set aside, got\n%s", w, out)
		}
	}
}
