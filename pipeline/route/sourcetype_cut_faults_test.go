package route_test

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

// addHECSourceType adds {"message":"x"} with a HEC envelope's sourcetype st
// and returns a copy of the event.
func addHECSourceType(t *testing.T, w *route.Worker, st string) pipeline.Event {
	t.Helper()
	b := pipeline.NewBatch()
	b.Meta.Input = "test"
	if err := w.Add(b, fastjson.MustParse(`{"message":"x"}`), nil, &normalize.EventMeta{Time: 1, SourceType: []byte(st)}); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 {
		t.Fatalf("%d events", len(b.Events))
	}
	ev := b.Events[0]
	ev.Raw = append([]byte(nil), ev.Raw...)
	ev.SourceType = strings.Clone(ev.SourceType)
	b.Release()
	return ev
}

// TestLongSourceTypesStayApart (review of 46bb6b6)
//
// Fault: boundSourceType cuts a source type to its first 256 bytes and
// nothing else, so two different source types that share those bytes
// become one: the same SourceType (index, S3 partition, dedup counter), the
// same event.dataset in the event, and so, for the same payload, the same
// content Hash, which is the dedup key and the OpenSearch _id. With dedup
// on, the second event is dropped as a repeat of the first (acknowledged,
// never delivered); in OpenSearch it is a 409 counted delivered. The
// engine's own boundLabel, for the same reason, keeps distinct values apart
// with a hash of the whole; boundSourceType does not.
//
// Expected: events whose source types differ stay different (Hash and
// event.dataset), e.g. by cutting to 256-9 bytes plus a hash of the whole,
// as boundLabel does.
//
// Actual: identical Raw, identical Hash.
//
// Severity: low (needs source types over 256 bytes, which a HEC sender or
// an edge event's event.dataset controls).
func TestLongSourceTypesStayApart(t *testing.T) {
	w := testengine.Router(t, "", normalize.DefaultConfig(), "archive").NewWorker()
	p := strings.Repeat("s", normalize.MaxSourceTypeBytes)
	a := addHECSourceType(t, w, p+":firewall")
	b := addHECSourceType(t, w, p+":proxy")
	if a.Hash == b.Hash || a.SourceType == b.SourceType {
		t.Errorf("two different source types (…:firewall, …:proxy) became one: SourceType equal %v, Hash %016x and %016x (the dedup key: the second is dropped as a repeat of the first)\nraw a: %s\nraw b: %s",
			a.SourceType == b.SourceType, a.Hash, b.Hash, a.Raw, b.Raw)
	}
}

// TestInvalidUTF8SourceTypeNotCutToEmpty (review of 46bb6b6)
//
// Fault: boundSourceType steps back over UTF-8 continuation bytes without
// bound (a rune has at most 3 of them), so a long source type that is not
// UTF-8 (continuation bytes 0x80-0xBF: Latin-1/CP1252 text such as
// "°±²³µ·") is cut to nothing. The cut runs after the fallback to
// "unknown", so the event gets an empty SourceType and no event.dataset at
// all, which nothing else produces (the same source type of 200 bytes is
// kept, with U+FFFD in event.dataset).
//
// Expected: a non-empty source type (at most 3 bytes stepped back, or
// "unknown"), and event.dataset present.
//
// Actual: SourceType "" and no event.dataset.
//
// Severity: low.
func TestInvalidUTF8SourceTypeNotCutToEmpty(t *testing.T) {
	w := testengine.Router(t, "", normalize.DefaultConfig(), "archive").NewWorker()
	short := addHECSourceType(t, w, strings.Repeat("\xb0", 200))
	long := addHECSourceType(t, w, strings.Repeat("\xb0", 300))
	if short.SourceType == "" || !strings.Contains(string(short.Raw), `"dataset"`) {
		t.Fatalf("control: 200-byte source type gave %q, raw %s", short.SourceType, short.Raw)
	}
	if long.SourceType == "" || !strings.Contains(string(long.Raw), `"dataset"`) {
		t.Errorf("a 300-byte non-UTF-8 source type is cut to %q and the event has no event.dataset: %s", long.SourceType, long.Raw)
	}
}
