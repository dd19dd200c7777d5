package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAlertRulesUseExportedMetrics: deploy/kubernetes/alerts.yaml parses,
// every alert has an expression and a severity, and every logrouter series
// its expressions read is one the code registers (a renamed metric would
// otherwise leave an alert that never fires).
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kubernetes/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Alert  string            `yaml:"alert"`
					Expr   string            `yaml:"expr"`
					For    string            `yaml:"for"`
					Labels map[string]string `yaml:"labels"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// The names the code registers (Name: "logrouter_..." in non-test files).
	registered := map[string]bool{}
	nameRE := regexp.MustCompile(`Name:\s*"(logrouter_[a-z0-9_]+)"`)
	err = filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range nameRE.FindAllStringSubmatch(string(src), -1) {
			registered[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(registered) < 30 {
		t.Fatalf("found only %d registered metric names: the scan is broken", len(registered))
	}
	seriesRE := regexp.MustCompile(`logrouter_[a-z0-9_]+`)
	alerts := 0
	for _, g := range doc.Spec.Groups {
		for _, r := range g.Rules {
			alerts++
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("group %s: a rule without alert or expr: %+v", g.Name, r)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %s", r.Alert, r.Expr)
			}
			for _, s := range seriesRE.FindAllString(r.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "_bucket"), "_sum"), "_count")
				if !registered[base] {
					t.Errorf("%s reads %s, which logrouter does not export", r.Alert, s)
				}
			}
		}
	}
	if doc.Kind != "PrometheusRule" || alerts < 10 {
		t.Errorf("kind %q with %d alerts", doc.Kind, alerts)
	}
}
