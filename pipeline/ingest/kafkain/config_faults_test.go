package kafkain

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestNegativeGroupTimeoutPassesValidateFailsStart: config
//
//	inputs:
//	  kafka:
//	    brokers: [kafka-0:9092]
//	    topics: [{name: logs}]
//	    session_timeout: -30s      (or rebalance_timeout / heartbeat_interval)
//
// passes Validate, which checks none of the consumer group durations (nor
// commit_interval, drain_timeout or ready_grace), so `router validate`
// answers OK; `router run` then fails in Start, when kafka-go refuses the
// consumer group configuration ("SessionTimeout out of bounds"), with a
// message that names no YAML key. Validate should refuse negative
// durations naming the key ("inputs.kafka.session_timeout: must be
// positive"), as it does for batch_wait, so the operator learns it from
// `router validate` in CI rather than from a gateway that does not start
// during a rollout. (A negative drain_timeout is accepted the same way and
// silently makes every rebalance commit without waiting for in-flight
// batches.)
func TestNegativeGroupTimeoutPassesValidateFailsStart(t *testing.T) {
	for _, tc := range []struct {
		key string
		set func(*Config)
	}{
		{"session_timeout", func(c *Config) { c.SessionTimeout = -30 * time.Second }},
		{"rebalance_timeout", func(c *Config) { c.RebalanceTimeout = -30 * time.Second }},
		{"heartbeat_interval", func(c *Config) { c.HeartbeatInterval = -3 * time.Second }},
	} {
		t.Run(tc.key, func(t *testing.T) {
			cfg := Config{Brokers: []string{testutil.RefusingAddr(t)}, Topics: []Topic{{Name: "logs"}}}
			tc.set(&cfg)
			cfg.SetDefaults()
			if err := cfg.Validate("inputs.kafka"); err != nil {
				return // refused by router validate: fixed
			}
			s, err := New(cfg, newEngine(t, newFaultSink(), nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatalf("inputs.kafka.%s < 0 passed Validate but New failed: %v", tc.key, err)
			}
			if err := s.Start(); err != nil {
				t.Fatalf("inputs.kafka.%s < 0 passed Validate (router validate: OK) but the input cannot start: %v", tc.key, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
	}
}

// TestHeartbeatNotBelowSessionTimeout: config
//
//	inputs:
//	  kafka:
//	    session_timeout: 10s
//	    heartbeat_interval: 15s
//
// passes Validate. The group coordinator removes a member that has not
// heartbeated within session_timeout, so a member that heartbeats every
// 15s is expelled before each heartbeat: the group rebalances again and
// again, partitions are revoked in the middle of every batch (drained,
// then read again by the next owner), and the gateway makes little or no
// progress while the router reports itself configured. Kafka's own Java
// client refuses this at construction ("Heartbeat must be set lower than
// the session timeout"; the usual rule is at most a third of it).
// Validate should require heartbeat_interval < session_timeout, naming
// both keys.
func TestHeartbeatNotBelowSessionTimeout(t *testing.T) {
	cfg := Config{Brokers: []string{"kafka-0:9092"}, Topics: []Topic{{Name: "logs"}},
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 15 * time.Second}
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.kafka"); err == nil {
		t.Fatal("inputs.kafka.heartbeat_interval 15s >= session_timeout 10s passed Validate: the member is expelled between heartbeats and the group rebalances for ever")
	}
}

// TestDrainTimeoutBelowRebalanceTimeout: a drain_timeout at or above
// rebalance_timeout passed Validate; a member still draining when the
// rebalance timed out was expelled, its final commit refused, and the next
// owner read its delivered records again.
func TestDrainTimeoutBelowRebalanceTimeout(t *testing.T) {
	cfg := Config{Brokers: []string{"kafka-0:9092"}, Topics: []Topic{{Name: "logs"}},
		DrainTimeout: 30 * time.Second, RebalanceTimeout: 30 * time.Second}
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.kafka"); err == nil || !strings.Contains(err.Error(), "inputs.kafka.drain_timeout") {
		t.Fatalf("drain_timeout 30s with rebalance_timeout 30s: %v, want refused naming drain_timeout", err)
	}
	cfg.DrainTimeout = 10 * time.Second
	if err := cfg.Validate("inputs.kafka"); err != nil {
		t.Fatalf("the defaults' ratio refused: %v", err)
	}
}
