package harness

// Fault tests from a review of what the harness measures and reports: each
// failed before the fix of the bug it describes (the comments describe the
// code as it was found).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	archive "github.com/logrouter/logrouter/sinks/s3"
)

// reviewLines returns NDJSON events of run R numbered from..to-1, padded so
// that a few thousand of them span several 128 KiB zstd blocks.
func reviewLines(from, to int) []byte {
	var b bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, `{"bench_run":"R","bench_seq":%d,"bench_sent_ns":1,"pad":"%0400d"}`+"\n", i, i*7919)
	}
	return b.Bytes()
}

// seenCount is how many of seqs 0..n-1 d has seen.
func seenCount(d *Dest, n int) int {
	c := 0
	for i := range n {
		if d.seen.get(uint64(i)) {
			c++
		}
	}
	return c
}

// TestPartialObjectCountsOnlyWholeFrames: verifyDir reads a
// *.partial archive object (one the router left when it did not Close: a
// crash, or a kill after proc.stop's 90 s) line by line until the stream
// breaks, and counts every line it decoded as delivered. The zstd reader
// hands out each 128 KiB block of a frame as soon as it is decoded, and the
// gzip reader the data of a member before its trailer, so the events of a
// torn last frame (member) count as received. The archive itself
// (sinks/s3 recovery, run by the router's next start; the package doc says
// readers should not list .partial at all) keeps only whole frames
// (members) and truncates the torn one away: those events are in no object
// a reader will ever see, and with memory queues (scenario b) in no queue
// either, yet the report says "lost 0" for them. Here a .partial holds one
// whole frame (events 0-9) and two thirds of a second one (events
// 10-1999): the harness counts over a thousand events that the router's
// own recovery of the same file drops. Expected: from a .partial the
// harness counts what recovery keeps, the events of whole, checksummed
// frames (members), never lines of a torn one (files.go,
// objectReader.read / verifyDir).
func TestPartialObjectCountsOnlyWholeFrames(t *testing.T) {
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		t.Fatal(err)
	}
	defer zenc.Close()
	gz := func(p []byte) []byte {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		_, _ = w.Write(p)
		_ = w.Close()
		return b.Bytes()
	}
	for _, c := range []struct {
		ext  string
		enc  func([]byte) []byte
		name string
	}{
		{".ndjson.zst", func(p []byte) []byte { return zenc.EncodeAll(p, nil) }, "zstd"},
		{".ndjson.gz", gz, "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole := c.enc(reviewLines(0, 10))
			torn := c.enc(reviewLines(10, 2000))
			data := append(append([]byte{}, whole...), torn[:len(torn)*2/3]...)

			// What the harness counts from the .partial.
			hdir := t.TempDir()
			if err := os.WriteFile(filepath.Join(hdir, "obj"+c.ext+".partial"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			hd := NewDest("archive", "R", "P1", "P2", "P3")
			if _, err := verifyDir(hd, hdir); err != nil {
				t.Fatal(err)
			}

			// What the archive holds once the router recovers the same
			// file (sinks/s3.New finalizes every *.partial under its dir).
			rdir := t.TempDir()
			if err := os.WriteFile(filepath.Join(rdir, "obj"+c.ext+".partial"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			a, err := archive.New("archive", archive.Config{Dir: rdir, Compression: c.name})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			rd := NewDest("archive", "R", "P1", "P2", "P3")
			if _, err := verifyDir(rd, rdir); err != nil {
				t.Fatal(err)
			}

			got, kept := seenCount(hd, 2000), seenCount(rd, 2000)
			if kept != 10 {
				t.Fatalf("the router's recovery kept %d events, want the 10 of the whole frame", kept)
			}
			if got != kept {
				t.Errorf("from the .partial the harness counts %d events as delivered; the router's recovery of the same file keeps %d: %d events of a torn frame read as received (their loss is hidden)",
					got, kept, got-kept)
			}
		})
	}
}

// reviewProc starts a stand-in for the router (a process to read CPU and
// VmHWM from, stopped with SIGTERM).
func reviewProc(t *testing.T) *process {
	t.Helper()
	dir := t.TempDir()
	p, err := startProcess("sleep", []string{"60"}, dir, filepath.Join(dir, "log"), nil)
	if err != nil {
		t.Skipf("no sleep(1) to stand in for the router: %v", err)
	}
	t.Cleanup(func() { _ = p.stop(time.Second) })
	return p
}

// TestVerifyErrorFailsRun: drive runs s.after (reading the archive
// back from disk or S3, querying VictoriaLogs) and, when it fails, only
// appends "verify: ..." to the notes; rr.OK stays true, the report prints
// no FAILED line and lrbench exits 0. The read-back counts every line it
// decoded before the error, so an archive object that no reader can open
// whole (here a finalized .ndjson.zst whose tail is a torn frame header,
// the damage recovery exists to cut away, which zstd -d and Athena refuse
// for the whole object) passes with "lost 0" and ok=true. The report's own
// FAILED line reads "events lost or not verified". Expected: a run whose
// verification failed is not OK (run.go, drive: rr.OK = false when
// s.after returns an error).
func TestVerifyErrorFailsRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	p := reviewProc(t)
	g := newGen(1, 0, "R", false)
	arch := NewDest("archive", "R", "P1", "P2", "P3")
	dir := t.TempDir()
	s := &systemRun{name: "logrouter", proc: p, dests: []*Dest{arch}}
	s.load = loadConfig{protos: []Protocol{ProtoNDJSON}, concurrency: 1, batch: 20, rate: 200e3,
		duration: 200 * time.Millisecond, retryFor: time.Second, httpURL: srv.URL, token: "t"}
	s.drain = func(context.Context, uint64) error { return nil }
	s.after = func() error {
		// The router archived every event, in one object whose last
		// frame was torn after its magic number.
		n, _ := g.counts()
		var plain bytes.Buffer
		for i := range n {
			fmt.Fprintf(&plain, `{"bench_run":"R","bench_seq":%d,"bench_sent_ns":1}`+"\n", i)
		}
		enc, _ := zstd.NewWriter(nil)
		defer enc.Close()
		obj := enc.EncodeAll(plain.Bytes(), nil)
		obj = append(obj, 0x28, 0xb5, 0x2f, 0xfd, 0x24) // a frame cut in its header
		if err := os.WriteFile(filepath.Join(dir, "obj.ndjson.zst"), obj, 0o644); err != nil {
			return err
		}
		_, err := verifyDir(arch, dir)
		return err
	}
	rr, err := drive(context.Background(), &Options{Duration: 200 * time.Millisecond, Log: io.Discard}, "R", g, s)
	if err != nil {
		t.Fatal(err)
	}
	verr := ""
	for _, n := range rr.Notes {
		if strings.HasPrefix(n, "verify: ") {
			verr = n
		}
	}
	if verr == "" {
		t.Fatalf("the archive read-back did not fail (notes %q); the test needs it to", rr.Notes)
	}
	if rr.OK {
		t.Errorf("the archive could not be read back (%s), yet the run is OK (lost %d): no FAILED line, exit status 0", verr, rr.Lost)
	}
}

// TestLatencyOnePerEvent: Dest.record adds a latency sample for
// every copy it counts, duplicates included, except a copy the fake
// OpenSearch refuses as a conflict (409). So a resend of the same request
// (the router's retry after a timeout, or a loadgen repeat its dedup let
// through) adds a second, later sample for the same event at the Splunk
// HEC receiver, and at OpenSearch too when the copy has another _id, but
// not when it has the same _id: the same router behaviour moves SIEM p99
// and not OpenSearch p99, and a retried batch puts its whole resend delay
// into the tail although every event in it had arrived the first time.
// Ingest-to-destination latency is per event: the time until the
// destination first holds it. Expected: one sample per distinct event, at
// its first arrival, at every receiver (dest.go, record: Record only when
// the bench_seq was not seen before).
func TestLatencyOnePerEvent(t *testing.T) {
	sent := time.Now().UnixNano()
	doc := fmt.Sprintf(`{"bench_run":"R","bench_seq":1,"bench_sent_ns":%d}`, sent)

	siem := NewDest("siem", "R", "P1")
	hec, err := NewHECReceiver(siem, "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer hec.Close()
	osd := NewDest("opensearch", "R", "P2")
	osr, err := NewOSReceiver(osd)
	if err != nil {
		t.Fatal(err)
	}
	defer osr.Close()

	post := func(url, auth, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", url, resp.Status)
		}
	}
	for i := range 2 { // the first delivery, then a resend 100 ms later
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		post(hec.URL()+"/services/collector/event", "Splunk tok", `{"event":`+doc+`}`)
		post(osr.URL()+"/_bulk", "", fmt.Sprintf(`{"create":{"_index":"x","_id":"%016x"}}`+"\n%s\n", 1, doc))
		post(osr.URL()+"/_bulk", "", fmt.Sprintf(`{"create":{"_index":"x","_id":"%016x"}}`+"\n%s\n", 2+i, strings.Replace(doc, `"bench_seq":1`, `"bench_seq":2`, 1)))
	}
	if n := siem.hist.Count(); n != 1 {
		t.Errorf("HEC: one event delivered twice gave %d latency samples, want 1 (the fake OpenSearch gives 1 for a resend under the same _id)", n)
	}
	if n := osd.hist.Count(); n != 2 {
		t.Errorf("OpenSearch: two events, each delivered twice (one copy refused 409, one stored under a new _id), gave %d latency samples, want 2", n)
	}
}

// TestOSLatencyAfterBody: the fake OpenSearch takes its receive time
// (time.Now at the top of OSReceiver.bulk) before it reads the request
// body, where the HEC receiver takes it after (HECReceiver.collect, after
// readBody). A bulk request's documents reach the destination only once
// its body is read (and gunzipped: the router's bulk bodies run to
// megabytes), so OpenSearch's p50/p99 leave out the transfer and
// decompression that SIEM's include, and the two latency columns of the
// report are not measured at the same point. Here both receivers get the
// same document, sent at t, in a body that arrives 300 ms after the
// request headers: HEC reports >= 300 ms, OpenSearch ~0. Expected: both
// take the receive time after the body is read (osbulk.go, bulk: now after
// wk.readBody).
func TestOSLatencyAfterBody(t *testing.T) {
	const delay = 300 * time.Millisecond
	slowPost := func(base, path, auth, body string) {
		t.Helper()
		addr := strings.TrimPrefix(base, "http://")
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hdr := "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n"
		if auth != "" {
			hdr += "Authorization: " + auth + "\r\n"
		}
		hdr += fmt.Sprintf("Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
		if _, err := c.Write([]byte(hdr)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if _, err := c.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(c)
		if !bytes.HasPrefix(b, []byte("HTTP/1.1 200")) {
			t.Fatalf("%s%s: %s", base, path, b)
		}
	}
	siem := NewDest("siem", "R", "P1")
	hec, err := NewHECReceiver(siem, "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer hec.Close()
	osd := NewDest("opensearch", "R", "P2")
	osr, err := NewOSReceiver(osd)
	if err != nil {
		t.Fatal(err)
	}
	defer osr.Close()

	doc := func(seq int) string {
		return fmt.Sprintf(`{"bench_run":"R","bench_seq":%d,"bench_sent_ns":%d}`, seq, time.Now().UnixNano())
	}
	slowPost(hec.URL(), "/services/collector/event", "Splunk tok", `{"event":`+doc(1)+`}`)
	slowPost(osr.URL(), "/_bulk", "", `{"create":{"_index":"x","_id":"0000000000000001"}}`+"\n"+doc(1)+"\n")

	want := float64(delay.Milliseconds())
	hp, ok1 := siem.hist.Quantile(0.5)
	op, ok2 := osd.hist.Quantile(0.5)
	if !ok1 || !ok2 {
		t.Fatalf("no latency recorded (HEC %v, OpenSearch %v)", ok1, ok2)
	}
	if hp < want {
		t.Fatalf("HEC latency %.1f ms < %v: the test's premise does not hold", hp, delay)
	}
	if op < want {
		t.Errorf("the same document, its body arriving %v after the request's headers: HEC latency %.1f ms, OpenSearch %.3f ms (its clock read before the body)", delay, hp, op)
	}
}

// TestQuantileNearestRank: Hist.Quantile picks the observation of
// rank round(q*n) (uint64(q*n+0.5)) where a quantile needs rank
// ceil(q*n): with 199 observations, 197 at 1 ms and 2 (1.005%) at 100 ms,
// round(197.01) = 197 puts p99 in the 1 ms bucket, though more than 1% of
// the events took 100 ms, so fewer than 99% took at most the reported
// p99. Whenever frac(q*n) < 0.5 the quantile is read one rank low, which
// can cross a bucket (and, in a short or low-rate run, a whole decade) at
// the tail the report publishes. Expected: rank = ceil(q*n) (hist.go,
// Quantile), so that at least q of the observations are at or below the
// answer.
func TestQuantileNearestRank(t *testing.T) {
	var h Hist
	for range 197 {
		h.Record(int64(time.Millisecond))
	}
	for range 2 {
		h.Record(100 * int64(time.Millisecond))
	}
	p99, _ := h.Quantile(0.99)
	if p99 < 100 {
		t.Errorf("p99 of 197 x 1 ms + 2 x 100 ms (2/199 = 1.005%% above 1 ms) = %.3f ms, want >= 100 ms", p99)
	}
}
