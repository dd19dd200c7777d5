package pipeline

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestAckFiresOnceWithFirstError(t *testing.T) {
	var calls atomic.Int32
	var got error
	a := NewAck(func(err error) { calls.Add(1); got = err })
	a.Add(100)
	e1 := errors.New("first")
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i == 50 {
				a.Done(e1)
				return
			}
			a.Done(nil)
		}(i)
	}
	wg.Wait()
	if calls.Load() != 0 {
		t.Fatal("fired before the holder's own reference was released")
	}
	a.Done(nil)
	if calls.Load() != 1 || got != e1 {
		t.Fatalf("calls=%d err=%v", calls.Load(), got)
	}
}

func TestAckMisuse(t *testing.T) {
	a := NewAck(nil)
	a.Done(nil)
	mustPanic(t, "Done after fire", func() { a.Done(nil) })
	b := NewAck(nil)
	b.Done(nil)
	mustPanic(t, "Add after fire", func() { b.Add(1) })
	mustPanic(t, "Add(0)", func() { NewAck(nil).Add(0) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestBatchCommitRebasesWhenTheArenaGrows(t *testing.T) {
	b := NewBatch()
	defer b.Release()
	for i := 0; i < 1000; i++ {
		a := b.Arena()
		a = append(a, `{"i":`...)
		a = append(a, byte('0'+i%10))
		a = append(a, '}')
		b.Commit(a, Event{Time: int64(i)})
	}
	for i, ev := range b.Events {
		want := `{"i":` + string(rune('0'+i%10)) + `}`
		if string(ev.Raw) != want {
			t.Fatalf("event %d: %q, want %q", i, ev.Raw, want)
		}
	}
	// Raw of every event points into the final arena.
	last := b.Events[len(b.Events)-1].Raw
	first := b.Events[0].Raw
	if &b.arena[0] != &first[0] || &b.arena[len(b.arena)-1] != &last[len(last)-1] {
		t.Fatal("events do not point into the current arena")
	}
	if b.Bytes() != len(b.arena) {
		t.Fatalf("Bytes %d, arena %d", b.Bytes(), len(b.arena))
	}
	// Raw is capacity-limited: appending to it cannot overwrite a neighbour.
	r := append(b.Events[0].Raw, 'X')
	_ = r
	if string(b.Events[1].Raw) != `{"i":1}` {
		t.Fatal("append to Raw overwrote the next event")
	}
}

func TestViewSharesArenaAndAck(t *testing.T) {
	b := NewBatch()
	b.Commit(append(b.Arena(), "x"...), Event{})
	b.Ack = NewAck(nil)
	var v Batch
	b.View(&v, b.Events)
	if v.Ack != b.Ack || &v.Events[0].Raw[0] != &b.Events[0].Raw[0] {
		t.Fatal("view does not share")
	}
	v.Release() // no-op
	if len(b.Events) != 1 {
		t.Fatal("releasing a view touched the parent")
	}
	b.Release()
}

func TestPriority(t *testing.T) {
	for _, s := range []string{"P1", "p2", "P3"} {
		p, err := ParsePriority(s)
		if err != nil || p.String() != "P"+s[1:] {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	if _, err := ParsePriority("P4"); err == nil {
		t.Error("P4 accepted")
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("mapping rejected")
	err := Permanent(base)
	if !IsPermanent(err) || !errors.Is(err, base) || err.Error() != base.Error() {
		t.Fatalf("%v", err)
	}
	if Permanent(nil) != nil || IsPermanent(errors.New("x")) {
		t.Fatal("nil or plain error")
	}
}
