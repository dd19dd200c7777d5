package opensearch

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestIndexTemplateNonASCIIUpperCase: parseIndexTemplate (index.go),
// which Config.Validate and New use, refuses upper case in the literal text
// of "index" only for the ASCII letters A-Z, although its own message says
// "OpenSearch refuses upper case index names". OpenSearch checks
// index.toLowerCase(Locale.ROOT).equals(index), so an "index" such as
// "logs-Ärzte-{yyyy.MM.dd}" (or any literal holding a non-ASCII capital)
// passes `router validate` and New, and then every single bulk item is
// answered 400 invalid_index_name_exception: every P2 event of the
// destination is reported permanent and quarantined instead of indexed,
// silently and for good, from the first Write on.
//
// Sequence: New with index "logs-Ärzte-{yyyy.MM.dd}" against osfake (which
// implements OpenSearch's index name rules), Write one batch.
// Expected: the configuration is refused up front (Validate/New return an
// error naming "index"), as it is for "logs-Aerzte-...". Found: New
// accepts it and every event is quarantined.
func TestIndexTemplateNonASCIIUpperCase(t *testing.T) {
	const index = "logs-Ärzte-{yyyy.MM.dd}"
	if err := (Config{URLs: []string{"http://127.0.0.1:9200"}, Index: index}).Validate(); err != nil {
		return // refused up front: fixed
	}
	srv := osfake.New()
	t.Cleanup(srv.Close)
	s, err := New("os", Config{URLs: []string{srv.URL}, Index: index}, WithMetrics(NewMetrics(nil)))
	if err != nil {
		return // refused up front: fixed
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	b := makeBatch(t, 1, 5, time.Second)
	defer b.Release()
	now := time.Now().UnixNano()
	for i := range b.Events {
		b.Events[i].Time, b.Events[i].Ingest = now, now
	}
	err = s.Write(context.Background(), b)
	var be *pipeline.BatchError
	perm := 0
	if errors.As(err, &be) {
		for _, it := range be.Items {
			if pipeline.IsPermanent(it.Err) {
				perm++
			}
		}
	} else if pipeline.IsPermanent(err) {
		perm = len(b.Events)
	}
	t.Errorf(`index %q passed Validate and New, and then Write quarantined %d of %d events (err: %v; the server refused: %+v): a literal with a non-ASCII capital must be refused by Validate like "A"-"Z" are, since OpenSearch refuses every such index name`,
		index, perm, len(b.Events), err, srv.Rejected())
}
