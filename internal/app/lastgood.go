package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
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
