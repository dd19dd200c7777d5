package file

// Fault (same root cause as sinks/quarantine's
// TestQuarantineDirRemovedByOperator): RotatingFile creates its
// directory only in NewRotatingFile. When the directory is removed while
// the router runs (an operator clearing old output with rm -rf, a tmp
// cleaner), Write sees the current file gone, tries a new one in the
// missing directory and fails with ENOENT on every call until a restart:
// the file destination's queue backs up and, once full, senders are
// refused - for a condition the sink could repair itself.
//
// Fixed: open() creates the directory again when it is missing. Was: in open(), on ENOENT recreate the directory (MkdirAll, or
// wal.EnsureDir with fsync) and retry once.

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestRotatingFileDirRemoved(t *testing.T) {
	dir := t.TempDir() + "/out"
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	r, err := NewRotatingFile(dir, "siem", 0, true, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	if err := r.Write(context.Background(), []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(context.Background(), []byte("two\n")); err != nil {
		t.Errorf("after its directory was removed, every Write fails until a restart: %v", err)
	}
}
