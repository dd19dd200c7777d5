package kafkain

// Fault tests from a review of the Kafka input and destination: each failed
// before the fix of the fault it describes (the comments describe the code
// as found).

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// recQuarantine records what is quarantined.
type recQuarantine struct {
	mu   sync.Mutex
	recs []pipeline.Rejected
}

func (q *recQuarantine) Put(_ context.Context, r []pipeline.Rejected) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, x := range r {
		x.Raw = append([]byte(nil), x.Raw...)
		q.recs = append(q.recs, x)
	}
	return nil
}
func (q *recQuarantine) Close(context.Context) error { return nil }
func (q *recQuarantine) all() []pipeline.Rejected {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]pipeline.Rejected(nil), q.recs...)
}

// quarantineEngine is faultEngine with a quarantine of the test's.
func quarantineEngine(t *testing.T, sink pipeline.Sink, q pipeline.Quarantine) *engine.Engine {
	t.Helper()
	set, err := rules.Load(fstest.MapFS{"r.yaml": {Data: []byte("rules: []\n")}}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	table, err := route.NewTable([]string{"all"}, nil, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{}, &route.Router{Norm: norm, Rules: set, Table: table}, []pipeline.Sink{sink}, q,
		engine.NewMetrics(), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// TestTransactionMarkersAreNotRecords: a topic written by a
// transactional producer (NiFi's PublishKafka uses transactions by default;
// Flink's and Kafka Connect's exactly-once sinks, franz-go/librdkafka with
// transactional.id) holds, after each transaction, a control batch: the
// commit/abort marker. Kafka's protocol documentation ("Control Batches"):
// "Control records should not be passed on to applications. Instead, they are
// used by consumers to filter out aborted transactional messages." kafka-go
// 0.4.51 does not test the control bit (segmentio/kafka-go#1446, #261) and
// its Reader returns each marker as a message (key 00 00 00 01, value
// 00 00 00 00 00 00); the input takes it as a record. Observed: one
// "invalid_json" poison record per transaction in the quarantine (and the
// quarantined-records alert), for records the producer never wrote; with
// format raw each marker becomes an event of NUL bytes delivered to the
// destinations. Expected: only the producer's records are read; control
// batches are skipped (their offsets still count as done for the commit).
func TestTransactionMarkersAreNotRecords(t *testing.T) {
	for _, format := range []string{"json", "raw"} {
		t.Run(format, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			broker := c.ListenAddrs()[0]
			cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("logs"),
				kgo.TransactionalID("nifi-publishkafka-1"))
			if err != nil {
				t.Fatal(err)
			}
			const txns, perTxn = 3, 2
			for i := range txns {
				if err := cl.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				for j := range perTxn {
					r := &kgo.Record{Value: fmt.Appendf(nil, `{"message":"txn %d record %d"}`, i, j)}
					if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
						t.Fatal(err)
					}
				}
				if err := cl.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
					t.Fatal(err)
				}
			}
			cl.Close()
			// A plain record after the transactions: once it arrived,
			// everything before it was read.
			faultProduce(t, broker, "logs", []byte(`{"message":"last"}`))

			cfg := faultConfig(broker, "g-txn-"+format, "logs")
			cfg.Topics[0].Format = format
			sink := newFaultSink()
			q := &recQuarantine{}
			s, err := New(cfg, quarantineEngine(t, sink, q), faultLog)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_ = s.Shutdown(ctx)
			}()
			want := txns*perTxn + 1
			faultWait(t, 30*time.Second, "the last record", func() bool { return sink.saw(`last`) && sink.Events() >= want })
			time.Sleep(200 * time.Millisecond) // anything after it would show now

			for _, r := range q.all() {
				t.Errorf("quarantined a record the producer never wrote: peer %s reason %s raw %q", r.Peer, r.Reason, r.Raw)
			}
			if n := sink.Events(); n != want {
				t.Errorf("the destination got %d events, want the %d the producer wrote", n, want)
			}
			if sink.saw("\x00") || sink.saw(`\u0000`) {
				t.Errorf("an event made of a transaction marker's bytes reached the destination")
			}
			// A marker last in the partition is done too: the commit
			// reaches the end (3 x (2 records + marker), "last", then a
			// record and its marker: the next offset is 12).
			cl, err = kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("logs"), kgo.TransactionalID("nifi-publishkafka-1"))
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(`{"message":"tail"}`)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if err := cl.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
				t.Fatal(err)
			}
			cl.Close()
			faultWait(t, 30*time.Second, "the commit past the last marker", func() bool {
				return faultCommitted(t, broker, "g-txn-"+format, "logs") == 12
			})
		})
	}
}
