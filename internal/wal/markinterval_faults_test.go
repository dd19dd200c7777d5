package wal

import (
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestStaleMarkGovernsSyncIntervalLog: under SyncInterval, Open's
// setUpMark (log.go) removes a mark an earlier SyncAlways run left, because
// such a mark "would otherwise describe records acknowledged without an
// fsync" -- but it ignores the Remove's error (`_ = l.fs.Remove(name)`) and
// Open succeeds. The stale mark then governs the next recovery of a log
// whose records were acknowledged at write(2).
//
// Sequence: Open under SyncAlways, append record 1, Close (mark: end of
// record 1). Open under SyncInterval; removing synced.mark fails (EIO);
// Open returns nil. Records 2, 3, 4 are appended and acknowledged (write
// returned). Power loss: record 3's payload missed the disk, record 4 made
// it (the same pattern TestMarkRemovedUnderSyncInterval uses). Reopen
// under SyncInterval.
//
// What happens: readMark reads the stale SyncAlways mark, record 3's bad
// CRC lies past it, so records 3 AND 4 are cut as a torn tail and
// LostEvents is 0: acknowledged record 4, intact on disk, is destroyed and
// record 3's loss is not counted.
//
// Contract: doc.go "Durable mark": "Without a readable mark (... a log
// written under SyncInterval, whose records were acknowledged before their
// fsync), such damage counts as below" (counted lost, later records kept);
// "Under SyncInterval there is none: Open removes it." The same stale mark
// is left by any release before 5b74a4c run under fsync interval after a
// rollback (it ignores the file, so it cannot remove it), which the commit
// message names as the reason for choosing a side file.
//
// Severity: medium (needs a failed unlink, or a rollback run under
// SyncInterval, then a power loss); the loss is silent and hits intact
// acknowledged records. Fix: under SyncInterval fail Open (or overwrite
// the mark with an invalid one and fsync it) when the Remove fails with
// anything but ErrNotExist; better, record the policy in the mark so that a
// stale one is never trusted after interval writes.
//
// Fixed: Open under SyncInterval fails when it cannot remove the mark; and
// recovery never cuts past damage it reads as unsynced, so a mark a release
// without marks left stale can cost the count of a loss, never a record.
func TestStaleMarkGovernsSyncIntervalLog(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{Sync: SyncAlways})
	appendN(t, l, 1)
	closeLog(t, l)

	efs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		if op == "remove" && filepath.Base(name) == markName {
			return syscall.EIO
		}
		return nil
	}}
	l, _, err := Open(efs, "/log", Options{Sync: SyncInterval})
	if err != nil {
		if errors.Is(err, syscall.EIO) {
			return // the fix: Open refuses instead of trusting a stale mark
		}
		t.Fatal(err)
	}
	var ats []Pos
	for i := 2; i <= 4; i++ {
		at, _, err := l.Append(mkPayload(uint64(i), 100), 2)
		if err != nil {
			t.Fatal(err)
		}
		ats = append(ats, at)
	}
	rec3 := ats[1]
	mem.mu.Lock()
	mem.crashKeep = func(name string, synced, data []byte) []byte {
		if filepath.Ext(name) != segSuffix {
			return synced
		}
		out := append([]byte(nil), data...)
		clear(out[rec3.Off+recHeaderSize : rec3.Off+recHeaderSize+50])
		return out
	}
	mem.mu.Unlock()
	mem.Crash()
	l.Close()

	l2, rec := mustOpen(t, mem, "/log", Options{Sync: SyncInterval})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if rec.LostEvents != 2 || !slices.Equal(res.ids(), []uint64{1, 2, 4}) {
		t.Errorf("acknowledged record 3 damaged, record 4 intact, under SyncInterval: want 2 events counted lost and records [1 2 4]; got %d lost, records %v, %d torn-tail bytes (%v)",
			rec.LostEvents, res.ids(), rec.TornTailBytes, rec.Details)
	}
}
