package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a closed log on the real file system with known records.
type fixture struct {
	dir   string
	o     Options
	ats   []Pos
	nexts []Pos
	sizes []int
}

// newFixture writes 40 records of 80 to 140 payload bytes into segments of
// 1000 bytes (about 7 records each, 6 segments).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{dir: filepath.Join(t.TempDir(), "log"), o: Options{SegmentBytes: 1000}}
	l, _ := mustOpen(t, OS, fx.dir, fx.o)
	for i := 0; i < 40; i++ {
		n := 80 + i*17%61
		at, next, err := l.Append(mkPayload(uint64(i), n), countFor(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		fx.ats, fx.nexts, fx.sizes = append(fx.ats, at), append(fx.nexts, next), append(fx.sizes, n)
	}
	closeLog(t, l)
	if fx.lastSeg() < 5 {
		t.Fatalf("fixture has %d segments", fx.lastSeg())
	}
	return fx
}

func (fx *fixture) lastSeg() uint64        { return fx.ats[len(fx.ats)-1].Seg }
func (fx *fixture) path(seg uint64) string { return filepath.Join(fx.dir, segName(seg)) }

// inSeg returns the indexes of the records in segment seg.
func (fx *fixture) inSeg(seg uint64) []int {
	var idx []int
	for i, at := range fx.ats {
		if at.Seg == seg {
			idx = append(idx, i)
		}
	}
	return idx
}

func (fx *fixture) events(except ...int) int64 {
	var sum int64
outer:
	for i := range fx.ats {
		for _, e := range except {
			if i == e {
				continue outer
			}
		}
		sum += int64(countFor(uint64(i)))
	}
	return sum
}

func (fx *fixture) mutate(t *testing.T, seg uint64, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(fx.path(seg))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.path(seg), f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) fileSize(t *testing.T, seg uint64) int64 {
	t.Helper()
	fi, err := os.Stat(fx.path(seg))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// open reopens the fixture, checks that a Reader sees exactly what Recovery
// reported (same records, the same damage as *CorruptErrors) and that the
// records read are the fixture's minus skip. It returns the open log.
func (fx *fixture) open(t *testing.T, skip ...int) (*Log, Recovery, readResult) {
	t.Helper()
	l, rec := mustOpen(t, OS, fx.dir, fx.o)
	t.Cleanup(func() { l.Close() })
	res := readAll(t, l, Pos{})
	want := map[int]bool{}
	for i := range fx.ats {
		want[i] = true
	}
	for _, s := range skip {
		delete(want, s)
	}
	if len(res.recs) != len(want) || rec.Records != len(want) {
		t.Fatalf("read %d records, recovery %d, want %d; %+v", len(res.recs), rec.Records, len(want), rec)
	}
	for _, rc := range res.recs {
		i := int(payloadID(rc.Payload))
		if !want[i] || rc.At != fx.ats[i] || string(rc.Payload) != string(mkPayload(uint64(i), fx.sizes[i])) {
			t.Fatalf("unexpected record %d at %v", i, rc.At)
		}
	}
	if rec.Events != fx.events(skip...) {
		t.Fatalf("recovery counts %d events, want %d", rec.Events, fx.events(skip...))
	}
	var recs int
	var events, garbage int64
	for _, ce := range res.corrupt {
		recs += ce.Records
		events += ce.Events
		if ce.Records == 0 {
			garbage += ce.Bytes
		}
	}
	if recs != rec.CorruptRecords || events != rec.LostEvents || garbage != rec.CorruptBytes {
		t.Fatalf("reader skipped %d records, %d events, %d bytes; recovery says %+v", recs, events, garbage, rec)
	}
	return l, rec, res
}

func TestTornTail(t *testing.T) {
	for _, cut := range []int64{3, recHeaderSize - 1, recHeaderSize, recHeaderSize + 7} {
		fx := newFixture(t)
		last := len(fx.ats) - 1
		at := fx.ats[last]
		fx.mutate(t, at.Seg, func(b []byte) []byte { return b[:at.Off+cut] })
		l, rec, _ := fx.open(t, last)
		if rec.TornTailBytes != cut || rec.CorruptRecords != 0 || rec.CorruptBytes != 0 || len(rec.Details) != 1 || !strings.Contains(rec.Details[0], "torn") {
			t.Fatalf("cut %d: %+v", cut, rec)
		}
		if got := fx.fileSize(t, at.Seg); got != at.Off {
			t.Fatalf("torn tail not truncated: size %d, want %d", got, at.Off)
		}
		if l.End() != at {
			t.Fatalf("End %v, want %v", l.End(), at)
		}
		if a, _, err := l.Append([]byte("after the tear"), 1); err != nil || a != at {
			t.Fatalf("Append at %v, %v; want %v", a, err, at)
		}
		closeLog(t, l)
		l, rec = mustOpen(t, OS, fx.dir, fx.o)
		requireClean(t, rec)
		closeLog(t, l)
	}
}

func TestZeroFilledTail(t *testing.T) {
	fx := newFixture(t)
	fx.mutate(t, fx.lastSeg(), func(b []byte) []byte { return append(b, make([]byte, 4096)...) })
	_, rec, _ := fx.open(t)
	if rec.TornTailBytes != 4096 || rec.CorruptRecords != 0 || rec.CorruptBytes != 0 {
		t.Fatalf("%+v", rec)
	}
	// The same zeros at the end of a sealed segment are damage, not a tear:
	// a sealed segment was fsynced whole.
	fx = newFixture(t)
	fx.mutate(t, 2, func(b []byte) []byte { return append(b, make([]byte, 100)...) })
	_, rec, res := fx.open(t)
	if rec.TornTailBytes != 0 || rec.CorruptBytes != 100 || len(res.corrupt) != 1 {
		t.Fatalf("%+v", rec)
	}
	if ce := res.corrupt[0]; ce.At != fx.nexts[fx.inSeg(2)[len(fx.inSeg(2))-1]] || ce.Bytes != 100 {
		t.Fatalf("%+v", ce)
	}
}

func TestPayloadBitFlip(t *testing.T) {
	for _, seg := range []uint64{2, 0} { // a middle segment, and the last record of the log
		fx := newFixture(t)
		victim := fx.inSeg(2)[1]
		if seg == 0 {
			victim = len(fx.ats) - 1
		}
		at := fx.ats[victim]
		fx.mutate(t, at.Seg, func(b []byte) []byte { b[at.Off+recHeaderSize+5] ^= 0x10; return b })
		_, rec, res := fx.open(t, victim)
		want := int64(countFor(uint64(victim)))
		if rec.CorruptRecords != 1 || rec.LostEvents != want || rec.CorruptBytes != 0 || rec.TornTailBytes != 0 {
			t.Fatalf("flip in record %d: %+v; want 1 record, %d events lost", victim, rec, want)
		}
		ce := res.corrupt[0]
		if ce.At != at || ce.Records != 1 || ce.Events != want || ce.Bytes != recHeaderSize+int64(fx.sizes[victim]) {
			t.Fatalf("%+v", ce)
		}
		if !strings.Contains(rec.Details[0], segName(at.Seg)) || !strings.Contains(rec.Details[0], "checksum") {
			t.Fatalf("details %q", rec.Details)
		}
		// Damage stays, and is reported again on the next Open.
		l := mustReopen(t, fx, victim)
		l.Close()
	}
}

// mustReopen opens the damaged fixture twice and checks that the second Open
// reports the same damage (and no torn tail: the first truncated it).
func mustReopen(t *testing.T, fx *fixture, skip ...int) *Log {
	t.Helper()
	first, rec1, _ := fx.open(t, skip...)
	first.Close()
	l, rec2 := mustOpen(t, OS, fx.dir, fx.o)
	if rec2.CorruptRecords != rec1.CorruptRecords || rec2.CorruptBytes != rec1.CorruptBytes || rec2.TornTailBytes != 0 {
		t.Fatalf("second Open %+v, first %+v", rec2, rec1)
	}
	return l
}

func TestGarbageHeader(t *testing.T) {
	for _, seg := range []uint64{3, 0} { // a middle segment; the last segment, not at its end
		fx := newFixture(t)
		if seg == 0 {
			seg = fx.lastSeg()
			if len(fx.inSeg(seg)) < 2 {
				t.Skip("last segment too short")
			}
		}
		victim := fx.inSeg(seg)[0]
		at := fx.ats[victim]
		fx.mutate(t, seg, func(b []byte) []byte {
			copy(b[at.Off:], bytes.Repeat([]byte{0xAB}, recHeaderSize))
			return b
		})
		_, rec, res := fx.open(t, victim)
		span := int64(recHeaderSize + fx.sizes[victim])
		if rec.CorruptBytes != span || rec.CorruptRecords != 0 || rec.TornTailBytes != 0 {
			t.Fatalf("%+v, want %d corrupt bytes", rec, span)
		}
		if ce := res.corrupt[0]; ce.At != at || ce.Bytes != span || ce.Records != 0 {
			t.Fatalf("%+v", ce)
		}
	}
}

func TestGarbageResyncFindsHeaderInside(t *testing.T) {
	// Overwrite from the middle of one record into the next: resync lands on
	// the first intact header after it.
	fx := newFixture(t)
	idx := fx.inSeg(2)
	a, b := fx.ats[idx[1]], fx.ats[idx[2]]
	fx.mutate(t, 2, func(buf []byte) []byte {
		for i := a.Off + 30; i < b.Off+5; i++ {
			buf[i] = byte(i * 7)
		}
		return buf
	})
	_, rec, _ := fx.open(t, idx[1], idx[2])
	if rec.CorruptRecords != 1 || rec.LostEvents != int64(countFor(uint64(idx[1]))) || rec.CorruptBytes != fx.nexts[idx[2]].Off-b.Off {
		t.Fatalf("%+v", rec)
	}
}

func TestSegmentHeaderDamage(t *testing.T) {
	t.Run("middle-truncated", func(t *testing.T) {
		fx := newFixture(t)
		fx.mutate(t, 2, func(b []byte) []byte { return b[:5] })
		_, rec, _ := fx.open(t, fx.inSeg(2)...)
		// The records in it are gone without a header to count them: the
		// bytes that remain are what is counted.
		if rec.CorruptBytes != 5 || rec.TornTailBytes != 0 {
			t.Fatalf("%+v", rec)
		}
	})
	t.Run("middle-garbled", func(t *testing.T) {
		fx := newFixture(t)
		fx.mutate(t, 2, func(b []byte) []byte { copy(b, "garbage!"); return b })
		_, rec, _ := fx.open(t) // its records are still read
		if rec.CorruptBytes != segHeaderSize || rec.TornTailBytes != 0 {
			t.Fatalf("%+v", rec)
		}
	})
	t.Run("last-truncated", func(t *testing.T) {
		fx := newFixture(t)
		last := fx.lastSeg()
		fx.mutate(t, last, func(b []byte) []byte { return b[:5] })
		l, rec, _ := fx.open(t, fx.inSeg(last)...)
		if rec.TornTailBytes != 5 || rec.CorruptBytes != 0 {
			t.Fatalf("%+v", rec)
		}
		if at, _, err := l.Append([]byte("x"), 1); err != nil || at != (Pos{last, segHeaderSize}) {
			t.Fatalf("Append at %v, %v", at, err)
		}
		closeLog(t, l)
		l, rec = mustOpen(t, OS, fx.dir, fx.o)
		requireClean(t, rec)
		closeLog(t, l)
	})
	t.Run("last-garbled", func(t *testing.T) {
		fx := newFixture(t)
		last := fx.lastSeg()
		fx.mutate(t, last, func(b []byte) []byte { copy(b, "garbage!"); return b })
		l, rec, _ := fx.open(t)
		if rec.CorruptBytes != segHeaderSize || rec.TornTailBytes != 0 {
			t.Fatalf("%+v", rec)
		}
		if at, _, err := l.Append([]byte("x"), 1); err != nil || at != (Pos{last + 1, segHeaderSize}) {
			t.Fatalf("Append at %v, %v: want a fresh segment", at, err)
		}
	})
	t.Run("unknown-version", func(t *testing.T) {
		fx := newFixture(t)
		fx.mutate(t, 2, func(b []byte) []byte { b[6] = 9; return b })
		before := fx.fileSize(t, fx.lastSeg())
		if _, _, err := Open(OS, fx.dir, fx.o); !errors.Is(err, errUnknownVersion) {
			t.Fatalf("Open: %v", err)
		}
		if fx.fileSize(t, fx.lastSeg()) != before {
			t.Fatal("Open changed a log it refused")
		}
	})
}

func TestCutShortRecordInMiddleSegment(t *testing.T) {
	fx := newFixture(t)
	idx := fx.inSeg(3)
	victim := idx[len(idx)-1]
	at := fx.ats[victim]
	fx.mutate(t, 3, func(b []byte) []byte { return b[:at.Off+recHeaderSize+10] })
	_, rec, res := fx.open(t, victim)
	if rec.CorruptRecords != 1 || rec.LostEvents != int64(countFor(uint64(victim))) || rec.TornTailBytes != 0 {
		t.Fatalf("%+v", rec)
	}
	if ce := res.corrupt[0]; ce.Bytes != recHeaderSize+10 {
		t.Fatalf("%+v", ce)
	}
}

func TestMissingSegment(t *testing.T) {
	fx := newFixture(t)
	if err := os.Remove(fx.path(3)); err != nil {
		t.Fatal(err)
	}
	_, rec, res := fx.open(t, fx.inSeg(3)...)
	if len(rec.Details) != 1 || !strings.Contains(rec.Details[0], "missing") || len(res.corrupt) != 1 || res.corrupt[0].At != (Pos{3, 0}) {
		t.Fatalf("%+v %+v", rec, res.corrupt)
	}
}
