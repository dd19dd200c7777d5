package quarantine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestMaxTotalBytes: past max_total_bytes Put refuses with ErrFull and
// stores nothing; the files found at start count; once an operator removes
// files, Put takes records again (the files are counted again).
func TestMaxTotalBytes(t *testing.T) {
	dir := t.TempDir()
	// A file of an earlier run: 600 bytes.
	if err := os.WriteFile(filepath.Join(dir, "quarantine-20261129T10.ndjson"), []byte(strings.Repeat("x", 599)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Dir: dir, MaxTotalBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(t.Context())
	rec := []pipeline.Rejected{{Raw: []byte(strings.Repeat("r", 200)), Reason: "invalid_json", Input: "http"}}
	if err := d.Put(t.Context(), rec); err != nil {
		t.Fatalf("first record (600 + ~300 bytes of 1000): %v", err)
	}
	err = d.Put(t.Context(), rec)
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "max_total_bytes") {
		t.Fatalf("second record past 1000 bytes: %v, want ErrFull naming max_total_bytes", err)
	}
	if recs := countStored(t, dir); recs != 1 {
		t.Errorf("%d records stored, want 1 (a refused Put stores nothing)", recs)
	}
	// The operator replays and removes the old file.
	if err := os.Remove(filepath.Join(dir, "quarantine-20261129T10.ndjson")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(recountEvery + 100*time.Millisecond)
	if err := d.Put(t.Context(), rec); err != nil {
		t.Fatalf("after the old file was removed: %v", err)
	}
}

// countStored counts the records of this run's files in dir.
func countStored(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "quarantine-*.ndjson"))
	n := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		n += strings.Count(string(b), `"reason":"invalid_json"`)
	}
	return n
}

// TestMaxTotalBytesEmptyTakesAnyBatch: a batch larger than max_total_bytes
// is stored when the quarantine holds nothing (refused, it would be refused
// forever: a destination's queue retrying it for good).
func TestMaxTotalBytesEmptyTakesAnyBatch(t *testing.T) {
	d, err := New(Config{Dir: t.TempDir(), MaxTotalBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(t.Context())
	big := []pipeline.Rejected{{Raw: []byte(strings.Repeat("r", 500)), Reason: "invalid_json", Input: "http"}}
	if err := d.Put(t.Context(), big); err != nil {
		t.Fatalf("a batch over the bound into an empty quarantine: %v", err)
	}
	if err := d.Put(t.Context(), big); !errors.Is(err, ErrFull) || strings.HasPrefix(err.Error(), "quarantine: quarantine") {
		t.Fatalf("the next one: %v, want ErrFull (one \"quarantine\" prefix)", err)
	}
}

// TestBudgetShared: directories sharing a Budget (the inputs' and each
// destination's) are bounded together: files found in one at start and
// records put in one count against the others; removing files in any of
// them makes room for all (the recount sums them); the error names them.
func TestBudgetShared(t *testing.T) {
	root := t.TempDir()
	dest := filepath.Join(root, "opensearch")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	// A destination's file of an earlier run: 600 bytes. The inputs'
	// directory holds the destination's, whose files it must not count.
	old := filepath.Join(dest, "quarantine-20261129T10.ndjson")
	if err := os.WriteFile(old, []byte(strings.Repeat("x", 599)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := NewBudget(1000)
	in, err := New(Config{Dir: root, MaxTotalBytes: 1000}, WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(t.Context())
	out, err := New(Config{Dir: dest, MaxTotalBytes: 1000}, WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close(t.Context())
	rec := []pipeline.Rejected{{Raw: []byte(strings.Repeat("r", 200)), Reason: "invalid_json", Input: "http"}}
	if err := in.Put(t.Context(), rec); err != nil {
		t.Fatalf("inputs' record (600 + ~300 bytes of 1000): %v", err)
	}
	err = out.Put(t.Context(), rec)
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), root+",") || !strings.Contains(err.Error(), dest) {
		t.Fatalf("destination's record past 1000 bytes together: %v, want ErrFull naming both directories", err)
	}
	err = in.Put(t.Context(), rec)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("inputs' second record past 1000 bytes together: %v, want ErrFull", err)
	}
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(recountEvery + 100*time.Millisecond)
	if err := in.Put(t.Context(), rec); err != nil {
		t.Fatalf("after the destination's old file was removed: %v", err)
	}
	if n := countStored(t, root) + countStored(t, dest); n != 2 {
		t.Errorf("%d records stored, want 2", n)
	}
}
