package wal

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The durable mark (doc.go, "Durable mark") only lets recovery call damage
// past the last completed fsync a torn write; everything else about damage
// accounting stays as it was. These tests pin the cases around it.

// appendN appends records id 1..n (100-byte payloads, count 2 each) and
// returns their positions.
func appendN(t *testing.T, l *Log, n int) []Pos {
	t.Helper()
	var ats []Pos
	for i := 1; i <= n; i++ {
		at, _, err := l.Append(mkPayload(uint64(i), 100), 2)
		if err != nil {
			t.Fatal(err)
		}
		ats = append(ats, at)
	}
	return ats
}

// overwrite writes b at off in name (created if need be) and fsyncs it:
// damage that is durable, or a mark put in place.
func overwrite(t *testing.T, fs FS, name string, off int64, b []byte) {
	t.Helper()
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := fs.SyncDir(filepath.Dir(name)); err != nil {
		t.Fatal(err)
	}
}

// rot flips a byte in the payload of the record at at: bit rot.
func rot(t *testing.T, fs FS, dir string, at Pos) {
	t.Helper()
	overwrite(t, fs, filepath.Join(dir, segName(at.Seg)), at.Off+recHeaderSize+10, []byte{0xFF})
}

// A record fsynced and acknowledged, damaged later, is lost and counted,
// mark or not, and the records after it are kept.
func TestMarkSyncedDamageCountedLost(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
		mem := NewMemFS()
		l, _ := mustOpen(t, mem, "/log", Options{Sync: pol})
		ats := appendN(t, l, 3)
		closeLog(t, l)
		rot(t, mem, "/log", ats[1])
		l2, rec := mustOpen(t, mem, "/log", Options{Sync: pol})
		res := readAll(t, l2, Pos{})
		closeLog(t, l2)
		if rec.CorruptRecords != 1 || rec.LostEvents != 2 || !slices.Equal(res.ids(), []uint64{1, 3}) {
			t.Errorf("policy %d: a synced record rotted: want 1 corrupt record, 2 events lost, records [1 3]; got %d, %d, %v (%v)",
				pol, rec.CorruptRecords, rec.LostEvents, res.ids(), rec.Details)
		}
	}
}

// Under SyncInterval records are acknowledged before their fsync, so a
// damaged one followed by an intact one is an acknowledged loss: counted,
// and the intact one kept. Open under SyncInterval removes a mark an
// earlier SyncAlways run left, which would call that damage a torn write.
func TestMarkRemovedUnderSyncInterval(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{})
	if _, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0); err != nil {
		t.Fatalf("no mark after a SyncAlways open: %v", err)
	}
	mem.Crash() // the SyncAlways run ends without a Close: its mark stays
	l.Close()
	if _, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0); err != nil {
		t.Fatalf("no mark after a crash: %v", err)
	}
	l, _ = mustOpen(t, mem, "/log", Options{Sync: SyncInterval})
	if _, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0); err == nil {
		t.Fatal("the mark is still there under SyncInterval")
	}
	// Records acknowledged at write(2); the machine dies with the middle
	// one's payload not on disk and the last one's on it.
	ats := appendN(t, l, 3)
	mem.mu.Lock()
	mem.crashKeep = func(name string, synced, data []byte) []byte {
		if filepath.Ext(name) != segSuffix {
			return synced
		}
		out := append([]byte(nil), data...)
		clear(out[ats[1].Off+recHeaderSize : ats[1].Off+recHeaderSize+50])
		return out
	}
	mem.mu.Unlock()
	mem.Crash()
	l.Close()
	l2, rec := mustOpen(t, mem, "/log", Options{Sync: SyncInterval})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if rec.LostEvents != 2 || !slices.Equal(res.ids(), []uint64{1, 3}) {
		t.Errorf("acknowledged record 2 lost under SyncInterval: want 2 events counted lost and records [1 3]; got %d lost, %v (%v)",
			rec.LostEvents, res.ids(), rec.Details)
	}
}

// A mark that is garbled (a power loss during its write) or missing (a log
// from before marks) reads as none: damage is counted as before.
func TestMarkGarbledReadsAsNone(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(fs FS)
	}{
		{"garbled", func(fs FS) { overwrite(t, fs, "/log/"+markName, 6, []byte{0xAB}) }},
		{"short", func(fs FS) {
			f, _ := fs.OpenFile("/log/"+markName, os.O_RDWR, 0)
			f.Truncate(10)
			f.Sync()
			f.Close()
		}},
		{"missing", func(fs FS) { fs.Remove("/log/" + markName); fs.SyncDir("/log") }},
	} {
		mem := NewMemFS()
		l, _ := mustOpen(t, mem, "/log", Options{})
		ats := appendN(t, l, 3)
		closeLog(t, l)
		// Record 2 damaged past where a mark at Open would have put the
		// watermark: with the mark read, it would be cut as torn.
		overwrite(t, mem, "/log/"+markName, 0, func() []byte {
			var b [markSize]byte
			putMark(&b, ats[0].Seg, ats[0].Off)
			return b[:]
		}())
		tc.mark(mem)
		rot(t, mem, "/log", ats[1])
		l2, rec := mustOpen(t, mem, "/log", Options{})
		res := readAll(t, l2, Pos{})
		closeLog(t, l2)
		if rec.LostEvents != 2 || !slices.Equal(res.ids(), []uint64{1, 3}) {
			t.Errorf("%s mark: want the damage counted (2 events lost, records [1 3]); got %d lost, %v (%v)",
				tc.name, rec.LostEvents, res.ids(), rec.Details)
		}
	}
}

// A mark naming an earlier segment than the last says nothing about the
// last one (the log rolled and the new segment's mark was lost, or a
// release without marks ran since): damage there is counted as before.
func TestMarkFromEarlierSegment(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	ats := appendN(t, l, 6)
	closeLog(t, l)
	lastSeg := ats[len(ats)-1].Seg
	inLast := inSegment(ats, lastSeg)
	if lastSeg < 2 || len(inLast) < 2 {
		t.Fatalf("want at least two records in a second segment: %v", ats)
	}
	var b [markSize]byte
	putMark(&b, lastSeg-1, 400)
	overwrite(t, mem, "/log/"+markName, 0, b[:])
	rot(t, mem, "/log", inLast[0])
	l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if rec.LostEvents != 2 || rec.UnsyncedRecords != 0 || len(res.recs) != len(ats)-1 {
		t.Errorf("want the damage counted lost (2 events) and every other record kept; got %d lost, %d unsynced, %v (%v)",
			rec.LostEvents, rec.UnsyncedRecords, res.ids(), rec.Details)
	}
}

// A roll writes the new segment's mark: damage past it in the new segment,
// with a record after it, is an unfinished write.
func TestMarkAfterRoll(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	ats := appendN(t, l, 6)
	lastSeg := ats[len(ats)-1].Seg
	l.syncMark()
	f, _ := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0)
	var m [markSize]byte
	f.ReadAt(m[:], 0)
	f.Close()
	if seg, _, ok := parseMark(m[:]); !ok || seg != lastSeg {
		t.Fatalf("mark names segment %d after rolls, want %d", seg, lastSeg)
	}
	mem.Crash()
	l.Close()
	// Put it back to where the roll left it, as if the later fsyncs'
	// marks were lost with the power.
	var b [markSize]byte
	putMark(&b, lastSeg, segHeaderSize)
	overwrite(t, mem, "/log/"+markName, 0, b[:])
	inLast := inSegment(ats, lastSeg)
	rot(t, mem, "/log", inLast[0])
	l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if rec.LostEvents != 0 || rec.UnsyncedRecords != 1 || len(res.recs) != len(ats)-1 {
		t.Errorf("want the damage skipped as unsynced and every other record kept; got %d lost, %d unsynced, %v (%v)",
			rec.LostEvents, rec.UnsyncedRecords, res.ids(), rec.Details)
	}
}

// The mark follows the fsyncs: after appends (and its timer's fsync) it
// names the end of the active segment; a clean Close removes it (nothing is
// unsynced then), and a reopen finds a clean log and writes a new one.
func TestMarkFollowsSyncs(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	ats := appendN(t, l, 5)
	end := l.End()
	l.syncMark()
	f, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [markSize]byte
	f.ReadAt(b[:], 0)
	f.Close()
	seg, off, ok := parseMark(b[:])
	if !ok || seg != end.Seg || off != end.Off {
		t.Fatalf("mark %d/%d (ok %v), want the end %v (last record at %v)", seg, off, ok, end, ats[len(ats)-1])
	}
	closeLog(t, l)
	if _, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0); err == nil {
		t.Fatal("the mark outlived a clean Close")
	}
	l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	requireClean(t, rec)
	if _, err := mem.OpenFile("/log/"+markName, os.O_RDONLY, 0); err != nil {
		t.Fatalf("no mark after Open: %v", err)
	}
	closeLog(t, l2)
}

// The timer fsyncs the mark within markSyncInterval of a fsync, also when
// the appends stop.
func TestMarkTimerSyncsAfterPause(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{})
	ats := appendN(t, l, 3)
	time.Sleep(markSyncInterval + 300*time.Millisecond)
	mem.Crash()
	l.Close()
	rot(t, mem, "/log", ats[1])
	l2, rec := mustOpen(t, mem, "/log", Options{})
	closeLog(t, l2)
	if rec.LostEvents != 2 || rec.UnsyncedRecords != 0 {
		t.Errorf("record 2 acknowledged more than markSyncInterval before the power loss, then damaged: want it counted lost; got %d lost, %d unsynced (%v)",
			rec.LostEvents, rec.UnsyncedRecords, rec.Details)
	}
}

// A roll fsyncs the new segment's mark at once: a power loss right after it
// finds a mark naming the new segment, so an unfinished write there with
// a record after it is not counted lost.
func TestMarkSyncedAtRoll(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	ats := appendN(t, l, 6)
	lastSeg := ats[len(ats)-1].Seg
	inLast := inSegment(ats, lastSeg)
	if lastSeg < 2 || len(inLast) < 2 {
		t.Fatalf("want at least two records in a second segment: %v", ats)
	}
	mem.Crash() // at once: no timer has fsynced the mark since the roll
	l.Close()
	rot(t, mem, "/log", inLast[0])
	l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 400})
	res := readAll(t, l2, Pos{})
	closeLog(t, l2)
	if rec.LostEvents != 0 || rec.UnsyncedRecords != 1 || len(res.recs) != len(ats)-1 {
		t.Errorf("a power loss just after a roll: want the damage in the new segment read as unsynced, every other record kept; got %d lost, %d unsynced, %v (%v)",
			rec.LostEvents, rec.UnsyncedRecords, res.ids(), rec.Details)
	}
}

// inSegment returns the positions of ats in segment seg.
func inSegment(ats []Pos, seg uint64) []Pos {
	var in []Pos
	for _, at := range ats {
		if at.Seg == seg {
			in = append(in, at)
		}
	}
	return in
}
