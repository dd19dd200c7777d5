package siem

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

// rsyslog runs a real rsyslogd on loopback: imtcp (octet-counted or
// newline framing, detected per frame) into omfile with the raw message
// per line.
type rsyslog struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	out  string
	cmd  *exec.Cmd
	errb *bytes.Buffer
}

func needRsyslog(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/rsyslogd"); serr != nil {
			t.Skip("rsyslogd is not installed (not on PATH nor in /usr/sbin): skipping the real-receiver test")
		}
		bin = "/usr/sbin/rsyslogd"
	}
	return bin
}

func startRsyslog(t testing.TB, port int) *rsyslog {
	t.Helper()
	r := &rsyslog{t: t, bin: needRsyslog(t), dir: t.TempDir()}
	r.out = filepath.Join(r.dir, "out.log")
	r.start(port)
	t.Cleanup(r.stop)
	return r
}

func (r *rsyslog) start(port int) {
	t := r.t
	portFile := filepath.Join(r.dir, "port")
	_ = os.Remove(portFile)
	conf := filepath.Join(r.dir, "rsyslog.conf")
	cfg := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k")
module(load="imtcp")
template(name="raw" type="string" string="%%rawmsg%%\n")
input(type="imtcp" port="%d" listenPortFileName=%q ruleset="r")
ruleset(name="r") { action(type="omfile" file=%q template="raw") }
`, r.dir, port, portFile, r.out)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.errb = &bytes.Buffer{}
	r.cmd = exec.Command(r.bin, "-n", "-f", conf, "-i", filepath.Join(r.dir, "pid"))
	r.cmd.Stdout, r.cmd.Stderr = r.errb, r.errb
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if port != 0 { // rsyslog writes the port file only for port 0: probe
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
				_ = c.Close()
				r.port = port
				return
			}
			continue
		}
		if b, err := os.ReadFile(portFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 {
				r.port = p
				return
			}
		}
	}
	r.stop()
	t.Fatalf("rsyslogd did not start listening: %s", r.errb.String())
}

// stop terminates rsyslogd gracefully (SIGTERM), as a restart does.
func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

func (r *rsyslog) lines() []string {
	b, err := os.ReadFile(r.out)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// expectedMessages renders each event as the message (without framing)
// that cfg produces.
func expectedMessages(t testing.TB, cfg SyslogConfig, b *pipeline.Batch) []string {
	t.Helper()
	cfg.Framing = "newline"
	cfg.SetDefaults()
	e := newSyslogEncoder(&cfg)
	var p fastjson.Parser
	var scratch []byte
	var out []string
	for i := range b.Events {
		m, _ := e.appendFrame(nil, &b.Events[i], &p, &scratch)
		out = append(out, strings.TrimSuffix(string(m), "\n"))
	}
	return out
}

// TestSyslogRsyslog: a real rsyslogd receives every event exactly once and
// byte for byte (its %rawmsg% is our message without the framing), with
// octet counting and RFC 5424 JSON, and with newline framing and RFC 3164
// CEF.
func TestSyslogRsyslog(t *testing.T) {
	for _, c := range []SyslogConfig{
		{},
		{SyslogFormat: "rfc3164", Framing: "newline", Format: "cef", CEF: CEFConfig{Extension: map[string]string{"cs1": "id", "msg": "message", "suser": "user.name"}}},
		{ConfirmWithClose: true},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s/confirm=%v", c.SyslogFormat, c.Framing, c.Format, c.ConfirmWithClose), func(t *testing.T) {
			rs := startRsyslog(t, 0)
			c.Address = fmt.Sprintf("127.0.0.1:%d", rs.port)
			c.DefaultHost = "router-1"
			s := newTestSyslog(t, c)
			const n, batch = 2000, 100
			want := map[string]int{}
			for i := 0; i < n; i += batch {
				var raws []string
				for j := i; j < i+batch; j++ {
					raws = append(raws, testEvent(j, fmt.Sprintf("ws-%d", j%7), `"message":"a|b=c\\d\ne é","user":{"name":"CORP\\x"}`))
				}
				b := makeBatch(raws, pipeline.Priority(1+i/batch%3))
				for _, m := range expectedMessages(t, c, b) {
					want[m]++
				}
				if err := s.Write(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				b.Release()
			}
			waitFor(t, "rsyslog to write every message", 20*time.Second, func() bool { return len(rs.lines()) >= n })
			time.Sleep(100 * time.Millisecond)
			got := rs.lines()
			if len(got) != n {
				t.Errorf("rsyslog wrote %d lines, want %d", len(got), n)
			}
			for _, l := range got {
				if want[l] != 1 {
					t.Fatalf("unexpected or repeated line (want count %d):\n%s\nfirst expected:\n%s", want[l], l, firstKey(want))
				}
				want[l]--
			}
			if c.Format == "cef" && !strings.Contains(got[0], `msg=a|b\=c\\d\ne é`) {
				t.Errorf("CEF through rsyslog: %s", got[0])
			}
		})
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// TestSyslogRsyslogRestart: rsyslogd is restarted (SIGTERM, start again on
// the same port) twice mid-stream; nothing is lost, duplicates are counted.
func TestSyslogRsyslogRestart(t *testing.T) {
	// A port below the ephemeral range: rsyslogd listens on it again after
	// each restart, and a parallel test's outgoing connection could take
	// an ephemeral one in between.
	addr, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	rs := startRsyslog(t, port)
	m := NewMetrics(nil)
	s := newTestSyslog(t, SyslogConfig{
		Address: fmt.Sprintf("127.0.0.1:%d", rs.port), ReplayAge: 2 * time.Second,
		ReconnectBackoffMin: 20 * time.Millisecond, ReconnectBackoffMax: 200 * time.Millisecond,
	}, WithMetrics(m))
	q, _ := openQueue(t, s, nil)
	defer q.Close(context.Background())
	const n, batch = 3000, 20
	ctx := context.Background()
	for i := 0; i < n; i += batch {
		if i == n/3 || i == 2*n/3 {
			rs.stop()
			rs.start(rs.port)
		}
		b := makeBatch(idRange(i, i+batch, "ws"), pipeline.P1)
		if err := q.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		time.Sleep(time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := q.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	last := fmt.Sprintf(`"id":"e%06d"`, n-1)
	waitFor(t, "the last event in rsyslog's file", 20*time.Second, func() bool {
		l := rs.lines()
		return len(l) > 0 && strings.Contains(strings.Join(l[max(0, len(l)-50):], "\n"), last)
	})
	time.Sleep(200 * time.Millisecond)
	ids := msgIDs(t, rs.lines())
	dups := 0
	for i := 0; i < n; i++ {
		k := ids[fmt.Sprintf("e%06d", i)]
		if k == 0 {
			t.Fatalf("event %d lost", i)
		}
		dups += k - 1
	}
	resent := counterValue(t, m.Resent.WithLabelValues("siem-syslog", "replay")) + counterValue(t, m.Resent.WithLabelValues("siem-syslog", "broken_connection"))
	t.Logf("%d events through 2 rsyslog restarts: duplicates %d, resent (counted) %v, reconnects %v",
		n, dups, resent, counterValue(t, m.Reconnects.WithLabelValues("siem-syslog")))
	if float64(dups) > resent {
		t.Errorf("duplicates %d exceed the resent counter %v", dups, resent)
	}
}
