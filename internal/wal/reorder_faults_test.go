package wal

import (
	"bytes"
	"slices"
	"sync"
	"testing"
)

// TestUnsyncedTailPersistedOutOfOrderCountedLost: a power loss during
// a group fsync can leave any subset of the unsynced pages on disk, not a
// prefix; recovery then reads a never-acknowledged record whose payload did
// not reach the disk as a damaged record (bad payload CRC) because a
// complete record follows it, and counts its events in LostEvents.
//
// Sequence (SyncAlways): A is appended and acknowledged. B (count 5) and C
// are appended; B's write starts the group fsync, C is written while it
// runs; neither is acknowledged. Power fails during that fsync: the page
// holding C (and B's header) reached the disk, the page holding the rest of
// B's payload did not (zeros: the file was extended but that block never
// written). Reopen.
//
// What happened: scanAt found B's header valid and its payload CRC wrong, a
// "complete" record, and C valid after it, so tailStart was past C and B
// was reported as CorruptRecords 1, LostEvents 5; the queue counted 5
// events lost (logrouter_queue_lost_events_total) and reported itself
// degraded.
//
// Expected: doc.go: "Torn tail ... Under SyncAlways it was never
// acknowledged" and "LostEvents ... the loss is exact": no acknowledged
// event was lost, so nothing may be counted lost. POSIX gives no ordering
// among the pages one fsync writes back, so the bytes after the last fsync
// that finished are all torn, whatever their content. Fixed with the
// durable mark (doc.go, "Durable mark"): recovery knows A was fsynced and
// skips B as an unfinished write (CorruptError.Unsynced), not a loss.
//
// Severity: accounting (false loss and degraded alarm after an ordinary
// power failure).
func TestUnsyncedTailPersistedOutOfOrderCountedLost(t *testing.T) {
	mem := NewMemFS()
	var (
		mu       sync.Mutex
		gate     bool
		entered  = make(chan struct{}, 1)
		release  = make(chan struct{})
		isSegSet = func(name string) bool { return len(name) > 4 && name[len(name)-4:] == ".seg" }
	)
	fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		mu.Lock()
		g := gate
		mu.Unlock()
		if g && op == "sync" && isSegSet(name) {
			entered <- struct{}{}
			<-release
		}
		return nil
	}}
	l, _ := mustOpen(t, fs, "/log", Options{})
	pa := mkPayload(1, 100)
	if _, _, err := l.Append(pa, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	gate = true
	mu.Unlock()
	pb, pc := mkPayload(2, 5000), mkPayload(3, 100)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.Append(pb, 5) }()
	<-entered // B written, its fsync running
	mu.Lock()
	gate = false
	mu.Unlock()
	cDone := make(chan struct{})
	go func() { defer wg.Done(); l.Append(pc, 1); close(cDone) }()
	// Wait until C is written (it then waits for an fsync).
	for {
		mem.mu.Lock()
		n := len(mem.files["/log/"+segName(1)].data)
		mem.mu.Unlock()
		if n == segHeaderSize+3*recHeaderSize+len(pa)+len(pb)+len(pc) {
			break
		}
	}
	bStart := segHeaderSize + recHeaderSize + len(pa)
	mem.mu.Lock()
	mem.crashKeep = func(name string, synced, data []byte) []byte {
		if !isSegSet(name) || !bytes.HasPrefix(data, synced) {
			return synced
		}
		out := append([]byte(nil), data...)
		// The page with the middle of B's payload never reached the disk.
		clear(out[bStart+recHeaderSize+1000 : bStart+recHeaderSize+4000])
		return out
	}
	mem.mu.Unlock()
	mem.Crash()
	close(release)
	wg.Wait()
	l.Close()

	l2, rec := mustOpen(t, mem, "/log", Options{})
	defer closeLog(t, l2)
	res := readAll(t, l2, Pos{})
	if len(res.recs) == 0 || payloadID(res.recs[0].Payload) != 1 {
		t.Fatalf("acknowledged record A missing: %v", res.ids())
	}
	if !slices.Equal(res.ids(), []uint64{1, 3}) || rec.UnsyncedRecords != 1 || len(res.corrupt) != 1 || !res.corrupt[0].Unsynced {
		t.Errorf("B was never acknowledged and written past the last fsync: want it skipped as an unfinished write (C kept: never cut what survived); got records %v, %d unsynced, %v (%v)",
			res.ids(), rec.UnsyncedRecords, res.corrupt, rec.Details)
	}
	if rec.LostEvents != 0 || rec.CorruptRecords != 0 {
		t.Errorf("only never-acknowledged records were in flight at the power loss, yet recovery reports %d corrupt records, %d events lost (%v)",
			rec.CorruptRecords, rec.LostEvents, rec.Details)
	}
}
