package engine

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but one,
// skipped with its reason.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/queue"
)

// heldSink never confirms a delivery until ctx ends (a destination that is
// down), so whatever its queue holds stays there.
type heldSink struct{}

func (heldSink) Name() string { return "archive" }
func (heldSink) Write(ctx context.Context, _ *pipeline.Batch) error {
	<-ctx.Done()
	return ctx.Err()
}
func (heldSink) Close(context.Context) error { return nil }

// lateQueue is a real memory-mode queue whose Admit is the queue's own
// (promoted); its Write only lets the next n Writes go on once all n have
// arrived. It stands for nothing more than goroutine scheduling: two
// requests' lane goroutines that both start after both requests passed
// admission, which is what happens whenever two requests are emitted at
// about the same time (Admit runs on the request's goroutine, Write on a
// lane goroutine started after it).
type lateQueue struct {
	*queue.Queue
	mu      sync.Mutex
	waiting int
	n       int
	go_     chan struct{}
}

func (l *lateQueue) Write(ctx context.Context, b *pipeline.Batch) error {
	l.mu.Lock()
	ch := l.go_
	if ch != nil {
		l.waiting++
		if l.waiting == l.n {
			close(ch)
			l.go_ = nil
		}
	}
	l.mu.Unlock()
	if ch != nil {
		// Until both requests passed admission and wrote, or (admission
		// refused one: nothing more comes) half a second.
		select {
		case <-ch:
		case <-time.After(500 * time.Millisecond):
		}
	}
	return l.Queue.Write(ctx, b)
}

// TestAdmissionIsNotAReservation: the engine asks every queue
// (pipeline.Admitter) before any lane writes, "so that a full queue refuses
// the whole batch instead of duplicating it elsewhere on retry"
// (docs/architecture.md, Admission). Queue.Admit only reads pendingBytes;
// it reserves nothing. Sequence: the archive's memory queue (max_bytes
// room for one more request, destination down) and a SIEM without a queue;
// two requests of P1 events are emitted at the same time; both pass
// Admit on the archive (each fits alone), then both lanes write: the
// archive's Write reserves room for the first and refuses the second
// (queue full), while the SIEM took both.
//
// What happens: the second request is answered with an error although the
// SIEM accepted its events; the sender retries and the SIEM gets them twice
// (for the whole time the archive stays near full, every such race adds
// copies).
//
// What should happen: a batch answered with an error was taken by no
// destination. Admit should reserve the room it grants (a token that the
// lane's Write consumes, released if the batch is refused elsewhere), or
// the engine should serialize admission+reservation per queue.
func TestAdmissionIsNotAReservation(t *testing.T) {
	qm := queue.NewMetrics(NewMetrics().Registry)
	ev := `{"message":"` + strings.Repeat("x", 100_000) + `"}`
	// max_bytes 1 MiB: 300 KB wait (the destination is down), room for
	// one more request of 4 x 100 KB, not two.
	q, err := queue.Open("archive", queue.Config{Mode: "memory", Dir: "/q", MaxBytes: 1 << 20, MaxInFlight: 1,
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond}, heldSink{}, &tu.MemQuarantine{}, qm,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	arch := &lateQueue{Queue: q}
	siem := &tu.RecordSink{SinkName: "siem"}
	e := newEngine(t, Config{}, arch, siem, &tu.RecordSink{SinkName: "opensearch"})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_ = e.Close(ctx)
	}()

	mk := func(tag string, n int) *pipeline.Batch {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		for i := 0; i < n; i++ {
			raw := strings.Replace(ev, `"message"`, `"`+tag+string(rune('0'+i))+`"`, 1)
			b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P1, Rule: -1, Hash: uint64(i)})
		}
		return b
	}
	// The queue holds something (an empty queue takes any batch).
	first := mk("f", 3)
	if err, _ := emit(t, e, first); err != nil {
		t.Fatal(err)
	}
	first.Release()

	arch.mu.Lock()
	arch.n, arch.go_ = 2, make(chan struct{})
	arch.mu.Unlock()
	a, b := mk("a", 4), mk("b", 4)
	errs := make(chan error, 2)
	var acks sync.WaitGroup
	for _, x := range []*pipeline.Batch{a, b} {
		acks.Add(1)
		x.Ack = pipeline.NewAck(func(err error) { errs <- err; acks.Done() })
		if err := e.Emit(context.Background(), x); err != nil && !errors.Is(err, pipeline.ErrOverloaded) {
			t.Fatal(err)
		}
	}
	acks.Wait()
	close(errs)
	refused := 0
	for err := range errs {
		if err != nil {
			refused++
			t.Logf("refused: %v", err)
		}
	}
	got := siem.Events()
	t.Logf("refused %d of 2 requests; SIEM holds %d events of them", refused, len(got)-3)
	if refused > 0 && len(got)-3 > 4*(2-refused) {
		t.Errorf("%d request(s) answered with an error although the SIEM accepted their events (SIEM holds %d of the 2 requests' events, %d expected): the sender's retry duplicates them there",
			refused, len(got)-3, 4*(2-refused))
	}
	a.Release()
	b.Release()
}
