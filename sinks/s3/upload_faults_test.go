package s3

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// reviewInterpose puts a proxy in front of srv that lets fn answer a request
// itself (fn returns true) or forwards it. It returns the proxy's URL.
func reviewInterpose(t *testing.T, srv *s3test.Server, fn func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { p.CloseClientConnections(); p.Close() })
	return p.URL
}

// TestCompleteMultipart200WithoutResultDeletesStagedObject
//
// Sequence: an object above part_size is staged and uploaded with a multipart
// upload; every UploadPart succeeds; CompleteMultipartUpload is answered the
// way S3 documents a late failure can look on the wire: "200 OK" (S3 sends
// the status at once, then keep-alive whitespace while it assembles the
// object) and then the connection closes before any
// <CompleteMultipartUploadResult> (or <Error>) arrives, so the body is only
// whitespace. The object was never completed.
//
// What happens: the SDK's 200-error check treats a body without a root
// element as success, the deserializer returns an empty output (no ETag, no
// Key), the transfer manager reports success, and upload() deletes the staged
// file. Close returns nil, nothing is reported, and the bucket does not hold
// the object: every event in it is gone, though its Write returned nil.
//
// What should happen: an upload counts as done only when S3 confirmed the
// object (a CompleteMultipartUpload result with an ETag, or a HeadObject of
// the key with the staged size/checksum); otherwise the object stays staged
// and is retried.
//
// Why it matters: the archive is the compliance copy and the staged file is
// its only copy; deleting it on an answer that never confirmed the object
// loses acknowledged events silently.
func TestCompleteMultipart200WithoutResultDeletesStagedObject(t *testing.T) {
	srv := s3test.New(t, testBucket)
	var mu sync.Mutex
	intercepted := false
	ep := reviewInterpose(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Query().Get("uploadId") == "" {
			return false // not CompleteMultipartUpload
		}
		mu.Lock()
		first := !intercepted
		intercepted = true
		mu.Unlock()
		if !first {
			return false // a retry goes through
		}
		_, _ = io.Copy(io.Discard, r.Body)
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return true
		}
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n" + strings.Repeat(" ", 16))
		_ = bw.Flush()
		_ = c.Close()
		return true
	})
	var errs errorLog
	a := newS3(t, srv, S3Config{PartSize: MinPartSize}, WithErrorHandler(errs.add), fastRetries(1),
		WithS3ClientOptions(func(o *awss3.Options) { o.BaseEndpoint = aws.String(ep) }))
	want := writeBig(t, a, rand.New(rand.NewPCG(7, 8)), "bulk", 12<<20) // > 2 parts
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cerr := a.Close(ctx)
	mu.Lock()
	if !intercepted {
		mu.Unlock()
		t.Fatal("no CompleteMultipartUpload: the object was not uploaded in parts")
	}
	mu.Unlock()
	_, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		files, _ := stagedFiles(t, a.StagingDir())
		t.Fatalf("bucket holds %d of the %d events written (Close = %v, staged files left %v, errors reported: %q): the staged object was deleted though S3 never completed it",
			len(lines), len(want), cerr, files, errs.String())
	}
}

// TestSweepAbortsUploadsOfNestedPrefix
//
// Sequence: two writers share a bucket with the same node name but different
// prefixes, "logs" and "logs/eu" (allowed: "node must be unique per bucket and
// prefix"). The "logs/eu" writer has a multipart upload in progress,
// logs/eu/priority=P1/.../node1-<start>-000001.ndjson.zst. The "logs" writer's
// janitor sweeps.
//
// What happens: the sweep lists uploads under staticPrefix() "logs/", which
// also covers "logs/eu/...", and matches only the file name
// "{node}-{start}", so it aborts the other writer's upload. That writer's
// CompleteMultipartUpload then fails with NoSuchUpload (a 404, reported as a
// Permanent error), and it must re-upload the whole object; the janitor does
// it again at every hourly sweep that finds an upload in progress.
//
// What should happen: the sweep aborts only keys this layout can render for
// this prefix (match the whole key against the template: the literal and
// placeholder segments between the prefix and the file name), sparing
// "logs/eu/...".
//
// Why it matters: the janitor must never abort another writer's upload in
// progress; here it turns a valid configuration into failed uploads and
// false permanent-error alerts for the other writer.
func TestSweepAbortsUploadsOfNestedPrefix(t *testing.T) {
	srv := s3test.New(t, testBucket)
	a := newS3(t, srv, S3Config{Prefix: "logs"})
	ctx := context.Background()
	mine := "logs/priority=P1/source_type=x/dt=2024-05-01/hour=13/node1-20240501T120000Z-000001.ndjson.zst"
	other := "logs/eu/priority=P1/source_type=x/dt=2024-05-01/hour=13/node1-20240501T120000Z-000001.ndjson.zst"
	for _, k := range []string{mine, other} {
		if _, err := srv.Client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// The janitor's start-up sweep may run meanwhile: sweep until this
	// writer's own upload is gone.
	waitFor(t, 30*time.Second, "the sweep", func() bool {
		if _, err := a.sweep(ctx); err != nil {
			t.Fatal(err)
		}
		for _, u := range srv.MultipartUploads(t, testBucket) {
			if u.Key == mine {
				return false
			}
		}
		return true
	})
	var left []string
	for _, u := range srv.MultipartUploads(t, testBucket) {
		left = append(left, u.Key)
	}
	if !slices.Equal(left, []string{other}) {
		t.Fatalf("the sweep of the writer with prefix \"logs\" left %q; want the \"logs/eu\" writer's upload %q spared", left, other)
	}
}
