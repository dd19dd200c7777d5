package queue

import (
	"context"
	"errors"
	"testing"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestReplayedSurvivesRestart: a replayed event queued while its
// destination is down, then (after a restart, disk and memory modes alike)
// refused, is quarantined with input "replay" and its metadata; events of
// the same record without the flag are not.
func TestReplayedSurvivesRestart(t *testing.T) {
	for _, fs := range []struct {
		name string
		fs   wal.FS
		cfg  Config
	}{{"disk", wal.OS, Config{}}, {"memory", wal.NewMemFS(), Config{Mode: "memory"}}} {
		t.Run(fs.name, func(t *testing.T) {
			e := newEnv(t, fs.fs, fs.cfg)
			e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
			b := batch(pipeline.P1, pipeline.P1, pipeline.P3)
			b.Events[0].Replayed = true
			b.Events[2].Replayed = true
			if err := e.q.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			b.Release()
			if fs.name == "disk" {
				e.reopen()
			}
			e.sink.setFail(func(b *pipeline.Batch) error {
				var items []pipeline.ItemError
				for i := range b.Events {
					items = append(items, pipeline.ItemError{Index: i, Status: 400, Err: pipeline.Permanentf("refused")})
				}
				return &pipeline.BatchError{Items: items}
			})
			e.waitIdle()
			replays := 0
			for _, r := range e.dlq.Records() {
				if r.Event == nil {
					t.Fatalf("record without event: %+v", r)
				}
				if r.Input == "replay" {
					replays++
				}
			}
			if n := len(e.dlq.Records()); n != 3 || replays != 2 {
				t.Errorf("%d records, %d of them replay; want 3 and 2", n, replays)
			}
			e.close()
		})
	}
}
