package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tornKeep returns a MemFS crashKeep hook that keeps, of each file, what was
// synced plus a random part of what was written after it: a random prefix
// (the kernel wrote back some pages in order) or zeros (the size reached the
// disk but the data did not).
func tornKeep(rng *rand.Rand) func(name string, synced, data []byte) []byte {
	return func(name string, synced, data []byte) []byte {
		if !bytes.HasPrefix(data, synced) || len(data) == len(synced) {
			return synced
		}
		extra := len(data) - len(synced)
		k := rng.Intn(extra + 1)
		out := append([]byte(nil), data[:len(synced)+k]...)
		if rng.Intn(3) == 0 {
			clear(out[len(synced):])
		}
		return out
	}
}

// TestCrashSyncAlways crashes a MemFS at random points under concurrent
// SyncAlways appenders: the device dies after a random number of bytes (in
// the middle of a write), or power fails at a random moment, optionally
// keeping a torn part of the unsynced bytes. After reopening, every
// acknowledged record is there, byte-exact; nothing is reported corrupt; no
// record appears that was never appended; and (unless the crash kept
// unsynced bytes) no record whose Append failed.
func TestCrashSyncAlways(t *testing.T) {
	rng := newRand(t)
	iters := 60
	if testing.Short() {
		iters = 15
	}
	for it := 0; it < iters; it++ {
		mode := []string{"device-dies", "power-fails"}[it%2]
		torn := it%4 >= 2
		t.Run(fmt.Sprintf("%d-%s-torn=%v", it, mode, torn), func(t *testing.T) {
			mem := NewMemFS()
			o := Options{SegmentBytes: int64(512 + rng.Intn(4096))}
			l, _ := mustOpen(t, mem, "/log", o)
			g := newLedger()
			writers := 1 + rng.Intn(6)
			var stop atomic.Bool
			var acked atomic.Int64
			crashAt := int64(rng.Intn(300))
			if mode == "device-dies" {
				mem.mu.Lock()
				mem.writeBudget = int64(rng.Intn(60_000))
				mem.budgetErr = syscall.EIO
				mem.mu.Unlock()
			}
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				seed := rng.Int63()
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewSource(seed))
					fails := 0
					for i := 0; i < 400 && !stop.Load() && fails < 5; i++ {
						if _, err := g.append(l, 8+r.Intn(600)); err != nil {
							fails++
						} else {
							acked.Add(1)
						}
					}
				}()
			}
			if mode == "power-fails" {
				for acked.Load() < crashAt && !stop.Load() {
					time.Sleep(10 * time.Microsecond)
					if g.nextID.Load() >= uint64(400*writers) {
						break
					}
				}
				if torn {
					mem.mu.Lock()
					mem.crashKeep = tornKeep(rng)
					mem.mu.Unlock()
				}
				mem.Crash() // while appenders run
				stop.Store(true)
				wg.Wait()
			} else {
				wg.Wait()
				if torn {
					mem.mu.Lock()
					mem.crashKeep = tornKeep(rng)
					mem.mu.Unlock()
				}
				mem.Crash()
			}
			l.Close()

			l2, rec := mustOpen(t, mem, "/log", o)
			requireNoCorruption(t, rec)
			if !torn && rec.TornTailBytes != 0 {
				// Only fsynced bytes survive: the log never fsyncs a torn write.
				t.Fatalf("torn tail without torn crash: %+v", rec)
			}
			res := readAll(t, l2, Pos{})
			if len(res.corrupt) != 0 {
				t.Fatalf("reader found damage: %v", res.corrupt[0])
			}
			if len(res.recs) != rec.Records {
				t.Fatalf("reader found %d records, recovery %d", len(res.recs), rec.Records)
			}
			g.check(t, res, !torn)
			t.Logf("%d writers, %d acked, %d failed, %d present, torn tail %d", writers, len(g.acked), len(g.failed), len(res.recs), rec.TornTailBytes)

			// The recovered log takes appends and reopens clean.
			if _, err := g.append(l2, 100); err != nil {
				t.Fatal(err)
			}
			closeLog(t, l2)
			l3, rec := mustOpen(t, mem, "/log", o)
			defer closeLog(t, l3)
			requireClean(t, rec)
			g.check(t, readAll(t, l3, Pos{}), !torn)
		})
	}
}

// TestCrashSyncInterval: under SyncInterval an acknowledged record that no
// fsync covered yet may be lost in a power failure (that is the policy's
// documented trade), but the log always opens, reports no corruption, and
// loses only a suffix: whatever survives is a prefix of what was appended.
// Records covered by a background fsync survive.
func TestCrashSyncInterval(t *testing.T) {
	rng := newRand(t)
	for it := 0; it < 20; it++ {
		torn := it%2 == 1
		t.Run(fmt.Sprintf("%d-torn=%v", it, torn), func(t *testing.T) {
			mem := NewMemFS()
			o := Options{Sync: SyncInterval, SyncInterval: time.Hour, SegmentBytes: int64(1024 + rng.Intn(4096))}
			l, _ := mustOpen(t, mem, "/log", o)
			n := 1 + rng.Intn(200)
			var payloads [][]byte
			for i := 0; i < n; i++ {
				p := mkPayload(uint64(i), 8+rng.Intn(400))
				if _, _, err := l.Append(p, countFor(uint64(i))); err != nil {
					t.Fatal(err)
				}
				payloads = append(payloads, p)
			}
			if torn {
				mem.mu.Lock()
				mem.crashKeep = tornKeep(rng)
				mem.mu.Unlock()
			}
			mem.Crash()
			l.Close()
			l2, rec := mustOpen(t, mem, "/log", o)
			defer closeLog(t, l2)
			requireNoCorruption(t, rec)
			res := readAll(t, l2, Pos{})
			if len(res.corrupt) != 0 || len(res.recs) != rec.Records || len(res.recs) > n {
				t.Fatalf("recovery %+v, read %d records, %d problems", rec, len(res.recs), len(res.corrupt))
			}
			for i, rc := range res.recs {
				if string(rc.Payload) != string(payloads[i]) {
					t.Fatalf("record %d of the survivors is not the %dth appended", i, i)
				}
			}
			t.Logf("%d appended, %d survived (the rolled segments are synced), torn tail %d", n, len(res.recs), rec.TornTailBytes)
		})
	}

	t.Run("synced-survive", func(t *testing.T) {
		mem := NewMemFS()
		c := &syncCounter{}
		fs := ErrorFS{FS: mem, Inject: c.inject}
		o := Options{Sync: SyncInterval, SyncInterval: 2 * time.Millisecond}
		l, _ := mustOpen(t, fs, "/log", o)
		for i := 0; i < 100; i++ {
			if _, _, err := l.Append(mkPayload(uint64(i), 100), 1); err != nil {
				t.Fatal(err)
			}
		}
		// Wait for the background fsync to cover them.
		for {
			l.mu.Lock()
			synced := l.syncedOff == l.writeOff
			l.mu.Unlock()
			if synced {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if c.n.Load() == 0 {
			t.Fatal("no background fsync")
		}
		// These may be lost.
		for i := 100; i < 150; i++ {
			if _, _, err := l.Append(mkPayload(uint64(i), 100), 1); err != nil {
				t.Fatal(err)
			}
		}
		mem.Crash()
		l.Close()
		l2, rec := mustOpen(t, mem, "/log", o)
		defer closeLog(t, l2)
		requireNoCorruption(t, rec)
		if rec.Records < 100 {
			t.Fatalf("only %d of the 100 fsynced records survived", rec.Records)
		}
	})

	t.Run("sync-error-surfaces", func(t *testing.T) {
		mem := NewMemFS()
		var fail atomic.Bool
		var syncs atomic.Int64
		fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
			if op == "sync" {
				syncs.Add(1)
				if fail.Load() {
					return syscall.EIO
				}
			}
			return nil
		}}
		l, _ := mustOpen(t, fs, "/log", Options{Sync: SyncInterval, SyncInterval: time.Millisecond})
		defer closeLog(t, l)
		fail.Store(true)
		if _, _, err := l.Append([]byte("acked, then its fsync fails"), 1); err != nil {
			t.Fatal(err)
		}
		// Wait for a second fsync to start: the count goes up inside Sync,
		// before the log takes its lock again and records the failure, so
		// seeing the first one counted does not mean the log knows yet.
		// Fsyncs do not overlap: once the second is counted the first
		// (failed, like every one while fail is set) was recorded.
		base := syncs.Load()
		for syncs.Load() < base+2 {
			time.Sleep(time.Millisecond)
		}
		if _, _, err := l.Append([]byte("refused"), 1); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Append after a failed background fsync: %v, want EIO", err)
		}
		fail.Store(false)
		if _, _, err := l.Append([]byte("accepted again"), 1); err != nil {
			t.Fatal(err)
		}
		res := readAll(t, l, Pos{})
		if len(res.recs) != 2 || string(res.recs[1].Payload) != "accepted again" {
			t.Fatalf("read %d records", len(res.recs))
		}
	})
}

// TestDiskFull: writes fail with ENOSPC for a while (each stores half its
// buffer first, as a filling disk does), sometimes with truncates failing
// too. Append reports ENOSPC, stays usable, and once space returns the log
// takes appends again and reopens with nothing torn or corrupt.
func TestDiskFull(t *testing.T) {
	for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
		for _, truncFails := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/truncate-fails=%v", policyName(pol), truncFails), func(t *testing.T) {
				mem := NewMemFS()
				var full, noTrunc atomic.Bool
				fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
					switch {
					case op == "write" && full.Load():
						return syscall.ENOSPC
					case op == "truncate" && noTrunc.Load():
						return syscall.EIO
					}
					return nil
				}}
				o := Options{Sync: pol, SegmentBytes: 1500, SyncInterval: time.Millisecond}
				l, _ := mustOpen(t, fs, "/log", o)
				g := newLedger()
				for round := 0; round < 3; round++ {
					for i := 0; i < 20; i++ {
						if _, err := g.append(l, 50+i*10); err != nil {
							t.Fatalf("round %d: %v", round, err)
						}
					}
					full.Store(true)
					noTrunc.Store(truncFails)
					for i := 0; i < 20; i++ { // crosses segment boundaries
						if _, err := g.append(l, 50+i*10); !errors.Is(err, syscall.ENOSPC) {
							t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
						}
					}
					full.Store(false)
					noTrunc.Store(false)
				}
				for i := 0; i < 20; i++ {
					if _, err := g.append(l, 100); err != nil {
						t.Fatal(err)
					}
				}
				g.check(t, readAll(t, l, Pos{}), true)
				closeLog(t, l)
				l2, rec := mustOpen(t, mem, "/log", o)
				defer closeLog(t, l2)
				requireClean(t, rec)
				res := readAll(t, l2, Pos{})
				g.check(t, res, true)
				if len(res.recs) != len(g.acked) {
					t.Fatalf("%d present, %d acked", len(res.recs), len(g.acked))
				}
			})
		}
	}
}

// TestDiskFullThenCrash: the disk fills, then power fails before space
// returns. Nothing acknowledged is lost, nothing is corrupt.
func TestDiskFullThenCrash(t *testing.T) {
	mem := NewMemFS()
	var full atomic.Bool
	fs := ErrorFS{FS: mem, Inject: func(op, name string) error {
		if (op == "write" || op == "truncate") && full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}}
	l, _ := mustOpen(t, fs, "/log", Options{SegmentBytes: 1500})
	g := newLedger()
	for i := 0; i < 30; i++ {
		if i == 17 {
			full.Store(true)
		}
		g.append(l, 100)
	}
	mem.Crash()
	l.Close()
	l2, rec := mustOpen(t, mem, "/log", Options{SegmentBytes: 1500})
	defer closeLog(t, l2)
	requireNoCorruption(t, rec)
	g.check(t, readAll(t, l2, Pos{}), true)
}
