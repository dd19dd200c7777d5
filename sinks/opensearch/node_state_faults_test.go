package opensearch

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestOSClosedIndexQuarantined: OpenSearch refuses a write to a closed
// index (POST /x/_close, ISM's "close" action, an operator's maintenance)
// with a per-item
//
//	{"status":400,"error":{"type":"index_closed_exception","reason":"closed","index":"x"}}
//
// (IndexClosedException.status() is RestStatus.BAD_REQUEST; TransportBulkAction
// fails each item of a closed index with it). That is the cluster's state,
// not the document's: the same event is accepted as soon as the index is
// opened again. doc.go puts such refusals ("an index OpenSearch will not
// create, ... a write block; they last until an operator acts, and
// quarantining would move a whole day of events aside") among the ones that
// are retried and logged at error level. classifyItem/clusterState only know
// 404 index_not_found, write blocks, the shard limit and a missing write
// alias, so index_closed_exception falls into "400: permanent": every event
// for that index is quarantined, silently.
func TestOSClosedIndexQuarantined(t *testing.T) {
	c := newRVCluster(t, func(w http.ResponseWriter, acts []rvAction) {
		rvBulkAnswer(w, acts, func(k int, a rvAction) (int, string) {
			return 400, `{"type":"index_closed_exception","reason":"closed","index":"` + a.index + `","index_uuid":"2Zq3f0xRQ1mYk0Yb7cQ1Zg"}`
		})
	})
	logs := new(syncBuffer)
	s := rvSink(t, c, Config{}, logs)
	b := makeBatch(t, 1, 20, time.Second)
	defer b.Release()
	err := s.Write(context.Background(), b)
	perm, retry := rvOutcomes(err, len(b.Events))
	if len(perm) != 0 || len(retry) != len(b.Events) {
		t.Fatalf("index closed: %d of %d events quarantined as permanent, %d retryable; want all retryable (the index state, fixed by reopening it) (err: %.300v)",
			len(perm), len(b.Events), len(retry), err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("closed index retried but not logged at error level:\n%s", logs.String())
	}
}

// TestOSUnavailableNodeNeverSkipped: doc.go says requests "go through
// the opensearch-go client, which spreads them over the urls and skips
// nodes that fail until they answer health checks again" (configuration.md:
// "failed nodes skipped until healthy"). With DisableRetry the client marks a
// node dead only on a transport error: a node that answers 503 (a node cut
// off from the cluster manager: master_not_discovered / NO_MASTER block, a
// node shutting down behind a load balancer answering 502/503) counts as a
// success and stays in the round-robin. Every other bulk request goes to it
// and fails whole; the queue backs the whole batch off each time. The same
// scenario with the node refusing connections (TestMultipleURLsFailover)
// costs one failed Write; here half of all Writes fail, for as long as the
// node stays in that state.
func TestOSUnavailableNodeNeverSkipped(t *testing.T) {
	bad := osfake.New()
	t.Cleanup(bad.Close)
	bad.SetUnavailable(http.StatusServiceUnavailable)
	srv := osfake.New()
	t.Cleanup(srv.Close)
	e := newEnvOn(t, srv, Config{URLs: []string{bad.URL, srv.URL}})
	writes := 0
	for i := range 6 {
		b := makeBatch(t, int64(10+i), 50, time.Second)
		d := deliver(t, e.sink, b, 20, nil)
		if len(d.perm) != 0 {
			t.Fatal(d.perm)
		}
		writes += d.writes
		b.Release()
	}
	if len(srv.Docs()) != 300 {
		t.Fatalf("%d docs, want 300", len(srv.Docs()))
	}
	// As with a node that refuses connections: at most a couple of failed
	// Writes before the failing node is skipped.
	if writes > 8 {
		t.Fatalf("%d Writes for 6 batches: the node answering 503 got %d bulk requests and was never skipped", writes, bad.TotalRequests())
	}
}
