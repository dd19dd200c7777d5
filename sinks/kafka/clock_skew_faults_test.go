package kafka

// Review of the Kafka destination against Kafka's producer semantics
// (topic: the edge -> Kafka -> gateway path). Each test fails on the code
// as found, for the reason its comment gives.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/logrouter/logrouter/pipeline"
)

// skewedBroker makes the cluster validate produce requests the way an
// Apache Kafka broker does for message.timestamp.type CreateTime with
// message.timestamp.after.max.ms (LogValidator.validateTimestamp): a record
// whose timestamp is more than afterMax ahead of the broker's clock is
// refused, the partition answering INVALID_TIMESTAMP with one record error
// per refused record. The broker's clock is skew behind the test's (the
// same as the edge's clock being skew ahead). While ok() reports true,
// requests go through unchanged.
func skewedBroker(t *testing.T, c *kfake.Cluster, skew, afterMax time.Duration, ok func() bool) {
	t.Helper()
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if ok() {
			return nil, nil, false
		}
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		brokerNow := time.Now().Add(-skew).UnixMilli()
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				var batch kmsg.RecordBatch
				if err := batch.ReadFrom(rp.Records); err != nil {
					sp.ErrorCode = kerr.CorruptMessage.Code
					st.Partitions = append(st.Partitions, sp)
					continue
				}
				if batch.MaxTimestamp-brokerNow <= afterMax.Milliseconds() {
					return nil, nil, false // in range: stored as usual
				}
				sp.ErrorCode = kerr.InvalidTimestamp.Code
				msg := fmt.Sprintf("Timestamp %d of message with offset 0 is out of range. The timestamp should be within [%d, %d]",
					batch.FirstTimestamp, int64(0), brokerNow+afterMax.Milliseconds())
				sp.ErrorMessage = &msg
				for i := range batch.NumRecords {
					er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
					er.RelativeOffset = i
					er.ErrorMessage = &msg
					sp.ErrorRecords = append(sp.ErrorRecords, er)
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestClockSkewIsRetried
//
// Fault: classify treats INVALID_TIMESTAMP (32) as permanent, "its time is
// outside the topic's accepted range", a rule written when records carried
// the event's own time. Since TestOldEventsSurviveRetention's fix the
// record timestamp is the edge's send time (build leaves Message.Time zero,
// kafka-go stamps time.Now()), so the only thing the broker can refuse is
// the edge's clock against its own: Apache Kafka's
// message.timestamp.after.max.ms (1 hour by default on Kafka 4; the fault
// test above already names it) refuses every record of an edge whose clock
// runs more than that ahead (an RTC set to local time read as UTC, a VM
// restored from a snapshot, broken NTP), each with a record error.
//
// Sequence: a broker whose clock is 2 h behind the edge's (with
// after.max.ms 1 h); the edge writes 30 ordinary events; then the clocks
// agree again and the same events are written once more.
//
// Expected: the package's own rule, "an error is permanent only when the
// message itself is at fault, so that sending the same bytes again can
// never succeed. Everything the cluster or an operator can fix ... is
// retryable: the durable queue keeps the events and retries with backoff
// until the cause is fixed, instead of quarantining good data". The bytes
// sent again after the clock is fixed are stored (the second Write below
// proves it), so the events must be retryable.
//
// Actual: every event is reported permanent (the broker named each record,
// settle marks each one permanent with the code), so the queue moves the
// edge's entire stream, P1 included, to the quarantine for as long as the
// clock is off: nothing reaches the gateway, SIEM detections wait for an
// operator to notice and replay by hand, and a bounded quarantine
// (max_total_bytes) starts dropping.
//
// Severity: medium (a whole edge diverted from delivery to quarantine by a
// clock condition; counted, not lost, but never delivered by itself).
func TestClockSkewIsRetried(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{Topic: "logs-{priority}"})
	var fixed atomic.Bool
	skewedBroker(t, c, 2*time.Hour, time.Hour, fixed.Load)

	var evs []ev
	for i := range 30 {
		evs = append(evs, ev{raw: fmt.Sprintf(`{"n":%d,"msg":"failed login"}`, i), hash: uint64(i + 1), prio: pipeline.Priorities[i%3]})
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	if err == nil {
		t.Fatal("setup: the skewed broker stored the records")
	}
	permanent := 0
	var be *pipeline.BatchError
	switch {
	case errors.As(err, &be):
		for _, it := range be.Items {
			if pipeline.IsPermanent(it.Err) {
				permanent++
			}
		}
	case pipeline.IsPermanent(err):
		permanent = len(evs)
	}
	t.Logf("skewed clock: %.300v", err)

	fixed.Store(true) // NTP fixed: the same bytes again
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("after the clocks agree: %v", err)
	}
	if permanent > 0 {
		t.Fatalf("%d of %d events reported permanent (to quarantine) for INVALID_TIMESTAMP caused by the edge's clock (the record timestamp is the send time), "+
			"yet the same events were stored as soon as the clocks agreed: an operator-fixable condition must be retryable", permanent, len(evs))
	}
}
