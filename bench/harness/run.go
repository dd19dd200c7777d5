package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configure a benchmark run.
type Options struct {
	// Scenario: a (full mission, disk queues), b (memory queues), c (syslog
	// TCP in), d (Kafka in), e (OpenSearch down for the middle third),
	// benthos-compare. Long names are accepted too (see Scenarios).
	Scenario string
	// Repo is the logrouter module root (default: found from the working
	// directory).
	Repo string
	// RouterBin is a router binary to use instead of building ./cmd/router.
	RouterBin string
	// WorkDir holds run directories (default: a new temporary directory,
	// removed at the end unless Keep).
	WorkDir string
	Keep    bool

	Duration    time.Duration
	RateMBps    float64 // input rate in MB/s (10^6 bytes); 0: flat out
	Concurrency int     // HTTP connections, syslog connections or Kafka producers
	Batch       int     // events per request
	DupRate     float64 // share of events loadgen repeats
	Seed        int64
	// Protocol of HTTP scenarios: hec, ndjson, bulk or mixed (one per
	// connection in turn).
	Protocol string
	Gzip     bool
	// Destinations limits scenarios a-e to these of archive, siem and
	// opensearch (nil: all three), to measure what each destination costs.
	Destinations []string
	// Archive is where scenarios a-e archive: "dir" (default: an
	// archive_dir destination on the local disk) or "s3" (an s3 destination
	// writing to S3Endpoint, or to gofakes3 in the harness process when it
	// is empty; objects are read back from the server after the run).
	Archive    string
	S3Endpoint string
	// OpenSearch is what the opensearch destination writes to in scenarios
	// a-e: "fake" (default: the counting bulk receiver in the harness) or
	// "vlogs" (VictoriaLogs, a real server of the bulk API, run from the
	// VictoriaLogs binary, default $LOGROUTER_VLOGS; events are read back
	// with a query after the run).
	OpenSearch   string
	VictoriaLogs string
	// ExtraRules adds this many synthetic rules (loadgen.SyntheticRules:
	// none matches, all evaluated for every event) before the starter
	// rules, for measuring a large rule set end to end.
	ExtraRules int
	// FallbackRules writes the extra rules in the starter rules' shape, a
	// source or a vendor field (loadgen.SyntheticFallbackRules).
	FallbackRules bool

	// Kafka is a broker address for scenario d, or "kfake" for an
	// in-process one; empty skips scenario d.
	Kafka string
	// Benthos is a Benthos binary (default: bench/benthos/build.sh builds
	// one; if that fails, Benthos is skipped).
	Benthos string
	// DrainTimeout bounds the wait for the queues after the load.
	DrainTimeout time.Duration
	// CPUProfile, when set, runs bench/cmd/lrrouter (the router with
	// net/http/pprof) and writes a CPU profile of the load to this path
	// (one file per system, with the queue mode in its name).
	CPUProfile string
	// Trace, when set, also saves a 5s execution trace from the middle of
	// the load (go tool trace; -pprof=syscall shows where goroutines wait
	// in system calls such as fsync).
	Trace string

	// RouterEnv is added to the router's environment (GOMAXPROCS=2, ...).
	RouterEnv []string

	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Scenario describes one scenario.
type Scenario struct {
	Name, Alias, Description string
}

// Scenarios lists them in order.
var Scenarios = []Scenario{
	{"a", "mission", "HTTP in -> normalize -> dedup -> P1/P2/P3 -> Splunk HEC + OpenSearch + zstd archive_dir, disk queues (fsync always)"},
	{"b", "mission-memory", "as a, with memory queues"},
	{"c", "syslog", "as a, with syslog TCP in (RFC 5424, octet-counted, the JSON event as MSG)"},
	{"d", "kafka", "as a, with Kafka in (needs -kafka BROKER or -kafka kfake)"},
	{"e", "outage", "as a, with OpenSearch answering 503 for the middle third of the load; zero loss after the drain"},
	{"benthos-compare", "compare", "HTTP NDJSON in -> JSON parse + field renames + route by a field -> files, logrouter (memory and disk queues) and Benthos one after the other"},
}

func lookupScenario(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if strings.EqualFold(name, s.Name) || strings.EqualFold(name, s.Alias) {
			return s, true
		}
	}
	return Scenario{}, false
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Protocol == "" {
		o.Protocol = "hec"
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

func (o *Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "lrbench: "+format+"\n", args...)
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Run runs the scenario of o and returns its report. A report with a run
// whose OK is false means events were lost; err is for runs that could not
// be carried out.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	sc, ok := lookupScenario(o.Scenario)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q", o.Scenario)
	}
	rep := &Report{
		Scenario: sc.Name, Description: sc.Description, RunID: newRunID(),
		Date: time.Now().UTC().Format(time.RFC3339), Machine: describeMachine(),
		Params: Params{Seed: o.Seed, DurationS: o.Duration.Seconds(), RateMBps: o.RateMBps, Concurrency: o.Concurrency,
			Batch: o.Batch, DupRate: o.DupRate, Protocol: o.Protocol, Gzip: o.Gzip, ExtraRules: o.ExtraRules, FallbackRules: o.FallbackRules},
	}
	if sc.Name == "d" && o.Kafka == "" {
		rep.Skipped = "scenario d needs a Kafka broker: -kafka HOST:PORT, or -kafka kfake for an in-process one"
		return rep, nil
	}
	work := o.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "lrbench-")
		if err != nil {
			return nil, err
		}
		work = d
		if !o.Keep {
			defer os.RemoveAll(d)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	if o.Keep {
		o.logf("run directory: %s", work)
	}
	repo := o.Repo
	if o.Trace != "" && o.CPUProfile == "" {
		return nil, errors.New("-trace needs -cpuprofile (both come from bench/cmd/lrrouter)")
	}
	if repo == "" && (o.RouterBin == "" || o.CPUProfile != "" || sc.Name == "benthos-compare") {
		r, err := FindRepo(".")
		if err != nil && (o.RouterBin == "" || o.CPUProfile != "") {
			return nil, err
		}
		repo = r
	}
	bin := o.RouterBin
	if bin == "" || o.CPUProfile != "" {
		pkg := "./cmd/router"
		if o.CPUProfile != "" {
			pkg = "./bench/cmd/lrrouter"
		}
		bin = filepath.Join(work, "router")
		o.logf("building %s", pkg)
		if err := BuildRouter(ctx, repo, pkg, bin); err != nil {
			return nil, err
		}
	}
	rep.Router = describeRouter(ctx, o, repo, bin)
	switch sc.Name {
	case "benthos-compare":
		return rep, runCompare(ctx, &o, rep, bin, repo, work)
	default:
		spec := missionSpec{queueMode: "disk", protocol: o.Protocol}
		switch sc.Name {
		case "b":
			spec.queueMode = "memory"
		case "c":
			spec.protocol = string(ProtoSyslog)
		case "d":
			spec.protocol = string(ProtoKafka)
		case "e":
			spec.outage = true
		}
		rr, err := runMission(ctx, &o, rep.RunID, bin, filepath.Join(work, "run-"+sc.Name), spec)
		if rr != nil {
			rep.Runs = append(rep.Runs, rr)
		}
		return rep, err
	}
}

// protocols expands -proto.
func protocols(p string) ([]Protocol, error) {
	switch Protocol(p) {
	case ProtoHEC, ProtoNDJSON, ProtoBulk, ProtoSyslog, ProtoKafka, ProtoOTLP:
		return []Protocol{Protocol(p)}, nil
	}
	if p == "mixed" {
		return []Protocol{ProtoHEC, ProtoNDJSON, ProtoBulk}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (hec, ndjson, bulk, otlp, mixed)", p)
}

func inputName(p Protocol) string {
	switch p {
	case ProtoSyslog:
		return "syslog"
	case ProtoKafka:
		return "kafka"
	}
	return "http"
}

// systemRun is what a system under test needs from the generic driver.
type systemRun struct {
	name, input, queueMode string
	proc                   *process
	// drain waits, after the load, until everything acknowledged is at the
	// destinations; wantInput is the number of events sent.
	drain func(ctx context.Context, wantInput uint64) error
	// after runs once the process has stopped (reading files back).
	after   func() error
	dests   []*Dest
	load    loadConfig
	profile func(ctx context.Context, d time.Duration) string // starts a CPU profile; returns its path
	// lastMetrics is the router's last scrape (routerDrain).
	lastMetrics metrics
	// metricsURL, when set, is sampled during the load for the peak of
	// each destination's queue (logrouter_queue_bytes).
	metricsURL string
	// drainNote is something the drain noticed but did not fail on.
	drainNote string
}

// queuePeaks samples the queue gauges every 250ms until stop is closed and
// returns the largest bytes and events seen per destination.
func queuePeaks(url string, stop <-chan struct{}) (peakBytes, peakEvents map[string]float64) {
	peakBytes, peakEvents = map[string]float64{}, map[string]float64{}
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		m, err := scrape(context.Background(), c, url)
		if err != nil {
			continue
		}
		ev := map[string]float64{}
		for k, v := range m {
			dest := label(k, "destination")
			switch {
			case strings.HasPrefix(k, "logrouter_queue_bytes{"):
				peakBytes[dest] = max(peakBytes[dest], v)
			case strings.HasPrefix(k, "logrouter_queue_events{"):
				ev[dest] += v
			}
		}
		for d, v := range ev {
			peakEvents[d] = max(peakEvents[d], v)
		}
	}
}

// label returns the value of label name in a series key.
func label(series, name string) string {
	i := strings.Index(series, name+`="`)
	if i < 0 {
		return ""
	}
	rest := series[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// drive runs load against s, drains, stops the process, verifies and fills
// a RunReport.
func drive(ctx context.Context, o *Options, run string, g *gen, s *systemRun) (*RunReport, error) {
	rr := &RunReport{Name: s.name, Input: s.input, QueueMode: s.queueMode}
	acked := new(bitset)
	var st loadStats
	pid := s.proc.cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	self0, _ := cpuTime(0)
	t0 := time.Now()
	profDone := make(chan string, 1)
	if s.profile != nil {
		go func() { profDone <- s.profile(ctx, o.Duration) }()
	} else {
		profDone <- ""
	}
	stopSampling := make(chan struct{})
	type peaks struct{ bytes, events map[string]float64 }
	sampled := make(chan peaks, 1)
	if s.metricsURL != "" {
		go func() {
			b, e := queuePeaks(s.metricsURL, stopSampling)
			sampled <- peaks{b, e}
		}()
	} else {
		sampled <- peaks{}
	}
	o.logf("%s: load for %v", s.name, o.Duration)
	runLoad(ctx, g, acked, s.load, &st)
	loadEnd := time.Now()
	o.logf("%s: load done (%d events acknowledged); draining", s.name, st.eventsAcked.Load())
	drainErr := s.drain(ctx, st.eventsAcked.Load())
	drainEnd := time.Now()
	close(stopSampling)
	qp := <-sampled
	cpu1, _ := cpuTime(pid)
	self1, _ := cpuTime(0)
	rss, _ := peakRSS(pid)
	rr.Profile = <-profDone
	if rr.Profile != "" {
		rr.Notes = append(rr.Notes, "profiled: the CPU profiler's own cost (a few percent) is in CPU s/GB, and the router is bench/cmd/lrrouter built from -repo")
	}
	if drainErr != nil {
		rr.Notes = append(rr.Notes, "drain: "+drainErr.Error())
	}
	if s.drainNote != "" {
		rr.Notes = append(rr.Notes, "drain: "+s.drainNote)
	}
	if err := s.proc.stop(90 * time.Second); err != nil {
		rr.Notes = append(rr.Notes, fmt.Sprintf("stop: %v", err))
	}
	var verifyErr error
	if s.after != nil {
		if verifyErr = s.after(); verifyErr != nil {
			rr.Notes = append(rr.Notes, "verify: "+verifyErr.Error())
		}
	}

	load := loadEnd.Sub(t0).Seconds()
	rr.LoadSeconds = load
	rr.DrainSeconds = drainEnd.Sub(loadEnd).Seconds()
	rr.EventsSent, rr.EventsAcked, rr.BytesAcked = st.eventsSent.Load(), st.eventsAcked.Load(), st.bytesAcked.Load()
	rr.Requests, rr.Retries, rr.Refused = st.requests.Load(), st.retries.Load(), st.refused.Load()
	rr.Errors, rr.Rejected, rr.Abandoned = st.errors.Load(), st.rejected.Load(), st.abandoned.Load()
	distinct, dups := g.counts()
	rr.Distinct, rr.DupsSent = distinct, dups
	rr.MBps = float64(rr.BytesAcked) / 1e6 / load
	rr.EventsPerSec = float64(rr.EventsAcked) / load
	// What the router moved to its destinations, over the load and the
	// drain that finished its deliveries: a backlog left in the queues at
	// the end of the load is not throughput. TB/day is a daily figure of
	// that, not of the acceptance rate.
	rr.SustainedMBps = float64(rr.BytesAcked) / 1e6 / (load + rr.DrainSeconds)
	rr.TBPerDay = rr.SustainedMBps * 86400 / 1e6
	rr.CPUSeconds = (cpu1 - cpu0).Seconds()
	if rr.BytesAcked > 0 {
		rr.CPUSecPerGB = rr.CPUSeconds / (float64(rr.BytesAcked) / 1e9)
	}
	rr.PeakRSSMiB = float64(rss) / (1 << 20)
	rr.HarnessCPU = (self1 - self0).Seconds()

	// Per destination: expected = acknowledged distinct events whose
	// kind's priority is routed there.
	// A read-back that failed (an object no reader could decode whole, a
	// query that failed) has not verified what it counted: not OK.
	rr.OK = drainErr == nil && verifyErr == nil && rr.EventsAcked > 0
	// Every event the harness sends is valid: a refusal for good is a
	// fault of the system under test, as is an OTLP partial success.
	if rr.Rejected > 0 {
		rr.OK = false
		rr.Notes = append(rr.Notes, fmt.Sprintf("%d valid events were refused for good (4xx or a refused bulk item)", rr.Rejected))
	}
	if p := st.partial.Load(); p > 0 {
		rr.OK = false
		rr.Notes = append(rr.Notes, fmt.Sprintf("%d OTLP requests were answered with partial_success (records quarantined)", p))
	}
	for _, d := range s.dests {
		dr := DestReport{Name: d.Name, Received: d.received.Load(), Duplicated: d.dups.Load(),
			Invalid: d.invalid.Load(), Foreign: d.foreign.Load(), Corrupt: d.corrupt.Load(), MB: float64(d.bytes.Load()) / 1e6,
			Requests: d.requests.Load(), Refused: d.refused.Load(), Conflicts: d.conflicts.Load()}
		if st := d.stored.Load(); st > 0 {
			mb := float64(st) / 1e6
			dr.StoredMB = &mb
		}
		if qp.bytes != nil {
			mb, ev := qp.bytes[d.Name]/1e6, uint64(qp.events[d.Name])
			dr.PeakQueuedMB, dr.PeakQueuedEvents = &mb, &ev
		}
		for seq := range distinct {
			routed := d.Priorities&(1<<g.priority(seq)) != 0
			seen := d.seen.get(seq)
			if seen {
				dr.Distinct++
				if !routed {
					dr.Misrouted++
				}
			}
			if routed && acked.get(seq) {
				dr.Expected++
				if !seen {
					dr.Lost++
				}
			}
		}
		if d.hist.Count() > 0 {
			p50, _ := d.hist.Quantile(0.50)
			p99, _ := d.hist.Quantile(0.99)
			dr.P50ms, dr.P99ms = &p50, &p99
		}
		rr.Lost += dr.Lost
		rr.Dup += dr.Duplicated
		// Misrouted: routed where its priority does not go (a routing
		// fault); foreign: no event of this run (each receiver is the
		// run's own).
		if dr.Lost > 0 || dr.Invalid > 0 || dr.Misrouted > 0 || dr.Foreign > 0 || dr.Corrupt > 0 {
			rr.OK = false
		}
		rr.Dests = append(rr.Dests, dr)
	}
	return rr, nil
}

// missionSpec is one variant of the full mission.
type missionSpec struct {
	queueMode string
	protocol  string
	outage    bool
}

// runMission runs the full mission: starter rules, HEC + OpenSearch
// receivers, zstd archive.
func runMission(ctx context.Context, o *Options, run, bin, dir string, spec missionSpec) (*RunReport, error) {
	protos, err := protocols(spec.protocol)
	if err != nil {
		return nil, err
	}
	if err := freshDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rulesDir := filepath.Join(dir, "rules")
	if err := writeStarterRules(rulesDir, o.ExtraRules, o.FallbackRules); err != nil {
		return nil, err
	}
	siem := NewDest("siem", run, "P1")
	osd := NewDest("opensearch", run, "P2")
	arch := NewDest("archive", run, "P1", "P2", "P3")
	hec, err := NewHECReceiver(siem, hecToken)
	if err != nil {
		return nil, err
	}
	defer hec.Close()
	var osr *OSReceiver
	var vl *vlogsPeer
	switch o.OpenSearch {
	case "", "fake":
		if osr, err = NewOSReceiver(osd); err != nil {
			return nil, err
		}
		defer osr.Close()
	case "vlogs":
		if spec.outage {
			return nil, fmt.Errorf("the outage scenario needs the fake OpenSearch receiver (it answers 503 on cue)")
		}
		bin := o.VictoriaLogs
		if bin == "" {
			bin = os.Getenv("LOGROUTER_VLOGS")
		}
		if bin == "" {
			return nil, fmt.Errorf("-opensearch vlogs needs the victoria-logs binary (-vlogs or LOGROUTER_VLOGS; sinks/opensearch/testdata/install-victorialogs.sh installs it)")
		}
		if vl, err = startVictoriaLogs(ctx, bin, dir); err != nil {
			return nil, err
		}
		defer vl.close()
	default:
		return nil, fmt.Errorf("opensearch %q: use fake or vlogs", o.OpenSearch)
	}

	cfg := routerConfig{dir: dir, queueMode: spec.queueMode, dedup: true, rulesDir: rulesDir}
	if cfg.adminAddr, err = freePort(); err != nil {
		return nil, err
	}
	lc := loadConfig{protos: protos, concurrency: o.Concurrency, batch: o.Batch, rate: o.RateMBps * 1e6,
		duration: o.Duration, retryFor: 30 * time.Second, token: ingestToken, gzip: o.Gzip}
	input := ""
	switch protos[0] {
	case ProtoSyslog:
		if cfg.syslogAddr, err = freePort(); err != nil {
			return nil, err
		}
		lc.syslogAddr = cfg.syslogAddr
		input = "syslog-tcp"
	case ProtoKafka:
		k, err := startKafka(ctx, o.Kafka, run)
		if err != nil {
			return nil, err
		}
		defer k.close()
		cfg.kafka = &kafkaInput{brokers: []string{k.addr}, topic: k.topic, group: "lrbench-" + run}
		lc.kafka = k.writer(o.Batch)
		input = "kafka"
	default:
		if cfg.httpAddr, err = freePort(); err != nil {
			return nil, err
		}
		lc.httpURL = "http://" + cfg.httpAddr
		input = "http-" + spec.protocol
	}
	archDest := map[string]any{"name": "archive", "type": "archive_dir", "archive_dir": map[string]any{
		"dir": filepath.Join(dir, "archive"), "compression": "zstd"}}
	var s3p *s3Peer
	switch o.Archive {
	case "", "dir":
	case "s3":
		if s3p, err = startS3(ctx, o.S3Endpoint, run); err != nil {
			return nil, err
		}
		defer s3p.close()
		archDest = s3p.dest(filepath.Join(dir, "s3-staging"))
	default:
		return nil, fmt.Errorf("archive %q: use dir or s3", o.Archive)
	}
	cfg.dests = []map[string]any{
		archDest,
		{"name": "siem", "type": "splunk_hec", "splunk_hec": map[string]any{"url": hec.URL(), "token": hecToken}},
	}
	if vl != nil {
		cfg.dests = append(cfg.dests, vl.dest())
	} else {
		cfg.dests = append(cfg.dests, map[string]any{"name": "opensearch", "type": "opensearch", "opensearch": map[string]any{"urls": []any{osr.URL()}}})
	}
	cfg.routing = map[string]any{"P1": []any{"siem"}, "P2": []any{"opensearch"}, "P3": []any{}, "all": []any{"archive"}}
	dests := []*Dest{siem, osd, arch}
	if len(o.Destinations) > 0 {
		want := map[string]bool{}
		for _, d := range o.Destinations {
			if d != "archive" && d != "siem" && d != "opensearch" {
				return nil, fmt.Errorf("destination %q: use archive, siem or opensearch", d)
			}
			want[d] = true
		}
		if spec.outage && !want["opensearch"] {
			return nil, fmt.Errorf("the outage scenario needs the opensearch destination")
		}
		var kept []map[string]any
		for _, d := range cfg.dests {
			if want[d["name"].(string)] {
				kept = append(kept, d)
			}
		}
		cfg.dests = kept
		for k, v := range cfg.routing {
			var names []any
			for _, n := range v.([]any) {
				if want[n.(string)] {
					names = append(names, n)
				}
			}
			cfg.routing[k] = append([]any{}, names...)
		}
		dests = dests[:0]
		for _, d := range []*Dest{siem, osd, arch} {
			if want[d.Name] {
				dests = append(dests, d)
			}
		}
	}
	s, err := startRouter(ctx, o, bin, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer s.proc.stop(10 * time.Second)
	s.input, s.queueMode = input, spec.queueMode
	s.load = lc
	s.dests = dests
	s.drain = routerDrain(o, s, cfg.adminAddr, inputName(protos[0]), protos[0] == ProtoSyslog || protos[0] == ProtoKafka)
	s.metricsURL = "http://" + cfg.adminAddr + "/metrics"
	s.after = func() error {
		if vl != nil && (len(o.Destinations) == 0 || slices.Contains(o.Destinations, "opensearch")) {
			if err := vl.verify(ctx, osd, run); err != nil {
				return err
			}
		}
		if len(o.Destinations) > 0 && !slices.Contains(o.Destinations, "archive") {
			return nil
		}
		if s3p != nil {
			_, err := s3p.verify(ctx, arch)
			return err
		}
		_, err := verifyDir(arch, filepath.Join(dir, "archive"))
		return err
	}
	if spec.outage {
		third := o.Duration / 3
		now := time.Now()
		osr.SetDown(now.Add(third), now.Add(2*third))
		o.logf("opensearch receiver answers 503 from +%v to +%v", third.Round(time.Millisecond), (2 * third).Round(time.Millisecond))
	}
	g := newGen(o.Seed, o.DupRate, run, false)
	rr, err := drive(ctx, o, run, g, s)
	if err != nil {
		return nil, err
	}
	if spec.outage && osd.refused.Load() == 0 {
		// The router sent nothing during the outage: the scenario did
		// not test what it names.
		rr.OK = false
		rr.Notes = append(rr.Notes, "the OpenSearch outage was not exercised: no bulk request came while it answered 503")
	}
	if m, err := scrapeLast(s); err == nil {
		rr.RouterDeduplicated = m
	}
	rr.RouterCounters = s.lastMetrics.counters()
	if s.lastMetrics != nil {
		rr.RouterGCs = s.lastMetrics.sum("go_gc_duration_seconds_count")
		rr.DedupReachS = s.lastMetrics.sum("logrouter_dedup_reach_seconds")
	}
	if vl != nil {
		rr.Notes = append(rr.Notes, "OpenSearch was VictoriaLogs (a real bulk-API server, on the same cores, its CPU in neither column); its events were read back with a query, so it has no latency and keeps resent documents (no _id)")
	}
	if s3p != nil {
		where := "gofakes3 in the harness process (its CPU is the harness's)"
		if o.S3Endpoint != "" {
			where = o.S3Endpoint + " (its CPU is in neither column)"
		}
		rr.Notes = append(rr.Notes, "the archive was an s3 destination writing to "+where+"; its objects were read back from there")
	}
	if spec.outage {
		rr.Notes = append(rr.Notes, fmt.Sprintf("OpenSearch was down (503) from +%.1fs to +%.1fs of the load", (o.Duration/3).Seconds(), (2*o.Duration/3).Seconds()))
	}
	if spec.protocol == string(ProtoSyslog) || spec.protocol == string(ProtoKafka) {
		rr.Notes = append(rr.Notes, "sent counts a batch once the socket write or the broker took it, before the router read it: what sits in socket buffers or the topic at the end (up to ~30 MB for syslog) is in MB/s, so it reads a few percent high; compare with HTTP rows on CPU s/GB")
	}
	return rr, nil
}

// counters returns the logrouter_*_total series and queue gauges (nil
// when there was no scrape).
func (m metrics) counters() map[string]float64 {
	if m == nil {
		return nil
	}
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "logrouter_") && (strings.Contains(k, "_total") || strings.HasPrefix(k, "logrouter_queue_")) &&
			!strings.Contains(k, "_bucket") && !strings.HasPrefix(k, "logrouter_rule_") {
			out[k] = v
		}
	}
	return out
}

// scrapeLast returns the router's dedup count saved by routerDrain.
func scrapeLast(s *systemRun) (float64, error) {
	if s.lastMetrics == nil {
		return 0, errors.New("no metrics")
	}
	return s.lastMetrics.sum("logrouter_input_deduplicated_events_total"), nil
}

// startRouter writes cfg and starts bin on it, waiting for /readyz.
func startRouter(ctx context.Context, o *Options, bin, dir string, cfg routerConfig) (*systemRun, error) {
	path, err := cfg.render()
	if err != nil {
		return nil, err
	}
	env := append([]string(nil), o.RouterEnv...)
	s := &systemRun{name: "logrouter"}
	if o.CPUProfile != "" {
		pp, err := freePort()
		if err != nil {
			return nil, err
		}
		env = append(env, "LRBENCH_PPROF_ADDR="+pp)
		out := profilePath(o.CPUProfile, cfg.queueMode)
		trace := ""
		if o.Trace != "" {
			trace = profilePath(o.Trace, cfg.queueMode)
		}
		s.profile = func(ctx context.Context, d time.Duration) string {
			done := make(chan struct{})
			if trace != "" {
				go func() {
					defer close(done)
					wait, secs := d/3, max(min(5*time.Second, d/3), time.Second)
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return
					}
					url := fmt.Sprintf("http://%s/debug/pprof/trace?seconds=%d", pp, int(secs.Seconds()))
					if err := fetch(ctx, url, secs, trace); err != nil {
						o.logf("trace: %v", err)
					}
				}()
			} else {
				close(done)
			}
			defer func() { <-done }()
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pp, max(int(d.Seconds()), 1))
			if err := fetch(ctx, url, d, out); err != nil {
				o.logf("cpu profile: %v", err)
				return ""
			}
			// The heap at the end of the load, next to it (in-use as of
			// the last GC: where the peak RSS goes).
			heap := strings.TrimSuffix(out, filepath.Ext(out)) + "-heap" + filepath.Ext(out)
			if err := fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/heap", pp), 0, heap); err != nil {
				o.logf("heap profile: %v", err)
			}
			return out
		}
	}
	p, err := startProcess(bin, []string{"run", "-c", path}, dir, filepath.Join(dir, "router.log"), env)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+cfg.adminAddr+"/readyz", p, 60*time.Second); err != nil {
		_ = p.stop(10 * time.Second)
		return nil, fmt.Errorf("router: %w", err)
	}
	s.proc = p
	return s, nil
}

func profilePath(base, mode string) string {
	if mode == "" {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + mode + ext
}

// fetch saves what url answers (a pprof profile or trace of d) to out.
func fetch(ctx context.Context, url string, d time.Duration, out string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: d + time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// describeRouter says which router ran: the commit it was built from, or the
// binary given.
func describeRouter(ctx context.Context, o Options, repo, bin string) string {
	if o.RouterBin != "" && o.CPUProfile == "" {
		return bin
	}
	pkg := "./cmd/router"
	if o.CPUProfile != "" {
		pkg = "./bench/cmd/lrrouter"
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return pkg + " of " + repo
	}
	return pkg + " at " + strings.TrimSpace(string(out))
}

// freshDir removes what an earlier run left in dir (-workdir reused): its
// archive would be read back as events of another run, which fail this one.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear the run directory %s: %w", dir, err)
	}
	return nil
}
