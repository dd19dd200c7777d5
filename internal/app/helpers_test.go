package app

import (
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/logrouter/logrouter/internal/config"
)

// startApp builds a router from cfg (defaults applied by the caller) with
// the test rules and a silent log, and starts it; any error fails t.
func startApp(t testing.TB, cfg *config.Config, opts ...Option) *App {
	t.Helper()
	a, err := New(cfg, RulesSource{FS: testRules, Dir: "."}, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	return a
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
