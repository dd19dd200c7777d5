package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// compareRoutes is the routing both systems apply in benthos-compare: the
// injected log_source field (the kind's source type) decides the file.
var compareRoutes = []struct{ source, route string }{
	{"crowdstrike.falcon", "p1"}, {"suricata.eve", "p1"}, {"aws.guardduty", "p1"},
	{"app.json", "p3"}, {"vuln.scanner", "p3"},
}

// runCompare runs the same load against Benthos, then logrouter with
// memory queues, then with disk queues, and adds the ratios.
func runCompare(ctx context.Context, o *Options, rep *Report, routerBin, repo, work string) error {
	o.Protocol = string(ProtoNDJSON)
	rep.Params.Protocol = o.Protocol
	bbin := o.Benthos
	if bbin == "" {
		b, err := buildBenthos(ctx, o, repo)
		if err != nil {
			rep.Skipped = "Benthos could not be built, only logrouter ran: " + err.Error()
			o.logf("%s", rep.Skipped)
		}
		bbin = b
	}
	var benthos *RunReport
	if bbin != "" {
		rr, err := runBenthos(ctx, o, rep.RunID, bbin, filepath.Join(work, "benthos"))
		if err != nil {
			return fmt.Errorf("benthos: %w", err)
		}
		benthos = rr
		rep.Runs = append(rep.Runs, rr)
	}
	for _, mode := range []string{"memory", "disk"} {
		rr, err := runRouterFiles(ctx, o, rep.RunID, routerBin, filepath.Join(work, "logrouter-"+mode), mode)
		if err != nil {
			return fmt.Errorf("logrouter (%s queues): %w", mode, err)
		}
		rep.Runs = append(rep.Runs, rr)
		switch {
		case benthos == nil || benthos.SustainedMBps <= 0:
		case !benthos.OK || !rr.OK:
			rep.Notes = append(rep.Notes, "no ratio for logrouter("+mode+"): a run failed (see FAILED above)")
		default:
			// Sustained: Benthos answers once its files are written,
			// logrouter once its queues hold the events; with the drain
			// counted both rates are of events written to the files.
			rep.Ratios = append(rep.Ratios, Ratio{
				Of: "logrouter(" + mode + ")", To: "benthos",
				MBps:       rr.SustainedMBps / benthos.SustainedMBps,
				CPUPerGB:   safeDiv(rr.CPUSecPerGB, benthos.CPUSecPerGB),
				PeakRSSMiB: safeDiv(rr.PeakRSSMiB, benthos.PeakRSSMiB),
			})
		}
	}
	rep.Notes = append(rep.Notes,
		"both: HTTP NDJSON in, one message per line, JSON parse, the renames of config.example.yaml's normalize.rename, route by log_source to p1/p2/p3 files; Benthos answers once the files are written, logrouter once the events are in its queues; the throughput ratio is of sustained MB/s (load and drain: the files written)",
		"logrouter also does its full normalization on every event (@timestamp from the event's own time field, drops, null removal, string re-escaping, event.ingested and logrouter.* metadata, the content hash); dedup is off in both",
		"the systems ran one after the other on the same machine with the same seeded load; the harness shares the CPUs with them")
	return nil
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// buildBenthos runs bench/benthos/build.sh and returns the binary's path.
func buildBenthos(ctx context.Context, o *Options, repo string) (string, error) {
	if repo == "" {
		return "", fmt.Errorf("no repository to find bench/benthos/build.sh in (use -benthos or -repo)")
	}
	// Absolute: the script runs in the temporary directory (a relative
	// -repo, such as ".", would not be found from there: bash exits 127).
	script, err := filepath.Abs(filepath.Join(repo, "bench", "benthos", "build.sh"))
	if err != nil {
		return "", err
	}
	o.logf("building Benthos with %s (cached after the first time)", script)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &out, o.Log
	cmd.Dir = os.TempDir()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	lines := strings.Fields(strings.TrimSpace(out.String()))
	if len(lines) == 0 {
		return "", fmt.Errorf("%s printed no path", script)
	}
	return lines[len(lines)-1], nil
}

// fileDests are benthos-compare's three outputs, read back after the run.
func fileDests(run, dir string) ([]*Dest, func() error) {
	ds := []*Dest{NewDest("p1", run, "P1"), NewDest("p2", run, "P2"), NewDest("p3", run, "P3")}
	return ds, func() error {
		for _, d := range ds {
			if _, err := verifyDir(d, filepath.Join(dir, "out", d.Name)); err != nil {
				return err
			}
		}
		return nil
	}
}

func compareLoad(o *Options, url string) loadConfig {
	return loadConfig{protos: []Protocol{ProtoNDJSON}, concurrency: o.Concurrency, batch: o.Batch, rate: o.RateMBps * 1e6,
		duration: o.Duration, retryFor: 30 * time.Second, token: ingestToken, gzip: o.Gzip, httpURL: url}
}

// runRouterFiles is logrouter's side of benthos-compare.
func runRouterFiles(ctx context.Context, o *Options, run, bin, dir, mode string) (*RunReport, error) {
	if err := freshDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return nil, err
	}
	rulesDir := filepath.Join(dir, "rules")
	if err := os.WriteFile(filepath.Join(rulesDir, "10-bench.yaml"), []byte(compareRules), 0o644); err != nil {
		return nil, err
	}
	cfg := routerConfig{dir: dir, queueMode: mode, dedup: false, rulesDir: rulesDir}
	var err error
	if cfg.adminAddr, err = freePort(); err != nil {
		return nil, err
	}
	if cfg.httpAddr, err = freePort(); err != nil {
		return nil, err
	}
	for _, n := range []string{"p1", "p2", "p3"} {
		cfg.dests = append(cfg.dests, map[string]any{"name": n, "type": "file", "file": map[string]any{"dir": filepath.Join(dir, "out", n)}})
	}
	cfg.routing = map[string]any{"P1": []any{"p1"}, "P2": []any{"p2"}, "P3": []any{"p3"}}
	s, err := startRouter(ctx, o, bin, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer s.proc.stop(10 * time.Second)
	s.input, s.queueMode = "http-ndjson", mode
	s.load = compareLoad(o, "http://"+cfg.httpAddr)
	s.dests, s.after = fileDests(run, dir)
	s.drain = routerDrain(o, s, cfg.adminAddr, "http", false)
	s.metricsURL = "http://" + cfg.adminAddr + "/metrics"
	return drive(ctx, o, run, newGen(o.Seed, o.DupRate, run, true), s)
}

// benthosConfig is the comparable Benthos pipeline.
func benthosConfig(adminAddr, inAddr, outDir string) (string, error) {
	rn, err := renames()
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(rn))
	for k := range rn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var m strings.Builder
	m.WriteString("root = this\n")
	for _, k := range keys {
		// An if without else assigns nothing when false, so a missing
		// field neither deletes the target nor creates an empty object.
		fmt.Fprintf(&m, "root.%s = if this.exists(%q) { this.%s }\nroot.%s = deleted()\n", rn[k], k, k, k)
	}
	m.WriteString("meta route = match this.log_source.or(\"\") {\n")
	for _, r := range compareRoutes {
		fmt.Fprintf(&m, "  %q => %q\n", r.source, r.route)
	}
	m.WriteString("  _ => \"p2\"\n}\n")
	var b strings.Builder
	fmt.Fprintf(&b, `# generated by bench/harness (lrbench benthos-compare)
http:
  address: %s
input:
  http_server:
    address: %s
    path: /ingest
    allowed_verbs: [POST]
    timeout: 60s
pipeline:
  threads: -1
  processors:
    - unarchive:
        format: lines
    - mapping: |
`, adminAddr, inAddr)
	for _, l := range strings.Split(strings.TrimRight(m.String(), "\n"), "\n") {
		b.WriteString("        " + l + "\n")
	}
	// A switch of three file outputs, each keeping its file open (one
	// file output with an interpolated path would close and reopen the
	// file whenever the route changes from one message to the next).
	b.WriteString("output:\n  switch:\n    cases:\n")
	for _, r := range []string{"p1", "p2", "p3"} {
		fmt.Fprintf(&b, `      - check: '@route == %q'
        output:
          file:
            path: '%s'
            codec: lines
`, r, filepath.Join(outDir, r, "events.ndjson"))
	}
	b.WriteString("logger:\n  level: WARN\n")
	return b.String(), nil
}

// runBenthos is Benthos's side of benthos-compare.
func runBenthos(ctx context.Context, o *Options, run, bin, dir string) (*RunReport, error) {
	if err := freshDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	in, err := freePort()
	if err != nil {
		return nil, err
	}
	conf, err := benthosConfig(admin, in, filepath.Join(dir, "out"))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "benthos.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess(bin, []string{"-c", path}, dir, filepath.Join(dir, "benthos.log"), nil)
	if err != nil {
		return nil, err
	}
	defer p.stop(10 * time.Second)
	if err := waitHTTP(ctx, "http://"+admin+"/ready", p, 60*time.Second); err != nil {
		return nil, err
	}
	s := &systemRun{name: "benthos", input: "http-ndjson", proc: p}
	s.load = compareLoad(o, "http://"+in)
	s.dests, s.after = fileDests(run, dir)
	// Benthos answers a request once its messages are written.
	s.drain = func(context.Context, uint64) error { return nil }
	return drive(ctx, o, run, newGen(o.Seed, o.DupRate, run, true), s)
}
