package queue

import (
	"slices"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestWriteHeld: a batch written on hold is delivered only once committed,
// and so is everything written after it (in each priority's log); an
// aborted one is never delivered, counted neither accepted nor queued; a
// restart with a batch still held delivers it (it is durable: at least
// once).
func TestWriteHeld(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{Dir: "/q"})
	raw := func(b *pipeline.Batch) []string {
		var r []string
		for _, ev := range b.Events {
			r = append(r, string(ev.Raw))
		}
		return r
	}
	held := func(prios ...pipeline.Priority) ([]string, pipeline.Hold) {
		t.Helper()
		b := batch(prios...)
		defer b.Release()
		h, err := e.q.WriteHeld(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		return raw(b), h
	}
	a, ha := held(pipeline.P1, pipeline.P3)
	b, hb := held(pipeline.P3) // one part: held all the same
	c, err := e.write(pipeline.P1, pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if got := e.sink.delivered(); len(got) != 0 {
		t.Fatalf("delivered %v while the first batch is on hold", got)
	}
	if v := e.val(e.m.Accepted); v != 2 {
		t.Errorf("accepted %v with two batches on hold and one of 2 events written, want 2", v)
	}
	hb.Abort()
	ha.Commit()
	e.waitIdle()
	got := e.sink.delivered()
	want := append(slices.Clone(a), c...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v (not the aborted %v)", got, want, b)
	}
	if acc, _, del, _, _, _, q := e.ledger(); acc != 4 || del != 4 || q != 0 {
		t.Errorf("accepted %v, delivered %v, queued %v: want 4, 4, 0", acc, del, q)
	}

	// Still held at a restart: durable, so delivered after it.
	d, hd := held(pipeline.P2)
	_ = hd // never committed: the process "stops"
	e.reopen()
	e.waitIdle()
	if got := e.sink.delivered(); !slices.Contains(got, d[0]) {
		t.Errorf("a batch held at a restart was not delivered after it: %v", got)
	}
	e.close()
}
