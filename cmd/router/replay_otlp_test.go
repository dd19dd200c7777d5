package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayOTLPRecordAsHEC: an OTLP log record the HTTP input refused is
// quarantined as the HEC envelope it was made into (protocol otlp); a
// replay unwraps it as the HEC event endpoint does (its sourcetype, host,
// fields and time applied).
func TestReplayOTLPRecordAsHEC(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	dir := t.TempDir()
	q, err := quarantine.New(quarantine.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	observed := time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)
	env := `{"fields":{"service.name":"billing","otel.log.severity.text":"ERROR"},"event":"payment failed otlp-replay-marker","time":` +
		strconv.FormatInt(observed.UnixNano(), 10) + `,"host":"app-3","sourcetype":"app.billing"}`
	if err := q.Put(context.Background(), []pipeline.Rejected{{Raw: []byte(env), Reason: "too_many_fields", Input: "http",
		Protocol: httpin.ProtoOTLP, Time: time.Now().UnixNano()}}); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	line, ok := faultsReplayWait(archDir, "otlp-replay-marker")
	if !ok {
		t.Fatalf("the replayed record was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	for path, want := range map[string]any{
		"message": "payment failed otlp-replay-marker", "host.name": "app-3", "event.dataset": "app.billing",
		"@timestamp": "2026-11-30T09:30:00.000Z",
	} {
		if got := faultsReplayField(t, line, path); got != want {
			t.Errorf("%s = %v, want %v: %s", path, got, want, line)
		}
	}
	if !strings.Contains(line, `"service.name":"billing"`) || strings.Contains(line, `"fields"`) {
		t.Errorf("the envelope's fields are not the event's labels: %s", line)
	}
}
