package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// The last rules that loaded (rules.last_good_dir).
//
// A reload never replaces running rules with rules that do not compile,
// but a restart loaded whatever the rules directory held: a broken rules
// ConfigMap, refused by every running replica, took each one down at its
// next restart (a node drained, an OOM kill, a rollout) and kept it
// crash-looping, every input closed, until someone fixed the ConfigMap.
// With last_good_dir set, every successful load (start or reload) copies
// the rule files it loaded there, and a start whose rules do not load
// starts with that copy instead: logged as an error, counted
// (logrouter_rules_last_good_in_use 1, logrouter_rules_last_reload_successful
// 0: the LogrouterRulesReloadFailing alert), and the rules directory is
// reloaded as soon as it changes.
//
// Layout: <dir>/current holds the copy; a new copy is written to
// <dir>/next (files fsynced), then current is renamed to prev, next to
// current, and prev removed: a crash in between leaves prev or current
// whole, and lastGoodSource takes current, else prev.

// fallbackReloadInterval is how often the rules directory is checked while
// the last good copy runs and rules.reload_interval is off.
const fallbackReloadInterval = 5 * time.Second

// startRules builds the router a start runs: from src, or, when
// rules.last_good_dir holds a copy and src does not load or does not pass
// the gate a reload applies (an emptied rule or test set, a rule test that
// fails with src and not with the copy), from the copy (fallback true).
// Without a copy src must only load, as before.
func startRules(cfg *config.Config, src RulesSource, log *slog.Logger) (r *route.Router, loaded RulesSource, fallback bool, err error) {
	r, err = BuildRouter(cfg, src)
	lg, ok := lastGoodSource(cfg.Rules.LastGoodDir)
	if cfg.Rules.LastGoodDir == "" || !ok {
		return r, src, false, err
	}
	lr, lerr := BuildRouter(cfg, lg)
	if lerr != nil {
		if err != nil {
			return nil, src, false, errors.Join(err, fmt.Errorf("rules.last_good_dir %s does not load either: %w", lg.Name, lerr))
		}
		log.Warn("rules.last_good_dir: the saved copy does not load (this configuration changed since?); it is replaced by the rules now loaded", "last_good", lg.Name, "err", lerr)
		return r, src, false, nil
	}
	if err == nil {
		known, nrules, ntests := knownFailing(lr, lg)
		if _, _, gerr := gate(r, src, known, nrules, ntests); gerr != nil {
			err = gerr
		}
	}
	if err == nil {
		return r, src, false, nil
	}
	log.Error("the rules directory does not load, or fails its tests where the last rules that loaded did not; starting with those (rules.last_good_dir). Fix the rules: the directory is loaded again when it changes",
		"rules_dir", src.Name, "err", err, "last_good", lg.Name)
	return lr, lg, true, nil
}

// knownFailing returns the rule tests of src that fail with r (the gate's
// known), and how many rules and tests r and src have.
func knownFailing(r *route.Router, src RulesSource) (map[string]string, int, int) {
	known := map[string]string{}
	cases, err := rules.LoadTests(src.FS, src.Dir)
	if err != nil {
		return known, len(r.Rules.Rules), 0
	}
	for _, res := range r.RunTests(cases) {
		if res.Diff != "" {
			known[caseKey(res.Case)] = res.Diff
		}
	}
	return known, len(r.Rules.Rules), len(cases)
}

// lastGoodSource returns the saved copy under dir, or ok false without one.
func lastGoodSource(dir string) (RulesSource, bool) {
	for _, gen := range []string{"current", "prev"} {
		d := filepath.Join(dir, gen)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return RulesSource{FS: os.DirFS(d), Dir: ".", Name: d}, true
		}
	}
	return RulesSource{}, false
}

// saveLastGood copies the rule and profile files of src into dir (see
// above). want is the fingerprint of what was loaded: a copy that differs
// (the files changed after the load) is not kept.
func saveLastGood(dir string, src RulesSource, want uint64) error {
	next := filepath.Join(dir, "next")
	if err := os.RemoveAll(next); err != nil {
		return err
	}
	for _, sub := range []string{".", "profiles"} {
		ents, err := fs.ReadDir(src.FS, path.Join(src.Dir, sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && sub != "." {
				continue
			}
			return err
		}
		if err := os.MkdirAll(filepath.Join(next, sub), 0o750); err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			b, err := fs.ReadFile(src.FS, path.Join(src.Dir, sub, n))
			if err != nil {
				return err
			}
			if err := writeSynced(filepath.Join(next, sub, n), b); err != nil {
				return err
			}
		}
	}
	got, err := fingerprint(RulesSource{FS: os.DirFS(next), Dir: "."})
	if err != nil {
		return err
	}
	if got != want {
		_ = os.RemoveAll(next)
		return errors.New("the rules directory changed while it was copied; the previous copy stays")
	}
	if err := syncDir(next); err != nil {
		return err
	}
	cur, prev := filepath.Join(dir, "current"), filepath.Join(dir, "prev")
	if _, err := os.Stat(cur); errors.Is(err, fs.ErrNotExist) {
		// A crash between the renames below left prev alone: it is the
		// only whole copy, and becomes current again before anything is
		// removed.
		if err := os.Rename(prev, cur); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.RemoveAll(prev); err != nil {
		return err
	}
	if err := os.Rename(cur, prev); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(next, cur); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	return os.RemoveAll(prev)
}

func writeSynced(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
