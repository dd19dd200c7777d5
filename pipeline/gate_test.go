package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("a new gate refused a Write")
	}
	released := make(chan struct{})
	release := func() error { close(released); return errors.New("flush failed") }

	// Close waits for the admitted Write: with a short ctx it gives up
	// and release has not run.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.Close(ctx, release); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a Write in flight = %v, want the deadline", err)
	}
	select {
	case <-released:
		t.Fatal("release ran while a Write was in flight")
	default:
	}
	if g.Enter() {
		t.Fatal("Enter admitted a Write after Close")
	}
	g.Exit()
	<-released
	// Later calls return release's error; release runs once.
	for i := 0; i < 2; i++ {
		if err := g.Close(context.Background(), func() error { t.Fatal("release ran twice"); return nil }); err == nil || err.Error() != "flush failed" {
			t.Fatalf("Close = %v, want release's error", err)
		}
	}
}
