package kafkain

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// start_offset latest, no commit yet, and the broker does not answer
// resolveStart's ListOffsets once (a leader election: NOT_LEADER_FOR_PARTITION):
// consume leaves the sentinel to kafka-go, which resolves it itself a moment
// later. The first batch after it is past max_batch_bytes: skipOversized
// calls batchEnd with r.Offset() == kafka.LastOffset, which now answers an
// error ("resolved at the next assignment") every second, for as long as
// the generation lasts: the partition never gets past the batch (the record
// after it is not delivered) and a warning is logged every second.
func TestOversizedFirstBatchLatestUnresolved(t *testing.T) {
	topic := "bomblatest"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	broker := c.ListenAddrs()[0]
	var failed atomic.Bool
	c.ControlKey(int16(kmsg.ListOffsets), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if failed.Swap(true) {
			return nil, nil, false
		}
		r := req.(*kmsg.ListOffsetsRequest)
		resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
		resp.Version = r.Version
		for _, rt := range r.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = 6 // NOT_LEADER_FOR_PARTITION
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	faultProduce(t, broker, topic, []byte(`{"message":"before"}`))

	s, sink, _ := bombSource(t, broker, "g-bomblatest", topic, "latest")
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Shutdown(context.Background()) }()
	faultWait(t, 15*time.Second, "resolveStart's ListOffsets refused once", failed.Load)
	time.Sleep(3 * time.Second) // the reader has resolved "latest" itself
	produceBomb(t, broker, topic, 16)
	faultProduce(t, broker, topic, []byte(`{"message":"last"}`))
	faultWait(t, 90*time.Second, "the record after an oversized first batch (start_offset latest)", func() bool { return sink.saw(`"last"`) })
}
