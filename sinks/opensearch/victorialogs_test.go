package opensearch

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/pipeline"
)

// vlogs is a victoria-logs process started by startVictoriaLogs.
type vlogs struct {
	base string // http://127.0.0.1:port
	log  string // path of its output
	hc   *http.Client
}

// startVictoriaLogs runs the victoria-logs binary bin on a free loopback
// port with its data in a temporary directory, waits until /health answers
// and kills it when the test ends.
func startVictoriaLogs(t *testing.T, bin string) *vlogs {
	t.Helper()
	dir := t.TempDir()
	tr := &http.Transport{}
	v := &vlogs{log: filepath.Join(dir, "victoria-logs.log"), hc: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	t.Cleanup(tr.CloseIdleConnections)
	// The port is picked by binding :0 and closing it; another process can
	// take it in between, so try again with another port a few times.
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		logf, err := os.Create(v.log)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "data"), "-loggerLevel=WARN")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
			logf.Close()
		}
		v.base = "http://" + addr
		if err := v.waitHealthy(exited, 30*time.Second); err != nil {
			stop()
			out, _ := os.ReadFile(v.log)
			if attempt < 3 {
				t.Logf("victoria-logs on %s: %v; trying another port\n%s", addr, err, out)
				continue
			}
			t.Fatalf("victoria-logs on %s: %v\n%s", addr, err, out)
		}
		t.Cleanup(func() {
			stop()
			if t.Failed() {
				out, _ := os.ReadFile(v.log)
				t.Logf("victoria-logs output:\n%s", out)
			}
		})
		return v
	}
}

// waitHealthy polls /health until it answers 200, the process exits or
// the time is up.
func (v *vlogs) waitHealthy(exited <-chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		res, err := v.hc.Get(v.base + "/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/health answered %s", res.Status)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited (%v) before it answered /health", werr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on /health after %s: %v", limit, err)
		}
	}
}

// query flushes what was ingested (so that it is searchable at once) and
// runs a LogsQL query whose answer is one row, returned as a map.
func (v *vlogs) query(t *testing.T, q string) map[string]string {
	t.Helper()
	res, err := v.hc.Get(v.base + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("force_flush: %s", res.Status)
	}
	res, err = v.hc.PostForm(v.base+"/select/logsql/query", url.Values{"query": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("query %q: %s %v: %s", q, res.Status, err, body)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var row map[string]string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("query %q: row %q: %v", q, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 1 {
		t.Fatalf("query %q: %d rows, want 1: %s", q, len(rows), body)
	}
	return rows[0]
}

// runStats is what VictoriaLogs stores of one run.
type runStats struct {
	count, distinct int // documents, distinct "seq" values
	messages        int // documents whose _msg is the event's "message"
	first, last     time.Time
}

// stats returns the runStats of run.
func (v *vlogs) stats(t *testing.T, run string) runStats {
	t.Helper()
	row := v.query(t, fmt.Sprintf(`run:=%q | stats count() as n, count_uniq(seq) as u, `+
		`count() if (_msg:~"^event [0-9]+ of ") as m, min(_time) as t0, max(_time) as t1`, run))
	var st runStats
	var errs []error
	for _, f := range []struct {
		key string
		dst *int
	}{{"n", &st.count}, {"u", &st.distinct}, {"m", &st.messages}} {
		n, err := strconv.Atoi(row[f.key])
		*f.dst, errs = n, append(errs, err)
	}
	if st.count > 0 {
		var err1, err2 error
		st.first, err1 = time.Parse(time.RFC3339Nano, row["t0"])
		st.last, err2 = time.Parse(time.RFC3339Nano, row["t1"])
		errs = append(errs, err1, err2)
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("stats of run %s: %v (row %v)", run, err, row)
	}
	return st
}

// vlogsConfig is the sink's configuration for VictoriaLogs'
// Elasticsearch-compatible bulk endpoint: no bootstrap (it has no index
// APIs), and the headers that name the message and time fields.
func vlogsConfig(base string, gzip bool) Config {
	return Config{
		URLs: []string{base + "/insert/elasticsearch"},
		Headers: map[string]string{
			"VL-Msg-Field":  "message",
			"VL-Time-Field": "@timestamp",
		},
		Gzip: &gzip,
	}
}

// vlogsBase is the time of the first event of a run: an hour ago, so that
// the stored _time tells the events' @timestamp (VL-Time-Field) from the
// ingestion time. It must stay within VictoriaLogs' retention (7 days by
// default) and less than 2 days ahead: documents outside that are dropped
// silently, with 201.
func vlogsBase() time.Time { return time.Now().UTC().Add(-time.Hour).Truncate(time.Second) }

// vlogsBatch returns n events of run, numbered from seq; each event's JSON
// has "run", "seq", "message" ("event SEQ of RUN ...") and "@timestamp"
// (base plus seq milliseconds). Messages are padded to 1-3 KB, so that a
// batch of 500 is larger than 1 MiB and goes out as concurrent requests.
// bad, when in [0, n), makes that event's document invalid JSON.
func vlogsBatch(run string, base time.Time, seq, n, bad int) *pipeline.Batch {
	b := pipeline.NewBatch()
	pad := strings.Repeat("lorem ipsum ", 256)
	for i := range n {
		ts := base.Add(time.Duration(seq+i) * time.Millisecond)
		var raw []byte
		if i == bad {
			raw = fmt.Appendf(nil, `{"run":%q,"seq":%d,"message":"broken`, run, seq+i)
		} else {
			msg := fmt.Sprintf("event %d of %s %s", seq+i, run, pad[:1024+(seq+i)*37%2048])
			raw = fmt.Appendf(nil, `{"run":%q,"seq":%d,"message":%q,"@timestamp":%q,"host":{"name":"h%d"}}`,
				run, seq+i, msg, ts.Format(time.RFC3339Nano), i%7)
		}
		b.Commit(append(b.Arena(), raw...), pipeline.Event{
			Priority:   pipeline.P2,
			SourceType: "test.vlogs",
			Time:       ts.UnixNano(),
			Hash:       xxhash.Sum64(raw),
			Rule:       -1,
		})
	}
	return b
}

// TestVictoriaLogs writes through the sink to a real bulk-compatible
// server, VictoriaLogs (see shared/peers/README.md, "OpenSearch-compatible";
// testdata/install-victorialogs.sh installs it), and reads the count back.
// Set LOGROUTER_VLOGS to the victoria-logs binary to run it.
func TestVictoriaLogs(t *testing.T) {
	bin := os.Getenv("LOGROUTER_VLOGS")
	if bin == "" {
		t.Skip("set LOGROUTER_VLOGS=/path/to/victoria-logs (sinks/opensearch/testdata/install-victorialogs.sh installs it) to test the sink against a real bulk API")
	}
	v := startVictoriaLogs(t, bin)

	// gzip: VictoriaLogs decodes Content-Encoding: gzip bodies; plain: the
	// same without compression.
	for _, gz := range []bool{true, false} {
		name := map[bool]string{true: "gzip", false: "plain"}[gz]
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, nil, vlogsConfig(v.base, gz))
			run := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
			const batches, perBatch = 20, 500
			base := vlogsBase()
			// Four writers at once, as several queue workers would.
			var wg sync.WaitGroup
			errs := make([]error, batches)
			next := make(chan int)
			for range 4 {
				wg.Go(func() {
					for i := range next {
						b := vlogsBatch(run, base, i*perBatch, perBatch, -1)
						errs[i] = e.sink.Write(context.Background(), b)
						b.Release()
					}
				})
			}
			for i := range batches {
				next <- i
			}
			close(next)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("batch %d: Write: %v", i, err)
				}
			}
			const want = batches * perBatch
			st := v.stats(t, run)
			if st.count != want || st.distinct != want {
				t.Fatalf("run %s: %d documents stored, %d distinct seq; want exactly %d of each", run, st.count, st.distinct, want)
			}
			// The headers took effect: _msg is "message", _time is
			// "@timestamp" (an hour before the ingestion).
			if st.messages != want {
				t.Fatalf("run %s: %d of %d documents have the event's message as _msg (VL-Msg-Field)", run, st.messages, want)
			}
			if last := base.Add((want - 1) * time.Millisecond); !st.first.Equal(base) || !st.last.Equal(last) {
				t.Fatalf("run %s: _time from %s to %s, want %s to %s (VL-Time-Field)", run, st.first, st.last, base, last)
			}
			if i, c, r, q := e.counts(); i != want || c+r+q != 0 {
				t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d", i, c, r, q)
			}
			// Every batch is over 1 MiB: cut into concurrent requests.
			if n := int(countRequests(e, "200")); n <= batches {
				t.Fatalf("%d bulk requests answered 200 for %d batches larger than 1 MiB", n, batches)
			}
		})
	}

	// One invalid document: VictoriaLogs answers the whole request 400
	// (text, not an OpenSearch error object), which the sink reports
	// permanent for every event of the request. VictoriaLogs v1.52.1 has
	// stored the documents before the bad one by then, so they are in the
	// store although the sink reported them undelivered.
	t.Run("bad-document-400", func(t *testing.T) {
		e := newEnvOn(t, nil, vlogsConfig(v.base, true))
		run := fmt.Sprintf("bad-%d", time.Now().UnixNano())
		const n, bad = 10, 4
		b := vlogsBatch(run, vlogsBase(), 0, n, bad)
		defer b.Release()
		err := e.sink.Write(context.Background(), b)
		if err == nil {
			t.Fatal("Write of a batch with an invalid document returned nil")
		}
		if !pipeline.IsPermanent(err) {
			t.Fatalf("Write: %v is not permanent", err)
		}
		var oe *Error
		if !errors.As(err, &oe) || oe.Status != http.StatusBadRequest || oe.Item || !strings.Contains(oe.Reason, "cannot decode log message") {
			t.Fatalf("Write: %#v, want a request-level 400 with VictoriaLogs' reason", err)
		}
		t.Logf("Write: %v", err)
		if i, c, r, q := e.counts(); q != n || i+c+r != 0 {
			t.Fatalf("metrics indexed %d conflict %d retried %d quarantined %d", i, c, r, q)
		}
		if st := v.stats(t, run); st.count != bad {
			t.Fatalf("run %s: %d documents stored, want the %d before the bad one (VictoriaLogs v1.52.1 behaviour)", run, st.count, bad)
		}
	})
}

// countRequests returns the sink's requests counter for one status.
func countRequests(e *env, status string) float64 {
	return promtest.ToFloat64(e.m.Requests.WithLabelValues("os", status))
}
