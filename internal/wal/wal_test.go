package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fsCases runs f on a MemFS and on the real file system.
func fsCases(t *testing.T, f func(t *testing.T, fs FS, dir string)) {
	t.Run("memfs", func(t *testing.T) { f(t, NewMemFS(), "/log") })
	t.Run("os", func(t *testing.T) { f(t, OS, filepath.Join(t.TempDir(), "log")) })
}

func TestRoundTrip(t *testing.T) {
	fsCases(t, func(t *testing.T, fs FS, dir string) {
		rng := newRand(t)
		o := Options{SegmentBytes: 4096}
		l, rec := mustOpen(t, fs, dir, o)
		requireClean(t, rec)
		if got := l.End(); got != (Pos{1, segHeaderSize}) {
			t.Fatalf("End of a new log = %v", got)
		}
		const n = 1500
		var ats, nexts []Pos
		var payloads [][]byte
		var events, bytes int64
		for i := 0; i < n; i++ {
			size := 8 + rng.Intn(1200)
			if i%100 == 99 {
				size = 5000 // larger than a segment: gets its own
			}
			p := mkPayload(uint64(i), size)
			at, next, err := l.Append(p, countFor(uint64(i)))
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				prev := nexts[i-1]
				if at != prev && at != (Pos{prev.Seg + 1, segHeaderSize}) {
					t.Fatalf("record %d at %v does not follow %v", i, at, prev)
				}
			}
			if next != (Pos{at.Seg, at.Off + recHeaderSize + int64(size)}) {
				t.Fatalf("record %d: at %v next %v for %d bytes", i, at, next, size)
			}
			if at.Off+recHeaderSize+int64(size) > o.SegmentBytes && at.Off != segHeaderSize {
				t.Fatalf("record %d at %v overflows its segment", i, at)
			}
			if l.End() != next {
				t.Fatalf("End %v after Append returned %v", l.End(), next)
			}
			ats, nexts, payloads = append(ats, at), append(nexts, next), append(payloads, p)
			events += int64(countFor(uint64(i)))
			bytes += int64(size)
		}
		if segs := nexts[n-1].Seg; segs < 10 {
			t.Fatalf("only %d segments", segs)
		}
		verify := func(l *Log, from int, pos Pos) {
			t.Helper()
			res := readAll(t, l, pos)
			if len(res.corrupt) != 0 {
				t.Fatalf("corrupt: %v", res.corrupt[0])
			}
			if len(res.recs) != n-from {
				t.Fatalf("from %v: %d records, want %d", pos, len(res.recs), n-from)
			}
			for j, rc := range res.recs {
				i := from + j
				if string(rc.Payload) != string(payloads[i]) || rc.Count != countFor(uint64(i)) || rc.At != ats[i] || rc.Next != nexts[i] {
					t.Fatalf("from %v: record %d differs: at %v next %v", pos, i, rc.At, rc.Next)
				}
			}
		}
		verify(l, 0, Pos{})
		for k := 0; k < 40; k++ {
			i := rng.Intn(n)
			verify(l, i, ats[i])
			if i+1 < n {
				verify(l, i+1, nexts[i])
			}
		}
		verify(l, n, nexts[n-1])
		size := l.Size()
		closeLog(t, l)

		l, rec = mustOpen(t, fs, dir, o)
		defer closeLog(t, l)
		requireClean(t, rec)
		if rec.Records != n || rec.Events != events || rec.Bytes != bytes || rec.Segments != int(nexts[n-1].Seg) {
			t.Fatalf("recovery %+v; want %d records, %d events, %d bytes", rec, n, events, bytes)
		}
		if l.Size() != size || l.End() != nexts[n-1] {
			t.Fatalf("after reopen Size %d End %v; before %d %v", l.Size(), l.End(), size, nexts[n-1])
		}
		verify(l, 0, Pos{})
		verify(l, n/2, ats[n/2])
		// Appending continues where the log ended.
		at, _, err := l.Append([]byte("more"), 1)
		if last := nexts[n-1]; err != nil || (at != last && at != (Pos{last.Seg + 1, segHeaderSize})) {
			t.Fatalf("Append after reopen at %v, %v; want %v", at, err, nexts[n-1])
		}
	})
}

func TestReaderConcurrentWithAppends(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
		t.Run(policyName(pol), func(t *testing.T) {
			fs := NewMemFS()
			l, _ := mustOpen(t, fs, "/log", Options{SegmentBytes: 2048, Sync: pol, SyncInterval: time.Millisecond})
			defer closeLog(t, l)
			const writers, per = 4, 300
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						id := uint64(w<<32 | i)
						if _, _, err := l.Append(mkPayload(id, 8+i%300), countFor(id)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			readerErr := make(chan error, 2)
			for r := 0; r < 2; r++ {
				go func() {
					rd := l.NewReader(Pos{})
					last := make([]int, writers)
					for w := range last {
						last[w] = -1
					}
					var prev Pos
					deadline := time.Now().Add(20 * time.Second)
					for got := 0; got < writers*per; {
						rc, err := rd.Next()
						if err == io.EOF {
							if time.Now().After(deadline) {
								readerErr <- fmt.Errorf("reader stuck after %d records", got)
								return
							}
							runtime.Gosched()
							continue
						}
						if err != nil {
							readerErr <- err
							return
						}
						id := payloadID(rc.Payload)
						w, i := int(id>>32), int(id&0xffffffff)
						if w >= writers || i != last[w]+1 || string(rc.Payload) != string(mkPayload(id, 8+i%300)) {
							readerErr <- fmt.Errorf("record %v: writer %d seq %d after %d", rc.At, w, i, last[w])
							return
						}
						if !prev.Less(rc.At) {
							readerErr <- fmt.Errorf("position %v after %v", rc.At, prev)
							return
						}
						last[w], prev = i, rc.At
						got++
					}
					if _, err := rd.Next(); err != io.EOF {
						readerErr <- fmt.Errorf("after everything: %v, want io.EOF", err)
						return
					}
					readerErr <- nil
				}()
			}
			wg.Wait()
			for r := 0; r < 2; r++ {
				if err := <-readerErr; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// syncCounter is an ErrorFS Inject that counts fsyncs of segment files and
// makes each take delay, like a real disk's.
type syncCounter struct {
	n     atomic.Int64
	delay time.Duration
}

func (c *syncCounter) inject(op, name string) error {
	if op == "sync" {
		c.n.Add(1)
		if c.delay > 0 {
			time.Sleep(c.delay)
		}
	}
	return nil
}

func TestGroupCommit(t *testing.T) {
	mem := NewMemFS()
	c := &syncCounter{delay: 200 * time.Microsecond}
	fs := ErrorFS{FS: mem, Inject: c.inject}
	l, _ := mustOpen(t, fs, "/log", Options{})
	c.n.Store(0)
	const writers, total = 64, 1024
	g := newLedger()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/writers; i++ {
				if _, err := g.append(l, 100); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	syncs := c.n.Load()
	t.Logf("%d appends from %d writers, %d fsyncs (%.1f appends per fsync)", total, writers, syncs, float64(total)/float64(syncs))
	if syncs >= total/4 {
		t.Fatalf("%d fsyncs for %d appends: group commit is not grouping", syncs, total)
	}
	if syncs == 0 {
		t.Fatal("no fsyncs under SyncAlways")
	}
	// Every acknowledged append survives a power failure.
	mem.Crash()
	l.Close()
	l2, rec := mustOpen(t, mem, "/log", Options{})
	defer closeLog(t, l2)
	requireClean(t, rec)
	if rec.Records != total {
		t.Fatalf("%d records after crash, want %d", rec.Records, total)
	}
	g.check(t, readAll(t, l2, Pos{}), true)
}

func TestSyncFailureFailsItsGroup(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			mem := NewMemFS()
			var syncs atomic.Int64
			fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
				if op == "sync" && syncs.Add(1)%3 == 0 {
					time.Sleep(100 * time.Microsecond)
					return syscall.EIO
				}
				return nil
			}}
			l, _ := mustOpen(t, fs, "/log", Options{SegmentBytes: 8 << 10})
			g := newLedger()
			var wg sync.WaitGroup
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						if _, err := g.append(l, 64+i); err != nil && !errors.Is(err, syscall.EIO) {
							t.Errorf("Append: %v, want an error wrapping EIO", err)
						}
					}
				}()
			}
			wg.Wait()
			if len(g.failed) == 0 || len(g.acked) == 0 {
				t.Fatalf("%d acked, %d failed: the test needs both", len(g.acked), len(g.failed))
			}
			// This process never sees a failed record.
			g.check(t, readAll(t, l, Pos{}), true)
			if crash {
				mem.Crash()
				l.Close()
			} else {
				closeLog(t, l)
			}
			l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 8 << 10})
			defer closeLog(t, l2)
			requireClean(t, rec)
			res := readAll(t, l2, Pos{})
			g.check(t, res, true)
			if len(res.recs) != len(g.acked) {
				t.Fatalf("%d records present, %d acked", len(res.recs), len(g.acked))
			}
		})
	}
}

func TestTrimBeforeSizeClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	o := Options{SegmentBytes: 1000}
	l, _ := mustOpen(t, OS, dir, o)
	var ats []Pos
	for i := 0; i < 60; i++ {
		at, _, err := l.Append(mkPayload(uint64(i), 100), 1)
		if err != nil {
			t.Fatal(err)
		}
		ats = append(ats, at)
	}
	diskSize := func() int64 {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, e := range ents {
			if e.Name() == markName {
				continue // Size counts segments; the mark is 24 bytes beside them
			}
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			sum += fi.Size()
		}
		return sum
	}
	if l.Size() != diskSize() {
		t.Fatalf("Size %d, files hold %d bytes", l.Size(), diskSize())
	}
	active := ats[len(ats)-1].Seg
	if active < 5 {
		t.Fatalf("only %d segments", active)
	}
	early := l.NewReader(Pos{})
	if _, err := early.Next(); err != nil {
		t.Fatal(err)
	}
	// Trim before the first record of segment 3.
	first3 := 0
	for ats[first3].Seg != 3 {
		first3++
	}
	if err := l.TrimBefore(ats[first3+1]); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{1, 2} {
		if _, err := os.Stat(filepath.Join(dir, segName(id))); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("segment %d still there: %v", id, err)
		}
	}
	if l.Size() != diskSize() {
		t.Fatalf("after trim Size %d, files hold %d bytes", l.Size(), diskSize())
	}
	if _, err := early.Next(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reader in a trimmed segment: %v, want os.ErrNotExist", err)
	}
	res := readAll(t, l, Pos{})
	if len(res.recs) != 60-first3 || res.recs[0].At != ats[first3] {
		t.Fatalf("after trim, reading from the start gives %d records from %v", len(res.recs), res.recs[0].At)
	}
	// Trimming everything keeps the active segment.
	end := l.End()
	if err := l.TrimBefore(Pos{Seg: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 || ents[0].Name() != segName(active) || ents[1].Name() != markName {
		t.Fatalf("after trimming everything: %v", ents)
	}
	if l.Size() != diskSize() || l.End() != end {
		t.Fatalf("Size %d (disk %d), End %v (was %v)", l.Size(), diskSize(), l.End(), end)
	}
	inActive := 0
	for _, at := range ats {
		if at.Seg == active {
			inActive++
		}
	}
	if got := len(readAll(t, l, Pos{}).recs); got != inActive {
		t.Fatalf("%d records left, want %d", got, inActive)
	}
	// Close is idempotent; everything after it fails with os.ErrClosed.
	reader := l.NewReader(Pos{})
	closeLog(t, l)
	closeLog(t, l)
	if _, _, err := l.Append([]byte("x"), 1); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := reader.Next(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := l.TrimBefore(end); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("TrimBefore after Close: %v", err)
	}
	l, rec := mustOpen(t, OS, dir, o)
	defer closeLog(t, l)
	requireClean(t, rec)
	if rec.Segments != 1 || rec.Records != inActive {
		t.Fatalf("after reopen: %+v", rec)
	}
}

func TestTrimIsDurable(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 500})
	for i := 0; i < 30; i++ {
		if _, _, err := l.Append(mkPayload(uint64(i), 100), 1); err != nil {
			t.Fatal(err)
		}
	}
	end := l.End()
	if err := l.TrimBefore(end); err != nil {
		t.Fatal(err)
	}
	mem.Crash()
	l.Close()
	l, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 500})
	defer closeLog(t, l)
	requireClean(t, rec)
	if rec.Segments != 1 {
		t.Fatalf("trimmed segments came back after a crash: %+v", rec)
	}
}

func TestCloseWhileAppending(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
		t.Run(policyName(pol), func(t *testing.T) {
			mem := NewMemFS()
			o := Options{Sync: pol, SegmentBytes: 4096, SyncInterval: time.Millisecond}
			l, _ := mustOpen(t, mem, "/log", o)
			g := newLedger()
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if _, err := g.append(l, 200); err != nil {
							if !errors.Is(err, os.ErrClosed) {
								t.Errorf("Append during Close: %v", err)
							}
							return
						}
					}
				}()
			}
			time.Sleep(20 * time.Millisecond)
			closeLog(t, l)
			wg.Wait()
			mem.Crash() // Close synced everything
			l, rec := mustOpen(t, mem, "/log", o)
			defer closeLog(t, l)
			requireClean(t, rec)
			g.check(t, readAll(t, l, Pos{}), true)
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{SegmentBytes: -1}, {Sync: 7}, {SyncInterval: -time.Second}} {
		if _, _, err := Open(NewMemFS(), "/log", o); err == nil {
			t.Errorf("Open accepted %+v", o)
		}
	}
	d, err := Options{}.withDefaults()
	if err != nil || d.SegmentBytes != 64<<20 || d.Sync != SyncAlways || d.SyncInterval != 100*time.Millisecond {
		t.Fatalf("defaults %+v %v", d, err)
	}
	if (Pos{1, 100}).Less(Pos{1, 100}) || !(Pos{1, 100}).Less(Pos{1, 101}) || !(Pos{1, 1 << 40}).Less(Pos{2, 0}) || (Pos{2, 0}).Less(Pos{1, 5}) {
		t.Fatal("Pos.Less")
	}
}

func TestMaxPayload(t *testing.T) {
	defer func(m int64) { maxPayload = m }(maxPayload)
	maxPayload = 100
	l, _ := mustOpen(t, NewMemFS(), "/log", Options{})
	defer closeLog(t, l)
	if _, _, err := l.Append(make([]byte, 101), 1); err == nil {
		t.Fatal("Append of an oversized payload succeeded")
	}
	if _, _, err := l.Append(make([]byte, 100), 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(nil, 0); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, l, Pos{})
	if len(res.recs) != 2 || len(res.recs[0].Payload) != 100 || len(res.recs[1].Payload) != 0 {
		t.Fatalf("read back %d records", len(res.recs))
	}
}

func TestLargeRecords(t *testing.T) {
	// Records above copyLimit take the two-write path; a reader must grow its
	// buffer for them.
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 1 << 20})
	defer closeLog(t, l)
	sizes := []int{100, 3 << 20, 10, copyLimit - recHeaderSize, copyLimit, 200}
	for i, n := range sizes {
		if _, _, err := l.Append(mkPayload(uint64(i), n), 1); err != nil {
			t.Fatal(err)
		}
	}
	res := readAll(t, l, Pos{})
	if len(res.recs) != len(sizes) {
		t.Fatalf("%d records", len(res.recs))
	}
	for i, rc := range res.recs {
		if string(rc.Payload) != string(mkPayload(uint64(i), sizes[i])) {
			t.Fatalf("record %d differs", i)
		}
	}
}

// TestAppendRecord: records written by AppendRecord (the payload after
// HeaderRoom bytes of room, written in place) read back exactly like
// Append's, interleaved with them, at every size class (including past
// copyLimit, where Append takes two writes) and across segment rolls; the
// caller's buffer may be reused as soon as the call returns, and a crash
// after it (the MemFS keeps only what was synced) keeps every record.
func TestAppendRecord(t *testing.T) {
	mem := NewMemFS()
	l, _ := mustOpen(t, mem, "/log", Options{SegmentBytes: 1 << 20})
	sizes := []int{0, 100, 3 << 20, 10, copyLimit - recHeaderSize, copyLimit, 200, 70 << 10}
	var rec []byte
	for i, n := range sizes {
		p := mkPayload(uint64(i), n)
		var err error
		if i%2 == 0 {
			rec = append(append(rec[:0], make([]byte, HeaderRoom)...), p...)
			_, _, err = l.AppendRecord(rec, countFor(uint64(i)))
			for j := range rec {
				rec[j] = 0xAA // reused at once
			}
		} else {
			_, _, err = l.Append(p, countFor(uint64(i)))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(res readResult) {
		t.Helper()
		if len(res.recs) != len(sizes) {
			t.Fatalf("%d records, want %d", len(res.recs), len(sizes))
		}
		for i, rc := range res.recs {
			if string(rc.Payload) != string(mkPayload(uint64(i), sizes[i])) || rc.Count != countFor(uint64(i)) {
				t.Fatalf("record %d differs (%d bytes, count %d)", i, len(rc.Payload), rc.Count)
			}
		}
	}
	check(readAll(t, l, Pos{}))
	mem.Crash()
	l2, rec2 := mustOpen(t, mem, "/log", Options{SegmentBytes: 1 << 20})
	defer closeLog(t, l2)
	requireClean(t, rec2)
	check(readAll(t, l2, Pos{}))
}

func TestAppendDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("fsyncs on the real disk")
	}
	for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
		for _, size := range []int{4 << 10, 64 << 10} {
			t.Run(fmt.Sprintf("%s/%d", policyName(pol), size), func(t *testing.T) {
				l, _ := mustOpen(t, OS, t.TempDir(), Options{Sync: pol, SyncInterval: time.Hour})
				defer closeLog(t, l)
				p := mkPayload(1, size)
				runs := 200
				if pol == SyncAlways {
					runs = 20
				}
				allocs := testing.AllocsPerRun(runs, func() {
					if _, _, err := l.Append(p, 1); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Fatalf("%.1f allocations per Append", allocs)
				}
			})
		}
	}
}

// TestReaderSeesOnlyDurable: under SyncAlways a record is invisible to
// Readers while its fsync is in flight, and stays invisible if the fsync
// fails; under SyncInterval it is visible once written.
func TestReaderSeesOnlyDurable(t *testing.T) {
	mem := NewMemFS()
	entered := make(chan struct{}, 1)
	release := make(chan error)
	var hold atomic.Bool
	fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		if op == "sync" && hold.Load() {
			entered <- struct{}{}
			return <-release
		}
		return nil
	}}
	l, _ := mustOpen(t, fs, "/log", Options{})
	defer closeLog(t, l)
	if _, _, err := l.Append([]byte("durable"), 1); err != nil {
		t.Fatal(err)
	}
	r := l.NewReader(Pos{})
	if rc, err := r.Next(); err != nil || string(rc.Payload) != "durable" {
		t.Fatalf("Next: %q %v", rc.Payload, err)
	}
	end := l.End()
	for _, syncErr := range []error{syscall.EIO, nil} {
		hold.Store(true)
		done := make(chan error)
		go func() {
			_, _, err := l.Append([]byte("in flight"), 1)
			done <- err
		}()
		<-entered
		_, nextErr := r.Next()
		endDuring := l.End()
		hold.Store(false)
		release <- syncErr
		appendErr := <-done
		if nextErr != io.EOF {
			t.Fatalf("Next while the fsync is in flight: %v, want io.EOF", nextErr)
		}
		if endDuring != end {
			t.Fatalf("End moved to %v before the fsync", endDuring)
		}
		if !errors.Is(appendErr, syncErr) && (syncErr != nil || appendErr != nil) {
			t.Fatalf("Append: %v, want %v", appendErr, syncErr)
		}
		end = l.End()
		rc, err := r.Next()
		if syncErr != nil {
			if err != io.EOF {
				t.Fatalf("Next after the fsync failed: %q %v, want io.EOF", rc.Payload, err)
			}
		} else if err != nil || string(rc.Payload) != "in flight" {
			t.Fatalf("Next after the fsync: %q %v", rc.Payload, err)
		}
	}
}
