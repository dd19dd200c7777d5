package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/pipeline"
)

// TestLeaderMoveRecoversQuickly: after a partition's leadership moves to
// another broker (a broker's rolling restart, a reassignment), the brokers
// answer the old leader's produce requests NOT_LEADER_FOR_PARTITION;
// kafka-go's Transport learns the new leader only at its next metadata
// refresh (every 6 s), so every retry until then failed the same way:
// ~4.8 s of failed writes here. Fixed: such an answer, or a broken
// connection, makes the sink drop its transport's pool (refreshMetadata),
// and the next attempt reads the layout anew (~0.1 s).
func TestLeaderMoveRecoversQuickly(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(3))
	s := newSink(t, c, Config{Topic: "logs", WriteTimeout: 5 * time.Second})
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// Move every partition of logs to another broker.
	for p := range int32(4) {
		old := c.LeaderFor("logs", p)
		if err := c.MoveTopicPartition("logs", p, (old+1)%3); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var err error
	for time.Since(start) < 15*time.Second {
		if err = s.Write(context.Background(), b); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // the queue's first retries come about this fast
	}
	took := time.Since(start)
	t.Logf("delivered again %v after the leaders moved (last error: %v)", took, err)
	if err != nil || took > 2*time.Second {
		t.Errorf("after a leader move the destination failed for %v", took)
	}
}
