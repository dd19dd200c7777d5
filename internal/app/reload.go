package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// reloader swaps the rules and profiles of a running router (App.ReloadRules).
type reloader struct {
	mu    sync.Mutex // one reload at a time
	print uint64     // fingerprint of the files last loaded (or tried)
	// known are the rule test cases (file:name) that fail with the running
	// rules in this configuration, with how they fail (their diff): tests
	// written for another configuration's routing or normalization (the
	// starter tests expect destinations archive and siem) fail with the
	// rules that work too. A reload is refused when some other case fails,
	// or one of these fails differently (a P1 rule's case that failed only
	// on its destinations now failing on its priority too).
	known map[string]string
	// rules and tests are how many rules and rule tests are running: a
	// reload to none of either is refused.
	rules, tests int
	printErr     string // the last fingerprint error logged (logged once)
	total        *prometheus.CounterVec
	ok           prometheus.Gauge
	okAt         prometheus.Gauge
	lastGood     prometheus.Gauge
	fallback     bool // the start runs the last good copy (startRules)
	stop         chan struct{}
	stopOnce     sync.Once
	wg           sync.WaitGroup
}

// newReloaderState returns a reloader without metrics (register adds them).
func newReloaderState() *reloader {
	return &reloader{stop: make(chan struct{})}
}

// register creates and registers the reload metrics and returns rl.
func (rl *reloader) register(reg prometheus.Registerer) *reloader {
	rl.total = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_rules_reloads_total",
		Help: "Reloads of the rules and profiles (SIGHUP, POST /admin/reload, rules.reload_interval) by result: ok, or error (the running rules stay)."},
		[]string{"result"})
	rl.ok = prometheus.NewGauge(prometheus.GaugeOpts{Name: "logrouter_rules_last_reload_successful",
		Help: "1 when the last reload of the rules succeeded (or none was tried), 0 when it failed and older rules are running."})
	rl.okAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "logrouter_rules_last_reload_success_timestamp_seconds",
		Help: "When the running rules were loaded (start or reload), unix seconds."})
	rl.lastGood = prometheus.NewGauge(prometheus.GaugeOpts{Name: "logrouter_rules_last_good_in_use",
		Help: "1 when the router started with the copy in rules.last_good_dir because its rules directory did not load (fix it: it is reloaded as soon as it changes)."})
	reg.MustRegister(rl.total, rl.ok, rl.okAt, rl.lastGood)
	rl.ok.Set(1)
	rl.okAt.Set(float64(time.Now().Unix()))
	return rl
}

// ReloadResult is what a successful reload loaded.
type ReloadResult struct {
	Rules     int `json:"rules"`
	VMRules   int `json:"vm_rules"`
	RuleTests int `json:"rule_tests"`
	// KnownFailing is the rule tests that fail, as with the rules before
	// (see reloader.known).
	KnownFailing int `json:"rule_tests_failing_before_too"`
}

// errRulesUnchanged is returned by a periodic check that found the files
// as they were loaded (or tried) last.
var errRulesUnchanged = errors.New("rules unchanged")

// ReloadRules loads the rule directory again (rules and profiles/) and, if
// it compiles and every rule test next to the rules (*_test.yaml) passes,
// classifies with it from each input's next batch on. Otherwise the running
// rules stay and the error says what is wrong: a reload never replaces
// rules that work with rules that do not compile or fail their own tests.
// The configuration file is not read again (inputs, destinations and
// routing change only with a restart).
func (a *App) ReloadRules() (ReloadResult, error) {
	return a.reloadRules(false)
}

func (a *App) reloadRules(onlyIfChanged bool) (ReloadResult, error) {
	rl := a.reload
	rl.mu.Lock()
	defer rl.mu.Unlock()
	print, perr := fingerprint(a.src)
	if perr != nil && perr.Error() != rl.printErr {
		a.log.Warn("rules directory cannot be read to check for changes; tried again at the next check", "rules_dir", a.src.Name, "err", perr)
	}
	rl.printErr = ""
	if perr != nil {
		rl.printErr = perr.Error()
	}
	if onlyIfChanged && (perr != nil || print == rl.print) {
		return ReloadResult{}, errRulesUnchanged // unreadable: tried again at the next check
	}
	rl.print = print
	res, err := a.loadRules()
	if err != nil {
		rl.total.WithLabelValues("error").Inc()
		rl.ok.Set(0)
		a.log.Error("rules reload failed; the running rules stay", "rules_dir", a.src.Name, "err", err)
		return ReloadResult{}, err
	}
	rl.total.WithLabelValues("ok").Inc()
	rl.ok.Set(1)
	rl.okAt.Set(float64(time.Now().Unix()))
	rl.lastGood.Set(0)
	a.log.Info("rules reloaded", "rules_dir", a.src.Name, "rules", res.Rules, "vm_rules", res.VMRules, "rule_tests", res.RuleTests)
	a.keepLastGood(print)
	return res, nil
}

// loadRules builds a router from the rule directory, runs its tests and
// hands it to the engine.
func (a *App) loadRules() (ReloadResult, error) {
	r, err := BuildRouter(a.cfg, a.src)
	if err != nil {
		return ReloadResult{}, err
	}
	failing, ncases, err := gate(r, a.src, a.reload.known, a.reload.rules, a.reload.tests)
	if err != nil {
		return ReloadResult{}, err
	}
	if err := a.eng.Reload(r); err != nil {
		return ReloadResult{}, err
	}
	a.reload.known = failing
	a.reload.rules, a.reload.tests = len(r.Rules.Rules), ncases
	return ReloadResult{Rules: len(r.Rules.Rules), VMRules: r.Rules.VMRules(), RuleTests: ncases, KnownFailing: len(failing)}, nil
}

// gate checks r, built from src, against the rules it would replace: known
// (their failing rule tests with how they fail), rules and tests (how many
// ran). It refuses an emptied rule set or test set, and any test that fails
// with r and did not (or not so) with the rules before; else it returns
// r's failing tests and how many tests src has. A reload passes it, and so
// must a start's rules when there is a last good copy to compare with.
func gate(r *route.Router, src RulesSource, known map[string]string, nrules, ntests int) (map[string]string, int, error) {
	cases, err := rules.LoadTests(src.FS, src.Dir)
	if err != nil {
		return nil, 0, fmt.Errorf("rule tests: %w", err)
	}
	// An emptied directory (a ConfigMap without its keys, a volume
	// mounted elsewhere) has no failing test to refuse it, and would send
	// every event to the default priority.
	if len(r.Rules.Rules) == 0 && nrules > 0 {
		return nil, 0, fmt.Errorf("the rules directory %s holds no rule now (%d running): a reload never empties the rule set; restart to run without rules", src.Name, nrules)
	}
	if len(cases) == 0 && ntests > 0 {
		return nil, 0, fmt.Errorf("the rules directory %s holds no rule test now (%d running): a reload is checked by the rule tests next to the rules (*_test.yaml); restart to run without them", src.Name, ntests)
	}
	failing := map[string]string{}
	var failed []string
	for _, res := range r.RunTests(cases) {
		if res.Diff == "" {
			continue
		}
		k := caseKey(res.Case)
		failing[k] = res.Diff
		if d, ok := known[k]; !ok || d != res.Diff {
			failed = append(failed, fmt.Sprintf("%s:%d %s:\n%s", res.Case.File, res.Case.Line, res.Case.Name, strings.TrimRight(res.Diff, "\n")))
		}
	}
	if n := len(failed); n > 0 {
		more := ""
		if n > 3 {
			more = fmt.Sprintf("\n(and %d more)", n-3)
			failed = failed[:3]
		}
		return nil, 0, fmt.Errorf("%d of %d rule tests fail with the new rules that did not (or not so) with the running ones (run `router rules test`):\n%s%s", n, len(cases), strings.Join(failed, "\n"), more)
	}
	return failing, len(cases), nil
}

// caseKey names a rule test case across loads.
func caseKey(tc *rules.TestCase) string { return tc.File + "\x00" + tc.Name }

// baseline records, for New, the fingerprint of the files about to be
// loaded (taken before, so that an edit during the load shows as a change)
// and, once they are, the rule tests that fail with them in this
// configuration (see reloader.known).
func (rl *reloader) baseline(print uint64, r *route.Router, src RulesSource, log *slog.Logger) {
	rl.print = print
	rl.known, rl.rules, rl.tests = knownFailing(r, src)
	if n := len(rl.known); n > 0 {
		log.Info("some rule tests fail with this configuration (tests written for another routing or normalization): a reload is refused only when other tests fail",
			"failing", n, "tests", rl.tests)
	}
}

// fingerprint hashes the names and contents of the YAML files of src's
// directory and its profiles/, those the loaders read (following symbolic links, as a Kubernetes
// ConfigMap volume has them: its files are links into a directory that an
// update replaces). Contents, not modification times: an update through
// such a link changes no mtime the directory shows.
func fingerprint(src RulesSource) (uint64, error) {
	h := xxhash.New()
	for _, sub := range []string{".", "profiles"} {
		// Paths relative to src.Dir: a copy elsewhere (saveLastGood)
		// fingerprints alike.
		dir := path.Join(src.Dir, sub)
		ents, err := fs.ReadDir(src.FS, dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && dir != src.Dir {
				continue
			}
			return 0, err
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			// What the loaders read (rules.RuleFiles, normalize.LoadProfiles).
			if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := fs.ReadFile(src.FS, path.Join(dir, n))
			if err != nil {
				return 0, err
			}
			fmt.Fprintf(h, "%s/%s\x00%d\x00", sub, n, len(b))
			_, _ = h.Write(b)
		}
	}
	return h.Sum64(), nil
}

// watchRules reloads the rules when their files change, checking every
// interval, until stopReload.
func (a *App) watchRules(interval time.Duration) {
	rl := a.reload
	rl.wg.Add(1)
	go func() {
		defer rl.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-rl.stop:
				return
			case <-t.C:
				_, _ = a.reloadRules(true) // logged and counted there
			}
		}
	}()
}

// stopReload stops watchRules and waits for a reload under way.
func (a *App) stopReload() {
	rl := a.reload
	rl.stopOnce.Do(func() { close(rl.stop) })
	rl.wg.Wait()
}

// handleReload answers POST /admin/reload: 200 with what was loaded, or 422
// with why the running rules stay.
func (a *App) handleReload(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	res, err := a.ReloadRules()
	if err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(struct {
		Status string `json:"status"`
		ReloadResult
	}{"ok", res})
}

// keepLastGood saves the rules just loaded (fingerprint print) as the last
// good copy, when rules.last_good_dir is set; a failure is logged (the
// router runs on, with the older copy).
func (a *App) keepLastGood(print uint64) {
	dir := a.cfg.Rules.LastGoodDir
	if dir == "" {
		return
	}
	if err := saveLastGood(dir, a.src, print); err != nil {
		a.log.Warn("rules.last_good_dir: cannot save a copy of the rules just loaded; the previous copy stays", "dir", dir, "err", err)
	}
}
