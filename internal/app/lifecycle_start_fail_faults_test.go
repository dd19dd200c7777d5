package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/opensearch"
)

// TestLifecycleFailedStartHangsOnRecoveredBacklog
//
// What I did: a router queued an event for a SIEM that is down (200
// answered, the event fsynced in the siem queue) and was stopped; the
// event stays queued, as documented. It is started again (a pod restart,
// an upgrade) while its HTTP port is still taken (the old process not yet
// gone, a hostPort clash, a typo in the address).
//
// Observed: Start never returns. When a listener fails, Start closes the
// engine with context.Background() (app.go, Start: `a.eng.Close(
// context.Background())`), and queue.Close drains until the queue is
// empty: with the destination down, forever. `router run` hangs with no
// error logged (the listen error is returned only after the close), the
// admin listener already closed, until the kubelet kills it.
//
// Expected: Start returns the listen error ("address already in use")
// promptly; the queued event stays on disk for the next start.
func TestLifecycleFailedStartHangsOnRecoveredBacklog(t *testing.T) {
	data := t.TempDir()
	// An OpenSearch node that accepts connections and never answers (a
	// blackholed node, a hung proxy): the real sink, default settings.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn // the accepting goroutine's until it ends
	accepting := make(chan struct{})
	defer func() {
		_ = hole.Close()
		<-accepting
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		defer close(accepting)
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	mk := func(httpAddr string) *config.Config {
		cfg := &config.Config{
			Log:    config.Log{Level: "error", Format: "text"},
			Admin:  config.Admin{Address: "127.0.0.1:0"},
			Inputs: config.Inputs{HTTP: &httpin.Config{Address: httpAddr}},
			Destinations: []config.Destination{
				{Name: "archive", Type: "file", File: &file.Config{Dir: filepath.Join(data, "archive")}},
				{Name: "opensearch", Type: "opensearch", OpenSearch: &opensearch.Config{URLs: []string{"http://" + hole.Addr().String()}}},
			},
			Routing: config.Routing{All: []string{"archive", "opensearch"}},
		}
		cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
		cfg.Queue.Dir = filepath.Join(data, "queue")
		cfg.SetDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a := startApp(t, mk("127.0.0.1:0"))
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", strings.NewReader(`{"msg":"queued before the restart"}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ingest: %d", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_ = a.Shutdown(ctx) // the event stays queued
	cancel()

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b, err := New(mk(taken.Addr().String()), RulesSource{FS: testRules, Dir: "."}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Start() }()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Start succeeded on a taken port")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return within 5 s after its HTTP listener failed (address in use): it is closing the engine with context.Background(), draining a queue whose destination does not answer (the OpenSearch sink's request_timeout, 60 s by default, per attempt)")
	}
}
