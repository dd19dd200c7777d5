package harness

// Review of what the harness measures: corrupted events.

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestCorruptedEventCountsDelivered: every receiver and the archive
// read-back recognise an event by its three bench fields only
// (dest.go:62-88 event, dest.go:152-173 scanEvent); nothing else of the
// event is compared with what was sent. An event whose loadgen content the
// router dropped, truncated or garbled (a normalizer that loses nested
// objects, an escaping bug that still leaves valid JSON, a split that
// keeps only the bench fields) counts as received, not invalid, at the
// SIEM, OpenSearch and the archive, and the run is OK with "lost 0".
// bench/README.md presents loss as "exact per destination" and
// performance.md "Loss and duplicates are exact per destination"; a
// reader takes "0 lost" to mean the events arrived, not that three of
// their fields did. The brief's "corrupted event" slips by entirely.
//
// Here the SIEM gets, in a valid HEC envelope, an event reduced to its
// bench fields, and the archive a line whose every loadgen value was
// replaced; both count as received with invalid 0.
//
// Fix: verify content, at least on a sample: the harness imports the
// module, so it can normalize a random sample of the events it sends with
// the router's own normalizer (config.example.yaml's section, as the
// router is configured) and compare what arrives byte for byte (or a
// digest of it), counting mismatches as a new "corrupt" column that fails
// the run; cheaper, stamp a "bench_sum" digest of the loadgen event's
// values and check it in the receivers for the fields the pipeline keeps
// verbatim.
//
// Fixed: bench_sum (sum.go) on one event in 64; receivers count a
// mismatch corrupt (and lost) and the run fails.
func TestCorruptedEventCountsDelivered(t *testing.T) {
	g := newGen(1, 0, "R", false)
	var b batch
	g.fill(&b, ProtoNDJSON, 1)
	sent := b.body // {"bench_run":"R","bench_seq":0,"bench_sent_ns":...,<the loadgen event>}
	if len(sent) < 200 {
		t.Fatalf("premise: a loadgen event of %d bytes", len(sent))
	}
	// Only the bench fields survive.
	i := bytes.Index(sent, keySent) + len(keySent)
	j := i
	for j < len(sent) && sent[j] >= '0' && sent[j] <= '9' {
		j++
	}
	stripped := append(append([]byte{}, sent[:j]...), '}')

	siem := NewDest("siem", "R", "P1")
	hec, err := NewHECReceiver(siem, "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer hec.Close()
	req, _ := http.NewRequest(http.MethodPost, hec.URL()+"/services/collector/event",
		bytes.NewReader(append(append([]byte(`{"sourcetype":"x","event":`), stripped...), '}')))
	req.Header.Set("Authorization", "Splunk tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	arch := NewDest("archive", "R", "P1", "P2", "P3")
	dir := t.TempDir()
	garbled := append(append([]byte{}, sent[:j]...), []byte(`,"message":"","event":{},"host":null}`+"\n")...)
	if err := os.WriteFile(filepath.Join(dir, "obj.ndjson"), garbled, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyDir(arch, dir); err != nil {
		t.Fatal(err)
	}

	for _, d := range []*Dest{siem, arch} {
		if d.seen.get(0) && d.invalid.Load() == 0 {
			t.Errorf("%s: the event arrived without its content (sent %d bytes, %d arrived), yet it counts as received, invalid %d: lost 0",
				d.Name, len(sent), d.bytes.Load(), d.invalid.Load())
		}
	}
}
