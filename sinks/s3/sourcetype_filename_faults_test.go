package s3

import (
	"context"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSourceTypeInFileNameTooLong: {source_type} may be in the
// file name (Validate accepts the template, and longestKey checks only the
// 1024-byte S3 limit). Since source types are cut at 200 bytes rather than
// 64, a long source type makes the local file name longer than the
// filesystem's 255-byte NAME_MAX: the archive accepted the configuration
// but every Write of that source type fails (ENAMETOOLONG), and the queue
// retries it forever. With the old 64-byte cut the same name was ~130
// bytes. Expected: Write succeeds (or the template is refused at load).
func TestSourceTypeInFileNameTooLong(t *testing.T) {
	a := newArchive(t, Config{
		Node:        "logrouter-7d9f8c6b5-x2k4q",
		KeyTemplate: "{prefix}/dt={date}/{source_type}-{node}-{start}-{seq}",
	})
	st := "prod-eu-west-1.security." + strings.Repeat("crowdstrike-falcon-data-replicator.", 6)
	st = st[:200]
	err := a.Write(context.Background(), mkBatch(t0, ev{`{"n":1}`, pipeline.P3, st, t0}))
	if err != nil {
		t.Fatalf("config accepted by New, but a Write with a %d-byte source type fails: %v", len(st), err)
	}
}
