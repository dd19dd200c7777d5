package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
)

// reviewKeySink refuses every event of its first write permanently (as an
// OpenSearch mapping error or a missing Kafka topic would) and records the
// Event.Key and Event.Hash of every event it is given.
type reviewKeySink struct {
	mu     sync.Mutex
	writes int
	seen   [][2]uint64 // {Key, Hash}
}

func (s *reviewKeySink) Name() string                { return "siem" }
func (s *reviewKeySink) Close(context.Context) error { return nil }
func (s *reviewKeySink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	for _, ev := range b.Events {
		s.seen = append(s.seen, [2]uint64{ev.Key, ev.Hash})
	}
	if s.writes == 1 {
		be := &pipeline.BatchError{}
		for i := range b.Events {
			be.Items = append(be.Items, pipeline.ItemError{Index: i, Status: 400, Err: fmt.Errorf("%w: refused", pipeline.ErrPermanent)})
		}
		return be
	}
	return nil
}

func (s *reviewKeySink) snapshot() [][2]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]uint64(nil), s.seen...)
}

// TestWrittenReplayKeepsDedupKey (review)
//
// Sequence: dedup.key_fields is set (docs/configuration.md: the key is a
// hash of these fields; the Kafka destination keys and partitions its
// messages by it, so that every copy of an event reaches the same gateway
// replica). A destination refuses an event permanently (a Kafka topic that
// does not exist yet: "quarantined naming the topic: create it and
// replay"). `router quarantine replay` sends its record back as written
// (POST /admin/replay/written).
//
// What happens: the quarantine record keeps the content hash but not the
// dedup key, and addWritten sets Event.Key to the hash: the replayed event
// reaches the destination with another key than it was first written with
// (on Kafka: another message key, another partition, another gateway
// replica whose deduplicator never saw its copies).
//
// Expected: replayed "as written" means with the key it was written with,
// as it keeps its hash, time, source type and priority.
func TestWrittenReplayKeepsDedupKey(t *testing.T) {
	data := t.TempDir()
	sink := &reviewKeySink{}
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{
			{Name: "tok", Token: "toksecret", SourceType: "app.generic"},
		}}},
		Destinations: []config.Destination{{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}}},
		Routing:      config.Routing{All: []string{"siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	cfg.Dedup.Enabled = true
	cfg.Dedup.KeyFields = []string{"event.id"}
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 100*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, WithSink("siem", sink))
	defer stopApp(t, a)

	if code, msg := ingest(t, a, `{"message":"detection","event":{"id":"det-42"}}`+"\n"); code != 200 {
		t.Fatalf("ingest: %d %s", code, msg)
	}
	// Wait for its refusal's record.
	var rec []byte
	deadline := time.Now().Add(10 * time.Second)
	for rec == nil && time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(data, "quarantine", "siem", "quarantine-*.ndjson"))
		for _, m := range matches {
			if b, err := os.ReadFile(m); err == nil && bytes.Contains(b, []byte("det-42")) && bytes.HasSuffix(b, []byte("\n")) {
				rec = b
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rec == nil {
		t.Fatal("no quarantine record of the refusal")
	}
	first := sink.snapshot()
	if len(first) != 1 || first[0][0] == first[0][1] {
		t.Fatalf("first write saw %v: want one event whose key differs from its hash", first)
	}
	res, err := http.Post("http://"+a.AdminAddr()+"/admin/replay/written?destination=siem", "application/x-ndjson", bytes.NewReader(rec))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(msg), `"replayed":1`) || !strings.Contains(string(msg), `"renormalized":0`) {
		t.Fatalf("replay: %d %s", res.StatusCode, msg)
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(sink.snapshot()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	seen := sink.snapshot()
	if len(seen) < 2 {
		t.Fatal("the replayed event never reached the destination")
	}
	if seen[1][1] != first[0][1] {
		t.Fatalf("replayed event has hash %016x, first written %016x", seen[1][1], first[0][1])
	}
	if seen[1][0] != first[0][0] {
		t.Errorf("replayed as written with key %016x (its content hash), but it was first written with dedup key %016x: on Kafka another message key and partition", seen[1][0], first[0][0])
	}
}
