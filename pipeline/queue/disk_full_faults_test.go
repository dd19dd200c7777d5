package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// fullVolume is a file system of a fixed number of 4 KiB blocks, like
// the queue's PersistentVolume: a write that needs a block when none is
// free stores what fits in the blocks the file has and fails with ENOSPC;
// removing or truncating a file gives its blocks back.
type fullVolume struct {
	wal.FS
	mu     sync.Mutex
	blocks int64
	used   int64
	sizes  map[string]int64
}

const fullVolBlock = 4096

func fullVolBlocksOf(n int64) int64 { return (n + fullVolBlock - 1) / fullVolBlock }

func newFullVolume(blocks int64) *fullVolume {
	return &fullVolume{FS: wal.NewMemFS(), blocks: blocks, sizes: map[string]int64{}}
}

func (v *fullVolume) setSize(name string, n int64) {
	v.used += fullVolBlocksOf(n) - fullVolBlocksOf(v.sizes[name])
	v.sizes[name] = n
}

func (v *fullVolume) free() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.blocks - v.used
}

func (v *fullVolume) OpenFile(name string, flag int, perm os.FileMode) (wal.File, error) {
	name = filepath.Clean(name)
	f, err := v.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	n, _ := f.Size()
	v.mu.Lock()
	v.setSize(name, n)
	v.mu.Unlock()
	return &fullVolumeFile{File: f, v: v, name: name}, nil
}

func (v *fullVolume) Remove(name string) error {
	name = filepath.Clean(name)
	if err := v.FS.Remove(name); err != nil {
		return err
	}
	v.mu.Lock()
	v.setSize(name, 0)
	delete(v.sizes, name)
	v.mu.Unlock()
	return nil
}

func (v *fullVolume) Rename(oldname, newname string) error {
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	if err := v.FS.Rename(oldname, newname); err != nil {
		return err
	}
	v.mu.Lock()
	n := v.sizes[oldname]
	v.setSize(oldname, 0)
	delete(v.sizes, oldname)
	v.setSize(newname, n)
	v.mu.Unlock()
	return nil
}

type fullVolumeFile struct {
	wal.File
	v    *fullVolume
	name string
}

func (f *fullVolumeFile) Write(p []byte) (int, error) {
	v := f.v
	v.mu.Lock()
	defer v.mu.Unlock()
	cur, _ := f.File.Size()
	fit := int64(len(p))
	if need := fullVolBlocksOf(cur+fit) - fullVolBlocksOf(cur); v.used+need > v.blocks {
		fit = (fullVolBlocksOf(cur)+v.blocks-v.used)*fullVolBlock - cur
	}
	n, err := f.File.Write(p[:fit])
	now, _ := f.File.Size()
	v.setSize(f.name, now)
	if err == nil && n < len(p) {
		err = &os.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, err
}

// WriteAt (the WAL's durable mark) fails with ENOSPC, writing nothing,
// when it would extend the file past the blocks free.
func (f *fullVolumeFile) WriteAt(p []byte, off int64) (int, error) {
	v := f.v
	v.mu.Lock()
	defer v.mu.Unlock()
	cur, _ := f.File.Size()
	if end := off + int64(len(p)); end > cur && v.used+fullVolBlocksOf(end)-fullVolBlocksOf(cur) > v.blocks {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	n, err := f.File.WriteAt(p, off)
	now, _ := f.File.Size()
	v.setSize(f.name, now)
	return n, err
}

func (f *fullVolumeFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.v.mu.Lock()
	f.v.setSize(f.name, size)
	f.v.mu.Unlock()
	return nil
}

func (v *fullVolume) segments() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for name := range v.sizes {
		if strings.HasSuffix(name, ".seg") {
			n++
		}
	}
	return n
}

// fullVolBatch is a P1 batch of n events of about 200 bytes each.
func fullVolBatch(n int) *pipeline.Batch {
	b := pipeline.NewBatch()
	for range n {
		s := seq.Add(1)
		raw := fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, s, strings.Repeat("x", 180))
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P1, Time: s, Ingest: 7, Hash: uint64(s), SourceType: "st", Rule: -1})
	}
	return b
}

// Fault: a queue volume that filled up (ENOSPC) never gets its space back,
// even after the destination took every queued event, so the router keeps
// refusing all input (HTTP 503, Kafka not committed) until someone deletes
// files by hand.
//
// Sequence: the destination is down; acknowledged events fill the queue
// volume (the docs' sizing note: bounds that add up to more than the
// volume fill it, ENOSPC, before any of them refuses), down to its last
// block. The destination comes back and the forwarder delivers everything
// (Pending() is 0). To free the delivered segments the queue must first
// persist its cursor (saveCursors: TrimBefore only runs after a cursor
// save succeeds), and the cursor is saved by writing a NEW file
// (<p>.cursor.tmp, then rename), which needs a block the full volume does
// not have: ENOSPC, "queue cursor not saved", `continue`, no trim. Nothing
// else frees the segments, so the volume stays full and every later
// Write fails with ENOSPC, for ever (and after a restart the old cursor
// redelivers the whole backlog, then fails the same way).
//
// Expected: "Errors are not sticky: after a full disk (ENOSPC) ... later
// Appends succeed once the cause is gone" (internal/wal/doc.go); package
// queue invariant 4 ("segments wholly before a persisted cursor are
// deleted"); docs/kubernetes.md: the queue volume is sized so that an
// outage's backlog drains when the destination returns. Once the backlog
// is delivered the space must come back and writes be accepted again.
//
// Actual: the delivered segments stay, the volume stays full, and every
// Write is refused with ENOSPC although the queue holds nothing.
//
// Severity: high (a full outage of all inputs that outlives its cause and
// a restart; only manual deletion of queue files ends it).
func TestDiskFullFreesDeliveredSegments(t *testing.T) {
	vol := newFullVolume(320) // 1.25 MiB
	var down sync.Mutex
	isDown := true
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	e.sink.setFail(func(*pipeline.Batch) error {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return errors.New("destination down")
		}
		return nil
	})
	write := func(n int) error {
		b := fullVolBatch(n)
		defer b.Release()
		return e.q.Write(context.Background(), b)
	}
	// Fill the volume: large batches, then single events down to the last block.
	accepted := 0
	for _, n := range []int{50, 5, 1} {
		for {
			err := write(n)
			if err == nil {
				accepted += n
				continue
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("write: %v", err)
			}
			break
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d events accepted before the volume filled", accepted)
	}
	t.Logf("volume full: %d events accepted, %d segments, %d blocks free", accepted, vol.segments(), vol.free())
	segsFull := vol.segments()

	// The destination comes back: everything is delivered.
	down.Lock()
	isDown = false
	down.Unlock()
	e.waitIdle()
	if got := len(e.sink.delivered()); got < accepted {
		t.Fatalf("delivered %d of %d", got, accepted)
	}

	// The queue holds nothing now: its delivered segments should go and
	// writes be accepted again.
	var err error
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if err = write(1); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("queue empty (all %d events delivered) but writes still fail 3 s later: %v; segments %d (were %d when full), %d blocks free",
			accepted, err, vol.segments(), segsFull, vol.free())
	}
	e.close()
}

// Fault: a queue whose volume is full refuses every Write (ENOSPC), yet
// Full reports false, so HEC's /services/collector/health answers 200
// "HEC is healthy" while every request is refused 503 (see
// cmd/router TestHECHealthBusyWhileVolumeFullRefusesAll for the
// process-level view).
//
// Expected: pipeline.FullReporter: "Full reports whether the sink refused
// one for want of room in the last few seconds, which HEC's health
// endpoint reports as Splunk does ("queues are full") so that a load
// balancer can send elsewhere"; README: 503 code 18 "while a
// destination's queue is full and input is refused".
//
// Actual: only max_bytes refusals (fullErr) set refusedAt; an append that
// fails for want of disk room leaves Full false.
//
// Severity: medium.
func TestFullTrueWhileVolumeFullRefusesWrites(t *testing.T) {
	vol := newFullVolume(64)
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("destination down") })
	err := fillVolume(t, e)
	if !e.q.Full() {
		t.Errorf("Write refused for want of room (%v), yet Full() is false", err)
	}
	e.close()
}

// TestFullClearsAfterDrain: a queue that refused a batch and then drained
// is not full once fullFor has passed. The refusal's age is read from the
// monotonic clock (monoNow): it was wall-clock Unix nanoseconds compared
// with time.Since(time.Unix(0, t)), which has no monotonic reading, so a
// wall-clock step back of an hour (NTP correcting a clock that ran fast, a
// VM restored from a snapshot) kept an empty queue "full" for the hour, HEC
// health answering 503 and a load balancer keeping the replica out. (A
// test cannot step the clock; the review emulated it by moving the stored
// wall-clock reading, which no longer applies.)
func TestFullClearsAfterDrain(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{Dir: "/q", MaxBytes: 1 << 20})
	var down sync.Mutex
	isDown := true
	e.sink.setFail(func(*pipeline.Batch) error {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return errors.New("destination down")
		}
		return nil
	})
	if _, err := fillUntilRefused(e, pipeline.P1, 5000); !errors.Is(err, pipeline.ErrOverloaded) {
		t.Fatalf("queue not full: %v", err)
	}
	down.Lock()
	isDown = false
	down.Unlock()
	e.waitIdle()
	time.Sleep(fullFor + 200*time.Millisecond)
	if e.q.Pending() != 0 {
		t.Fatalf("queue not empty: %d", e.q.Pending())
	}
	if e.q.Full() {
		t.Errorf("queue empty and its last refusal %v ago, but Full() is true", fullFor+200*time.Millisecond)
	}
	e.close()
}

// FreeBytes implements wal.SpaceFS.
func (v *fullVolume) FreeBytes(string) (int64, error) { return v.free() * fullVolBlock, nil }

// fillVolume writes batches of 20 acknowledged P1 events until the volume
// refuses one with ENOSPC, and returns that refusal.
func fillVolume(t *testing.T, e *env) error {
	t.Helper()
	var err error
	for range 1000 {
		b := fullVolBatch(20)
		err = e.q.Write(context.Background(), b)
		b.Release()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the volume did not fill: %v", err)
	}
	return err
}
