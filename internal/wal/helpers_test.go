package wal

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/logrouter/logrouter/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

// mkPayload returns a payload of n bytes (n >= 8) identified by id: the id in
// the first 8 bytes, then bytes derived from id and the offset.
func mkPayload(id uint64, n int) []byte {
	if n < 8 {
		n = 8
	}
	p := make([]byte, n)
	binary.LittleEndian.PutUint64(p, id)
	x := uint32(id*2654435761 + 1)
	for i := 8; i < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return p
}

func payloadID(p []byte) uint64 {
	if len(p) < 8 {
		return ^uint64(0)
	}
	return binary.LittleEndian.Uint64(p)
}

func countFor(id uint64) uint32 { return uint32(id%13 + 1) }

func mustOpen(t testing.TB, fs FS, dir string, o Options) (*Log, Recovery) {
	t.Helper()
	l, rec, err := Open(fs, dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l, rec
}

func closeLog(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// readResult is everything a Reader returned until io.EOF.
type readResult struct {
	recs    []Record // payloads copied
	corrupt []*CorruptError
}

func (r readResult) ids() []uint64 {
	ids := make([]uint64, len(r.recs))
	for i, rc := range r.recs {
		ids[i] = payloadID(rc.Payload)
	}
	return ids
}

// readAll reads from `from` until io.EOF, failing the test on errors other
// than *CorruptError.
func readAll(t testing.TB, l *Log, from Pos) readResult {
	t.Helper()
	var res readResult
	r := l.NewReader(from)
	for i := 0; ; i++ {
		rc, err := r.Next()
		if err == io.EOF {
			return res
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			res.corrupt = append(res.corrupt, ce)
			continue
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(res.recs), err)
		}
		rc.Payload = append([]byte(nil), rc.Payload...)
		res.recs = append(res.recs, rc)
		if i > 10_000_000 {
			t.Fatal("reader does not terminate")
		}
	}
}

func requireClean(t testing.TB, rec Recovery) {
	t.Helper()
	if rec.TornTailBytes != 0 || rec.CorruptRecords != 0 || rec.LostEvents != 0 || rec.CorruptBytes != 0 || len(rec.Details) != 0 {
		t.Fatalf("recovery not clean: %+v", rec)
	}
}

func requireNoCorruption(t testing.TB, rec Recovery) {
	t.Helper()
	if rec.CorruptRecords != 0 || rec.LostEvents != 0 || rec.CorruptBytes != 0 {
		t.Fatalf("recovery reports corruption: %+v", rec)
	}
}

// ledger tracks what appenders attempted, what was acknowledged and what
// failed.
type ledger struct {
	mu       sync.Mutex
	payloads map[uint64][]byte
	acked    map[uint64]Pos
	failed   map[uint64]error
	nextID   atomic.Uint64
}

func newLedger() *ledger {
	return &ledger{payloads: map[uint64][]byte{}, acked: map[uint64]Pos{}, failed: map[uint64]error{}}
}

// append appends one record of n bytes and records the outcome.
func (g *ledger) append(l *Log, n int) (uint64, error) {
	id := g.nextID.Add(1)
	p := mkPayload(id, n)
	g.mu.Lock()
	g.payloads[id] = p
	g.mu.Unlock()
	at, _, err := l.Append(p, countFor(id))
	g.mu.Lock()
	if err == nil {
		g.acked[id] = at
	} else {
		g.failed[id] = err
	}
	g.mu.Unlock()
	return id, err
}

// check verifies a read-back against the ledger: every acknowledged record is
// present, byte-exact, with its count; nothing present was never attempted;
// no record appears twice; and (if strict) nothing whose Append failed is
// present.
func (g *ledger) check(t testing.TB, res readResult, strict bool) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := map[uint64]bool{}
	for _, rc := range res.recs {
		id := payloadID(rc.Payload)
		want, ok := g.payloads[id]
		if !ok {
			t.Fatalf("record %v with id %d was never appended", rc.At, id)
		}
		if string(rc.Payload) != string(want) || rc.Count != countFor(id) {
			t.Fatalf("record %d at %v differs from what was appended", id, rc.At)
		}
		if seen[id] {
			t.Fatalf("record %d appears twice", id)
		}
		seen[id] = true
		if strict {
			// An Append that failed because the crash killed its file handle
			// has an open outcome: a concurrent fsync for another writer may
			// have made its bytes durable first (see Append's doc).
			if err, failed := g.failed[id]; failed && !errors.Is(err, errCrashed) {
				t.Fatalf("record %d is present though its Append failed: %v", id, err)
			}
		}
	}
	for id := range g.acked {
		if !seen[id] {
			t.Fatalf("acknowledged record %d (at %v) is missing (%d acked, %d present, %d failed)",
				id, g.acked[id], len(g.acked), len(res.recs), len(g.failed))
		}
	}
}

func newRand(t testing.TB) *rand.Rand {
	seed := rand.Int63()
	if s, err := strconv.ParseInt(os.Getenv("WAL_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (set WAL_SEED to repeat)", seed)
	return rand.New(rand.NewSource(seed))
}

func policyName(p SyncPolicy) string {
	if p == SyncInterval {
		return "interval"
	}
	return "always"
}
