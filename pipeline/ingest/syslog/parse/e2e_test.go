package parse

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestNormalizes feeds every corpus output to the normalizer with its
// default configuration: each one is accepted, @timestamp is the parser's
// "timestamp" when it wrote one, event.dataset the parser's (or the input's
// default) and logrouter.parse_status survives.
func TestNormalizes(t *testing.T) {
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	ingest := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	meta := &pipeline.Meta{Input: "syslog", Protocol: "syslog-tcp", Peer: "10.0.0.1", IngestTime: ingest.UnixNano()}
	em := &normalize.EventMeta{DefaultSourceType: []byte("syslog"), KeepOwnLogrouter: true} // as the syslog input
	p := newTestParser()
	var jp, op fastjson.Parser
	for _, line := range allCorpus(t) {
		out, res := p.AppendJSON(nil, line)
		v, err := jp.ParseBytes(out)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		norm, _, err := n.Append(nil, v, nil, meta, em)
		if err != nil {
			t.Fatalf("%q: normalize: %v\n%s", line, err, out)
		}
		nv, err := op.ParseBytes(norm)
		if err != nil {
			t.Fatalf("%q: normalized output: %v", line, err)
		}
		// Without "timestamp" the normalizer tries its other time fields
		// (PAN-OS receive_time, a JSON payload's own) before the ingest time.
		if ts := v.GetStringBytes("timestamp"); ts != nil {
			if got := string(nv.GetStringBytes("@timestamp")); got != string(ts) && res.Format != FormatJSON {
				t.Errorf("%q: @timestamp %s, want %s\n%s", line, got, ts, norm)
			}
		}
		wantDS := "syslog"
		if ds := v.GetStringBytes("event", "dataset"); ds != nil {
			wantDS = string(ds)
		}
		if got := string(nv.GetStringBytes("event", "dataset")); got != wantDS {
			t.Errorf("%q: event.dataset %s, want %s\n%s", line, got, wantDS, norm)
		}
		if got := string(nv.GetStringBytes("logrouter", "parse_status")); got != res.Status.String() {
			t.Errorf("%q: logrouter.parse_status %q lost in normalization\n%s", line, got, norm)
		}
	}
}
