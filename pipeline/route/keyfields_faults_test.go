package route_test

// Fault tests from a review of dedup.key_fields: each failed before the
// fix (the comments describe the code as it was found).

import (
	"testing"
	"testing/fstest"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// keyOf returns the dedup key (Event.Key) route gives each JSON event
// under dedup.key_fields keys, with normalize.hash_key set and renames.
func keyOf(t *testing.T, keys []string, rename map[string]string, events ...string) []uint64 {
	t.Helper()
	set, err := rules.Load(fstest.MapFS{}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	cfg := normalize.DefaultConfig()
	cfg.HashKey = "000102030405060708090a0b0c0d0e0f"
	cfg.Rename = rename
	norm, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table, err := route.NewTable([]string{"archive"}, nil, []string{"archive"})
	if err != nil {
		t.Fatal(err)
	}
	r := &route.Router{Norm: norm, Rules: set, Table: table, KeyFields: keys}
	w := r.NewWorker()
	var out []uint64
	for _, s := range events {
		var p fastjson.Parser
		v, err := p.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		if err := w.Add(b, v, nil, &normalize.EventMeta{Time: 1}); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Events[0].Key)
	}
	return out
}

// Two different value tuples of the key fields must give different keys.
// The key bytes are kind+value+0 per field, with no escaping of a 0 byte
// inside a string: ("x\0<String>y", "z") and ("x", "y\0<String>z") write the
// same bytes, so an attacker who controls one field (\u0000 is valid JSON)
// can make a different event drop as a duplicate.
func TestKeyFieldsSeparatorInValue(t *testing.T) {
	sk := string(rune(normalize.String)) // the kind byte of a string
	a := `{"a":"x\u0000` + jsonEsc(sk) + `y","b":"z"}`
	b := `{"a":"x","b":"y\u0000` + jsonEsc(sk) + `z"}`
	k := keyOf(t, []string{"a", "b"}, nil, a, b)
	if k[0] == k[1] {
		t.Errorf("key_fields (a,b): %s and %s get the same dedup key %x", a, b, k[0])
	}
}

func jsonEsc(s string) string {
	out := ""
	for _, c := range []byte(s) {
		out += `\u00` + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	}
	return out
}

// Distinct integer values of a key field (event.id as a 64-bit record
// number) must give distinct keys; the key formats the value as a float64,
// so integers above 2^53 that differ collapse into one key.
func TestKeyFieldsLargeIntegersMerge(t *testing.T) {
	k := keyOf(t, []string{"event.id"}, nil,
		`{"event":{"id":9007199254740993},"msg":"login failed"}`,
		`{"event":{"id":9007199254740992},"msg":"login failed"}`)
	if k[0] == k[1] {
		t.Errorf("event.id 9007199254740993 and 9007199254740992 get the same dedup key")
	}
}

// An object key field built by a rename (username -> user.name) has no
// input object (Value.Raw is nil), so its key bytes are only the kind:
// every event gets the same key for "user", whatever the user.
func TestKeyFieldsRenamedObjectMerges(t *testing.T) {
	k := keyOf(t, []string{"user"}, map[string]string{"username": "user.name"},
		`{"username":"alice","action":"sudo"}`,
		`{"username":"bob","action":"sudo"}`)
	if k[0] == k[1] {
		t.Errorf("key_fields [user]: user.name alice and bob get the same dedup key")
	}
}

// An object key field that the event has but that a rename added a member
// to: Raw is the input object before renames, so the renamed-in member is
// not in the key.
func TestKeyFieldsObjectIgnoresRenamedMember(t *testing.T) {
	k := keyOf(t, []string{"user"}, map[string]string{"uid": "user.id"},
		`{"user":{"name":"root"},"uid":0}`,
		`{"user":{"name":"root"},"uid":1000}`)
	if k[0] == k[1] {
		t.Errorf("key_fields [user]: user.id 0 and 1000 get the same dedup key")
	}
}
