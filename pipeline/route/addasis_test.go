package route_test

import (
	"bytes"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestAddAsIs: a record a destination refused, replayed to it, used to be
// normalized again, which is not the identity (the crowdstrike profile
// moved its event.* fields under crowdstrike.event), and got a new content
// hash, so a new OpenSearch _id. AddAsIs keeps the bytes, adding only
// logrouter.replayed, and the hash and ingest time it was written with.
func TestAddAsIs(t *testing.T) {
	r := exampleRouter(t)
	w := r.NewWorker()
	events, sts, _ := corpus(50)
	for i, in := range events {
		var p fastjson.Parser
		v, err := p.ParseBytes(in)
		if err != nil {
			t.Fatal(err)
		}
		b := pipeline.NewBatch()
		b.Meta = pipeline.Meta{Input: "http", Protocol: "hec", IngestTime: 1_795_000_000e9}
		if err := w.Add(b, v, nil, &normalize.EventMeta{SourceType: sts[i]}); err != nil {
			t.Fatal(err)
		}
		orig := b.Events[0]
		raw := append([]byte(nil), orig.Raw...)
		b.Release()

		rb := pipeline.NewBatch()
		rb.Meta = pipeline.Meta{Input: "replay", Protocol: "replay", IngestTime: 1_796_000_000e9}
		var q fastjson.Parser
		rv, err := q.ParseBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddAsIs(rb, rv, raw); err != nil {
			t.Fatal(err)
		}
		got := rb.Events[0]
		want := append(raw[:len(raw)-2:len(raw)-2], `,"replayed":1}}`...) // logrouter is the last member
		if !bytes.Equal(got.Raw, want) {
			t.Errorf("event %d replayed as\n%s\nwant\n%s", i, got.Raw, want)
		}
		if got.Hash != orig.Hash {
			t.Errorf("event %d: hash %#x, written with %#x", i, got.Hash, orig.Hash)
		}
		if got.Ingest != orig.Ingest/1e6*1e6 { // event.ingested has milliseconds
			t.Errorf("event %d: ingest %d, written %d", i, got.Ingest, orig.Ingest)
		}
		rb.Release()
	}
}
