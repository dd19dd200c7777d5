package s3

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestS3StagingBound: while S3 refuses every upload, Write stages until the
// objects waiting for upload hold max_staged_bytes, then refuses with a
// transient *StagingFullError and stages nothing more; once S3 is back and
// the backlog drained, the refused events are taken again and every event
// written is in the bucket exactly once.
func TestS3StagingBound(t *testing.T) {
	srv := s3test.New(t, testBucket)
	var mu sync.Mutex
	mode := s3test.Status503
	srv.SetFault(func(*s3test.Request) s3test.Fault {
		mu.Lock()
		defer mu.Unlock()
		return mode
	})
	a := newS3(t, srv, S3Config{MaxObjectBytes: 100, MaxStagedBytes: 600})
	var want []string
	var refused *pipeline.Batch
	var refusedLine string
	for i := 0; i < 100; i++ {
		line := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 200))
		b := mkBatch(t0, ev{line, pipeline.P2, "s", t0})
		err := a.Write(context.Background(), b)
		var full *StagingFullError
		if errors.As(err, &full) {
			if !strings.Contains(err.Error(), "max_staged_bytes") || full.Bytes < 600 {
				t.Fatalf("refusal: %v", err)
			}
			refused, refusedLine = b, line
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, line)
	}
	if refused == nil {
		t.Fatal("Write never refused while S3 was down")
	}
	files, bytes := a.Backlog()
	if bytes < 600 || bytes > 600+400 || files != len(want) {
		t.Fatalf("backlog %d files %d bytes after %d writes", files, bytes, len(want))
	}
	mu.Lock()
	mode = s3test.Forward
	mu.Unlock()
	waitFor(t, 30*time.Second, "the backlog to drain", func() bool { n, _ := a.Backlog(); return n == 0 })
	if err := a.Write(context.Background(), refused); err != nil {
		t.Fatalf("the refused batch, retried after the outage: %v", err)
	}
	want = append(want, refusedLine)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, lines := bucketLines(t, srv)
	sort.Strings(want)
	sort.Strings(lines)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bucket has %d lines, want %d", len(lines), len(want))
	}
}
