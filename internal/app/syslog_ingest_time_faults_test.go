package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but any
// skipped with its reason.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reviewSyslogEvent waits for the event whose message is msg in the
// harness's destination and returns it decoded.
func reviewSyslogEvent(t *testing.T, h *syslogHarness, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(h.data, "all", "*.ndjson"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if !strings.Contains(sc.Text(), msg) {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("invalid JSON %s: %v", sc.Text(), err)
				}
				if m["message"] == msg {
					return m
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("event %q never reached the destination", msg)
	return nil
}

func reviewTime(t *testing.T, m map[string]any, path ...string) time.Time {
	t.Helper()
	var v any = m
	for _, p := range path {
		o, _ := v.(map[string]any)
		v = o[p]
	}
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%v = %v: %v", path, v, err)
	}
	return ts
}

// TestSyslogIngestTimeIsArrivalTime
//
// What I did: sent one RFC 5424 message without a timestamp (NILVALUE "-",
// as RFC 5424 section 6.2.3 allows for a device without a clock) over UDP,
// waited until it was delivered, waited 2 seconds, and sent a second one;
// the same over one TCP connection (a quiet device that keeps its
// connection open between messages).
//
// What happened: the second message carries event.ingested, and therefore
// @timestamp (the ingest time stands in for a missing time), from when the
// previous batch was flushed, not from when it arrived: the syslog stream
// stamps pipeline.Meta.IngestTime in stream.reset(), right after each flush,
// and a UDP reader or a TCP connection then waits for its next datagram or
// line for as long as the device is quiet. On the running router a UDP
// message sent at 20:36:07 was written with @timestamp and event.ingested
// 20:35:49; on a quiet link the error is minutes or hours.
//
// What should happen: event.ingested is when the router received the event
// (docs/schema.md: "event.ingested | when logrouter received it"), and
// @timestamp of an event without its own time is that ingest time. An
// analyst's timeline, ingest-lag alerts, time-based correlation in the SIEM,
// and the archive's dt=/hour= partition (time_source: ingest, or an event
// without a time) are all wrong for every syslog device that sends rarely,
// the devices whose events matter most (a firewall's config change, a
// switch's login).
func TestSyslogIngestTimeIsArrivalTime(t *testing.T) {
	h := newSyslogHarness(t)

	send := map[string]func(msg string){}
	udp, err := net.Dial("udp", h.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	send["udp"] = func(msg string) {
		if _, err := udp.Write([]byte("<13>1 - quiet-device app - - - " + msg)); err != nil {
			t.Fatal(err)
		}
	}
	tcp, err := net.Dial("tcp", h.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	send["tcp"] = func(msg string) {
		if _, err := tcp.Write([]byte("<13>1 - quiet-device app - - - " + msg + "\n")); err != nil {
			t.Fatal(err)
		}
	}

	// Prime both transports: one message each, delivered.
	for _, tr := range []string{"udp", "tcp"} {
		send[tr]("review-ingest-first-" + tr)
		reviewSyslogEvent(t, h, "review-ingest-first-"+tr)
	}
	time.Sleep(2 * time.Second) // the device is quiet for a while

	for _, tr := range []string{"udp", "tcp"} {
		sent := time.Now()
		msg := "review-ingest-second-" + tr
		send[tr](msg)
		ev := reviewSyslogEvent(t, h, msg)
		const slack = 250 * time.Millisecond
		if ing := reviewTime(t, ev, "event", "ingested"); ing.Before(sent.Add(-slack)) {
			t.Errorf("%s: event.ingested %s is %s before the message was sent (%s)",
				tr, ing.Format(time.RFC3339Nano), sent.Sub(ing).Round(time.Millisecond), sent.UTC().Format(time.RFC3339Nano))
		}
		if ts := reviewTime(t, ev, "@timestamp"); ts.Before(sent.Add(-slack)) {
			t.Errorf("%s: @timestamp of a message without a time is %s, %s before it was sent",
				tr, ts.Format(time.RFC3339Nano), sent.Sub(ts).Round(time.Millisecond))
		}
	}
}
