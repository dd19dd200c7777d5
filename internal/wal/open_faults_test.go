package wal

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"errors"
	"sync"
	"testing"
)

// TestOpenAdoptsSegmentWhoseDirEntryWasNeverSynced:
//
// Sequence: a process rolls its log to segment 2; createSegment has created
// the file, written and fsynced its header, and is about to fsync the
// directory when the process is killed (kill -9, an OOM kill). The file's
// directory entry exists (the kernel has it) but was never made durable.
// The router restarts: Open finds segment 2, sees a valid header and adopts
// it as the active segment without fsyncing the directory. An Append into it
// returns nil (the record is fsynced: acknowledged). Then the machine loses
// power.
//
// What happens: segment 2's directory entry was never fsynced by anyone, so
// it vanishes with the acknowledged record in it.
//
// What should happen: an acknowledged record survives any crash; the package
// doc promises a new segment's "directory fsynced before any record is
// written to it". Open must make the directory entries it adopts durable
// (one SyncDir of the log directory after the scan) before it appends.
//
// Why it matters: a crash during a roll followed by a power failure within
// the next writeback window loses every event acknowledged into the adopted
// segment, silently (the next Open finds nothing damaged).
func TestOpenAdoptsSegmentWhoseDirEntryWasNeverSynced(t *testing.T) {
	mem := NewMemFS()
	var mu sync.Mutex
	hang, dead, reached := false, false, make(chan struct{})
	release := make(chan struct{})
	killed := errors.New("process is dead")
	efs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		mu.Lock()
		h, d := hang, dead
		if h && op == "syncdir" {
			hang, dead = false, true
		}
		mu.Unlock()
		switch {
		case h && op == "syncdir":
			// createSegment wrote and fsynced the header of segment 2
			// and now fsyncs the directory: the process is killed
			// here and never gets past this point.
			close(reached)
			<-release
			return killed
		case d:
			return killed // whatever the dead process still tries fails
		}
		return nil
	}}
	o := Options{SegmentBytes: 1024}
	old, _ := mustOpen(t, efs, "/log", o)
	if _, _, err := old.Append(mkPayload(1, 600), 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	hang = true
	mu.Unlock()
	oldDone := make(chan struct{})
	go func() { // this Append rolls to segment 2 and is killed mid-roll
		defer close(oldDone)
		old.Append(mkPayload(2, 600), 1)
	}()
	<-reached

	// The restarted process (on the file system as the kernel sees it).
	l, rec := mustOpen(t, mem, "/log", o)
	if rec.Segments != 2 {
		t.Fatalf("expected the half-created segment 2 to be seen, recovery %+v", rec)
	}
	at, _, err := l.Append(mkPayload(3, 100), 1)
	if err != nil {
		t.Fatal(err)
	}
	if at.Seg != 2 {
		t.Fatalf("record appended at %v, want segment 2", at)
	}
	mem.Crash() // power loss
	l.Close()

	l2, _ := mustOpen(t, mem, "/log", o)
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	close(release) // let the dead process's goroutine end (its writes fail)
	<-oldDone
	old.Close()
	var ids []uint64
	for _, r := range res.recs {
		ids = append(ids, payloadID(r.Payload))
	}
	found := false
	for _, id := range ids {
		found = found || id == 3
	}
	if !found {
		t.Fatalf("record 3 was acknowledged (Append returned nil at %v) but is gone after a power loss; records left: %v", at, ids)
	}
}

// TestRollAfterRestartSealsUnsyncedTail:
//
// Sequence (SyncAlways): a process appends record A (acknowledged) and
// writes record B, but is killed while B's fsync runs (kill -9): B's bytes
// are in the kernel, not on disk, and B was never acknowledged. The router
// restarts: Open finds A and B complete and takes the file size as both
// writeOff and syncedOff, although nothing fsynced B. The first record
// appended after the restart does not fit in segment 1, so the log rolls;
// rollLocked fsyncs the old segment only "if writeOff > syncedOff", which is
// false, so segment 1 is sealed with B still unsynced. Record C goes to
// segment 2 and is acknowledged. Then the power fails; the kernel had written
// back part of B.
//
// What happens: the next Open finds B cut short in segment 1, which is no
// longer the last segment, and reports it as damage (a corrupt record with
// lost events, or corrupt bytes) instead of a torn tail: a queue on top of it
// is marked degraded and counts B's events as lost (they were never
// acknowledged; the queue may even have delivered them already).
//
// What should happen: the package doc promises that "a segment is fsynced
// before the log moves on to the next one", so that "a crash can only cut
// the end of the last segment". Open should fsync the last segment it adopts
// (or set syncedOff below what it did not sync itself), so the roll fsyncs
// it first.
//
// Why it matters: false "data loss" alarms and wrong loss accounting after a
// kill -9 followed by a power failure; under fsync "interval", B was
// acknowledged and stays unsynced (at risk) indefinitely, past the
// documented SyncInterval, because the restarted log never fsyncs it.
func TestRollAfterRestartSealsUnsyncedTail(t *testing.T) {
	mem := NewMemFS()
	var mu sync.Mutex
	hang, dead, reached := false, false, make(chan struct{})
	release := make(chan struct{})
	killed := errors.New("process is dead")
	efs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		mu.Lock()
		h, d := hang, dead
		if h && op == "sync" {
			hang, dead = false, true
		}
		mu.Unlock()
		switch {
		case h && op == "sync":
			close(reached) // B is written; its fsync starts: kill -9
			<-release
			return killed
		case d:
			return killed
		}
		return nil
	}}
	o := Options{SegmentBytes: 1024}
	old, _ := mustOpen(t, efs, "/log", o)
	if _, _, err := old.Append(mkPayload(1, 300), 1); err != nil { // A
		t.Fatal(err)
	}
	mu.Lock()
	hang = true
	mu.Unlock()
	oldDone := make(chan struct{})
	go func() {
		defer close(oldDone)
		old.Append(mkPayload(2, 300), 7) // B: never acknowledged
	}()
	<-reached

	// The restarted process sees what the kernel has: A and B.
	l, rec := mustOpen(t, mem, "/log", o)
	requireClean(t, rec)
	if rec.Records != 2 {
		t.Fatalf("restart found %+v, want A and B", rec)
	}
	at, _, err := l.Append(mkPayload(3, 600), 1) // C: does not fit, rolls
	if err != nil {
		t.Fatal(err)
	}
	if at.Seg != 2 {
		t.Fatalf("C at %v, want segment 2", at)
	}
	// Power failure; the kernel had written back half of what was not
	// fsynced (a torn write).
	mem.mu.Lock()
	mem.crashKeep = func(name string, synced, data []byte) []byte {
		if len(data) <= len(synced) {
			return synced
		}
		return data[:len(synced)+(len(data)-len(synced))/2]
	}
	mem.mu.Unlock()
	mem.Crash()
	l.Close()
	close(release)
	<-oldDone
	old.Close()

	l2, rec := mustOpen(t, mem, "/log", o)
	defer closeLog(t, l2)
	if rec.CorruptRecords != 0 || rec.LostEvents != 0 || rec.CorruptBytes != 0 {
		t.Fatalf("an unacknowledged write torn by the power failure is reported as damage in sealed segment 1 "+
			"(the roll after the restart sealed it without an fsync): %+v", rec)
	}
}
