package quarantine

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// TestLineSeparatorsBoundedLikeControlCharacters: the package
// promises that a record costs the quarantine's disk at most 4/3 of its
// size (raw is stored as raw_base64 whenever its JSON escaping would be
// longer). escapesLong counts what encoding/json escapes for quotes,
// backslashes and control characters, but not U+2028 and U+2029, which
// encoding/json always writes as the six bytes \u2028 / \u2029 (three bytes
// each in the record): a record of them is stored as "raw" at twice its
// size.
//
// Expected: such a record is stored as raw_base64 (at most 4/3 of its
// size) and reads back byte for byte.
func TestLineSeparatorsBoundedLikeControlCharacters(t *testing.T) {
	for _, sep := range []string{"\u2028", "\u2029"} {
		dir := t.TempDir()
		q, err := New(Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		raw := bytes.Repeat([]byte(sep), 64<<10/3)
		if err := q.Put(context.Background(), []pipeline.Rejected{{Raw: raw, Reason: "invalid_json"}}); err != nil {
			t.Fatal(err)
		}
		_ = q.Close(context.Background())
		files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
		if len(files) != 1 {
			t.Fatalf("files %v", files)
		}
		st, _ := os.Stat(files[0])
		if st.Size() > int64(len(raw))*4/3+1024 {
			t.Errorf("%q: %d bytes of record took %d bytes of quarantine, more than 4/3 of its size", sep, len(raw), st.Size())
		}
		var got []Record
		if err := ReadFile(files[0], func(r Record) error { got = append(got, r); return nil }); err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, raw) {
			t.Fatalf("%q: read back %d records, %v", sep, len(got), err)
		}
	}
}
