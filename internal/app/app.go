// Package app wires a configuration into a running router: rules, engine,
// destinations, quarantine, the HTTP input and the admin listener. cmd/router
// and the end-to-end tests both use it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/kafka"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"github.com/logrouter/logrouter/sinks/s3"
	"github.com/logrouter/logrouter/sinks/siem"
)

// RulesSource says where rule files live: a file system and a directory in it.
type RulesSource struct {
	FS  fs.FS
	Dir string
	// Name is the directory as the operator gave it (rules.dir resolved,
	// or --rules), for errors: file names in FS are relative to it.
	Name string
}

// RulesFor resolves cfg.Rules.Dir against the directory of the config file.
func RulesFor(cfg *config.Config, configPath string) RulesSource {
	dir := cfg.Rules.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(configPath), dir)
	}
	return RulesDir(dir)
}

// RulesDir is the RulesSource of a directory on disk (--rules, or the
// configuration's rules.dir resolved against its file's directory); its
// Name, which errors show, is absolute.
func RulesDir(dir string) RulesSource {
	name := dir
	if abs, err := filepath.Abs(dir); err == nil {
		name = abs
	}
	return RulesSource{FS: os.DirFS(dir), Dir: ".", Name: name}
}

// where names src's directory in an error, when it is on disk, and says
// so when it does not exist (a configuration copied away from its rules/,
// rules.dir being relative to the configuration file).
func (src RulesSource) where() string {
	if src.Name == "" {
		return ""
	}
	if _, err := os.Stat(src.Name); errors.Is(err, fs.ErrNotExist) {
		return " (rules directory " + src.Name + " does not exist: rules.dir is relative to the configuration file's directory; copy the rules/ directory there, set rules.dir, or pass --rules DIR)"
	}
	return " (rules directory " + src.Name + ")"
}

// BuildRouter compiles normalization and rules and the routing table.
func BuildRouter(cfg *config.Config, src RulesSource) (*route.Router, error) {
	// Every stage is checked, and every problem reported at once (router
	// validate): the profiles, the rules and the routing do not depend on
	// each other's success.
	var errs []error
	ncfg := *cfg.Normalize
	profiles, err := normalize.LoadProfiles(src.FS, path.Join(src.Dir, "profiles"))
	if err != nil {
		errs = append(errs, fmt.Errorf("profiles%s: %w", src.where(), err))
	}
	ncfg.Profiles = profiles
	ncfg.CompileMatcher = rules.CompileMatcher
	ncfg.NewTextParser = parse.NewTextParser
	norm, err := normalize.Compile(ncfg)
	if err != nil {
		errs = append(errs, err)
	}
	def, err := pipeline.ParsePriority(cfg.Rules.DefaultPriority)
	if err != nil {
		errs = append(errs, fmt.Errorf("rules.default_priority: %w", err))
	}
	set, err := rules.Load(src.FS, src.Dir, def)
	if err != nil {
		errs = append(errs, fmt.Errorf("rules%s: %w", src.where(), err))
	}
	names := make([]string, len(cfg.Destinations))
	for i, d := range cfg.Destinations {
		names[i] = d.Name
	}
	table, err := route.NewTable(names, cfg.Routing.ByPriority(), cfg.Routing.All)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r := &route.Router{Norm: norm, Rules: set, Table: table, KeyFields: cfg.Dedup.KeyFields}
	if sy := cfg.Inputs.Syslog; sy != nil {
		// Rule tests given as syslog lines are parsed as this input does.
		loc, err := time.LoadLocation(sy.Timezone)
		if err != nil {
			return nil, fmt.Errorf("inputs.syslog.timezone: %w", err)
		}
		r.Syslog = &route.SyslogInput{
			Parse:      parse.Options{Location: loc, KeepOriginal: sy.KeepOriginal},
			SourceType: sy.SourceType,
			AppTypes:   sy.AppSourceTypes,
		}
	}
	return r, nil
}

// NewLogger returns the process logger for cfg.
func NewLogger(cfg config.Log, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// App is a wired router.
type App struct {
	cfg    *config.Config
	log    *slog.Logger
	eng    *engine.Engine
	queues []*queue.Queue
	in     *httpin.Server
	sl     *syslog.Server
	kin    *kafkain.Source
	admin  *http.Server
	adml   net.Listener
	ready  atomic.Bool
	done   chan struct{}
	src    RulesSource // where the rules were loaded from (ReloadRules)
	reload *reloader

	// The admin listener's guard and replay bounds (admin.go, initAdmin).
	adminTokenSet bool
	adminDigest   [32]byte
	replay        replayLimits
	replaySlots   chan struct{}
	sealKey       *quarantine.SealKey // verifies records replayed as written
}

// Option changes how New builds the app.
type Option func(*options)

type options struct {
	sinks map[string]pipeline.Sink
}

// WithSink makes destination name use s instead of the sink its type would
// build (embedding logrouter with a custom destination; fault tests). The
// destination keeps its queue.
func WithSink(name string, s pipeline.Sink) Option {
	return func(o *options) { o.sinks[name] = s }
}

// New builds everything and opens the destinations; nothing listens yet.
func New(cfg *config.Config, src RulesSource, log *slog.Logger, opts ...Option) (*App, error) {
	o := options{sinks: map[string]pipeline.Sink{}}
	for _, f := range opts {
		f(&o)
	}
	print, _ := fingerprint(src) // before the load: an edit during it shows as a change
	router, loaded, fallback, err := startRules(cfg, src, log)
	if err != nil {
		return nil, err
	}
	rl := newReloaderState()
	rl.baseline(print, router, loaded, log)
	m := engine.NewMetrics()
	qm := queue.NewMetrics(m.Registry)
	sf := &sinkFactory{cfg: cfg, reg: m.Registry}
	sinks := make([]pipeline.Sink, 0, len(cfg.Destinations))
	var queues []*queue.Queue
	closeAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range sinks {
			_ = s.Close(ctx)
		}
	}
	// The key that seals the records of refused events, so that only those
	// replay as written (quarantine.SealKey).
	sealKey, err := quarantine.LoadOrCreateSealKey(filepath.Join(cfg.Quarantine.Dir, quarantine.SealKeyFile))
	if err != nil {
		return nil, err
	}
	// quarantine.max_total_bytes bounds the inputs' directory and every
	// destination's together: what the quarantine may take of its volume.
	qBudget := quarantine.NewBudget(cfg.Quarantine.MaxTotalBytes)
	for _, d := range cfg.Destinations {
		dlog := log.With("destination", d.Name)
		s, err := sf.newSink(d, dlog)
		if custom, ok := o.sinks[d.Name]; ok && err == nil {
			_ = s.Close(context.Background())
			s = custom
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		qc := cfg.QueueFor(d)
		if qc.Mode != "none" {
			dlqCfg := cfg.Quarantine
			dlqCfg.Dir = filepath.Join(cfg.Quarantine.Dir, d.Name)
			dlq, err := quarantine.New(dlqCfg, quarantine.WithSealKey(sealKey), quarantine.WithBudget(qBudget))
			if err != nil {
				_ = s.Close(context.Background())
				closeAll()
				return nil, fmt.Errorf("destination %s: quarantine: %w", d.Name, err)
			}
			dq, err := queue.Open(d.Name, qc, s, dlq, qm, log)
			if err != nil {
				_ = s.Close(context.Background())
				_ = dlq.Close(context.Background())
				closeAll()
				return nil, fmt.Errorf("destination %s: %w", d.Name, err)
			}
			queues = append(queues, dq)
			s = dq
		}
		sinks = append(sinks, s)
	}
	q, err := quarantine.New(cfg.Quarantine, quarantine.WithBudget(qBudget))
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng, err := engine.New(cfg.Engine, router, sinks, q, m, log)
	if err != nil {
		closeAll()
		_ = q.Close(context.Background())
		return nil, err
	}
	if qBudget.Max() > 0 {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "logrouter_quarantine_bytes", Help: "Bytes of quarantine files in quarantine.dir and its destinations' directories, counted against quarantine.max_total_bytes (only with that bound)."},
			func() float64 { return float64(qBudget.Bytes()) }))
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "logrouter_quarantine_max_bytes", Help: "quarantine.max_total_bytes: past it, batches with records to quarantine are refused and retried."},
			func() float64 { return float64(qBudget.Max()) }))
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "logrouter_rules_loaded", Help: "Rules loaded (the running set: a reload changes it)."}, func() float64 { return float64(len(eng.Router().Rules.Rules)) }))
	eng.EnableDedup(cfg.Dedup)
	a := &App{cfg: cfg, log: log, eng: eng, queues: queues, sealKey: sealKey, done: make(chan struct{}), src: src,
		reload: rl.register(m.Registry)}
	if fallback {
		rl.ok.Set(0) // LogrouterRulesReloadFailing: the rules directory is broken
		rl.lastGood.Set(1)
		rl.fallback = true
	} else {
		a.keepLastGood(print)
	}
	if cfg.Inputs.HTTP != nil {
		a.in, err = httpin.New(*cfg.Inputs.HTTP, eng, log)
		if err != nil {
			_ = eng.Close(context.Background())
			return nil, err
		}
	}
	if cfg.Inputs.Syslog != nil {
		a.sl, err = syslog.New(*cfg.Inputs.Syslog, eng, log)
		if err != nil {
			_ = eng.Close(context.Background())
			return nil, err
		}
	}
	if cfg.Inputs.Kafka != nil {
		a.kin, err = kafkain.New(*cfg.Inputs.Kafka, eng, log)
		if err != nil {
			_ = eng.Close(context.Background())
			return nil, err
		}
	}
	if n := router.Rules.VMRules(); n > 0 {
		log.Info("some rules run on the expr VM (slower); see rules/README.md for the fast subset", "rules", n)
	}
	log.Info("router configured", "rules", len(router.Rules.Rules), "destinations", router.Table.Destinations,
		"P1", router.Table.Names(pipeline.P1), "P2", router.Table.Names(pipeline.P2), "P3", router.Table.Names(pipeline.P3))
	return a, nil
}

// sinkFactory builds destinations; per-type metrics are registered once,
// on first use, and shared by every destination of that type (they carry a
// destination label).
type sinkFactory struct {
	cfg *config.Config
	reg prometheus.Registerer
	os  *opensearch.Metrics
	sm  *siem.Metrics
	s3e *prometheus.CounterVec
}

// newS3 builds the S3 archive with its metrics: upload errors by
// permanence, and the backlog (objects staged on local disk, not yet in S3)
// as gauges read at scrape time.
func (f *sinkFactory) newS3(d config.Destination, log *slog.Logger) (pipeline.Sink, error) {
	if f.s3e == nil {
		f.s3e = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_s3_upload_errors_total",
			Help: "Failed S3 upload attempts by destination and permanence (permanent: credentials, bucket, KMS; the object stays staged and is retried)."},
			[]string{"destination", "permanent"})
		f.reg.MustRegister(f.s3e)
	}
	c := *d.S3
	if c.Node == "" {
		c.Node = f.cfg.Node
	}
	a, err := s3.NewS3Archive(d.Name, c, s3.WithLogger(log), s3.WithErrorHandler(func(err error) {
		var ue *s3.UploadError
		if errors.As(err, &ue) {
			f.s3e.WithLabelValues(d.Name, strconv.FormatBool(ue.Permanent)).Inc()
			if ue.Permanent {
				log.Error("S3 upload failed; the object stays staged and is retried (fix the bucket, credentials or KMS key)", "err", err)
				return
			}
			log.Warn("S3 upload failed; retrying with backoff", "err", err)
			return
		}
		log.Error("S3 archive error", "err", err)
	}))
	if err != nil {
		return nil, err
	}
	f.registerEvictions(d.Name, a.Evictions)
	labels := prometheus.Labels{"destination": d.Name}
	f.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logrouter_s3_backlog_objects", ConstLabels: labels,
			Help: "Objects staged on local disk and not yet uploaded to S3."},
			func() float64 { n, _ := a.Backlog(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logrouter_s3_backlog_bytes", ConstLabels: labels,
			Help: "Bytes staged on local disk and not yet uploaded to S3."},
			func() float64 { _, b := a.Backlog(); return float64(b) }),
	)
	return a, nil
}

// registerEvictions exports an archive's early closes at max_open_objects.
func (f *sinkFactory) registerEvictions(dest string, n func() uint64) {
	f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "logrouter_archive_evictions_total",
		ConstLabels: prometheus.Labels{"destination": dest},
		Help:        "Archive objects closed early because max_open_objects were open: each is a smaller object than max_object_age/max_object_bytes would make; raise max_open_objects to priorities x source types x hours written at once."},
		func() float64 { return float64(n()) }))
}

func (f *sinkFactory) newSink(d config.Destination, log *slog.Logger) (pipeline.Sink, error) {
	switch d.Type {
	case "archive_dir":
		c := *d.ArchiveDir
		if c.Node == "" {
			c.Node = f.cfg.Node
		}
		a, err := s3.New(d.Name, c, s3.WithErrorHandler(func(err error) {
			log.Error("archive background error (objects stay .partial until the next start)", "err", err)
		}))
		if err != nil {
			return nil, err
		}
		f.registerEvictions(d.Name, a.Evictions)
		return a, nil
	case s3.TypeS3:
		return f.newS3(d, log)
	case "file":
		return file.New(d.Name, *d.File)
	case "kafka":
		c := *d.Kafka
		c.SetDefaults()
		return kafka.New(d.Name, c)
	case "opensearch":
		if f.os == nil {
			f.os = opensearch.NewMetrics(f.reg)
		}
		c := *d.OpenSearch
		c.SetDefaults()
		return opensearch.New(d.Name, c, opensearch.WithMetrics(f.os), opensearch.WithLogger(log))
	case siem.TypeHEC, siem.TypeSyslog:
		if f.sm == nil {
			f.sm = siem.NewMetrics(f.reg)
		}
		opts := []siem.Option{siem.WithMetrics(f.sm), siem.WithLogger(log)}
		if d.Type == siem.TypeHEC {
			c := *d.SplunkHEC
			if c.DefaultHost == "" {
				c.DefaultHost = f.cfg.Node
			}
			return siem.NewHEC(d.Name, c, opts...)
		}
		c := *d.Syslog
		if c.DefaultHost == "" {
			c.DefaultHost = f.cfg.Node
		}
		return siem.NewSyslog(d.Name, c, opts...)
	}
	return nil, fmt.Errorf("unknown destination type %q", d.Type)
}

// Engine returns the engine (for tests).
func (a *App) Engine() *engine.Engine { return a.eng }

// HTTPAddr is the HTTP input's listening address (after Start).
func (a *App) HTTPAddr() string {
	if a.in == nil {
		return ""
	}
	return a.in.Addr()
}

// SyslogAddrs are the syslog listeners' addresses (after Start; "" when off).
func (a *App) SyslogAddrs() (udp, tcp, tls string) {
	if a.sl == nil {
		return "", "", ""
	}
	return a.sl.Addrs()
}

// failedStartClose bounds the closing of what a failed Start opened
// (at most shutdown_timeout): nothing was accepted, so there is nothing to
// drain.
const failedStartClose = 2 * time.Second

func (a *App) failedStartTimeout() time.Duration {
	return min(failedStartClose, a.cfg.ShutdownTimeout)
}

// closeInput shuts an input a failed Start opened.
func (a *App) closeInput(shutdown func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.failedStartTimeout())
	defer cancel()
	_ = shutdown(ctx)
}

// closeFailedStart logs why Start failed (the admin listener is closed, so
// the log is all there is) and closes the engine.
func (a *App) closeFailedStart(cause error) {
	a.log.Error("start failed; closing the destinations' queues (what they hold stays on disk for the next start)", "err", cause)
	ctx, cancel := context.WithTimeout(context.Background(), a.failedStartTimeout())
	defer cancel()
	if err := a.eng.Close(ctx); err != nil {
		a.log.Warn("closing after the failed start", "err", err)
	}
}

// AdminAddr is the admin listener's address (after Start).
func (a *App) AdminAddr() string {
	if a.adml == nil {
		return ""
	}
	return a.adml.Addr().String()
}

// Start opens the listeners. On error, everything opened is closed within
// failedStartClose (a queue's delivery in flight to a destination that
// does not answer would hold it for that destination's timeout, or
// forever; what the queues hold stays on disk for the next start), and the
// error returned.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.cfg.Admin.Address)
	if err != nil {
		a.closeFailedStart(err)
		return fmt.Errorf("admin: listen on %s: %w (change admin.address)", a.cfg.Admin.Address, err)
	}
	a.adml = ln
	a.initAdmin()
	a.admin = &http.Server{
		Handler:           a.adminHandler(),
		ReadHeaderTimeout: adminReadHeaderTimeout,
		ReadTimeout:       adminReadTimeout,
		WriteTimeout:      adminWriteTimeout,
		IdleTimeout:       adminIdleTimeout,
		MaxHeaderBytes:    adminMaxHeaderBytes,
	}
	go func() { _ = a.admin.Serve(ln) }()
	a.logAdminAccess()
	if a.in != nil {
		if err := a.in.Start(); err != nil {
			_ = a.admin.Close()
			a.closeFailedStart(err)
			return err
		}
	}
	if a.sl != nil {
		if err := a.sl.Start(); err != nil {
			if a.in != nil {
				a.closeInput(a.in.Shutdown)
			}
			_ = a.admin.Close()
			a.closeFailedStart(err)
			return err
		}
	}
	if a.kin != nil {
		if err := a.kin.Start(); err != nil {
			if a.in != nil {
				a.closeInput(a.in.Shutdown)
			}
			if a.sl != nil {
				a.closeInput(a.sl.Shutdown)
			}
			_ = a.admin.Close()
			a.closeFailedStart(err)
			return err
		}
	}
	iv := a.cfg.Rules.ReloadInterval
	if iv == 0 && a.reload.fallback {
		// Running the last good copy: the rules directory is loaded as
		// soon as it is fixed, whether or not reload_interval is set.
		iv = fallbackReloadInterval
	}
	if iv > 0 {
		if a.src.Name == "" {
			a.log.Warn("rules.reload_interval is set but the rules are the embedded starter set, which cannot change: no reload check runs")
		} else {
			a.watchRules(iv)
		}
	}
	a.ready.Store(true)
	udp, tcp, tlsAddr := a.SyslogAddrs()
	a.log.Info("logrouter ready", "http", a.HTTPAddr(), "admin", a.AdminAddr(),
		"syslog_udp", udp, "syslog_tcp", tcp, "syslog_tls", tlsAddr)
	return nil
}

// Shutdown stops gracefully within ctx: readiness goes false, the HTTP input
// stops accepting and answers requests in progress, in-flight batches finish,
// destinations and quarantine are flushed and closed.
//
// The inputs stop side by side, each within the whole of ctx: one after
// the other, a slow HTTP request (a body trickling in for read_timeout)
// used up the deadline before the Kafka input could drain its batches and
// commit their offsets (they were then consumed again by the next owner).
func (a *App) Shutdown(ctx context.Context) error {
	a.ready.Store(false)
	a.stopReload()
	var inErrs [3]error
	var wg sync.WaitGroup
	if a.in != nil {
		wg.Go(func() {
			if err := a.in.Shutdown(ctx); err != nil {
				inErrs[0] = fmt.Errorf("http input: %w", err)
			}
		})
	}
	if a.sl != nil {
		wg.Go(func() { inErrs[1] = a.sl.Shutdown(ctx) })
	}
	if a.kin != nil {
		wg.Go(func() { inErrs[2] = a.kin.Shutdown(ctx) })
	}
	wg.Wait()
	var errs []error
	for _, err := range inErrs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := a.eng.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if a.admin != nil {
		if err := a.admin.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("admin: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Run starts the app, waits for ctx to end, then shuts down within the
// configured shutdown_timeout.
func (a *App) Run(ctx context.Context) error {
	// SIGHUP reloads the rules and profiles (ReloadRules); caught from
	// before the router is ready, so that one sent once it is does not
	// kill it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := a.Start(); err != nil {
		return err
	}
wait:
	for {
		select {
		case <-hup:
			_, _ = a.ReloadRules() // logged and counted there
		case <-ctx.Done():
			break wait
		}
	}
	a.log.Info("shutting down (a second SIGINT or SIGTERM stops at once)", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := a.Shutdown(sctx)
	if err == nil {
		a.log.Info("stopped cleanly")
	}
	return err
}
