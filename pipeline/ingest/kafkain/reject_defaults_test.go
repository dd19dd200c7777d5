package kafkain

import (
	"errors"
	"testing"

	"github.com/segmentio/kafka-go"
)

// TestRejectKeepsTheTopicsSourceType: a record the input quarantines keeps
// its topic's source type, which `router quarantine replay` applies again
// (without it a replayed record had no source type: no profile, P3).
func TestRejectKeepsTheTopicsSourceType(t *testing.T) {
	p := &partition{s: &Source{cfg: Config{Name: "kafka"}}, ts: topicState{format: "json", defST: []byte("aws.cloudtrail")}}
	p.reject(&kafka.Message{Topic: "cloudtrail", Partition: 1, Offset: 7}, []byte("{bad"), "invalid_json", errors.New("x"))
	if len(p.rej) != 1 || p.rej[0].DefaultSourceType != "aws.cloudtrail" || p.rej[0].Peer != "cloudtrail/1@7" {
		t.Fatalf("rejected %+v, want the topic's source type aws.cloudtrail", p.rej)
	}
}
