package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

type globalFlags struct {
	config string
	rules  string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "router",
		Short:         "logrouter: a streaming log router and normalizer for security teams",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringVarP(&g.config, "config", "c", "", "configuration file (default: the embedded config.example.yaml and starter rules)")
	root.PersistentFlags().StringVar(&g.rules, "rules", "", "rules directory (overrides rules.dir of the configuration)")
	root.AddCommand(runCmd(g), validateCmd(g), rulesCmd(g), explainCmd(g), statsCmd(g), quarantineCmd(g), archiveCmd(g))
	return root
}

// load returns the configuration and where its rules are.
func (g *globalFlags) load() (*config.Config, app.RulesSource, error) {
	var cfg *config.Config
	var src app.RulesSource
	var err error
	if g.config == "" {
		cfg, err = config.Parse("config.example.yaml (embedded)", logrouter.ExampleConfig)
		if err == nil { // the environment can make it fail (a bad ${VAR})
			src = app.RulesSource{FS: logrouter.StarterRules, Dir: cfg.Rules.Dir}
		}
	} else {
		cfg, err = config.Load(g.config)
		if err == nil {
			src = app.RulesFor(cfg, g.config)
		}
	}
	if err != nil {
		return nil, src, err
	}
	if g.rules != "" {
		src = app.RulesDir(g.rules)
	}
	return cfg, src, nil
}

func runCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the router until SIGTERM or SIGINT",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := g.load()
			if err != nil {
				return err
			}
			log := app.NewLogger(cfg.Log, os.Stderr)
			before, after := app.TuneGOMAXPROCS()
			offHeap := app.OffHeapBytes(cfg)
			memLimit := app.TuneMemoryLimit(log, offHeap)
			log.Info("starting logrouter", "version", version, "config", configName(g.config),
				"cpus", before, "gomaxprocs", after, "memory_limit", app.DescribeMemoryLimit(memLimit),
				"off_heap_mib", offHeap>>20)
			if cfg.Dedup.Enabled && (cfg.Normalize == nil || cfg.Normalize.HashKey == "") {
				log.Warn("dedup is on with an unkeyed content hash: someone who controls a logged field could craft an event that is dropped as a repeat; set normalize.hash_key (docs/architecture.md, Deduplication)")
			}
			// SIGHUP reloads the rules once running (App.Run); until then
			// (queue recovery can take a while) it must not kill the
			// process: the files are being loaded anyway.
			signal.Ignore(syscall.SIGHUP)
			a, err := app.New(cfg, src, log)
			if err != nil {
				return err
			}
			err = a.Run(cmd.Context())
			if err != nil && g.config == "" && errors.Is(err, syscall.EADDRINUSE) {
				// The keys the error names are the embedded file's: say
				// how to move its ports without one.
				err = fmt.Errorf("%w; the embedded configuration takes its ports from LOGROUTER_HTTP_ADDR, LOGROUTER_OTLP_GRPC_ADDR, LOGROUTER_SYSLOG_UDP_ADDR, LOGROUTER_SYSLOG_TCP_ADDR, LOGROUTER_SYSLOG_TLS_ADDR and LOGROUTER_ADMIN_ADDR", err)
			}
			return err
		},
	}
}

func configName(p string) string {
	if p == "" {
		return "embedded config.example.yaml"
	}
	return p
}

func validateCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration and its rules; exit 2 listing every problem of the first stage that has any (unknown keys, then values, then rules)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := g.load()
			if err != nil {
				return &exitError{2, err}
			}
			r, err := app.BuildRouter(cfg, src)
			if err != nil {
				return &exitError{2, err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d rules, %d natively compiled; destinations: %s)\n",
				configName(g.config), len(r.Rules.Rules), len(r.Rules.Rules)-r.Rules.VMRules(),
				strings.Join(r.Table.Destinations, ", "))
			return nil
		},
	}
}

func rulesCmd(g *globalFlags) *cobra.Command {
	c := &cobra.Command{Use: "rules", Short: "Work with routing rules"}
	var verbose bool
	test := &cobra.Command{
		Use:   "test",
		Short: "Run the rule test files (*_test.yaml) next to the rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := g.load()
			if err != nil {
				return &exitError{2, err}
			}
			r, err := app.BuildRouter(cfg, src)
			if err != nil {
				return &exitError{2, err}
			}
			cases, err := rules.LoadTests(src.FS, src.Dir)
			if err != nil {
				return &exitError{2, err}
			}
			if len(cases) == 0 {
				return &exitError{2, fmt.Errorf("no rule tests found (*_test.yaml next to the rules)")}
			}
			return reportTests(cmd.OutOrStdout(), r.RunTests(cases), verbose)
		},
	}
	test.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every case and the normalized event of failures")
	c.AddCommand(test)
	return c
}

func reportTests(w io.Writer, results []route.TestResult, verbose bool) error {
	failed := 0
	for _, res := range results {
		tc := res.Case
		if res.Diff == "" {
			if verbose {
				fmt.Fprintf(w, "ok   %s:%d %s (%s, %s)\n", tc.File, tc.Line, tc.Name, res.Prio, res.Rule)
			}
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL %s:%d %s\n%s", tc.File, tc.Line, tc.Name, res.Diff)
		if verbose && res.Output != nil {
			fmt.Fprintf(w, "  normalized event: %s\n", res.Output)
		}
	}
	fmt.Fprintf(w, "%d rule tests, %d passed, %d failed\n", len(results), len(results)-failed, failed)
	if failed > 0 {
		return &exitError{1, fmt.Errorf("%d rule tests failed", failed)}
	}
	return nil
}

func explainCmd(g *globalFlags) *cobra.Command {
	var sourcetype, output, format string
	c := &cobra.Command{
		Use:   "explain [FILE...]",
		Short: "Show how events (NDJSON on stdin or in files) are normalized, classified and routed",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, src, err := g.load()
			if err != nil {
				return &exitError{2, err}
			}
			r, err := app.BuildRouter(cfg, src)
			if err != nil {
				return &exitError{2, err}
			}
			var in io.Reader = cmd.InOrStdin()
			if len(args) > 0 {
				var rs []io.Reader
				for _, a := range args {
					f, err := os.Open(a)
					if err != nil {
						return err
					}
					defer f.Close()
					rs = append(rs, f)
				}
				in = io.MultiReader(rs...)
			}
			if output != "text" && output != "json" {
				return &exitError{2, fmt.Errorf("--output: use text or json")}
			}
			if format != "json" && format != "syslog" && format != "hec" {
				return &exitError{2, fmt.Errorf("--format: use json, syslog or hec")}
			}
			var sy *route.SyslogInput
			if format == "syslog" {
				// As the configuration's syslog input parses and labels
				// (its timezone, source_type, app_source_types).
				sy = &route.SyslogInput{SourceType: "syslog"}
				if r.Syslog != nil {
					sy = r.Syslog
				}
			}
			if format == "hec" && sourcetype == "" && cfg.Inputs.HTTP != nil {
				// A token without a source type gets the input's.
				sourcetype = cfg.Inputs.HTTP.SourceType
			}
			return explain(cmd.OutOrStdout(), in, r, sourcetype, output == "json", sy, format == "hec")
		},
	}
	c.Flags().StringVar(&sourcetype, "sourcetype", "", "treat events as sent with this HEC sourcetype (with --format hec: the token's default for envelopes without one; default inputs.http.source_type)")
	c.Flags().StringVarP(&output, "output", "o", "text", "text or json (one JSON object per event)")
	c.Flags().StringVar(&format, "format", "json", "input lines are json (NDJSON; other lines become message), syslog (parsed as the syslog input does) or hec (HEC event endpoint bodies: envelopes unwrapped, their sourcetype, time, host, source, index and fields applied)")
	return c
}

func explain(w io.Writer, in io.Reader, r *route.Router, sourcetype string, asJSON bool, sy *route.SyslogInput, hec bool) error {
	var sp *route.SyslogParser
	if sy != nil {
		sp = &route.SyslogParser{Parser: parse.New(sy.Parse)}
	}
	wk := r.NewWorker()
	var p fastjson.Parser
	var hecScratch [64]byte
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	meta := pipeline.Meta{Input: "explain", Protocol: "ndjson", IngestTime: time.Now().UnixNano()}
	if hec {
		meta.Protocol = httpin.ProtoHEC
	}
	em := normalize.EventMeta{SourceType: []byte(sourcetype)}
	line, bad, events := 0, 0, 0 // events: non-empty lines, envelopes counted by their records
	split := false
	var obj *fastjson.Value
	var text []byte
	envelope := 0 // with hec: the envelope's number in the body (line stays 0)
	lineOf := func() string {
		if hec {
			return fmt.Sprintf("envelope %d", envelope)
		}
		return fmt.Sprintf("line %d", line)
	}
	// An event that holds several (a batch envelope's records, a Google
	// Workspace activity's events) is explained one by one, as the inputs
	// split it (normalize.Parts).
	one := func(i, n int, o *fastjson.Value) {
		events++
		where, record := lineOf(), 0
		if n > 1 || o != obj {
			record, split = i+1, true
			where = fmt.Sprintf("%s record %d", where, record)
		}
		out, ev, err := wk.Explain(nil, &meta, o, text, &em)
		if err != nil {
			bad++
			fmt.Fprintf(w, "%s: rejected (%s): %v\n", where, normalize.Reason(err), err)
			return
		}
		dests := r.Table.Names(ev.Priority)
		rule := r.Rules.RuleName(int(ev.Rule))
		if asJSON {
			rec, _ := json.Marshal(struct {
				Line         int             `json:"line"`
				Envelope     int             `json:"envelope,omitempty"`
				Record       int             `json:"record,omitempty"`
				Rule         string          `json:"rule"`
				Priority     string          `json:"priority"`
				Destinations []string        `json:"destinations"`
				SourceType   string          `json:"source_type"`
				Hash         string          `json:"hash"`
				Event        json.RawMessage `json:"event"`
			}{line, envelope, record, rule, ev.Priority.String(), dests, ev.SourceType, fmt.Sprintf("%016x", ev.Hash), out})
			fmt.Fprintf(w, "%s\n", rec)
			return
		}
		fmt.Fprintf(w, "%s: rule=%s priority=%s destinations=[%s] source_type=%s\n  %s\n",
			where, rule, ev.Priority, strings.Join(dests, ", "), ev.SourceType, out)
	}
	explainValue := func() {
		if obj == nil {
			one(0, 1, nil)
		} else {
			normalize.EachPartOf(obj, sp == nil, one) // the syslog input splits activities only
		}
	}
	if hec {
		// As the HEC event endpoint takes a body: envelopes one after
		// another or in a JSON array, pretty-printed or not, each
		// unwrapped with its metadata (--sourcetype as the token's
		// default); at an envelope without an event it stops, as the
		// endpoint does (the rest is not processed).
		body, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		errStop := errors.New("stop")
		err = httpin.HECEnvelopes(body, func(e []byte) error {
			envelope++
			v, err := p.ParseBytes(e)
			if err != nil {
				return err
			}
			ev, reason, err := httpin.HECEvent(v)
			if err != nil {
				bad++
				events++
				fmt.Fprintf(w, "%s: rejected (%s): %v; HEC stops there: the envelopes after it are not processed (hec_not_processed)\n", lineOf(), reason, err)
				return errStop
			}
			em = httpin.HECMeta(v, hecScratch[:])
			em.DefaultSourceType = []byte(sourcetype)
			obj, text = httpin.HECEventBody(ev)
			explainValue()
			return nil
		})
		if err != nil && err != errStop {
			bad++
			events++
			fmt.Fprintf(w, "after envelope %d: rejected (invalid_json): not HEC event envelopes: %v\n", envelope, err)
		}
		if bad > 0 {
			return &exitError{1, fmt.Errorf("%d of %d events (envelopes, and the records of batch envelopes) were rejected", bad, events)}
		}
		return nil
	}
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		obj, text = nil, nil
		switch {
		case sp != nil:
			// As the syslog input makes the event (a JSON payload parsed
			// once, the header's members around it).
			em = normalize.EventMeta{SourceType: []byte(sourcetype), DefaultSourceType: []byte(sy.SourceType), KeepOwnLogrouter: true}
			v, res, err := sp.Parse(raw, &em)
			if err != nil {
				bad++
				events++
				fmt.Fprintf(w, "line %d: rejected (invalid_json): %v\n", line, err)
				continue
			}
			if st, ok := sy.AppTypes[string(res.App)]; ok && sourcetype == "" {
				em.SourceType = []byte(st)
			}
			obj = v
		case raw[0] == '{':
			v, err := p.ParseBytes(raw)
			if err != nil {
				bad++
				events++
				fmt.Fprintf(w, "line %d: rejected (invalid_json): %v\n", line, err)
				continue
			}
			obj = v
		default:
			text = raw
		}
		explainValue()
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if bad > 0 {
		if split {
			return &exitError{1, fmt.Errorf("%d of %d events (lines, and the records of batch envelopes or events of activities) were rejected", bad, events)}
		}
		return &exitError{1, fmt.Errorf("%d of %d lines were rejected", bad, line)}
	}
	return nil
}
