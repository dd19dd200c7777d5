package kafkain

import (
	"runtime"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// TestKafkaDenseRecordParsed: 46bb6b6 quarantines a record over
// 64 KiB with a value every 16 bytes or less as too_many_values "on every
// path" (configuration.md: "the shape of a decompression bomb, not of a
// log"), because fastjson then holds ~200 bytes a byte. The Kafka input
// (addJSON, addLarge) still parses such a record whole with the
// partition's own parser, p.jp, which keeps what it grew to for the
// partition's lifetime: one 1 MiB message of {"a":[0,0,...]} (a few KiB
// once the producer compresses it) leaves ~200 MiB live per partition
// that read one, outside max_batch_bytes ("a replica holds up to one such
// batch per partition it owns"). Want: quarantined as too_many_values,
// as on the HTTP input; got: parsed (and delivered).
func TestKafkaDenseRecordParsed(t *testing.T) {
	sink := newFaultSink()
	sink.Release()
	e := newEngine(t, sink, &failingQuarantine{})
	p := newPartition(e)
	p.ts = topicState{format: "json"}
	raw := []byte(`{"a":[` + strings.Repeat("0,", (1<<20-64)/2) + `0]}`)

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	p.add(&kafka.Message{Topic: "t", Offset: 5, Value: raw})
	runtime.GC()
	runtime.ReadMemStats(&m1)
	held := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	runtime.KeepAlive(p)

	reasons := []string{}
	for _, r := range p.rej {
		reasons = append(reasons, r.Reason)
	}
	t.Logf("%d-byte record: %d events, quarantined %v; the partition holds %d MiB more after a GC", len(raw), len(p.b.Events), reasons, held>>20)
	if len(p.rej) != 1 || p.rej[0].Reason != "too_many_values" {
		t.Errorf("a 1 MiB Kafka record {\"a\":[0,0,...]}: %d events taken, quarantined %v, and the partition's parser keeps %d MiB live after it; want it quarantined as too_many_values unparsed, as the HTTP input does",
			len(p.b.Events), reasons, held>>20)
	}
}
