package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRotatingFileRemovedWhileOpen: a file an operator removed (or moved)
// while it was the current one is not written to again: the next Write
// goes to a new file in the directory, so nothing lands in a deleted inode
// (lost, its space never freed).
func TestRotatingFileRemovedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	r, err := NewRotatingFile(dir, "quarantine", 0, true, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	if err := r.Write(context.Background(), []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	first := r.Path()
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(context.Background(), []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "quarantine-*.ndjson"))
	var all string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all += string(b)
	}
	if !strings.Contains(all, "two\n") || r.Path() == first {
		t.Errorf("after the current file was removed, the next write went to %s (files %v hold %q)", r.Path(), files, all)
	}
}
