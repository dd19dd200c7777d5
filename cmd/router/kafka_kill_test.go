package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/conservation"
)

// TestKafkaGroupKill9 runs two router processes in one consumer group,
// kills one with SIGKILL mid-stream and restarts it, and checks that every
// record the broker acknowledged reaches the destinations (duplicates
// allowed, counted) and that the group's lag returns to 0.
func TestKafkaGroupKill9(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	cfgFor := func(name string) (string, string) {
		dir := filepath.Join(t.TempDir(), name)
		_ = os.MkdirAll(dir, 0o755)
		return writeConfig(t, dir, strings.ReplaceAll(`
log: {level: info, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  kafka:
    brokers: [BROKER]
    group_id: gk
    topics: [{name: logs}]
    batch_wait: 20ms
    commit_interval: 100ms
    session_timeout: 6s
    rebalance_timeout: 6s
    heartbeat_interval: 500ms
rules: {dir: RULES}
destinations:
  - {name: all, type: file, file: {dir: DATA/all}}
routing: {all: [all]}
quarantine: {dir: DATA/quarantine}
queue: {dir: DATA/queue}
shutdown_timeout: 20s
`, "BROKER", broker)), dir
	}
	cfgA, dirA := cfgFor("a")
	cfgB, dirB := cfgFor("b")
	pa := startRouter(t, cfgA)
	pb := startRouter(t, cfgB)

	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: "logs", Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, Transport: tr}
	defer w.Close()
	run := fmt.Sprintf("kk-%d", time.Now().UnixNano())
	n := 60000
	if os.Getenv("LOGROUTER_SOAK") != "" {
		n = 1_000_000 // the full-size run: LOGROUTER_SOAK=1 go test -run KafkaGroupKill9 ./cmd/router/
	}
	produced := 0
	killed := false
	for produced < n {
		msgs := make([]kafka.Message, 2000)
		for i := range msgs {
			msgs[i].Value = fmt.Appendf(nil, `{"run":%q,"seq":%d,"message":"kill -9 test"}`, run, produced+i)
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
		produced += len(msgs)
		if !killed && produced >= n/3 {
			_ = pa.cmd.Process.Signal(syscall.SIGKILL)
			_, _ = pa.wait(t, 10*time.Second)
			killed = true
			pa = startRouter(t, cfgA) // comes back: the group rebalances again
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Both routers share the work until the group's lag is 0 (about 10s
	// here; the fake broker runs in this -race test process).
	deadline := time.Now().Add(2 * time.Minute)
	var got map[uint64]int
	for {
		got = map[uint64]int{}
		for _, d := range []string{dirA, dirB} {
			c, err := conservation.Count(filepath.Join(d, "all"), run)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c {
				got[k] += v
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range []*proc{pa, pb} {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if err, tail := p.wait(t, 30*time.Second); err != nil {
			t.Errorf("stop: %v\n%s", err, strings.Join(tail, "\n"))
		}
	}
	missing, dups := 0, 0
	for i := 0; i < n; i++ {
		switch c := got[uint64(i)]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("%d records acknowledged by the broker, %d missing, %d duplicates after kill -9 and two rebalances", n, missing, dups)
	if missing > 0 {
		t.Fatalf("%d acknowledged records lost", missing)
	}
	// Duplicates come only from batches in flight or accepted but not yet
	// committed at the kill: at most max_inflight_batches x batch_events
	// per partition plus a commit interval's worth.
	if dups > 6*(4*1000)+n/3 {
		t.Errorf("%d duplicates exceed the in-flight bound", dups)
	}
}
