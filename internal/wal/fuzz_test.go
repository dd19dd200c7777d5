package wal

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// validSegment returns a segment file with n records.
func validSegment(t testing.TB, n int) []byte {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/s", Options{})
	for i := 0; i < n; i++ {
		if _, _, err := l.Append(mkPayload(uint64(i), 8+i*5), countFor(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	closeLog(t, l)
	mem.mu.Lock()
	defer mem.mu.Unlock()
	return append([]byte(nil), mem.files["/s/"+segName(1)].data...)
}

func writeSeg(t testing.TB, mem *MemFS, dir string, id uint64, data []byte) {
	if err := mem.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := mem.OpenFile(dir+"/"+segName(id), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Sync()
	f.Close()
	mem.SyncDir(dir)
}

// FuzzRecover feeds arbitrary bytes to recovery and the Reader as a segment
// file, once as the last segment of a log and once as a sealed segment
// followed by a valid one. Neither may panic, and the accounting must add up:
// the Reader finds exactly the records and damage Recovery reported, every
// byte of the file is a header, a record, skipped or torn, and a second Open
// after an Append reports the same damage and nothing torn.
func FuzzRecover(f *testing.F) {
	seg := validSegment(f, 6)
	f.Add(seg)
	f.Add([]byte{})
	f.Add(seg[:5])
	f.Add(seg[:segHeaderSize])
	f.Add(seg[:len(seg)-7])
	f.Add(append(append([]byte(nil), seg...), make([]byte, 64)...))
	flipped := append([]byte(nil), seg...)
	flipped[segHeaderSize+recHeaderSize+3] ^= 1
	f.Add(flipped)
	garbled := append([]byte(nil), seg...)
	copy(garbled[segHeaderSize+4:], "garbage garbage!")
	f.Add(garbled)
	f.Add(append([]byte("LRWAL\x00\x01\x00"), bytes.Repeat(recMagicLE[:], 40)...))
	f.Add(append([]byte("nonsense"), seg[segHeaderSize:]...))

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sealed := range []bool{false, true} {
			checkRecover(t, data, sealed)
		}
	})
}

func checkRecover(t *testing.T, data []byte, sealed bool) {
	mem := NewMemFS()
	writeSeg(t, mem, "/log", 1, data)
	var tail []byte
	if sealed {
		tail = validSegment(t, 2)
		writeSeg(t, mem, "/log", 2, tail)
	}
	o := Options{SegmentBytes: 4096}
	l, rec, err := Open(mem, "/log", o)
	if err != nil {
		if errors.Is(err, errUnknownVersion) {
			return
		}
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	if rec.Records < 0 || rec.Events < 0 || rec.Bytes < 0 || rec.TornTailBytes < 0 || rec.CorruptRecords < 0 || rec.LostEvents < 0 || rec.CorruptBytes < 0 {
		t.Fatalf("negative count: %+v", rec)
	}
	if sealed && rec.TornTailBytes != 0 {
		t.Fatalf("torn tail in a sealed segment: %+v", rec)
	}

	// Read everything, accounting for every byte of segment 1.
	var recs, badRecs int
	var events, bytesRead, lost, garbage, seg1 int64
	r := l.NewReader(Pos{})
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("reader does not terminate")
		}
		rc, err := r.Next()
		if err == io.EOF {
			break
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			badRecs += ce.Records
			lost += ce.Events
			if ce.Records == 0 {
				garbage += ce.Bytes
			}
			if ce.At.Seg == 1 {
				seg1 += ce.Bytes
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs++
		events += int64(rc.Count)
		bytesRead += int64(len(rc.Payload))
		if rc.At.Seg == 1 {
			seg1 += rc.Next.Off - rc.At.Off
		}
		if crcOK := rc.Next.Off-rc.At.Off == int64(recHeaderSize+len(rc.Payload)); !crcOK {
			t.Fatalf("record %v..%v has %d payload bytes", rc.At, rc.Next, len(rc.Payload))
		}
	}
	extra := 0
	if sealed {
		extra = 2
	}
	if recs != rec.Records || events != rec.Events || bytesRead != rec.Bytes {
		t.Fatalf("reader: %d records, %d events, %d bytes; recovery %+v", recs, events, bytesRead, rec)
	}
	if badRecs != rec.CorruptRecords || lost != rec.LostEvents || garbage != rec.CorruptBytes {
		t.Fatalf("reader skipped %d records, %d events, %d bytes; recovery %+v", badRecs, lost, garbage, rec)
	}
	if recs < extra {
		t.Fatalf("the valid segment after the fuzzed one lost records: %+v", rec)
	}
	if len(data) >= segHeaderSize && bytes.Equal(data[:segHeaderSize], func() []byte { h := segHeader(); return h[:] }()) {
		seg1 += segHeaderSize
	}
	if seg1+rec.TornTailBytes != int64(len(data)) {
		t.Fatalf("accounted for %d + %d torn of %d bytes: %+v", seg1, rec.TornTailBytes, len(data), rec)
	}

	// A reader from an arbitrary offset must not panic or spin.
	r = l.NewReader(Pos{1, int64(len(data) / 3)})
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("reader from an arbitrary offset does not terminate")
		}
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		var ce *CorruptError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Next from an arbitrary offset: %v", err)
		}
	}

	// The log takes an append; the next Open reports the same damage.
	if _, _, err := l.Append([]byte("after recovery"), 3); err != nil {
		t.Fatalf("Append after recovery: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, rec2, err := Open(mem, "/log", o)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer l2.Close()
	if rec2.Records != rec.Records+1 || rec2.CorruptRecords != rec.CorruptRecords || rec2.LostEvents != rec.LostEvents ||
		rec2.CorruptBytes != rec.CorruptBytes || rec2.TornTailBytes != 0 {
		t.Fatalf("second Open %+v after first %+v", rec2, rec)
	}
}
