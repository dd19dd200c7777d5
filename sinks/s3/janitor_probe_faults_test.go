package s3

// Fault tests from a review of the S3 upload path (s3archive.go,
// s3config.go): each failed before the fix of the bug it describes (the
// comments describe the code as it was found).

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// urvProxy puts a loopback proxy in front of srv. fn may answer a request
// itself (it returns true) or let it through to srv (false); it may also
// block first, to hold a request in flight.
func urvProxy(t *testing.T, srv *s3test.Server, fn func(w http.ResponseWriter, r *http.Request) bool) string {
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

// urvEndpoint points the archive's S3 client at ep (a urvProxy).
func urvEndpoint(ep string) Option {
	return WithS3ClientOptions(func(o *awss3.Options) { o.BaseEndpoint = aws.String(ep) })
}

// urvGate holds requests until opened (once; safe to open twice).
type urvGate struct {
	ch   chan struct{}
	once sync.Once
}

func newURVGate(t *testing.T) *urvGate {
	g := &urvGate{ch: make(chan struct{})}
	t.Cleanup(g.open) // never leave a handler blocked
	return g
}

func (g *urvGate) open() { g.once.Do(func() { close(g.ch) }) }

// TestSweepAbortsNestedPrefixOfSameDepth
//
// Setup: two writers share a bucket and a node name but not a prefix, which
// S3Config.Node allows ("unique among the writers to a bucket and prefix"):
// writer X has prefix "logs" and the default template; writer Y (say, the EU
// cluster) has prefix "logs/eu" and a template without {source_type}:
// "{prefix}/priority={priority}/dt={date}/hour={hour}/{node}-{start}-{seq}".
// Y has a multipart upload in progress.
//
// What happens: X's janitor (start-up and hourly sweep) lists uploads under
// staticPrefix() "logs/", which includes "logs/eu/...", and
// Layout.ownsKey accepts any key under it with the same number of '/' and a
// file name "{node}-{start}...". Y's keys have exactly as many segments as
// X's ("eu" takes the place of "source_type=..."), so X aborts Y's upload in
// progress; Y's next UploadPart or CompleteMultipartUpload fails with
// NoSuchUpload (reported Permanent), and Y has to send the whole object
// again. The depth check added for the "logs" / "logs/eu" case
// (TestSweepAbortsUploadsOfNestedPrefix) only covers templates of different
// depth.
//
// What should happen: ownsKey should match the key against the template
// segment by segment (literals such as "priority=" must match, {date} must
// parse, {prefix}'s segments must be exactly this prefix), so that only keys
// this layout can render are swept. Fix in layout.go, Layout.ownsKey.
func TestSweepAbortsNestedPrefixOfSameDepth(t *testing.T) {
	srv := s3test.New(t, testBucket)
	a := newS3(t, srv, S3Config{Prefix: "logs"})

	other := S3Config{Bucket: testBucket, StagingDir: "/s", Node: "node1", Prefix: "logs/eu",
		KeyTemplate: "{prefix}/priority={priority}/dt={date}/hour={hour}/{node}-{start}-{seq}"}
	if err := other.Validate(); err != nil {
		t.Fatalf("the other writer's configuration is refused: %v", err)
	}
	ly, err := NewLayout(other.withDefaults().Layout())
	if err != nil {
		t.Fatal(err)
	}
	theirs := ly.Key(Partition{Priority: pipeline.P1, SourceType: "x", Hour: HourOf(t0.UnixNano())}, t0, 1)
	mine := a.layout.Key(Partition{Priority: pipeline.P1, SourceType: "x", Hour: HourOf(t0.UnixNano())}, t0, 1)
	if strings.Count(theirs, "/") != strings.Count(mine, "/") || !strings.HasPrefix(theirs, "logs/eu/") {
		t.Fatalf("test setup: keys %q and %q should be equally deep", theirs, mine)
	}

	ctx := context.Background()
	if _, err := srv.Client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String(theirs)}); err != nil {
		t.Fatal(err)
	}
	n, err := a.sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := srv.MultipartUploads(t, testBucket)
	if n != 0 || len(left) != 1 || left[0].Key != theirs {
		t.Fatalf("the sweep of the writer with prefix \"logs\" aborted %d uploads and left %v: it aborted the \"logs/eu\" writer's upload in progress %q", n, left, theirs)
	}
}

// TestSweepAbortsOtherDestinationsUploadInFlight
//
// Setup: one router with two s3 destinations that write to the same bucket
// and prefix (say, P1 in STANDARD and the rest in GLACIER_IR, both under
// "logs"; the priority is part of the key). Nothing refuses this: S3Config
// cannot see the other destination, internal/config only checks that the
// staging directories do not overlap, and both destinations get the
// router's global `node`. Their keys cannot collide ({seq} is per process,
// shared by both: layout.go says so), so the configuration looks valid.
//
// What happens: each destination's janitor aborts every unfinished
// multipart upload under the prefix whose file name is "{node}-{start}...",
// sparing only the keys that *this* S3Archive is uploading
// (S3Archive.uploading). After a restart both destinations upload their
// backlog while both janitors run their start-up sweep, so one aborts the
// other's uploads in flight (and again at every hourly sweep that meets
// one). The victim's next UploadPart fails with NoSuchUpload, a 404 that
// IsPermanentS3Error reports as Permanent ("fix the bucket, credentials or
// settings"), so the operator is paged for nothing, and the whole object is
// sent again.
//
// What should happen: a sweep must never abort an upload in progress in this
// process. Keep the set of keys being uploaded per process (a package-level
// registry keyed by endpoint+bucket+key, consulted by uploading()), or have
// internal/config refuse two s3 destinations on one bucket and overlapping
// prefixes. NoSuchUpload during an upload is not a configuration error and
// should not be Permanent. Fix in s3archive.go, S3Archive.uploading/sweep
// (and IsPermanentS3Error).
func TestSweepAbortsOtherDestinationsUploadInFlight(t *testing.T) {
	srv := s3test.New(t, testBucket)
	gate := newURVGate(t)
	held := make(chan struct{}, 16)
	ep := urvProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2" {
			select {
			case held <- struct{}{}:
			default:
			}
			<-gate.ch
		}
		return false
	})
	hot := newS3(t, srv, S3Config{})
	var errs errorLog
	cold := newS3(t, srv, S3Config{PartSize: MinPartSize, StorageClass: "GLACIER_IR"},
		fastRetries(1), WithErrorHandler(errs.add), urvEndpoint(ep))
	writeBig(t, cold, rand.New(rand.NewPCG(5, 6)), "bulk", 12<<20) // one object of 3 parts
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		closed <- cold.Close(ctx)
	}()
	select {
	case <-held: // cold's multipart upload is in flight, part 2 on its way
	case <-time.After(10 * time.Second):
		t.Fatal("the multipart upload did not start")
	}
	inFlight := srv.MultipartUploads(t, testBucket)
	if len(inFlight) != 1 {
		t.Fatalf("test setup: uploads in flight %v", inFlight)
	}
	n, err := hot.sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	left := srv.MultipartUploads(t, testBucket)
	gate.open()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	_, permanent := errs.uploadErrors()
	if n != 0 || len(left) != 1 || permanent != 0 {
		t.Fatalf("the other destination's sweep aborted %d uploads (in flight before: %v, after: %v); the uploading destination reported %d permanent errors:\n%s",
			n, inFlight, left, permanent, errs.String())
	}
}

// TestOneFailureStallsUploadsBehindUnrelatedUpload
//
// Setup: upload_concurrency 4 (the default). A large object is being
// uploaded slowly (a big multipart upload on a thin link, or a connection
// that stalled and waits for the 5-minute-plus upload timeout). Meanwhile
// another object's PutObject gets one transient 503.
//
// What happens: finish() sets failures=1 and a backoff of 5-50 ms here (1 s
// in production), but next() treats "failures > 0 && inflight > 0" as "a
// probe is out": the slow upload, which began before the failure and is no
// probe, counts as one. Every worker then waits, without any timer, until
// some in-flight upload *succeeds*: the failed object is not retried and no
// other staged object is uploaded until the slow upload ends, however long
// that takes (up to its 5 min + 1 s/MiB timeout). One 503 thus freezes the
// archive for the length of an unrelated upload: the backlog grows, events
// reach S3 late (doc: "within about max_object_age plus the upload"), and
// Write may start refusing with StagingFullError.
//
// What should happen: after a failure, one probe (an upload *started* after
// the failure) goes out once the backoff has passed; uploads that were
// already in flight are not probes. Track the probe explicitly (a flag set
// in next() when an object is taken while failures > 0, cleared in finish()
// for that object) instead of inflight > 0. Fix in s3archive.go,
// S3Archive.next/finish.
func TestOneFailureStallsUploadsBehindUnrelatedUpload(t *testing.T) {
	srv := s3test.New(t, testBucket)
	gate := newURVGate(t)
	slowSeen := make(chan struct{}, 16)
	var mu sync.Mutex
	flakyPuts := 0
	ep := urvProxy(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		switch {
		case strings.Contains(r.URL.Path, "source_type=slow"):
			select {
			case slowSeen <- struct{}{}:
			default:
			}
			select { // a slow upload: 4 s, or until the test ends
			case <-gate.ch:
			case <-time.After(4 * time.Second):
			}
		case strings.Contains(r.URL.Path, "source_type=flaky"):
			mu.Lock()
			flakyPuts++
			first := flakyPuts == 1
			mu.Unlock()
			if first {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
				return true
			}
		}
		return false
	})
	var errs errorLog
	a := openS3(t, srv, S3Config{MaxObjectBytes: 1}, fastRetries(1), WithErrorHandler(errs.add), urvEndpoint(ep))
	defer func() {
		gate.open()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	}()
	// Every Write rolls its object (max_object_bytes 1) and queues it.
	write(t, a.local, mkBatch(t0, ev{`{"slow":1}`, pipeline.P1, "slow", t0}))
	select {
	case <-slowSeen:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow upload did not start")
	}
	start := time.Now()
	write(t, a.local, mkBatch(t0, ev{`{"flaky":1}`, pipeline.P1, "flaky", t0}))
	flakyUploaded := func() bool {
		for k := range srv.Objects(t, testBucket) {
			if strings.Contains(k, "source_type=flaky") {
				return true
			}
		}
		return false
	}
	// The backoff is 5-50 ms: 1.5 s is plenty for the retry.
	for time.Since(start) < 1500*time.Millisecond && !flakyUploaded() {
		time.Sleep(10 * time.Millisecond)
	}
	if !flakyUploaded() {
		mu.Lock()
		puts := flakyPuts
		mu.Unlock()
		t.Fatalf("1.5 s after one 503 (backoff 5-50 ms) the object was still not uploaded (%d PutObject attempts): every worker waits for an unrelated upload in flight to end; errors:\n%s", puts, errs.String())
	}
}

// TestUnusableBucketOrRegionPassesValidateAndIsTransient
//
// Setup: configurations that can never work, and that the SDK refuses
// before sending anything:
//   - "bucket: arn:aws:s3:::acme-archive", the bucket's ARN as IAM policies
//     write it (a common paste). Validate refuses "s3://..." and anything
//     with '/', but not this; the SDK's endpoint rules refuse a bucket ARN
//     ("Path-style addressing cannot be used with ARN buckets", or
//     "Invalid ARN" with virtual-hosted addressing).
//   - "region: eu_west_1" (underscores), which the SDK refuses as "invalid
//     input region".
//
// What happens: Validate and NewS3Archive accept both. Every upload then
// fails client-side; IsPermanentS3Error looks only for an S3 error code or
// an HTTP status, finds neither, and reports each attempt as a transient
// UploadError (logged at Warn "retrying with backoff", counted as
// logrouter_s3_upload_errors_total{permanent="false"}), forever. Nothing is
// lost (objects stay staged), but the alert meant for "someone must act"
// (Permanent) never fires, while the backlog fills staging_dir until
// max_staged_bytes stops the destination.
//
// What should happen: refuse such configurations up front: Validate should
// reject bucket values starting with "arn:" and regions that are not DNS
// labels ([a-z0-9-]); better, NewS3Archive should resolve the endpoint once
// (client.Options().EndpointResolverV2 with the bucket, region, endpoint
// and path style; no network) and fail with its error. At least,
// IsPermanentS3Error should treat errors raised before any HTTP response
// by endpoint resolution / parameter binding as Permanent. Fix in
// s3config.go, S3Config.Validate, and s3archive.go, NewS3Archive /
// IsPermanentS3Error.
func TestUnusableBucketOrRegionPassesValidateAndIsTransient(t *testing.T) {
	srv := s3test.New(t, testBucket)
	for _, c := range []struct {
		name           string
		bucket, region string
	}{
		{"bucket ARN", "arn:aws:s3:::" + testBucket, ""},
		{"region with underscores", "", "eu_west_1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := s3Config(t, srv, S3Config{Bucket: c.bucket})
			if c.region != "" {
				cfg.Region = c.region
			}
			if err := cfg.Validate(); err != nil {
				return // refused up front: fine
			}
			var errs errorLog
			a, err := NewS3Archive("arch", cfg, withoutStartDelay(), withBackoff(5*time.Millisecond, 50*time.Millisecond),
				WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), fastRetries(1), WithErrorHandler(errs.add))
			if err != nil {
				return // refused at start: fine
			}
			write(t, a.local, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			cerr := a.Close(ctx)
			cancel()
			if cerr == nil {
				return // uploaded after all: fine
			}
			transient, permanent := errs.uploadErrors()
			var first error
			errs.mu.Lock()
			for _, e := range errs.errs {
				var ue *UploadError
				if errors.As(e, &ue) {
					first = ue
					break
				}
			}
			errs.mu.Unlock()
			if transient > 0 || permanent == 0 {
				t.Fatalf("bucket %q region %q passed Validate and NewS3Archive; the upload can never work, yet %d attempts were reported as transient and %d as permanent; first: %v",
					cfg.Bucket, cfg.Region, transient, permanent, first)
			}
		})
	}
}

// TestOwnsKeyOfItsOwnKeys: the janitor's ownsKey, now a match of the whole
// template, takes every key its own layout renders (else it would never
// abort its own orphaned uploads), and none of a nested prefix's.
func TestOwnsKeyOfItsOwnKeys(t *testing.T) {
	start := time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC)
	for _, tmpl := range []string{
		"", // the default
		"{prefix}/priority={priority}/dt={date}/hour={hour}/{node}-{start}-{seq}.ndjson.zst",
		"{prefix}/{source_type}/{date}/{node}-{start}-{seq}.ndjson.gz",
		"{prefix}/dt={date}/{source_type}-{priority}/{node}-{start}_{seq}.ndjson.zst",
	} {
		comp := CompressionZstd
		if strings.HasSuffix(tmpl, ".gz") {
			comp = "gzip"
		}
		l, err := NewLayout(LayoutConfig{Prefix: "logs/eu", Node: "ip-10-0-0-5", KeyTemplate: tmpl, Compression: comp})
		if err != nil {
			t.Fatalf("%q: %v", tmpl, err)
		}
		if err := l.checkS3(); err != nil {
			t.Fatalf("%q: not an s3 template: %v", tmpl, err)
		}
		outer, err := NewLayout(LayoutConfig{Prefix: "logs", Node: "ip-10-0-0-5", KeyTemplate: tmpl, Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []Partition{
			{Priority: pipeline.P1, SourceType: "crowdstrike.falcon", Hour: HourOf(start.UnixNano())},
			{Priority: pipeline.P3, SourceType: "a b/c:d", Hour: HourOf(0)},
			{Priority: pipeline.PriorityNone, SourceType: "x", Hour: HourOf(start.UnixNano())},
		} {
			for _, seq := range []uint64{1, 999999, 1234567} {
				key := l.Key(p, start, seq)
				if !l.ownsKey(key) {
					t.Errorf("%q: its own key %s is not owned", tmpl, key)
				}
				if outer.ownsKey(key) && strings.Count(key, "/") == strings.Count(outer.Key(p, start, seq), "/") {
					t.Errorf("%q: the key %s of prefix logs/eu is owned by prefix logs", tmpl, key)
				}
			}
		}
	}
}
