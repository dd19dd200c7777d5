package syslog

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	lrtest "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

// TestSecondInputCountsInRegistry: two syslog inputs on one engine share
// the metric vectors. The second's were new collectors the registry never
// gathered (its AlreadyRegistered error was ignored), so every message,
// connection and refusal of the second input was counted nowhere visible.
func TestSecondInputCountsInRegistry(t *testing.T) {
	rec := &lrtest.RecordSink{SinkName: "all"}
	eng := testengine.New(t, testengine.P1EDR, rec, &lrtest.MemQuarantine{}, slog.Default())
	var srvs []*Server
	for _, name := range []string{"first", "second"} {
		s, err := New(Config{Name: name, TCP: &TCPConfig{Address: "127.0.0.1:0"}}, eng, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		srvs = append(srvs, s)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
	}
	_, addr, _ := srvs[1].Addrs()
	c := dialFrom(t, "127.0.0.1", addr)
	sendLine(t, c, "to-the-second")
	eventually(t, "the second input's message is delivered", func() bool { return len(rec.Events()) == 1 })
	reg := eng.Metrics().Registry
	eventually(t, "the second input's message is counted in the registry", func() bool {
		n, err := testutil.GatherAndCount(reg, "logrouter_syslog_messages_total")
		return err == nil && n == 1
	})
	if n, _ := testutil.GatherAndCount(reg, "logrouter_syslog_connections"); n < 1 {
		t.Errorf("the second input's open connection is not in the registry")
	}
}
