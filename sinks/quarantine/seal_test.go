package quarantine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

func testKey(t *testing.T) *SealKey {
	t.Helper()
	k, err := LoadOrCreateSealKey(filepath.Join(t.TempDir(), SealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealVerifies: a record a Dir with a key writes carries a seal that
// verifies under that key once read back, whatever its bytes (raw or
// raw_base64, a source type stored as base64, an unprioritized event);
// input records carry none; and no other key verifies it.
func TestSealVerifies(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	d, err := New(Config{Dir: dir}, WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ev := func(st string, p pipeline.Priority) *pipeline.RejectedEvent {
		return &pipeline.RejectedEvent{Hash: 0xfeedface12345678, Time: now.UnixNano() - 1234, Ingest: now.UnixNano(), SourceType: st, Priority: p}
	}
	recs := []pipeline.Rejected{
		{Raw: []byte(`{"a":1}`), Reason: "destination_rejected", Destination: "siem", Event: ev("edr", pipeline.P1)},
		{Raw: []byte("{\"a\":\"\xff\x01\x02\x03\x04\"}"), Reason: "destination_rejected", Destination: "opensearch", Event: ev("bad\xffst", pipeline.P2)},
		{Raw: []byte(`{"b":2}`), Reason: "destination_rejected", Destination: "archive", Event: ev("", pipeline.PriorityNone)},
		{Raw: []byte(`not json`), Reason: "invalid_json", Input: "http"},
	}
	if err := d.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	var got []Record
	for _, f := range files {
		if err := ReadFile(f, func(r Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records read back", len(got))
	}
	other := testKey(t)
	for i, r := range got {
		if recs[i].Event == nil {
			if (r.seal != nil) || key.Verify(r) {
				t.Errorf("record %d (no event) is sealed", i)
			}
			continue
		}
		if !(r.seal != nil) || !key.Verify(r) {
			t.Errorf("record %d: the seal does not verify", i)
		}
		// As the replay command sends it: rendered again from the Record.
		again, err := ParseLine(r.AppendTo(nil))
		if err != nil || !key.Verify(again) {
			t.Errorf("record %d: rendered again, the seal does not verify (%v)", i, err)
		}
		if other.Verify(r) {
			t.Errorf("record %d verifies under another key", i)
		}
	}
	var nilKey *SealKey
	if nilKey.Verify(got[0]) {
		t.Error("a nil key verifies")
	}
}

// TestSealCoversEverything: changing any field the replay takes from a
// record (destination, hash, times, source type, priority, the bytes) or
// the seal itself makes it fail; fields replay does not use may change.
func TestSealCoversEverything(t *testing.T) {
	key := testKey(t)
	now := time.Now()
	rej := pipeline.Rejected{Raw: []byte(`{"message":"x","logrouter":{"token":"edr"}}`), Reason: "destination_rejected", Detail: "400",
		Destination: "siem", Event: &pipeline.RejectedEvent{Hash: 0x1111, Time: now.UnixNano(), Ingest: now.UnixNano() + 5, SourceType: "edr", Priority: pipeline.P1}}
	line := string(key.AppendRecord(nil, &rej, now))
	r, err := ParseLine([]byte(line))
	if err != nil || !key.Verify(r) {
		t.Fatalf("the record does not verify (%v): %s", err, line)
	}
	ns := func(off int64) string { return time.Unix(0, now.UnixNano()+off).UTC().Format(time.RFC3339Nano) }
	edits := map[string][2]string{
		"destination": {`"destination":"siem"`, `"destination":"opensearch"`},
		"hash":        {`"hash":"0000000000001111"`, `"hash":"0000000000001112"`},
		"time":        {`"time":"` + ns(0) + `","ingest"`, `"time":"` + ns(1) + `","ingest"`},
		"ingest":      {`"ingest":"` + ns(5) + `"`, `"ingest":"` + ns(6) + `"`},
		"source type": {`"source_type":"edr"`, `"source_type":"edx"`},
		"priority":    {`"priority":"P1"`, `"priority":"P2"`},
		"bytes":       {`\"token\":\"edr\"`, `\"token\":\"edx\"`},
		"seal":        {`"seal":"`, `"seal":"0`},
	}
	for name, e := range edits {
		if !strings.Contains(line, e[0]) {
			t.Fatalf("%s: %q not in %s", name, e[0], line)
		}
		edited := strings.Replace(line, e[0], e[1], 1)
		if name == "seal" {
			// Same length: shift the digits by one.
			i := strings.Index(edited, `"seal":"`) + len(`"seal":"`)
			edited = edited[:i+32] + edited[i+33:]
		}
		r, err := ParseLine([]byte(edited))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if key.Verify(r) {
			t.Errorf("changing the %s keeps the seal valid", name)
		}
	}
	for name, e := range map[string][2]string{"detail": {`"detail":"400"`, `"detail":"500"`}, "reason": {`"reason":"destination_rejected"`, `"reason":"x"`}} {
		r, err := ParseLine([]byte(strings.Replace(line, e[0], e[1], 1)))
		if err != nil || !key.Verify(r) {
			t.Errorf("changing the %s (not replayed) breaks the seal: %v", name, err)
		}
	}
	// A seal that is not 32 hex digits (edited, or of a later format)
	// parses, and does not verify: the record is normalized again.
	for _, bad := range []string{`"seal":"zz`, `"seal":"00`} {
		r, err := ParseLine([]byte(strings.Replace(line, `"seal":"`, bad, 1)))
		if err != nil || !(r.seal != nil) || key.Verify(r) {
			t.Errorf("a malformed seal (%s): err %v, sealed %v, verifies %v", bad, err, (r.seal != nil), key.Verify(r))
		}
	}
}

// TestSealKeyFile: the key is created once (mode 0600) and read back the
// same; a file that is not a key is an error, never replaced.
func TestSealKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q", SealKeyFile)
	k1, err := LoadOrCreateSealKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := LoadOrCreateSealKey(path)
	if err != nil || k1.key != k2.key {
		t.Fatalf("the key read back differs (%v)", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// A copy with a loose mode is restricted again.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if k3, err := LoadOrCreateSealKey(path); err != nil || k3.key != k1.key {
		t.Fatalf("the key with mode 0644: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("a key left with mode %v", st.Mode().Perm())
	}
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSealKey(path); err == nil || !strings.Contains(err.Error(), "64 hexadecimal") {
		t.Fatalf("a damaged key: %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte("not a key\n")) {
		t.Error("the damaged key file was replaced")
	}
}
