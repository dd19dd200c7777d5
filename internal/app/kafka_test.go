package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
	"github.com/logrouter/logrouter/sinks/file"
	kafkasink "github.com/logrouter/logrouter/sinks/kafka"
)

func newKafka(t *testing.T, partitions int, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// produce writes records to topic and returns once the broker acknowledged them.
func produce(t *testing.T, broker, topic string, values [][]byte) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, BatchSize: 500, Transport: tr}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: v}
	}
	for len(msgs) > 0 {
		n := min(len(msgs), 2000)
		if err := w.WriteMessages(context.Background(), msgs[:n]...); err != nil {
			t.Fatal(err)
		}
		msgs = msgs[n:]
	}
}

func kafkaApp(t *testing.T, broker, group, data string, topics ...kafkain.Topic) *App {
	t.Helper()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Kafka: &kafkain.Config{Brokers: []string{broker}, GroupID: group, Topics: topics,
			BatchWait: 20 * time.Millisecond, CommitInterval: 50 * time.Millisecond, MaxMessageBytes: 64 << 10,
			SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}},
		Routing:      config.Routing{All: []string{"all"}},
	}
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "quarantine"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
	return a
}

func stopApp(t *testing.T, a *App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// waitAll waits until every seq of sender's run is in one of dirs.
func waitAll(t *testing.T, run string, n int, dirs ...string) map[uint64]int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := map[uint64]int{}
		for _, d := range dirs {
			c, err := conservation.Count(d, run)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c {
				got[k] += v
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func values(run string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"run":%q,"seq":%d,"message":"from kafka"}`, run, i)
	}
	return out
}

// TestKafkaInputCommitsAndQuarantinesPoison: records arrive once, poison
// records are quarantined with topic/partition/offset without stalling their
// partition, and the group's committed offsets reach the end of every
// partition.
func TestKafkaInputCommitsAndQuarantinesPoison(t *testing.T) {
	broker := newKafka(t, 4, "logs", "lines")
	data := t.TempDir()
	vals := values("k1", 2000)
	vals = append(vals, []byte(`{"broken": `), []byte(`[1,2,3]`), []byte(strings.Repeat("x", 100<<10)))
	vals = append(vals, values("k1-after", 100)...)
	produce(t, broker, "logs", vals)
	produce(t, broker, "lines", [][]byte{[]byte("plain line one\nplain line two"), []byte(`{"run":"k1-ndjson","seq":0}` + "\n" + `{"run":"k1-ndjson","seq":1}`)})
	a := kafkaApp(t, broker, "g1", data, kafkain.Topic{Name: "logs"}, kafkain.Topic{Name: "lines", Format: "ndjson"})
	got := waitAll(t, "k1", 2000, filepath.Join(data, "all"))
	after := waitAll(t, "k1-after", 100, filepath.Join(data, "all"))
	nd := waitAll(t, "k1-ndjson", 2, filepath.Join(data, "all"))
	if len(got) != 2000 || len(after) != 100 || len(nd) != 2 {
		t.Fatalf("delivered %d/2000, %d/100 after the poison records, %d/2 ndjson", len(got), len(after), len(nd))
	}
	for seq, n := range got {
		if n != 1 {
			t.Errorf("seq %d delivered %d times", seq, n)
		}
	}
	// Committed offsets reach every partition's end.
	deadline := time.Now().Add(20 * time.Second)
	for {
		lag := consumerLag(t, broker, "g1", "logs", 4)
		if lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group lag stays at %d", lag)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopApp(t, a)
	q, _ := filepath.Glob(filepath.Join(data, "quarantine", "*.ndjson"))
	var quarantined string
	for _, f := range q {
		b, _ := readFile(f)
		quarantined += b
	}
	for _, want := range []string{`"reason":"invalid_json"`, `"reason":"not_object"`, `"reason":"too_large"`, `"peer":"logs/`, `"protocol":"kafka"`} {
		if !strings.Contains(quarantined, want) {
			t.Errorf("quarantine lacks %s", want)
		}
	}
}

// consumerLag returns the records of topic not yet committed by group.
func consumerLag(t *testing.T, broker, group, topic string, partitions int) int64 {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	ctx := context.Background()
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	off, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatal(err)
	}
	var req []kafka.OffsetRequest
	for _, p := range parts {
		req = append(req, kafka.LastOffsetOf(p))
	}
	ends, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		t.Fatal(err)
	}
	var lag int64
	for _, po := range ends.Topics[topic] {
		committed := int64(0)
		for _, c := range off.Topics[topic] {
			if c.Partition == po.Partition && c.CommittedOffset > 0 {
				committed = c.CommittedOffset
			}
		}
		lag += po.LastOffset - committed
	}
	return lag
}

// TestKafkaGroupRebalanceLosesNothing: two routers share a group; one stops
// mid-stream (a rebalance hands its partitions to the other), then a third
// joins; every record produced is delivered at least once, duplicates are
// bounded by in-flight batches, and the lag returns to 0.
func TestKafkaGroupRebalanceLosesNothing(t *testing.T) {
	broker := newKafka(t, 6, "logs")
	d1, d2, d3 := t.TempDir(), t.TempDir(), t.TempDir()
	a1 := kafkaApp(t, broker, "g2", d1, kafkain.Topic{Name: "logs"})
	a2 := kafkaApp(t, broker, "g2", d2, kafkain.Topic{Name: "logs"})
	const n = 30000
	vals := values("reb", n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i += 3000 {
			produce(t, broker, "logs", vals[i:i+3000])
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	stopApp(t, a1) // graceful: drains and commits, the group rebalances
	a3 := kafkaApp(t, broker, "g2", d3, kafkain.Topic{Name: "logs"})
	<-done
	got := waitAll(t, "reb", n, filepath.Join(d1, "all"), filepath.Join(d2, "all"), filepath.Join(d3, "all"))
	missing, dups := 0, 0
	for i := 0; i < n; i++ {
		switch c := got[uint64(i)]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for consumerLag(t, broker, "g2", "logs", 6) != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	lag := consumerLag(t, broker, "g2", "logs", 6)
	stopApp(t, a2)
	stopApp(t, a3)
	t.Logf("%d records, %d missing, %d duplicates, final lag %d", n, missing, dups, lag)
	if missing > 0 {
		t.Fatalf("%d records lost across the rebalance", missing)
	}
	if lag != 0 {
		t.Errorf("lag did not return to 0: %d", lag)
	}
	if dups > 6*4*1000 {
		t.Errorf("%d duplicates: more than the in-flight batches of every partition", dups)
	}
}

// TestEdgeKafkaGateway: events sent to an edge router's HTTP input go
// through its durable queue to Kafka (keyed by hash) and arrive once in the
// destinations of a gateway router consuming the topic.
func TestEdgeKafkaGateway(t *testing.T) {
	broker := newKafka(t, 4, "edge-logs")
	edgeData, gwData := t.TempDir(), t.TempDir()
	edgeCfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
		Destinations: []config.Destination{{Name: "gateway", Type: "kafka",
			Kafka: &kafkasink.Config{Brokers: []string{broker}, Topic: "edge-logs"}}},
		Routing: config.Routing{All: []string{"gateway"}},
	}
	edgeCfg.Quarantine.Dir, edgeCfg.Queue.Dir = filepath.Join(edgeData, "quarantine"), filepath.Join(edgeData, "queue")
	edgeCfg.SetDefaults()
	if err := edgeCfg.Validate(); err != nil {
		t.Fatal(err)
	}
	edge, err := New(edgeCfg, RulesSource{FS: testRules, Dir: "."}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := edge.Start(); err != nil {
		t.Fatal(err)
	}
	gw := kafkaApp(t, broker, "gateways", gwData, kafkain.Topic{Name: "edge-logs"})
	sender := conservation.NewSender("edge")
	for i := 0; i < 20; i++ {
		body, ids := sender.Body(100, `"kind":"detection"`)
		res, err := http.Post("http://"+edge.HTTPAddr()+"/ingest", "application/x-ndjson", bytes.NewReader(body))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("edge ingest: %v %v", res, err)
		}
		res.Body.Close()
		sender.Ack(ids)
	}
	got := waitAll(t, "edge", 2000, filepath.Join(gwData, "all"))
	stopApp(t, edge)
	stopApp(t, gw)
	r := conservation.Check(sender.Acked(), got)
	if len(r.Missing) > 0 || r.Duplicates > 0 {
		t.Errorf("gateway: %s", r)
	}
}

// TestKafkaReadiness: /readyz fails while no partition is assigned after
// ready_grace (here: the brokers are unreachable).
func TestKafkaReadiness(t *testing.T) {
	const grace = 2 * time.Second
	data := t.TempDir()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Kafka: &kafkain.Config{Brokers: []string{"127.0.0.1:1"}, Topics: []kafkain.Topic{{Name: "logs"}},
			ReadyGrace: grace}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}},
		Routing:      config.Routing{All: []string{"all"}},
	}
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "quarantine"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	before := time.Now() // the grace starts after this, within Start
	a := startApp(t, cfg)
	up := time.Now() // ... and before this
	defer stopApp(t, a)
	status := func() (int, string) {
		res, err := http.Get("http://" + a.AdminAddr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// Only an answer that came back within the grace proves anything (a
	// loaded machine may take longer than that to start and ask).
	if code, _ := status(); code != 200 && time.Since(before) < grace {
		t.Errorf("within the grace: %d", code)
	}
	time.Sleep(time.Until(up.Add(grace + 100*time.Millisecond)))
	if code, body := status(); code != 503 || !strings.Contains(body, "no partition assigned") {
		t.Errorf("after the grace: %d %s", code, body)
	}
	// The probe of a pod whose HTTP/syslog a Service fronts leaves Kafka out.
	res, err := http.Get("http://" + a.AdminAddr() + "/readyz?kafka=ignore")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/readyz?kafka=ignore after the grace: %d, want 200", res.StatusCode)
	}
}
