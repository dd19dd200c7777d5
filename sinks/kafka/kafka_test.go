package kafka

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

// kfake's control goroutines of a cluster closed while a test held produce
// requests (SleepControl, produce_faults_test.go) can stay parked on the
// fake broker's own mutex: the broker's, not the sink's. The broker's run
// loop then waits for that goroutine's answer in a select that has no case
// for the cluster's shutdown (kfake cluster.go, the loop that continues a
// slept control), so it stays too; CI saw it once. Every cluster in these
// tests is made by newCluster, which closes it in a cleanup, so ignoring
// the run loop cannot hide a cluster a test forgot to close.
func TestMain(m *testing.M) {
	testutil.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/twmb/franz-go/pkg/kfake.(*Cluster).runControl.func1"),
		goleak.IgnoreTopFunction("github.com/twmb/franz-go/pkg/kfake.(*Cluster).run"))
}

var seedTopics = []string{"logs-p1", "logs-p2", "logs-p3", "logs"}

func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(4, seedTopics...)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newSink(t testing.TB, c *kfake.Cluster, cfg Config, opts ...Option) *Sink {
	t.Helper()
	if cfg.Brokers == nil {
		cfg.Brokers = c.ListenAddrs()
	}
	if cfg.Topic == "" {
		cfg.Topic = "logs-{priority}"
	}
	s, err := New("central", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

type ev struct {
	raw  string
	hash uint64
	prio pipeline.Priority
	src  string
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mkBatch(evs ...ev) *pipeline.Batch {
	b := pipeline.NewBatch()
	for i, e := range evs {
		a := b.Arena()
		a = append(a, e.raw...)
		src := e.src
		if src == "" {
			src = "test.source"
		}
		b.Commit(a, pipeline.Event{
			Time:       t0.Add(time.Duration(i) * time.Millisecond).UnixNano(),
			Hash:       e.hash,
			SourceType: src,
			Priority:   e.prio,
			Rule:       -1,
		})
	}
	return b
}

// consume reads want records from the start of topics.
func consume(t *testing.T, c *kfake.Cluster, want int, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(250*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before timing out", len(recs), want)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// stored counts the records stored in topic.
func stored(c *kfake.Cluster, topic string) int64 {
	var n int64
	for _, p := range c.PartitionInfos(topic) {
		n += p.HighWatermark
	}
	return n
}

func hashKey(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

func TestWriteRoundTrip(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{})
	var evs []ev
	for i := range 60 {
		p := pipeline.Priorities[i%3]
		// Every fifth event repeats an earlier one's hash (a duplicate
		// from another edge).
		h := uint64(i)*0x9e3779b97f4a7c15 + 1
		if i%5 == 4 {
			h = evs[i-3].hash
			p = evs[i-3].prio
		}
		evs = append(evs, ev{raw: fmt.Sprintf(`{"n":%d,"msg":"event %d"}`, i, i), hash: h, prio: p})
	}
	b := mkBatch(evs...)
	defer b.Release()
	before := time.Now().Truncate(time.Millisecond)
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	after := time.Now()

	recs := consume(t, c, len(evs), "logs-p1", "logs-p2", "logs-p3")
	if len(recs) != len(evs) {
		t.Fatalf("got %d records, want %d", len(recs), len(evs))
	}
	byValue := map[string]*kgo.Record{}
	for _, r := range recs {
		byValue[string(r.Value)] = r
	}
	partOf := map[uint64]int32{}
	javaPartitioner := kgo.StickyKeyPartitioner(nil) // murmur2, as the Java client
	for i, e := range evs {
		r := byValue[e.raw]
		if r == nil {
			t.Fatalf("event %d (%s) not found", i, e.raw)
		}
		if want := "logs-" + strings.ToLower(e.prio.String()); r.Topic != want {
			t.Errorf("event %d in topic %s, want %s", i, r.Topic, want)
		}
		if !bytes.Equal(r.Key, hashKey(e.hash)) {
			t.Errorf("event %d key %x, want %x", i, r.Key, hashKey(e.hash))
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != HeaderPriority || string(r.Headers[0].Value) != e.prio.String() {
			t.Errorf("event %d headers %+v", i, r.Headers)
		}
		// The send time, not the event's (retention reads it).
		if r.Timestamp.Before(before) || r.Timestamp.After(after) {
			t.Errorf("event %d timestamp %s, want the send time, within [%s, %s]", i, r.Timestamp, before, after)
		}
		if p, ok := partOf[e.hash]; ok && p != r.Partition {
			t.Errorf("hash %x landed in partitions %d and %d", e.hash, p, r.Partition)
		}
		partOf[e.hash] = r.Partition
		if want := javaPartitioner.ForTopic(r.Topic).Partition(&kgo.Record{Key: r.Key}, 4); int32(want) != r.Partition {
			t.Errorf("event %d in partition %d, the Java partitioner says %d", i, r.Partition, want)
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	c := newCluster(t)
	codes := map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
	// One topic per codec, so that each reads back only its own records.
	for codec := range codes {
		if err := c.CreateTopic("codec-"+codec, 2, nil); err != nil {
			t.Fatal(err)
		}
	}
	for codec, code := range codes {
		t.Run(codec, func(t *testing.T) {
			s := newSink(t, c, Config{Topic: "codec-" + codec, Compression: codec})
			var evs []ev
			for i := range 50 {
				evs = append(evs, ev{raw: fmt.Sprintf(`{"codec":%q,"i":%d,"pad":"%s"}`, codec, i, strings.Repeat("x", i*7)), hash: uint64(i + 1), prio: pipeline.P2})
			}
			b := mkBatch(evs...)
			defer b.Release()
			if err := s.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			recs := consume(t, c, len(evs), "codec-"+codec)
			got := map[string]bool{}
			for _, r := range recs {
				got[string(r.Value)] = true
				if r.Attrs.CompressionType() != code {
					t.Errorf("record compressed with %d, want %d", r.Attrs.CompressionType(), code)
				}
			}
			for _, e := range evs {
				if !got[e.raw] {
					t.Errorf("missing %s", e.raw)
				}
			}
		})
	}
}

func TestOversizedEventIsPermanentOthersDelivered(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{Topic: "logs", MaxMessageBytes: 2000})
	evs := []ev{
		{raw: `{"a":1}`, hash: 1, prio: pipeline.P1},
		{raw: `{"a":2}`, hash: 2, prio: pipeline.P2},
		{raw: `{"big":"` + strings.Repeat("y", 5000) + `"}`, hash: 3, prio: pipeline.P2},
		{raw: `{"a":4}`, hash: 4, prio: pipeline.P3},
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a BatchError", err)
	}
	if len(be.Items) != 1 || be.Items[0].Index != 2 || !pipeline.IsPermanent(be.Items[0].Err) {
		t.Fatalf("items %+v", be.Items)
	}
	msg := be.Items[0].Err.Error()
	for _, want := range []string{"5010 bytes", "max_message_bytes 2000", "broker's message.max.bytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	recs := consume(t, c, 3, "logs")
	for _, r := range recs {
		if len(r.Value) > 100 {
			t.Errorf("the oversized event was sent")
		}
	}
	if n := stored(c, "logs"); n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}
}

// A batch that the broker refuses as a whole (larger than the topic's
// max.message.bytes) must not take good events to quarantine: only the event
// too large on its own is permanent.
func TestBrokerSizeLimitIsolatesTheCulprit(t *testing.T) {
	c := newCluster(t)
	if err := c.CreateTopic("small", 1, map[string]string{"max.message.bytes": "4096"}); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, c, Config{Topic: "small", Compression: "none", MaxMessageBytes: 100000, BatchBytes: 100000})
	var evs []ev
	for i := range 10 {
		evs = append(evs, ev{raw: fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("z", 1000)), hash: uint64(i + 1), prio: pipeline.P2})
	}
	evs = append(evs[:5], append([]ev{{raw: `{"huge":"` + strings.Repeat("h", 6000) + `"}`, hash: 99, prio: pipeline.P2}}, evs[5:]...)...)
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a BatchError", err)
	}
	if len(be.Items) != 1 || be.Items[0].Index != 5 || !pipeline.IsPermanent(be.Items[0].Err) || be.Items[0].Status != int(kerr.MessageTooLarge.Code) {
		t.Fatalf("items %+v", be.Items)
	}
	if !errors.Is(be.Items[0].Err, pipeline.ErrPermanent) || !strings.Contains(be.Items[0].Err.Error(), "max_message_bytes") {
		t.Errorf("error %v", be.Items[0].Err)
	}
	if n := stored(c, "small"); n != 10 {
		t.Errorf("%d records stored, want 10", n)
	}
}

func TestPerMessageErrorClassification(t *testing.T) {
	c := newCluster(t)
	// P3's partitions are under-replicated (retryable), P1's messages are
	// corrupt (permanent); P2 is fine.
	retry := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "logs-p3", Err: kerr.NotEnoughReplicas, Count: -1})
	defer retry.Remove()
	corrupt := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "logs-p1", Err: kerr.CorruptMessage, Count: -1})
	defer corrupt.Remove()
	s := newSink(t, c, Config{})
	var evs []ev
	for i := range 30 {
		evs = append(evs, ev{raw: fmt.Sprintf(`{"i":%d}`, i), hash: uint64(i + 1), prio: pipeline.Priorities[i%3]})
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a BatchError", err)
	}
	got := map[int]pipeline.ItemError{}
	for _, it := range be.Items {
		got[it.Index] = it
	}
	for i, e := range evs {
		it, failed := got[i]
		switch e.prio {
		case pipeline.P1:
			if !failed || !pipeline.IsPermanent(it.Err) || it.Status != int(kerr.CorruptMessage.Code) {
				t.Errorf("P1 event %d: %+v, want a permanent CORRUPT_MESSAGE item", i, it)
			}
		case pipeline.P2:
			if failed {
				t.Errorf("P2 event %d failed: %v", i, it.Err)
			}
		case pipeline.P3:
			if !failed || pipeline.IsPermanent(it.Err) || it.Status != int(kerr.NotEnoughReplicas.Code) {
				t.Errorf("P3 event %d: %+v, want a retryable NOT_ENOUGH_REPLICAS item", i, it)
			}
		}
	}
	if n := stored(c, "logs-p2"); n != 10 {
		t.Errorf("%d P2 records stored, want 10", n)
	}
}

func TestMissingTopicIsRetryableAndDoesNotBlockOthers(t *testing.T) {
	c := newCluster(t)
	if err := c.CreateTopic("logs.crowdstrike.falcon", 2, nil); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, c, Config{Topic: "logs.{source_type}"}, withMetadataTTL(100*time.Millisecond))
	evs := []ev{
		{raw: `{"a":1}`, hash: 1, prio: pipeline.P1, src: "crowdstrike.falcon"},
		{raw: `{"a":2}`, hash: 2, prio: pipeline.P2, src: "zeek/conn"},
		{raw: `{"a":3}`, hash: 3, prio: pipeline.P2, src: "crowdstrike.falcon"},
		{raw: `{"a":4}`, hash: 4, prio: pipeline.P3, src: "zeek/conn"},
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a BatchError", err)
	}
	if len(be.Items) != 2 || be.Items[0].Index != 1 || be.Items[1].Index != 3 {
		t.Fatalf("items %+v", be.Items)
	}
	for _, it := range be.Items {
		if pipeline.IsPermanent(it.Err) || !strings.Contains(it.Err.Error(), `topic "logs.zeek_conn" does not exist`) {
			t.Errorf("item %d: %v", it.Index, it.Err)
		}
	}
	if n := stored(c, "logs.crowdstrike.falcon"); n != 2 {
		t.Errorf("%d records stored, want 2", n)
	}

	// Alone, the events of the missing topic fail with a plain retryable
	// error, until the operator creates the topic.
	retry := mkBatch(evs[1], evs[3])
	defer retry.Release()
	if err := s.Write(context.Background(), retry); err == nil || pipeline.IsPermanent(err) || errors.As(err, &be) {
		t.Fatalf("got %v, want a plain retryable error", err)
	}
	if err := c.CreateTopic("logs.zeek_conn", 2, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Write(context.Background(), retry)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after the topic was created: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := stored(c, "logs.zeek_conn"); n != 2 {
		t.Errorf("%d records stored, want 2", n)
	}
}

func TestBrokerDownIsRetryableWithinWriteTimeout(t *testing.T) {
	c := newCluster(t)
	const timeout = 3 * time.Second
	s := newSink(t, c, Config{WriteTimeout: timeout})
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1}, ev{raw: `{"a":2}`, hash: 2, prio: pipeline.P3})
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	c.Close()
	start := time.Now()
	err := s.Write(context.Background(), b)
	elapsed := time.Since(start)
	if err == nil || pipeline.IsPermanent(err) || errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if elapsed > timeout+time.Second {
		t.Errorf("Write took %s, write_timeout is %s", elapsed, timeout)
	}
	t.Logf("after %s: %v", elapsed.Round(time.Millisecond), err)
}

func TestUnreachableClusterIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	const timeout = 2 * time.Second
	s := newSink(t, nil, Config{Brokers: []string{addr}, WriteTimeout: timeout})
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	start := time.Now()
	err = s.Write(context.Background(), b)
	if err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if elapsed := time.Since(start); elapsed > timeout+time.Second {
		t.Errorf("Write took %s, write_timeout is %s", elapsed, timeout)
	}
	t.Logf("%v", err)
}

// When ctx ends before the broker answers, kafka-go still holds the messages;
// Write must have copied them, since the caller reuses the batch right after.
func TestWriteDoesNotRetainRawAfterTimeout(t *testing.T) {
	c := newCluster(t)
	// Connect and cache the topic's metadata first: cold, the metadata
	// lookup alone could outlast the 300ms below on a loaded machine, and
	// Write then returns before producing anything (and <-held waited
	// forever).
	s := newSink(t, c, Config{Topic: "logs"})
	warm := mkBatch(ev{raw: `{"original":0}`, hash: 9, prio: pipeline.P1})
	if err := s.Write(context.Background(), warm); err != nil {
		t.Fatal(err)
	}
	warm.Release()
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		select {
		case held <- struct{}{}:
		default:
		}
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	evs := []ev{{raw: `{"original":1}`, hash: 1, prio: pipeline.P1}, {raw: `{"original":2}`, hash: 2, prio: pipeline.P2}}
	b := mkBatch(evs...)
	defer b.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := s.Write(ctx, b)
	if err == nil || pipeline.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a retryable deadline error", err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("the produce request never reached the broker")
	}
	for i := range b.Events { // the caller reuses the batch
		copy(b.Events[i].Raw, bytes.Repeat([]byte("X"), len(b.Events[i].Raw)))
	}
	close(release)
	recs := consume(t, c, 3, "logs") // the warm-up record and the two
	for _, r := range recs {
		if !strings.Contains(string(r.Value), "original") {
			t.Errorf("record value %q: the sink sent the caller's reused bytes", r.Value)
		}
	}
}

func TestCloseIdempotentAndWriteAfterClose(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{})
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Write(ctx, b); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if s.Name() != "central" {
		t.Errorf("Name() = %q", s.Name())
	}
}

func TestEmptyBatch(t *testing.T) {
	s := newSink(t, nil, Config{Brokers: []string{"127.0.0.1:1"}})
	b := pipeline.NewBatch()
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestSetDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	want := Config{Compression: "zstd", RequiredAcks: "all", BatchBytes: 1 << 20, BatchTimeout: 10 * time.Millisecond, MaxMessageBytes: 1000000, WriteTimeout: 30 * time.Second}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	c = Config{Compression: "none"}
	c.SetDefaults()
	if c.BatchBytes != DefaultMaxMessageBytes {
		t.Errorf("batch_bytes with compression none: %d", c.BatchBytes)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Brokers: []string{"kafka-1:9092", "[::1]:9093"}, Topic: "logs-{priority}"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, `"brokers" is required`},
		{"broker without port", func(c *Config) { c.Brokers = []string{"kafka-1"} }, `"brokers[0]" "kafka-1" is not host:port`},
		{"no topic", func(c *Config) { c.Topic = "" }, `"topic" is required`},
		{"bad topic char", func(c *Config) { c.Topic = "logs/{priority}" }, `only A-Z`},
		{"unknown placeholder", func(c *Config) { c.Topic = "logs-{host}" }, `unknown placeholder {host}`},
		{"unmatched brace", func(c *Config) { c.Topic = "logs-{priority" }, `unmatched '{'`},
		{"too long", func(c *Config) { c.Topic = strings.Repeat("a", 60) + "{source_type}" }, `Kafka allows 249`},
		{"dot topic", func(c *Config) { c.Topic = ".." }, `not valid Kafka topic names`},
		{"sender-chosen topic", func(c *Config) { c.Topic = "{source_type}" }, `cannot start with {source_type}`},
		{"sender-chosen prefix", func(c *Config) { c.Topic = "{source_type}.{priority}" }, `cannot start with {source_type}`},
		{"compression", func(c *Config) { c.Compression = "brotli" }, `"compression" must be none, gzip, snappy, lz4 or zstd`},
		{"acks", func(c *Config) { c.RequiredAcks = "2" }, `"required_acks" must be all, one or none`},
		{"negative batch", func(c *Config) { c.BatchBytes = -1 }, `"batch_bytes" must be positive`},
		{"batch below message", func(c *Config) { c.BatchBytes = 1000 }, `"batch_bytes" 1000 is below "max_message_bytes"`},
		{"uncompressed batch above limit", func(c *Config) { c.Compression = "none"; c.BatchBytes = 2 << 20 }, `with compression none`},
		{"tiny message", func(c *Config) { c.MaxMessageBytes = 100 }, `leaves no room`},
		{"negative timeout", func(c *Config) { c.WriteTimeout = -time.Second }, `"write_timeout" must be positive`},
		{"negative batch timeout", func(c *Config) { c.BatchTimeout = -time.Second }, `"batch_timeout" must be positive`},
		{"tls half", func(c *Config) { c.TLS = &TLSConfig{CertFile: "c.pem"} }, `set both "cert_file" and "key_file"`},
		{"sasl mechanism", func(c *Config) { c.SASL = &SASLConfig{Mechanism: "gssapi", Username: "u", Password: "p"} }, `"sasl.mechanism" must be`},
		{"sasl password", func(c *Config) { c.SASL = &SASLConfig{Mechanism: "scram-sha-512", Username: "u"} }, `"sasl.password" is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if _, err := New("x", c); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	if _, err := New("x", Config{Brokers: []string{"k:9092"}, Topic: "t", TLS: &TLSConfig{CAFile: "/nonexistent/ca.pem"}}); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("missing CA file: %v", err)
	}
	// plain would send the password in clear without tls: refused unless
	// allowed.
	if _, err := New("x", Config{Brokers: []string{"k:9092"}, Topic: "t", SASL: &SASLConfig{Mechanism: "plain", Username: "u", Password: "p"}}); err == nil || !strings.Contains(err.Error(), "allow_plaintext") {
		t.Errorf("plain without tls: %v", err)
	}
	for _, mech := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		s, err := New("x", Config{Brokers: []string{"k:9092"}, Topic: "t", SASL: &SASLConfig{Mechanism: mech, Username: "u", Password: "p", AllowPlaintext: mech == "plain"}})
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTopicTemplate(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		prio pipeline.Priority
		src  string
		want string
	}{
		{"logs", pipeline.P1, "x", "logs"},
		{"logs-{priority}", pipeline.P1, "x", "logs-p1"},
		{"logs-{priority}", pipeline.P3, "x", "logs-p3"},
		{"logs-{priority}", pipeline.PriorityNone, "x", "logs-none"},
		{"logs.{source_type}.{priority}", pipeline.P2, "crowdstrike.falcon", "logs.crowdstrike.falcon.p2"},
		{"{priority}.{source_type}", pipeline.P2, "crowdstrike.falcon", "p2.crowdstrike.falcon"},
		{"in-{source_type}", pipeline.P2, "Zeek conn/log:ü", "in-Zeek_conn_log___"},
		{"in-{source_type}", pipeline.P2, "", "in-unknown"},
		{"in-{source_type}", pipeline.P2, strings.Repeat("s", 300), "in-" + strings.Repeat("s", 200)},
	} {
		tt, err := parseTopic(tc.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // rendered, then cached
			got, ok := tt.lookup(tc.prio, tc.src)
			if !ok || got != tc.want {
				t.Errorf("%s with (%s, %q) = %q, want %q", tc.tmpl, tc.prio, tc.src, got, tc.want)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		perm bool
	}{
		{kafkaError(10), true}, // MESSAGE_TOO_LARGE
		{kafkaError(2), true},  // CORRUPT_MESSAGE
		{kafkaError(87), true}, // INVALID_RECORD
		{kafkaError(17), true}, // INVALID_TOPIC
		{fmt.Errorf("wrapped: %w", kafkaError(2)), true},
		{kafkaError(32), false}, // INVALID_TIMESTAMP: the send time, so a clock off from the broker's
		{kafkaError(3), false},  // UNKNOWN_TOPIC_OR_PARTITION
		{kafkaError(5), false},  // LEADER_NOT_AVAILABLE
		{kafkaError(6), false},  // NOT_LEADER_FOR_PARTITION
		{kafkaError(7), false},  // REQUEST_TIMED_OUT
		{kafkaError(19), false}, // NOT_ENOUGH_REPLICAS
		{kafkaError(13), false}, // NETWORK_EXCEPTION
		{kafkaError(29), false}, // TOPIC_AUTHORIZATION_FAILED
		{kafkaError(18), false}, // RECORD_LIST_TOO_LARGE
		{kafkaError(76), false}, // UNSUPPORTED_COMPRESSION_TYPE
		{context.DeadlineExceeded, false},
		{errors.New("connection refused"), false},
	} {
		if perm, _ := classify(tc.err); perm != tc.perm {
			t.Errorf("classify(%v) permanent = %v, want %v", tc.err, perm, tc.perm)
		}
	}
}

func kafkaError(code int16) error { return kafkago.Error(code) }

func TestSASL(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", "plainpass"),
		kfake.Superuser("SCRAM-SHA-256", "user256", "pass256"),
		kfake.Superuser("SCRAM-SHA-512", "user512", "pass512"))
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	for _, sc := range []SASLConfig{
		{Mechanism: "plain", Username: "plainuser", Password: "plainpass", AllowPlaintext: true}, // kfake on loopback
		{Mechanism: "scram-sha-256", Username: "user256", Password: "pass256"},
		{Mechanism: "scram-sha-512", Username: "user512", Password: "pass512"},
	} {
		s := newSink(t, c, Config{Topic: "logs", SASL: &sc})
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatalf("%s: %v", sc.Mechanism, err)
		}
	}
	if n := stored(c, "logs"); n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}
	// A wrong password is for an operator to fix: retryable, never
	// quarantine.
	s := newSink(t, c, Config{Topic: "logs", WriteTimeout: 2 * time.Second, SASL: &SASLConfig{Mechanism: "scram-sha-256", Username: "user256", Password: "wrong"}})
	if err := s.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("wrong password: got %v, want a retryable error", err)
	} else {
		t.Logf("wrong password: %v", err)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, kfake.TLS(&tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
	}))
	s := newSink(t, c, Config{Topic: "logs", TLS: &TLSConfig{CAFile: caFile}})
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n := stored(c, "logs"); n != 1 {
		t.Errorf("%d records stored, want 1", n)
	}
	// Without the CA the broker is not trusted: retryable (an operator
	// fixes the configuration), never quarantine.
	s2 := newSink(t, c, Config{Topic: "logs", WriteTimeout: 2 * time.Second, TLS: &TLSConfig{}})
	if err := s2.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("untrusted broker: got %v, want a retryable error", err)
	}
}

func TestTopicCacheOverflow(t *testing.T) {
	tt, err := parseTopic("logs.{source_type}")
	if err != nil {
		t.Fatal(err)
	}
	tt.cached.Store(maxCachedTopics) // as if full
	if _, ok := tt.lookup(pipeline.P1, "a.b"); ok {
		t.Fatal("a full cache rendered a new name")
	}
	st := new(writeState)
	for range 3 {
		if got := st.topicFor(tt, pipeline.P1, "a/b"); got != "logs.a_b" {
			t.Fatalf("got %q", got)
		}
	}
	if len(st.overflow) != 1 {
		t.Errorf("overflow %v", st.overflow)
	}
}

// Many Writes at once share the kafka-go Writer; Close while they run lets
// the ones in flight finish and refuses the others.
func TestConcurrentWritesAndClose(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{Topic: "logs-{priority}"})
	const writers, perWriter, events = 8, 15, 40
	var delivered atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				var evs []ev
				for j := range events {
					n := (w*perWriter+i)*events + j
					evs = append(evs, ev{raw: fmt.Sprintf(`{"n":%d}`, n), hash: uint64(n % 97), prio: pipeline.Priorities[n%3]})
				}
				b := mkBatch(evs...)
				err := s.Write(context.Background(), b)
				b.Release()
				switch {
				case err == nil:
					delivered.Add(events)
				case errors.Is(err, pipeline.ErrClosed):
					return
				default:
					t.Errorf("Write: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var n int64
	for _, topic := range []string{"logs-p1", "logs-p2", "logs-p3"} {
		n += stored(c, topic)
	}
	if n != delivered.Load() {
		t.Errorf("%d records stored, %d acknowledged", n, delivered.Load())
	}
	t.Logf("%d events acknowledged before Close", delivered.Load())
}
