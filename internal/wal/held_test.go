package wal

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"testing"
)

func heldRec(id uint64, n int) []byte {
	return append(make([]byte, HeaderRoom), mkPayload(id, n)...)
}

// TestAppendHeld: Readers stop before a held record, and before every
// record after it, until it is released; an aborted record is never
// returned; both across a segment roll, under both sync policies.
func TestAppendHeld(t *testing.T) {
	for _, sync := range []SyncPolicy{SyncAlways, SyncInterval} {
		t.Run(fmt.Sprint(sync), func(t *testing.T) {
			l, _ := mustOpen(t, NewMemFS(), "/log", Options{SegmentBytes: 4 << 10, Sync: sync})
			defer closeLog(t, l)
			r := l.NewReader(Pos{})
			read := func() []uint64 {
				t.Helper()
				var ids []uint64
				for {
					rec, err := r.Next()
					if err != nil {
						if !errors.Is(err, io.EOF) {
							t.Fatalf("Next: %v", err)
						}
						return ids
					}
					ids = append(ids, payloadID(rec.Payload))
				}
			}
			mustAppend := func(id uint64, held bool) Pos {
				t.Helper()
				var at Pos
				var err error
				if held {
					at, _, err = l.AppendHeld(heldRec(id, 1000), 1)
				} else {
					at, _, err = l.AppendRecord(heldRec(id, 1000), 1)
				}
				if err != nil {
					t.Fatal(err)
				}
				return at
			}
			mustAppend(1, false)
			h2 := mustAppend(2, true)
			mustAppend(3, false)
			if got := read(); !slices.Equal(got, []uint64{1}) {
				t.Fatalf("with record 2 held: read %v, want [1]", got)
			}
			if end := l.End(); end != h2 {
				t.Errorf("End = %v with record 2 held at %v", end, h2)
			}
			h4 := mustAppend(4, true)
			for id := uint64(5); id < 9; id++ { // rolls a segment or two
				mustAppend(id, false)
			}
			l.Release(h2)
			if got := read(); !slices.Equal(got, []uint64{2, 3}) {
				t.Fatalf("record 2 released, 4 held: read %v, want [2 3]", got)
			}
			h9 := mustAppend(9, true)
			l.Abort(h4)
			if got := read(); !slices.Equal(got, []uint64{5, 6, 7, 8}) {
				t.Fatalf("record 4 aborted, 9 held: read %v, want [5 6 7 8]", got)
			}
			l.Abort(h9)
			l.Abort(h9) // a second call changes nothing
			l.Release(h4)
			if got := read(); len(got) != 0 {
				t.Fatalf("records 4 and 9 aborted: read %v, want none", got)
			}
			mustAppend(10, false)
			if got := read(); !slices.Equal(got, []uint64{10}) {
				t.Fatalf("read %v, want [10]", got)
			}
			// A new Reader from the start passes over the aborted records.
			r = l.NewReader(Pos{})
			if got := read(); !slices.Equal(got, []uint64{1, 2, 3, 5, 6, 7, 8, 10}) {
				t.Fatalf("a new reader read %v", got)
			}
		})
	}
}

// TestAppendHeldFailedSync: a held append whose fsync fails returns the
// error and holds nothing: the records after it are readable.
func TestAppendHeldFailedSync(t *testing.T) {
	fail := false
	fs := ErrorFS{FS: NewMemFS(), Inject: func(op, name string) error {
		if fail && op == "sync" {
			return syscall.EIO
		}
		return nil
	}}
	l, _ := mustOpen(t, fs, "/log", Options{SegmentBytes: 1 << 20})
	defer closeLog(t, l)
	fail = true
	if _, _, err := l.AppendHeld(heldRec(1, 100), 1); !errors.Is(err, syscall.EIO) {
		t.Fatalf("AppendHeld with fsync failing: %v", err)
	}
	fail = false
	if _, _, err := l.AppendRecord(heldRec(2, 100), 1); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, l, Pos{})
	if got := res.ids(); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("read %v, want [2]", got)
	}
}
