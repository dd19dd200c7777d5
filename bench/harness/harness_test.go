package harness

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.VerifyTestMain(m)
}

// TestSmokeMission runs scenario a (HEC in; HEC, OpenSearch and archive out;
// disk queues) for two seconds at a low fixed rate against a freshly built
// router and checks that nothing acknowledged was lost anywhere: once with
// the archive on the local disk, once as an s3 destination writing to
// gofakes3 (objects read back from it).
func TestSmokeMission(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the router (about 10s)")
	}
	repo, err := FindRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "router")
	if err := BuildRouter(ctx, repo, "./cmd/router", bin); err != nil {
		t.Fatal(err)
	}
	for _, archive := range []string{"dir", "s3"} {
		t.Run("archive="+archive, func(t *testing.T) { smokeMission(t, ctx, bin, archive, "fake") })
	}
	t.Run("opensearch=vlogs", func(t *testing.T) {
		if os.Getenv("LOGROUTER_VLOGS") == "" {
			t.Skip("set LOGROUTER_VLOGS to the victoria-logs binary (.ci/run does) to run the mission against a real bulk API")
		}
		smokeMission(t, ctx, bin, "dir", "vlogs")
	})
}

func smokeMission(t *testing.T, ctx context.Context, bin, archive, opensearch string) {
	var log bytes.Buffer
	rep, err := Run(ctx, Options{
		Scenario: "a", RouterBin: bin, WorkDir: t.TempDir(), Archive: archive, OpenSearch: opensearch,
		Duration: 2 * time.Second, RateMBps: 1, Concurrency: 2, Batch: 100, DupRate: 0.01, Seed: 7,
		Log: &log,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Logf("\n%s", out.String())
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(rep.Runs))
	}
	r := rep.Runs[0]
	if !r.OK || r.Lost != 0 {
		t.Fatalf("run not OK (lost %d):\n%s\n%s", r.Lost, out.String(), log.String())
	}
	if r.EventsAcked == 0 || r.MBps <= 0 || r.CPUSeconds <= 0 || r.PeakRSSMiB <= 0 {
		t.Errorf("empty measurements: %+v", r)
	}
	want := map[string]bool{"siem": true, "opensearch": true, "archive": true}
	for _, d := range r.Dests {
		delete(want, d.Name)
		if d.Expected == 0 || d.Distinct < d.Expected || d.Invalid+d.Foreign != 0 {
			t.Errorf("%s: %+v", d.Name, d)
		}
		if d.Name != "archive" && !(d.Name == "opensearch" && opensearch == "vlogs") && d.P99ms == nil {
			t.Errorf("%s: no latency", d.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("destinations missing from the report: %v", want)
	}
	if !strings.Contains(out.String(), "opensearch") {
		t.Errorf("report lacks the destination table:\n%s", out.String())
	}
	if archive == "s3" && !strings.Contains(out.String(), "s3 destination") {
		t.Errorf("report does not say the archive went to S3:\n%s", out.String())
	}
}

func TestHistQuantiles(t *testing.T) {
	var h Hist
	if _, ok := h.Quantile(0.5); ok {
		t.Fatal("empty histogram has a quantile")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(int64(i) * int64(time.Millisecond)) // 1..1000 ms
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 500}, {0.99, 990}, {0.01, 10}} {
		got, _ := h.Quantile(c.q)
		if got < c.want || got > c.want*1.07 {
			t.Errorf("q%.2f = %.1f ms, want %.0f (+7%%)", c.q, got, c.want)
		}
	}
	for us := uint64(0); us < 1<<20; us += 7 {
		i := histIndex(us)
		if histUpper(i) <= us || (i > 0 && histUpper(i-1) > us) {
			t.Fatalf("%d µs in bucket %d [%d, %d)", us, i, histUpper(i-1), histUpper(i))
		}
	}
}

func TestBitset(t *testing.T) {
	var b bitset
	for _, i := range []uint64{0, 63, 64, chunkBits - 1, chunkBits, 3*chunkBits + 5} {
		if b.get(i) || b.set(i) || !b.get(i) || !b.set(i) {
			t.Fatalf("bit %d", i)
		}
	}
	if b.get(1) || b.get(maxSeq) {
		t.Fatal("unset bits read as set")
	}
}

func TestNextObject(t *testing.T) {
	body := []byte(" {\"a\":\"}{\\\"\"}\n{\"b\":[{}]}{\"c\":1} {\"torn\":")
	var got []string
	rest := body
	for {
		obj, tail, ok := nextObject(rest)
		if !ok {
			if string(tail) != `{"torn":` {
				t.Errorf("tail %q", tail)
			}
			break
		}
		got = append(got, string(obj))
		rest = tail
	}
	want := []string{`{"a":"}{\""}`, `{"b":[{}]}`, `{"c":1}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGenDuplicatesKeepTheirNumber(t *testing.T) {
	g := newGen(3, 0.2, "r", false)
	var b batch
	g.fill(&b, ProtoNDJSON, 2000)
	distinct, dups := g.counts()
	if dups == 0 || distinct+dups != 2000 {
		t.Fatalf("distinct %d + dups %d != 2000", distinct, dups)
	}
	// Every line is unique by content except repeats, which repeat their
	// original's bytes exactly.
	seen := map[string]uint64{}
	for i, line := range bytes.Split(b.body, []byte("\n")) {
		if s, ok := seen[string(line)]; ok && s != b.seqs[i] {
			t.Fatalf("line %d repeats seq %d under seq %d", i, s, b.seqs[i])
		}
		seen[string(line)] = b.seqs[i]
	}
	if uint64(len(seen)) != distinct {
		t.Fatalf("%d distinct lines, %d distinct events", len(seen), distinct)
	}
}

// TestScanEventAgreesWithParse: the receivers' byte scan reads the same
// bench fields as a full parse for every generated event, and declines
// (so the caller parses) whatever it does not recognise.
func TestScanEventAgreesWithParse(t *testing.T) {
	g := newGen(5, 0.05, "run1", false)
	var b batch
	g.fill(&b, ProtoNDJSON, 3000)
	d := NewDest("x", "run1", "P1")
	var p fastjson.Parser
	for _, line := range bytes.Split(bytes.TrimSpace(b.body), []byte("\n")) {
		seq, sent, ok := d.scanEvent(line)
		v, err := p.ParseBytes(line)
		if err == nil && !ok && v.Exists("bench_sum") {
			continue // declined: an event with a content check is parsed
		}
		if err != nil || !ok {
			t.Fatalf("scan ok=%v, parse err=%v: %s", ok, err, line)
		}
		if want := v.GetUint64("bench_seq"); seq != want {
			t.Fatalf("seq %d, want %d", seq, want)
		}
		if want := v.GetInt64("bench_sent_ns"); sent != want {
			t.Fatalf("sent %d, want %d", sent, want)
		}
	}
	for _, bad := range []string{
		``, `{}`, `[]`, `{"bench_run":"run2","bench_seq":1,"bench_sent_ns":2}`,
		`{"bench_run":"run1x","bench_seq":1,"bench_sent_ns":2}`,
		`{"bench_run":"run1","bench_seq":-1,"bench_sent_ns":2}`,
		`{"bench_run":"run1","bench_seq":1.5,"bench_sent_ns":2}`,
		`{"bench_run":"run1","bench_seq":1}`,
		`{"msg":"{\"bench_run\":\"run1\",\"bench_seq\":1,\"bench_sent_ns\":2}"}`,
		`{"bench_run":"run1","bench_seq":1,"bench_sent_ns":2`,
	} {
		if _, _, ok := d.scanEvent([]byte(bad)); ok {
			t.Errorf("scanEvent accepted %s", bad)
		}
	}
}

// TestFreePortBelowEphemeralRange: the harness's subprocess ports come from
// below the kernel's ephemeral range, where no outgoing connection of a
// parallel test can take them before the subprocess binds.
func TestFreePortBelowEphemeralRange(t *testing.T) {
	lo := testutil.EphemeralLow()
	if lo <= 10000 {
		t.Skipf("ephemeral range starts at %d: freePort falls back to port 0", lo)
	}
	for range 20 {
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if port < 10000 || port >= lo {
			t.Fatalf("freePort() = %s, want a port in [10000, %d)", addr, lo)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the port is not free: %v", err)
		}
		ln.Close()
	}
}
