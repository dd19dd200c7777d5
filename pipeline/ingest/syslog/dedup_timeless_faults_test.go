package syslog

import (
	"net"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestDedupTimelessMessagesOfOneBatch (review of deduplication)
//
// Sequence: dedup on (content hash, as config.example.yaml). A device
// whose messages carry no timestamp (RFC 3164 allows "<PRI>MSG"; IOS with
// `no service timestamps`, many appliances) sends, over one TCP
// connection, the same failed login twice, 30 ms apart: two attempts of a
// brute force.
//
// What happens: an event without a time of its own gets the ingest time
// as @timestamp, and the syslog input stamps every message of a batch
// with the batch's first arrival (Meta.IngestTime, batch_wait 50ms by
// default; here 300ms so the test does not depend on timing). Both
// messages get one @timestamp, one hash, and the second attempt is
// dropped as a repeat of the first.
//
// Expected: pipeline/normalize's package doc: "@timestamp is hashed: for
// an event with no time of its own it is the ingest time, so identical
// timeless lines sent at different times (a heartbeat) stay distinct
// events, [...] a resend of such a line is only recognized within the same
// millisecond". These were sent 30 ms apart and are two events.
//
// Why it matters: a brute force against a device that does not timestamp
// its messages shows fewer attempts than were made (threshold rules count
// them); the same holds for an HTTP request of timeless records, which all
// share the request's ingest time.
func TestDedupTimelessMessagesOfOneBatch(t *testing.T) {
	cfg := Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, BatchWait: 300 * time.Millisecond}
	cfg.SetDefaults()
	rec, eng, srv := startDedupServer(t, cfg, dedup.Config{Enabled: true})
	_, addr, _ := srv.Addrs()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "<38>sshd[411]: Failed password for root from 198.51.100.23 port 41234 ssh2\n"
	for i := 0; i < 2; i++ {
		if i > 0 {
			time.Sleep(30 * time.Millisecond)
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(rec.Events())+int(counter(eng.Metrics().InputDedup.WithLabelValues(cfg.Name))) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if evs := rec.Events(); len(evs) != 2 {
		t.Errorf("two timeless failed logins sent 30 ms apart: %d delivered, %v dropped as duplicates; want 2 delivered", len(evs), counter(eng.Metrics().InputDedup.WithLabelValues(cfg.Name)))
		for _, ev := range evs {
			t.Logf("delivered: %s", ev.Raw)
		}
	}
}
