package wal

import (
	"slices"
	"testing"
)

// TestMarkLagCutsAcknowledgedRecords: the durable mark is fsynced
// only at Open (setUpMark); every later mark write (writeMarkLocked, after
// each completed fsync, and at Close) is left to write-back. A power loss
// therefore brings back the mark of the last Open (MemFS keeps only
// fsynced data; on Linux the on-disk mark lags by the dirty write-back
// interval), and in the last segment every record acknowledged since then
// lies "past the mark". If one of them is damaged (bit rot: a media error,
// exactly what CorruptRecords/LostEvents exist for), recoverSegment
// (log.go, the `it.kind != kRecord && last && wm >= 0 && it.off >= wm`
// branch) starts the torn tail at it and TRUNCATES every record after it:
// intact, fsynced, acknowledged records are destroyed, and nothing is
// counted lost (TornTailBytes only; the queue logs "never acknowledged").
//
// Sequence (SyncAlways): Open; append records 1..5 (each Append returned
// nil: fsynced); power loss after the last fsync finished (nothing in
// flight); record 2's payload rots on the medium; reopen.
//
// What happens: the mark on disk names the Open-time end (offset 8), so
// record 2's bad CRC is "past the last completed fsync": records 2..5 are
// cut as a torn tail; LostEvents 0; records 3, 4, 5 are gone.
//
// Contract: doc.go "Durability": an Append that returned nil under
// SyncAlways "survives ... a power failure"; "Bad payload ... skipped and
// left in place; it counts in CorruptRecords, and its count ... in
// LostEvents: the loss is exact". The commit's caveat ("media damage to a
// record acknowledged in that window reads as torn") concedes only the
// damaged record, and only for "the fsyncs whose mark writes the power
// loss took" -- here that is every fsync since Open, and the intact records
// after the damaged one are destroyed too. Before 5b74a4c this sequence
// counted record 2 lost and kept 1, 3, 4, 5.
//
// Severity: high for the data path it touches (silent, uncounted loss of up
// to a whole segment of acknowledged events from one bad sector plus a
// power loss), though it needs media damage.
//
// Fixed: recovery never cuts past a damaged region it reads as unsynced
// (the records after it stay; it is skipped with CorruptError.Unsynced),
// and a group fsync also fsyncs the mark within markSyncInterval (Close at
// once), so
// only damage to a record acknowledged in the last second before the power
// loss is counted as an unfinished write instead of a loss.
func TestMarkLagCutsAcknowledgedRecords(t *testing.T) {
	for _, synced := range []bool{false, true} {
		mem := NewMemFS()
		l, _ := mustOpen(t, mem, "/log", Options{Sync: SyncAlways})
		ats := appendN(t, l, 5) // all acknowledged: fsynced
		if synced {
			l.syncMark() // as a later group fsync would: the power loss comes past markSyncInterval
		}
		mem.Crash() // power loss; no write was in flight
		l.Close()
		rot(t, mem, "/log", ats[1])

		l2, rec := mustOpen(t, mem, "/log", Options{Sync: SyncAlways})
		res := readAll(t, l2, Pos{})
		closeLog(t, l2)
		if !slices.Equal(res.ids(), []uint64{1, 3, 4, 5}) {
			t.Errorf("mark synced %v: acknowledged records 1..5, record 2 rotted, power loss: want records [1 3 4 5] kept; got %v (%v)",
				synced, res.ids(), rec.Details)
		}
		if synced && (rec.LostEvents != 2 || rec.CorruptRecords != 1) {
			t.Errorf("mark synced after the appends: want record 2 counted lost (1 corrupt record, 2 events); got %d corrupt, %d events lost (%v)",
				rec.CorruptRecords, rec.LostEvents, rec.Details)
		}
		if !synced && (rec.UnsyncedRecords != 1 || len(res.corrupt) != 1 || !res.corrupt[0].Unsynced) {
			t.Errorf("mark not synced since Open: want record 2 skipped as an unfinished write; got %d unsynced, %v (%v)",
				rec.UnsyncedRecords, res.corrupt, rec.Details)
		}
	}
}

// TestMarkLagAfterCleanClose: the same after a clean Close: Close
// writes the mark but does not fsync it, so a power loss at any time
// before write-back (MemFS: ever) leaves the Open-time mark, and the
// damaged record plus every acknowledged record after it are cut
// uncounted. Same contract and severity as above; shows that even a clean
// shutdown does not make the mark current on disk.
func TestMarkLagAfterCleanClose(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{Sync: SyncAlways})
	ats := appendN(t, l, 5)
	closeLog(t, l)
	mem.Crash() // power loss some time after the clean shutdown
	rot(t, mem, "/log", ats[1])

	l2, rec := mustOpen(t, mem, "/log", Options{Sync: SyncAlways})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if !slices.Equal(res.ids(), []uint64{1, 3, 4, 5}) || rec.LostEvents != 2 {
		t.Errorf("after a clean Close and a later power loss: want record 2 counted lost and [1 3 4 5] kept; got records %v, %d events lost, %d torn-tail bytes (%v)",
			res.ids(), rec.LostEvents, rec.TornTailBytes, rec.Details)
	}
}
