package kafkain

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaLargeCompressedEnvelopeTruncated: a CloudTrail log file
// ({"Records":[...]}, 2000 API calls, about 2 MiB) written to a topic as
// one record by a producer that compresses (gzip), as any forwarder of
// CloudTrail files does. The broker measures the compressed batch (about
// 100 KiB) against its message.max.bytes (1 MiB by default) and stores it.
// The README says batch envelopes are split into their records on the Kafka
// input as on HEC and /ingest, and that "an envelope longer than
// max_event_bytes is taken record by record". The Kafka input instead
// compares the decompressed value with inputs.kafka.max_message_bytes
// (default 1 MiB) and quarantines the record as too_large keeping only its
// first 1 MiB. Observed: no event reaches the destinations, and the
// quarantine holds a truncated prefix that is not JSON, so a replay cannot
// recover the ~1000 API calls past the cut: they are gone, although every
// one of them is a small, valid event. Expected: the envelope's records are
// delivered (or, at the very least, the record is quarantined whole so that
// a replay can deliver it).
func TestKafkaLargeCompressedEnvelopeTruncated(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "cloudtrail"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	broker := c.ListenAddrs()[0]

	const n = 2000
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf(`{"eventVersion":"1.09","eventTime":"2026-03-01T12:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.%d","userAgent":"[aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 exe/x86_64]","requestParameters":{"bucketName":"corp-data","key":"reports/2026/03/file-%06d.csv"},"eventID":"review-ct-%06d","recipientAccountId":"123456789012","pad":"%s"}`,
			(i/60)%60, i%60, i%250, i, i, strings.Repeat("p", 700))
	}
	envelope := `{"Records":[` + strings.Join(recs, ",") + `]}`
	if len(envelope) < 2<<20 {
		t.Fatalf("envelope of %d bytes, want over 2 MiB", len(envelope))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("cloudtrail"),
		kgo.ProducerBatchCompression(kgo.GzipCompression()), kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(envelope)}).FirstErr(); err != nil {
		t.Fatalf("the broker refused the compressed record: %v", err)
	}
	cl.Close()
	faultProduce(t, broker, "cloudtrail", []byte(`{"message":"last"}`))

	cfg := faultConfig(broker, "g-ct", "cloudtrail")
	cfg.Topics[0].SourceType = "aws.cloudtrail"
	sink := newFaultSink()
	q := &recQuarantine{}
	s, err := New(cfg, quarantineEngine(t, sink, q), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 20*time.Second, "the record after the envelope", func() bool { return sink.saw(`"last"`) })
	time.Sleep(200 * time.Millisecond)

	for _, r := range q.all() {
		whole := json.Valid(r.Raw)
		t.Logf("quarantined %s: reason %s, %d of %d bytes kept, valid JSON %v", r.Peer, r.Reason, len(r.Raw), len(envelope), whole)
	}
	got := sink.Events() - 1 // less "last"
	lostForGood := 0
	for _, r := range q.all() {
		if len(r.Raw) < len(envelope) && r.Reason == "too_large" {
			lostForGood = n - got
		}
	}
	if got != n {
		t.Errorf("%d of the envelope's %d records delivered", got, n)
	}
	if lostForGood > 0 {
		t.Errorf("the quarantine keeps only a truncated prefix of the record: %d records cannot be replayed", lostForGood)
	}
}

// TestNDJSONRecordOverMaxMessageBytes: in an ndjson topic max_message_bytes
// bounds each line, not the record: a record of many short lines longer
// than it (a forwarder batching lines) is delivered line by line, and only
// a line longer than it is quarantined.
func TestNDJSONRecordOverMaxMessageBytes(t *testing.T) {
	broker := faultBroker(t, "lines", 1)
	var b strings.Builder
	const n = 300
	for i := range n {
		fmt.Fprintf(&b, `{"n":%d,"pad":"%s"}`+"\n", i, strings.Repeat("p", 100))
	}
	fmt.Fprintf(&b, `{"long":"%s"}`+"\n", strings.Repeat("x", 5000))
	faultProduce(t, broker, "lines", []byte(b.String()))

	cfg := faultConfig(broker, "g-lines", "lines")
	cfg.Topics[0].Format = "ndjson"
	cfg.MaxMessageBytes = 4096 // the record is ~36 KB, each short line ~120 bytes
	sink := newFaultSink()
	q := &recQuarantine{}
	s, err := New(cfg, quarantineEngine(t, sink, q), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 20*time.Second, "the record's lines", func() bool { return sink.Events() >= n })
	time.Sleep(200 * time.Millisecond)
	if got := sink.Events(); got != n {
		t.Errorf("%d of %d short lines delivered", got, n)
	}
	rej := q.all()
	if len(rej) != 1 || rej[0].Reason != "too_large" || !strings.HasPrefix(string(rej[0].Raw), `{"long":`) {
		t.Errorf("quarantined %d records, want the long line alone as too_large", len(rej))
	}
}
