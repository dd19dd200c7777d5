package quarantine

// Fault: the quarantine never recreates its directory. An operator who
// clears a replayed quarantine the obvious way, `rm -rf <quarantine.dir>/*`
// (or removes one destination's directory, <quarantine.dir>/<destination>),
// removes the directories the router's Dirs were built on. RotatingFile
// notices that its file is gone (removed()) and opens a new one - in a
// directory that no longer exists: every later Put fails with "no such file
// or directory" until the router is restarted. For a destination's
// quarantine that means the destination's refusals wait in its queue for
// ever (its queue fills, then senders get 429/503); for the inputs'
// quarantine every request with one bad record is answered 503 for ever.
// With max_total_bytes set, the recount (filesBytes on the missing
// directory) fails too and keeps the stale byte count, so the budget stays
// "full" even though the operator just freed everything - the very action
// its error message tells them to take.
//
// Fixed (RotatingFile.open creates it again; Budget.recountLocked counts a missing folder as 0). Was: in RotatingFile.open, on ENOENT recreate the directory (MkdirAll /
// wal.EnsureDir, fsyncing the parent) and retry once; in Budget.recount
// count a missing directory as 0 bytes instead of aborting the recount.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

func TestQuarantineDirRemovedByOperator(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "siem") // a destination's quarantine: quarantine.dir/<destination>
	d, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	rec := []pipeline.Rejected{{Raw: []byte(`{"a":1}`), Reason: "destination_rejected", Destination: "siem"}}
	if err := d.Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	// The operator replayed it and clears the quarantine: rm -rf quarantine/*
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(context.Background(), rec); err != nil {
		t.Errorf("after the operator removed %s, Put fails (and keeps failing until a restart): %v", dir, err)
	}
}

func TestBudgetStaysFullAfterDirRemoved(t *testing.T) {
	root := t.TempDir()
	b := NewBudget(1000)
	in, err := New(Config{Dir: root}, WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	sub := filepath.Join(root, "siem")
	dlq, err := New(Config{Dir: sub}, WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close(context.Background())
	rec := []pipeline.Rejected{{Raw: []byte(strings.Repeat("r", 300)), Reason: "destination_rejected", Destination: "siem"}}
	for i := 0; ; i++ {
		err := dlq.Put(context.Background(), rec)
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil || i > 20 {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	// rm -rf quarantine/*: the destination's directory, with every file.
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	time.Sleep(recountEvery + 100*time.Millisecond)
	// A record that fits an empty quarantine (but not the stale count).
	small := []pipeline.Rejected{{Raw: []byte(strings.Repeat("x", 400)), Reason: "invalid_json", Input: "http"}}
	if err := in.Put(context.Background(), small); err != nil {
		t.Errorf("the quarantine holds nothing any more, yet the inputs' quarantine refuses: %v (budget says %d bytes)", err, b.Bytes())
	}
}
