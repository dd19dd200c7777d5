package quarantine

// Fault tests from an acceptance run: each failed before the fix of the bug
// it describes (the comments describe the code as it was found).

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestMaxTotalBytesRemovingTheCurrentFileLosesNothing: in a flood the file
// that fills max_total_bytes is the current hour's, the one the router is
// still appending to. The docs say to replay and remove the files to free
// room without a restart. After the operator removes it, a record Put
// accepts (the sender is told its record was quarantined, not to resend)
// must land in a file of the directory, not in the removed file's inode,
// and the removed file's bytes must stop growing behind the bound.
func TestMaxTotalBytesRemovingTheCurrentFileLosesNothing(t *testing.T) {
	dir := t.TempDir()
	d, err := New(Config{Dir: dir, MaxTotalBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(t.Context())
	rec := []pipeline.Rejected{{Raw: []byte(strings.Repeat("r", 200)), Reason: "invalid_json", Input: "http"}}
	for i := 0; ; i++ {
		err := d.Put(t.Context(), rec)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("flood: Put %d: %v", i, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "quarantine-*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("files %v, want the current one", files)
	}
	// The operator replays it and removes it, as the error message says.
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(recountEvery + 100*time.Millisecond)
	marker := []pipeline.Rejected{{Raw: []byte("MARKER-after-remove"), Reason: "invalid_json", Input: "http"}}
	if err := d.Put(t.Context(), marker); err != nil {
		t.Fatalf("after the full file was removed: %v", err)
	}
	found := false
	files, _ = filepath.Glob(filepath.Join(dir, "quarantine-*.ndjson"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		found = found || strings.Contains(string(b), "MARKER-after-remove")
	}
	if !found {
		t.Errorf("a record Put accepted after the current file was removed is in no file of %s (files %v): it went to the removed file's inode and is lost", dir, files)
	}
}
