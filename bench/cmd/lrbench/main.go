// Command lrbench is logrouter's end-to-end benchmark: it builds the router
// (or takes -router), starts it as a subprocess on a generated
// configuration, receives its output in counting receivers, drives seeded
// load and prints a report (-json for a machine-readable one).
//
//	go run ./bench/cmd/lrbench -scenario a -duration 20s -rate 10
//	go run ./bench/cmd/lrbench -scenario benthos-compare -duration 20s
//
// Scenarios: a (full mission, disk queues), b (memory queues), c (syslog TCP
// in), d (Kafka in: -kafka HOST:PORT or -kafka kfake), e (OpenSearch down for
// the middle third), benthos-compare. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/logrouter/logrouter/bench/harness"
)

func main() { os.Exit(run()) }

func run() int {
	var o harness.Options
	var asJSON, quiet bool
	flag.StringVar(&o.Scenario, "scenario", "a", "a, b, c, d, e or benthos-compare (or mission, mission-memory, syslog, kafka, outage, compare)")
	flag.StringVar(&o.RouterBin, "router", "", "router binary to run (default: go build ./cmd/router)")
	flag.StringVar(&o.Repo, "repo", "", "logrouter module root (default: found from the working directory)")
	flag.StringVar(&o.WorkDir, "workdir", "", "directory for run data (default: a temporary directory, removed unless -keep)")
	flag.BoolVar(&o.Keep, "keep", false, "keep the run directory (configs, logs, queues, archive, outputs)")
	flag.DurationVar(&o.Duration, "duration", 0, "how long to send (default 20s)")
	flag.Float64Var(&o.RateMBps, "rate", 0, "input rate in MB/s (10^6 bytes of request bodies); 0 = flat out")
	flag.IntVar(&o.Concurrency, "concurrency", 0, "HTTP connections, syslog connections or Kafka producers (default 8)")
	flag.IntVar(&o.Batch, "batch", 0, "events per request (default 500)")
	flag.Float64Var(&o.DupRate, "dup", 0.01, "share of events repeated byte for byte (loadgen DupRate); the router's dedup should drop them")
	flag.Int64Var(&o.Seed, "seed", 1, "load generator seed")
	flag.StringVar(&o.Protocol, "proto", "hec", "HTTP protocol for scenarios a, b, e: hec, ndjson, bulk, otlp (OTLP/HTTP protobuf: the Collector's otlphttp exporter) or mixed")
	flag.BoolVar(&o.Gzip, "gzip", false, "gzip HTTP request bodies")
	flag.IntVar(&o.ExtraRules, "rules", 0, "add this many synthetic rules (none matches; all evaluated per event) before the starter rules")
	flag.BoolVar(&o.FallbackRules, "fallback-rules", false, "with -rules: write them in the starter rules' shape, a source or a vendor field: (event.dataset == \"x\" and ...) or f in [...]")
	flag.StringVar(&o.Kafka, "kafka", "", "Kafka broker for scenario d, or kfake for an in-process one")
	flag.StringVar(&o.Archive, "archive", "dir", "archive destination for scenarios a-e: dir (archive_dir on the local disk) or s3 (an s3 destination; objects read back from the server)")
	flag.StringVar(&o.OpenSearch, "opensearch", "fake", "what the opensearch destination writes to in scenarios a-d: fake (the counting receiver) or vlogs (VictoriaLogs, a real bulk-API server; events read back with a query)")
	flag.StringVar(&o.VictoriaLogs, "vlogs", "", "with -opensearch vlogs: the victoria-logs binary (default $LOGROUTER_VLOGS)")
	flag.StringVar(&o.S3Endpoint, "s3-endpoint", "", "with -archive s3: an S3 server such as SeaweedFS (http://127.0.0.1:18333; any key accepted); default gofakes3 in the harness process")
	flag.StringVar(&o.Benthos, "benthos", "", "Benthos binary (default: bench/benthos/build.sh builds v4.60.0 once)")
	flag.DurationVar(&o.DrainTimeout, "drain-timeout", 0, "how long to wait for the queues to drain after the load (default 2m)")
	flag.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the router during the load (runs bench/cmd/lrrouter, the router with pprof)")
	flag.StringVar(&o.Trace, "trace", "", "with -cpuprofile: also save a 5s execution trace from the middle of the load (go tool trace -pprof=syscall FILE)")
	dests := flag.String("dests", "", "comma-separated subset of archive,siem,opensearch for scenarios a-e (default: all three)")
	harnessProfile := flag.String("harness-cpuprofile", "", "write a CPU profile of the harness itself (load generation, receivers) to this file")
	gomaxprocs := flag.Int("gomaxprocs", 0, "set GOMAXPROCS for the router (default: the router's own choice, min(4 x CPUs, 8))")
	flag.BoolVar(&asJSON, "json", false, "print the report as JSON")
	flag.BoolVar(&quiet, "q", false, "no progress lines on stderr")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: lrbench [flags]\n\nscenarios:\n")
		for _, s := range harness.Scenarios {
			fmt.Fprintf(flag.CommandLine.Output(), "  %-16s %s\n", s.Name+" ("+s.Alias+")", s.Description)
		}
		fmt.Fprintf(flag.CommandLine.Output(), "\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "lrbench: unexpected arguments %s\n", strings.Join(flag.Args(), " "))
		return 2
	}
	if *dests != "" {
		o.Destinations = strings.Split(*dests, ",")
	}
	if *harnessProfile != "" {
		f, err := os.Create(*harnessProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lrbench:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "lrbench:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	if *gomaxprocs > 0 {
		o.RouterEnv = append(o.RouterEnv, fmt.Sprintf("GOMAXPROCS=%d", *gomaxprocs))
	}
	if !quiet {
		o.Log = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := harness.Run(ctx, o)
	if rep != nil {
		if asJSON {
			if err := rep.JSON(os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, "lrbench:", err)
			}
		} else {
			rep.Print(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lrbench:", err)
		return 1
	}
	for _, r := range rep.Runs {
		if !r.OK {
			return 3
		}
	}
	return 0
}
