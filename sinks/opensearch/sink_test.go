package opensearch

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// checkStored verifies that every event of b not in skip is stored exactly
// once, in its index, under its hash, byte for byte, with version 1 (never
// overwritten), and that nothing else is stored.
func checkStored(t *testing.T, e *env, b *pipeline.Batch, tmpl string, skip map[int]pipeline.ItemError) {
	t.Helper()
	docs := e.srv.Docs()
	want := len(b.Events) - len(skip)
	if len(docs) != want {
		t.Fatalf("%d documents stored, want %d", len(docs), want)
	}
	for i := range b.Events {
		ev := &b.Events[i]
		idx, err := IndexName(tmpl, ev.SourceType, ev.Priority, ev.Time)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := e.srv.Doc(idx, DocumentID(ev.Hash))
		if _, skipped := skip[i]; skipped {
			if ok {
				t.Fatalf("event %d failed permanently but is stored", i)
			}
			continue
		}
		if !ok {
			t.Fatalf("event %d (%s/%s) lost", i, idx, DocumentID(ev.Hash))
		}
		if !bytes.Equal(d.Source, ev.Raw) {
			t.Fatalf("event %d stored as %s, want %s", i, d.Source, ev.Raw)
		}
		if d.Version != 1 {
			t.Fatalf("event %d has version %d: it was written twice", i, d.Version)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, gz := range []bool{true, false} {
		name := "gzip"
		if !gz {
			name = "plain"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Config{Gzip: &gz})
			var gzipHeader, filtered atomic.Int64
			e.srv.SetRequestHook(func(r *http.Request) {
				if r.URL.Path == "/_bulk" && r.Header.Get("Content-Encoding") == "gzip" {
					gzipHeader.Add(1)
				}
				// The answer is cut to what the sink reads; status keeps
				// every item in it.
				if f := osfake.ParseFilterPath(r.URL.Query().Get("filter_path")); r.URL.Path == "/_bulk" && f != nil &&
					f.Keeps("items", "create", "status") && f.Keeps("items", "create", "_id") && !f.Keeps("items", "create", "_shards") {
					filtered.Add(1)
				}
			})
			// About 2.5 MB over two days: split in 4 concurrent requests.
			b := makeBatch(t, 1, 3000, 3*time.Second)
			defer b.Release()
			if err := e.sink.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			checkStored(t, e, b, DefaultIndex, nil)
			if n := len(e.srv.Indices()); n < 20 {
				t.Fatalf("only %d indices: %v", n, e.srv.Indices())
			}
			for _, ix := range e.srv.Indices() {
				if !strings.HasSuffix(ix, "-2026.11.28") && !strings.HasSuffix(ix, "-2026.11.29") {
					t.Fatalf("index %q is not a daily index of the events' days", ix)
				}
			}
			all, gzipped := e.srv.BulkRequests()
			if all != 4 {
				t.Fatalf("%d bulk requests, want 4 concurrent pieces of a 2.5 MB batch", all)
			}
			if want := map[bool]int{true: all, false: 0}[gz]; gzipped != want || int(gzipHeader.Load()) != want {
				t.Fatalf("gzip %v: %d of %d bulk bodies gzipped (header on %d)", gz, gzipped, all, gzipHeader.Load())
			}
			if e.srv.BulkItems() != len(b.Events) {
				t.Fatalf("%d items sent for %d events", e.srv.BulkItems(), len(b.Events))
			}
			if int(filtered.Load()) != all {
				t.Fatalf("%d of %d bulk requests asked for a filtered answer (filter_path)", filtered.Load(), all)
			}
			if i, c, r, q := e.counts(); i != len(b.Events) || c+r+q != 0 {
				t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d", i, c, r, q)
			}
		})
	}
}

func TestRetryOnlyFailedItems429(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetItemFaults(osfake.ItemFaults{Seed: 3, Rate429: 0.5})
	b := makeBatch(t, 2, 2000, time.Second)
	defer b.Release()
	d := deliver(t, e.sink, b, 100, func(round int) {
		if round == 4 { // the cluster recovers after a while
			e.srv.SetItemFaults(osfake.ItemFaults{})
		}
	})
	if len(d.perm) != 0 {
		t.Fatalf("%d permanent failures", len(d.perm))
	}
	if d.writes < 3 || d.retryable < len(b.Events)/2 {
		t.Fatalf("faults did not bite: %d writes, %d retried", d.writes, d.retryable)
	}
	checkStored(t, e, b, DefaultIndex, nil)
	// Only failed items were sent again: the fake saw exactly what the
	// loop gave to Write, and each event once plus once per 429.
	if got := e.srv.BulkItems(); got != d.sent || d.sent != len(b.Events)+d.retryable {
		t.Fatalf("fake saw %d items, Write was given %d, events+retries = %d", got, d.sent, len(b.Events)+d.retryable)
	}
	for i := range b.Events {
		ev := &b.Events[i]
		idx, _ := IndexName(DefaultIndex, ev.SourceType, ev.Priority, ev.Time)
		if got, want := e.srv.Attempts(idx, DocumentID(ev.Hash)), 1+d.retried[i]; got != want {
			t.Fatalf("event %d sent %d times, want %d", i, got, want)
		}
	}
	indexed, conflict, retried, quarantined := e.counts()
	if indexed != len(b.Events) || conflict != 0 || retried != d.retryable || quarantined != 0 {
		t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d; want %d 0 %d 0", indexed, conflict, retried, quarantined, len(b.Events), d.retryable)
	}
}

func TestPermanent400(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetItemFaults(osfake.ItemFaults{Seed: 5, Rate400: 0.01, Rate429: 0.2})
	b := makeBatch(t, 3, 3000, time.Second)
	defer b.Release()
	d := deliver(t, e.sink, b, 100, nil)
	rejected := e.srv.Rejected()
	if len(rejected) < 10 || len(d.perm) != len(rejected) {
		t.Fatalf("%d permanent items, the fake rejected %d", len(d.perm), len(rejected))
	}
	ids := map[string]bool{}
	for _, r := range rejected {
		ids[r.ID] = true
	}
	for i, it := range d.perm {
		if !ids[DocumentID(b.Events[i].Hash)] {
			t.Fatalf("event %d reported permanent but the fake did not reject it", i)
		}
		var oe *Error
		if it.Status != 400 || !errors.As(it.Err, &oe) || oe.Type != "mapper_parsing_exception" || !oe.Item ||
			!strings.Contains(it.Err.Error(), "failed to parse field") {
			t.Fatalf("permanent item %d: status %d err %v", i, it.Status, it.Err)
		}
	}
	checkStored(t, e, b, DefaultIndex, d.perm)
	indexed, conflict, retried, quarantined := e.counts()
	if quarantined != len(d.perm) || indexed != len(b.Events)-len(d.perm) || retried != d.retryable || conflict != 0 {
		t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d; want %d 0 %d %d",
			indexed, conflict, retried, quarantined, len(b.Events)-len(d.perm), d.retryable, len(d.perm))
	}
	// The ledger: every event given to Write has exactly one outcome.
	if indexed+conflict+retried+quarantined != d.sent {
		t.Fatalf("outcomes %d != events written %d", indexed+conflict+retried+quarantined, d.sent)
	}
}

func TestMarkerAndMappingRejections(t *testing.T) {
	e := newEnv(t, Config{Index: "logs"})
	e.srv.SetRejectMarker("poison")
	e.srv.SetFieldType("source.port", "integer")
	b := pipeline.NewBatch()
	defer b.Release()
	for i, raw := range []string{`{"a":1}`, `{"poison":true}`, `{"source":{"port":"ssh"}}`, `{"source":{"port":22}}`, ``, "{\"a\":\n2}"} {
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Hash: uint64(i + 1), Time: baseTime.UnixNano(), Ingest: baseTime.UnixNano(), SourceType: "x"})
	}
	err := e.sink.Write(context.Background(), b)
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write = %v, want a BatchError", err)
	}
	var got []int
	for _, it := range be.Items {
		if !pipeline.IsPermanent(it.Err) {
			t.Fatalf("item %d retryable: %v", it.Index, it.Err)
		}
		got = append(got, it.Index)
	}
	if !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("failed items %v, want [1 2 4]: %v", got, be)
	}
	// A raw newline (whitespace) is sent as a space, on one line.
	if d, ok := e.srv.Doc("logs", DocumentID(6)); !ok || string(d.Source) != `{"a": 2}` {
		t.Fatalf("event with a newline stored as %q", d.Source)
	}
	if i, c, r, q := e.counts(); i != 3 || q != 3 || c+r != 0 {
		t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d", i, c, r, q)
	}
}

func TestClusterDownThenBack(t *testing.T) {
	e := newEnv(t, Config{})
	b := makeBatch(t, 4, 500, time.Second)
	defer b.Release()
	ctx := context.Background()

	e.srv.SetUnavailable(http.StatusServiceUnavailable)
	err := e.sink.Write(ctx, b)
	var be *pipeline.BatchError
	if err == nil || pipeline.IsPermanent(err) || errors.As(err, &be) {
		t.Fatalf("cluster down: Write = %v, want one retryable error", err)
	}
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 503 || oe.Item {
		t.Fatalf("cluster down: %v", err)
	}
	e.srv.SetUnavailable(0)

	e.srv.SetDropConnections(true)
	if err := e.sink.Write(ctx, b); err == nil || pipeline.IsPermanent(err) || errors.As(err, &be) {
		t.Fatalf("connections dropped: Write = %v, want one retryable error", err)
	}
	e.srv.SetDropConnections(false)

	e.srv.FailNext(1, http.StatusTooManyRequests)
	if err := e.sink.Write(ctx, b); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("429: Write = %v, want a retryable error", err)
	}
	if err := e.sink.Write(ctx, b); err != nil {
		t.Fatalf("cluster back: %v", err)
	}
	checkStored(t, e, b, DefaultIndex, nil)
	if i, c, r, q := e.counts(); i != 500 || r != 1500 || c+q != 0 {
		t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d", i, c, r, q)
	}
}

func TestWholeRequest400IsPermanent(t *testing.T) {
	e := newEnv(t, Config{})
	b := makeBatch(t, 5, 10, time.Second)
	defer b.Release()
	e.srv.FailNext(1, http.StatusBadRequest)
	err := e.sink.Write(context.Background(), b)
	if !pipeline.IsPermanent(err) {
		t.Fatalf("whole-request 400: Write = %v, want a permanent error", err)
	}
	if _, _, r, q := e.counts(); q != 10 || r != 0 {
		t.Fatalf("metrics retried %d quarantined %d", r, q)
	}
}

func TestAuthFailureRetryableAndLoud(t *testing.T) {
	srv := osfake.New(osfake.WithBasicAuth("logrouter", "right"))
	t.Cleanup(srv.Close)
	e := newEnvOn(t, srv, Config{Username: "logrouter", Password: "wrong"})
	b := makeBatch(t, 6, 10, time.Second)
	defer b.Release()
	for range 3 {
		err := e.sink.Write(context.Background(), b)
		var oe *Error
		if err == nil || pipeline.IsPermanent(err) || !errors.As(err, &oe) || oe.Status != 401 {
			t.Fatalf("401: Write = %v, want a retryable 401", err)
		}
	}
	logs := e.logs.String()
	if strings.Count(logs, "level=ERROR") != 1 || !strings.Contains(logs, "credentials") || !strings.Contains(logs, "security_exception") {
		t.Fatalf("401s must be logged loudly, once per 10s:\n%s", logs)
	}
	// The credentials are fixed: same events, delivered.
	e2 := newEnvOn(t, srv, Config{Username: "logrouter", Password: "right"})
	if err := e2.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(srv.Docs()) != 10 {
		t.Fatalf("%d docs", len(srv.Docs()))
	}
}

func TestRetriedItemAlreadyIndexedIs409Delivered(t *testing.T) {
	e := newEnv(t, Config{})
	b := makeBatch(t, 7, 400, time.Second)
	defer b.Release()
	ctx := context.Background()
	// The answer is lost after the cluster indexed everything.
	e.srv.FailAfterIndexingNext(1, http.StatusBadGateway)
	if err := e.sink.Write(ctx, b); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("lost answer: Write = %v, want a retryable error", err)
	}
	// Half of the events were indexed by another attempt too.
	var v pipeline.Batch
	if err := e.sink.Write(ctx, b.View(&v, b.Events[:200])); err != nil {
		t.Fatalf("re-Write of indexed events = %v, want nil (409 counts as delivered)", err)
	}
	if err := e.sink.Write(ctx, b); err != nil {
		t.Fatalf("re-Write = %v", err)
	}
	checkStored(t, e, b, DefaultIndex, nil)
	indexed, conflict, retried, quarantined := e.counts()
	if indexed != 0 || conflict != 600 || retried != 400 || quarantined != 0 {
		t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d; want 0 600 400 0", indexed, conflict, retried, quarantined)
	}
	// op_type index overwrites instead: no conflict, version 2.
	e2 := newEnvOn(t, e.srv, Config{OpType: OpIndex})
	if err := e2.sink.Write(ctx, b.View(&v, b.Events[:1])); err != nil {
		t.Fatal(err)
	}
	ev := &b.Events[0]
	idx, _ := IndexName(DefaultIndex, ev.SourceType, ev.Priority, ev.Time)
	if d, _ := e.srv.Doc(idx, DocumentID(ev.Hash)); d.Version != 2 {
		t.Fatalf("op_type index: version %d, want 2", d.Version)
	}
}

func TestSplitOn413(t *testing.T) {
	for _, gz := range []bool{true, false} {
		e := newEnv(t, Config{Gzip: &gz}, osfake.WithMaxContentLength(64<<10))
		b := makeBatch(t, 8, 600, time.Second) // about 450 KB: one request
		// One event larger than the cluster takes in a request.
		big := `{"message":"` + strings.Repeat("x", 70<<10) + `"}`
		b.Commit(append(b.Arena(), big...), pipeline.Event{Hash: 42, Time: baseTime.UnixNano(), Ingest: baseTime.UnixNano(), SourceType: "big"})
		err := e.sink.Write(context.Background(), b)
		var be *pipeline.BatchError
		if !errors.As(err, &be) || len(be.Items) != 1 || be.Items[0].Index != 600 || be.Items[0].Status != 413 || !pipeline.IsPermanent(be.Items[0].Err) {
			t.Fatalf("gzip %v: Write = %v, want the big event alone permanent with 413", gz, err)
		}
		checkStored(t, e, b, DefaultIndex, map[int]pipeline.ItemError{600: be.Items[0]})
		splits := int(promtest.ToFloat64(e.m.Splits.WithLabelValues("os")))
		if splits < 8 {
			t.Fatalf("gzip %v: %d splits", gz, splits)
		}
		if e.srv.BulkItems() != 600 {
			t.Fatalf("gzip %v: the fake processed %d items, want each of 600 once", gz, e.srv.BulkItems())
		}
		b.Release()
	}
}

func TestMultipleURLsFailover(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	srv := osfake.New()
	t.Cleanup(srv.Close)
	e := newEnvOn(t, srv, Config{URLs: []string{deadURL, srv.URL}})
	writes := 0
	for i := range 6 {
		b := makeBatch(t, int64(10+i), 50, time.Second)
		d := deliver(t, e.sink, b, 10, nil)
		if len(d.perm) != 0 {
			t.Fatal(d.perm)
		}
		writes += d.writes
		b.Release()
	}
	// Requests go round-robin: the dead node failed at least one Write
	// (retryable), and is skipped afterwards.
	if writes < 7 || writes > 8 {
		t.Fatalf("%d Writes for 6 batches", writes)
	}
	if len(srv.Docs()) != 300 {
		t.Fatalf("%d docs, want 300", len(srv.Docs()))
	}
}

func TestSigV4(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var auth, sha string
	srv.SetRequestHook(func(r *http.Request) {
		if r.URL.Path == "/_bulk" {
			mu.Lock()
			auth, sha = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Content-Sha256")
			mu.Unlock()
		}
	})
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Source: "test"}, nil
	})
	e := newEnvOn(t, srv, Config{AWSSigV4: &AWSSigV4Config{Region: "eu-west-1", Service: "aoss"}},
		WithAWSConfig(aws.Config{Credentials: creds}))
	b := makeBatch(t, 9, 20, time.Second)
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/aoss/aws4_request") || len(sha) != 64 {
		t.Fatalf("not signed: Authorization %q X-Amz-Content-Sha256 %q", auth, sha)
	}
	if len(srv.Docs()) != 20 {
		t.Fatalf("%d docs", len(srv.Docs()))
	}
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentRequests: 2})
	// Each request takes 20ms at the fake; the hook counts it in flight for
	// the first 4ms only, so a request that follows a finished one never
	// overlaps it even when the decrement's timer runs late on a loaded
	// machine (with a 5ms delay a 1ms lag counted 3 in flight).
	e.srv.SetDelay(20 * time.Millisecond)
	var inflight, peak atomic.Int64
	e.srv.SetRequestHook(func(r *http.Request) {
		if r.URL.Path == "/_bulk" {
			n := inflight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.AfterFunc(4*time.Millisecond, func() { inflight.Add(-1) })
		}
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			b := makeBatch(t, int64(100+g), 100, time.Second)
			defer b.Release()
			if err := e.sink.Write(context.Background(), b); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(e.srv.Docs()) != 800 {
		t.Fatalf("%d docs", len(e.srv.Docs()))
	}
	if peak.Load() > 2 {
		t.Fatalf("%d bulk requests in flight, max_concurrent_requests is 2", peak.Load())
	}
}

func TestCloseAndCancel(t *testing.T) {
	e := newEnv(t, Config{})
	b := makeBatch(t, 11, 10, time.Second)
	defer b.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.sink.Write(ctx, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled ctx: %v", err)
	}
	e.srv.SetDelay(time.Second)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := e.sink.Write(ctx, b)
	if err == nil || pipeline.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx deadline: %v", err)
	}
	e.srv.SetDelay(0)
	if err := e.sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.sink.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := e.sink.Write(context.Background(), b); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
	if e.sink.Name() != "os" {
		t.Fatal(e.sink.Name())
	}
}

func TestEmptyBatch(t *testing.T) {
	e := newEnv(t, Config{})
	b := pipeline.NewBatch()
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if e.srv.TotalRequests() != 0 {
		t.Fatal("an empty batch sent a request")
	}
}

func TestTLS(t *testing.T) {
	srv := osfake.New(osfake.WithTLS())
	t.Cleanup(srv.Close)
	ca := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(ca, srv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	b := makeBatch(t, 12, 10, time.Second)
	defer b.Release()
	// Without the CA the certificate is refused, retryably.
	e := newEnvOn(t, srv, Config{})
	if err := e.sink.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown CA: Write = %v", err)
	}
	e = newEnvOn(t, srv, Config{TLS: &TLSConfig{CAFile: ca}})
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	e = newEnvOn(t, srv, Config{TLS: &TLSConfig{InsecureSkipVerify: true}})
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if len(srv.Docs()) != 10 {
		t.Fatalf("%d docs", len(srv.Docs()))
	}
	if _, err := New("os", Config{URLs: []string{srv.URL}, TLS: &TLSConfig{CAFile: t.TempDir() + "/missing.pem"}}); err == nil {
		t.Fatal("New accepted a missing ca_file")
	}
}
