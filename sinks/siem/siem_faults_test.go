package siem

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// Fault tests from a review of the SIEM destinations (each failed before
// its fix): HEC indexer acknowledgement behind a sticky load balancer
// (fixed: the client keeps cookies), acks later than ack.timeout (fixed:
// the ackIds of copies sent again stay polled, and the first confirmation
// delivers), and events past rsyslog's limit (the default stays; a start
// warning, and max_message_bytes checked against the real rsyslogd). A
// fourth, what a hung receiver's kernel took but never read lost past
// replay_age, is syslog's own limit (no acknowledgement); what never left
// this host is now kept (syslog_unsent_test.go).

// stickyLB is an L7 load balancer in front of several HEC instances (the
// indexers of a cluster) as Splunk documents it for indexer
// acknowledgement: requests without its cookie go round robin and the
// answer sets the cookie; requests with the cookie go to the instance it
// names (AWS ALB duration-based stickiness, cookie AWSALB).
type stickyLB struct {
	srv      *httptest.Server
	mu       sync.Mutex
	rr       int
	withCk   int
	withoutC int
}

func newStickyLB(t *testing.T, backends ...*hecfake.Server) *stickyLB {
	t.Helper()
	lb := &stickyLB{}
	var proxies []*httputil.ReverseProxy
	for _, b := range backends {
		u, err := url.Parse(b.URL())
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(u))
	}
	lb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lb.mu.Lock()
		target := -1
		if c, err := r.Cookie("AWSALB"); err == nil {
			if n, err := strconv.Atoi(c.Value); err == nil && n >= 0 && n < len(proxies) {
				target = n
			}
		}
		if target < 0 {
			target = lb.rr % len(proxies)
			lb.rr++
			lb.withoutC++
			http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: strconv.Itoa(target), Path: "/"})
		} else {
			lb.withCk++
		}
		lb.mu.Unlock()
		proxies[target].ServeHTTP(w, r)
	}))
	t.Cleanup(lb.srv.Close)
	return lb
}

// TestHECAckBehindStickyLoadBalancer: with indexer acknowledgement, an
// ackId is only known to the indexer that handed it out (ackIds count from
// 0 per channel on each indexer). Splunk's documentation for HEC clients
// behind a load balancer with acknowledgement on (Splunk Connect for
// Kafka, "Load balancing": "Enable sticky sessions on your load balancer
// with the maximum configurable cookie timeout period"; the Kinesis
// Firehose ELB setup is the same) relies on the client sending back the
// load balancer's stickiness cookie. The HEC client (hec.go:170, an
// http.Client without a cookie Jar) drops every Set-Cookie, so each
// request and each ack poll lands on any indexer: ackIds handed out by two
// indexers collide (hec_ack.go:73 takes that for a Splunk restart and
// resends every pending request), and polls ask indexers that never saw
// the ackId, so requests time out and are resent: duplicates in the SIEM
// and Writes that fail although every event was indexed.
//
// Expected: the client keeps the load balancer's cookie (a cookie jar on
// the client), every request and poll of the channel reaches the same
// indexer, and each event is indexed exactly once.
func TestHECAckBehindStickyLoadBalancer(t *testing.T) {
	a := newFake(t, hecfake.Config{Ack: true})
	b := newFake(t, hecfake.Config{Ack: true})
	lb := newStickyLB(t, a, b)
	m := NewMetrics(nil)
	h, err := NewHEC("splunk", HECConfig{
		URL: lb.srv.URL, Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second,
		MaxBatchBytes: 2 << 10, // several requests per Write, in flight at once
		Ack:           HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond},
	}, WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())

	const n = 201
	failed := 0
	// one request first (the load balancer's cookie comes with its answer),
	// then Writes of several requests at once
	for i := 0; i < n; {
		k := 20
		if i == 0 {
			k = 1
		}
		batch := makeBatch(idRange(i, i+k, "ws"), pipeline.P1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := h.Write(ctx, batch); err != nil {
			failed++
			t.Logf("Write of events %d..%d: %v", i, i+k, err)
		}
		cancel()
		batch.Release()
		i += k
	}
	got := countIDs(t, a.Events())
	for id, c := range countIDs(t, b.Events()) {
		got[id] += c
	}
	lb.mu.Lock()
	t.Logf("requests through the LB: %d with its cookie, %d without", lb.withCk, lb.withoutC)
	lb.mu.Unlock()
	t.Logf("resent for ack timeouts: %v", counterValue(t, m.Resent.WithLabelValues("splunk", "ack_timeout")))
	if failed > 0 {
		t.Errorf("%d of %d Writes failed although Splunk indexed every event", failed, 1+n/20)
	}
	expectExactlyOnce(t, got, 0, n)
}

// startDefaultRsyslog runs rsyslogd on loopback as a relay is set up out of
// the box: imtcp with the global defaults (maxMessageSize 8k), each
// message's raw text written as one line.
func startDefaultRsyslog(t *testing.T) (port int, lines func() []string) {
	t.Helper()
	bin := needRsyslog(t)
	dir := t.TempDir()
	out, portFile := filepath.Join(dir, "out.log"), filepath.Join(dir, "port")
	conf := filepath.Join(dir, "rsyslog.conf")
	cfg := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
template(name="raw" type="string" string="%%rawmsg%%\n")
input(type="imtcp" port="0" listenPortFileName=%q ruleset="r")
ruleset(name="r") { action(type="omfile" file=%q template="raw") }
`, dir, portFile, out)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "pid"))
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	waitFor(t, "rsyslogd to listen", 10*time.Second, func() bool {
		b, err := os.ReadFile(portFile)
		if err != nil {
			return false
		}
		port, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && port > 0
	})
	return port, func() []string {
		b, _ := os.ReadFile(out)
		s := strings.TrimSuffix(string(b), "\n")
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
}

// TestSyslogMaxMessageBytesAtRsyslog (from a review): without
// max_message_bytes (0, no limit), a P1 event larger than 8 KiB (EDR
// detections with a process tree or a long command line commonly are) is
// written in one frame, and a real rsyslogd with its out-of-the-box
// settings (maxMessageSize 8k; RFC 5425 4.3.1 and RFC 5424 6.1 only ask
// receivers to take 2048, SHOULD 8192 octets) keeps the first 8096 bytes
// as one record and the rest as a second: the SIEM gets two broken JSON
// documents and the event is counted delivered. The default stays (the
// receiver's limit is not known here, and syslog-ng's is 64 KiB); the sink
// now warns at start when it is unset, and with max_message_bytes set to
// the receiver's limit (as the warning and docs/configuration.md say) the
// event is refused permanently (quarantined whole) and rsyslog gets only
// whole events: what this checks against the real rsyslogd.
func TestSyslogMaxMessageBytesAtRsyslog(t *testing.T) {
	port, lines := startDefaultRsyslog(t)
	s := newTestSyslog(t, SyslogConfig{Address: fmt.Sprintf("127.0.0.1:%d", port), MaxMessageBytes: 8192})
	big := testEvent(1, "ws-1", `"process":{"command_line":"`+strings.Repeat("A", 10<<10)+`"}`)
	b := makeBatch([]string{testEvent(0, "ws-1", ""), big, testEvent(2, "ws-1", "")}, pipeline.P1)
	defer b.Release()
	err := s.Write(context.Background(), b)
	var be *pipeline.BatchError
	refused := errors.As(err, &be) && len(be.Items) == 1 && be.Items[0].Index == 1 && pipeline.IsPermanent(be.Items[0].Err)
	if err != nil && !refused {
		t.Fatalf("Write: %v", err)
	}
	want := 3
	if refused {
		want = 2
	}
	waitFor(t, "rsyslog to write the messages", 10*time.Second, func() bool { return len(lines()) >= want })
	time.Sleep(200 * time.Millisecond)
	got := lines()
	for i, l := range got {
		if j := strings.Index(l, " - {"); j < 0 || !json.Valid([]byte(l[j+3:])) {
			t.Errorf("rsyslog record %d (%d bytes) is not one whole event: %.60q...%q", i, len(l), l, l[max(0, len(l)-30):])
		}
	}
	if len(got) != want {
		t.Errorf("rsyslog wrote %d records for %d events sent (the %d-byte event reported delivered)", len(got), want, len(big))
	}
}

// TestHECAckLaterThanTimeoutDelivers: Splunk reports an ackId
// false while the request is still being indexed and replicated, and its
// guidance for HEC clients (quoted in Vector's RFC 9465 from Splunk's
// "Indexer acknowledgment client behavior": poll about every 10 s, consider
// the data lost only after about 5 minutes; kafka-connect-splunk#122:
// Splunk holds the last, partly filled batches of a quiet channel about
// 2 minutes before they are acknowledged) is to keep polling. Here
// ack.timeout defaults to 30 s (hec_config.go:27), and a request whose ack
// is late is resent and its ackId dropped (hec_ack.go:161-170 deletes the
// waiter, hec.go:635-643 resends): an ack that turns true afterwards is
// ignored, the resend's own ack is just as late, and after three resends
// Write returns a retryable error and the queue starts over. When Splunk's
// acknowledgement is consistently slower than ack.timeout (a quiet P1
// channel) no event is ever counted delivered and each one is indexed
// again every cycle, forever. Scaled down here: ack.timeout 200 ms, Splunk
// acknowledging every request 350 ms after it.
//
// Expected: an ackId handed out for a copy of the events stays polled
// (until Splunk's documented horizon) and its true confirms those events,
// so the batch is delivered with a bounded number of copies; and a default
// ack.timeout in line with Splunk's guidance.
func TestHECAckLaterThanTimeoutDelivers(t *testing.T) {
	var d HECConfig
	d.SetDefaults()
	t.Logf("default ack.timeout %s, ack.poll_interval %s", d.Ack.Timeout, d.Ack.PollInterval)

	fake := newFake(t, hecfake.Config{Ack: true})
	fake.SetAckDelay(350 * time.Millisecond)
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.Ack = HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond}
	})
	q, _ := openQueue(t, h, nil)
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		defer ccancel()
		_ = q.Close(cctx)
	}()
	b := makeBatch(idRange(0, 10, "ws"), pipeline.P1)
	if err := q.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	idleErr := q.WaitIdle(ctx)
	copies := countIDs(t, fake.Events())["e000000"]
	st := fake.Stats()
	t.Logf("after %s: event e000000 indexed %d times; requests %d, ack polls %d, acks confirmed %d", 6*time.Second, copies, st.Requests, st.AckPolls, st.AcksConfirmed)
	if idleErr != nil {
		t.Errorf("not delivered although Splunk indexed every copy and would confirm each 350 ms after it: %v", idleErr)
	}
	if copies > 3 {
		t.Errorf("event indexed %d times", copies)
	}
}
