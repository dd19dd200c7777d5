package s3

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestS3LongSourceTypesShareOnePartition
//
// docs/configuration.md (type s3, the DDL paragraph) tells Athena users how to
// find a source type's partition: "The partition holds the source type as the
// key has it, outside [A-Za-z0-9._-] replaced by _ ... every query must
// constrain it: WHERE source_type = '...'" (source_type is an injected
// projection: the value given is put into the path as it is).
//
// What happens: Sanitize also cuts the value at 64 bytes. Two source types
// that differ only after byte 64 (long Kafka topic or Event Hubs category
// names, which the Kafka input uses as source types) are written under one
// and the same source=... directory, and neither is where the documented
// mapping puts it: WHERE source_type = '<the name with _ for bad bytes>'
// reads an empty prefix, so the query returns no rows, silently.
//
// Expected: each source type has its own partition, at the value the
// documentation gives (or the documentation states the cut and the queries
// are told how to find the partition).
func TestS3LongSourceTypesShareOnePartition(t *testing.T) {
	srv := s3test.New(t, testBucket)
	a := newS3(t, srv, S3Config{})
	base := "prod-eu-west-1.security.crowdstrike-falcon-data-replicator.detections"
	st1, st2 := base+".v1", base+".v2" // 74 bytes each, clean by the documented rule
	if err := a.Write(context.Background(), mkBatch(t0,
		ev{`{"n":1}`, pipeline.P3, st1, t0},
		ev{`{"n":2}`, pipeline.P3, st2, t0})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	objects, _ := bucketLines(t, srv)
	var keys []string
	found := map[string]bool{}
	for k, content := range objects {
		keys = append(keys, k)
		for _, st := range []string{st1, st2} {
			n := `{"n":1}`
			if st == st2 {
				n = `{"n":2}`
			}
			// The documented partition value: the name itself (it holds only
			// [A-Za-z0-9._-]).
			if strings.Contains(k, "/source_type="+st+"/") && strings.Contains(content, n) {
				found[st] = true
			}
		}
	}
	if !found[st1] || !found[st2] {
		t.Fatalf("source types %q and %q: not at their documented partitions source=<name>; objects written: %q "+
			"(WHERE source_type = '<name>' finds nothing, and both source types share one partition)", st1, st2, keys)
	}
}
