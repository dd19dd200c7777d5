package kafkain

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestWrongCredentialsAreExplained: with a wrong SASL password the input
// logged kafka-go's "[58] SASL Authentication Failed" as a warning every
// few seconds, naming neither the setting nor what to check. It is an
// error now (nothing is read until the configuration changes) naming the
// block, the mechanism and the user.
func TestWrongCredentialsAreExplained(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "edge-logs"),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", "admin"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := faultConfig(c.ListenAddrs()[0], "g-auth", "edge-logs")
	cfg.SASL = &kafkacfg.SASL{Mechanism: "plain", Username: "admin", Password: "wrong", AllowPlaintext: true}
	logs := &logBuf{}
	s, err := New(cfg, faultEngine(t, engine.Config{}, newFaultSink()), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	want := `the brokers refused the credentials of inputs.kafka.sasl (mechanism plain, username \"admin\")`
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(logs.String(), want) {
		time.Sleep(50 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, want) {
		t.Fatalf("no log line says what to check; log:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) && !strings.Contains(l, "level=ERROR") {
			t.Errorf("logged below ERROR: %s", l)
		}
	}
	if strings.Contains(out, "password=") || strings.Contains(out, "wrong") {
		t.Errorf("the log holds the password: %s", out)
	}
}
