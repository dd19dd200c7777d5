package app

// Fault tests from a review of the edge -> Kafka -> gateway path. Each one
// fails against the code as found; the comment says what happens, what should
// happen and why it matters.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reviewKeyedEdge starts the edge of deploy/kubernetes/edge-daemonset.yaml
// (as reviewEdge) with dedup.key_fields set as on the gateway.
func reviewKeyedEdge(t *testing.T, broker, data string, keyFields []string) *App {
	t.Helper()
	cfg := reviewManifestConfig(t, "edge-daemonset.yaml", "logrouter-edge-config")
	cfg.Log.Level, cfg.Log.Format = "error", "text"
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.GRPCAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.UDP.Address = "127.0.0.1:0"
	cfg.Inputs.Syslog.TCP.Address = "127.0.0.1:0"
	for i := range cfg.Destinations {
		if k := cfg.Destinations[i].Kafka; k != nil {
			k.Brokers, k.TLS, k.SASL = []string{broker}, nil, nil
		}
	}
	cfg.Queue.Dir, cfg.Quarantine.Dir = filepath.Join(data, "queue"), filepath.Join(data, "quarantine")
	cfg.Queue.MaxBytes = 64 << 20
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	cfg.Dedup.KeyFields = keyFields
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return reviewStart(t, cfg)
}

// TestReviewEdgeKeyFieldCopiesShareAPartition
//
// Sequence: the deployment uses dedup.key_fields [event.id] (documented in
// docs/configuration.md: hash these paths instead of the whole event), on the
// edges and the gateway alike. Two edges each receive one copy of the same
// detection (same event.id); the copies differ in a field outside the key
// (which collector relayed it), which is exactly what key_fields is for.
// Four such detections are sent; the topic has 3 partitions, as the
// gateway StatefulSet's group consumes it.
//
// What happens: the Kafka destination keys and partitions every record by
// the content hash (Event.Hash), never the dedup key (Event.Key, which the
// durable queue does not even keep), so the two copies of a detection land
// in different partitions, hence in different gateway replicas with
// separate dedup sets: both copies pass and reach the SIEM.
//
// What should happen: copies the gateway's deduplicator treats as one event
// land in the same partition, as docs/architecture.md promises ("It becomes
// cluster-wide through Kafka: the edge keys messages by the same hash, so
// every copy of an event lands in the same partition").
//
// Why it matters: with key_fields, cluster-wide deduplication holds only by
// chance (one pair in as many as there are partitions): duplicate P1 alerts
// reach the SOC from the documented scale-out deployment.
func TestEdgeKeyFieldCopiesShareAPartition(t *testing.T) {
	broker := newKafka(t, 3, "edge-logs")
	keys := []string{"event.id"}
	edges := []*App{reviewKeyedEdge(t, broker, t.TempDir(), keys), reviewKeyedEdge(t, broker, t.TempDir(), keys)}
	const n = 8
	for i := range n {
		for j, edge := range edges {
			reviewPostHEC(t, edge, reviewEdgeToken, fmt.Sprintf(
				`{"time":1795824000.5,"sourcetype":"review.app","event":{"event":{"id":"det-%d"},"message":"keyfield-review detection %d","collector":"relay-%d"}}`, i, i, j))
		}
	}
	recs := reviewTopic(t, broker, "edge-logs", 3, 2*n)
	if len(recs) != 2*n {
		t.Fatalf("%d records in edge-logs, want %d", len(recs), 2*n)
	}
	parts := map[string][]int{}
	for _, r := range recs {
		v := string(r.Value)
		for i := range n {
			if strings.Contains(v, fmt.Sprintf(`"det-%d"`, i)) {
				id := fmt.Sprintf("det-%d", i)
				parts[id] = append(parts[id], r.Partition)
			}
		}
	}
	split := 0
	for id, p := range parts {
		if len(p) == 2 && p[0] != p[1] {
			split++
			t.Logf("%s: copies in partitions %v", id, p)
		}
	}
	if split > 0 {
		t.Errorf("%d of %d detections had their two copies (same dedup key event.id) written to different partitions: different gateway replicas, separate dedup sets, both delivered", split, n)
	}
}
