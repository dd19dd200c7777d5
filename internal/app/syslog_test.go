package app

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/file"
)

// syslogHarness runs the router in-process with UDP, TCP and TLS syslog
// listeners on loopback and one NDJSON file destination receiving everything.
type syslogHarness struct {
	t             *testing.T
	app           *App
	data          string
	udp, tcp, tls string
	certPEM       string
}

func newSyslogHarness(t *testing.T, opts ...func(*config.Config)) *syslogHarness {
	t.Helper()
	data := t.TempDir()
	cert, key := selfSigned(t, data)
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			UDP: &syslog.UDPConfig{Address: "127.0.0.1:0"},
			TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"},
			TLS: &syslog.TLSConfig{Address: "127.0.0.1:0", CertFile: cert, KeyFile: key},
		}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}},
		Routing:      config.Routing{All: []string{"all"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	for _, o := range opts {
		o(cfg)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
	h := &syslogHarness{t: t, app: a, data: data, certPEM: cert}
	h.udp, h.tcp, h.tls = a.SyslogAddrs()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return h
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, _ = testutil.SelfSigned(t, dir)
	return certFile, keyFile
}

// lines writes n JSON messages of run to a file and returns its path.
func (h *syslogHarness) lines(run string, n int) string {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"run":%q,"seq":%d,"note":"sent by a real syslog client"}`+"\n", run, i)
	}
	p := filepath.Join(h.data, run+".in")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// received counts the events of run that reached the destination, by seq
// and by protocol (syslog-udp, syslog-tcp, syslog-tls).
func (h *syslogHarness) received(run string) map[string]map[int]int {
	out := map[string]map[int]int{}
	files, _ := filepath.Glob(filepath.Join(h.data, "all", "*.ndjson"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev struct {
				Run       string
				Seq       int
				Logrouter struct{ Protocol string }
			}
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Run != run {
				continue
			}
			if out[ev.Logrouter.Protocol] == nil {
				out[ev.Logrouter.Protocol] = map[int]int{}
			}
			out[ev.Logrouter.Protocol][ev.Seq]++
		}
	}
	return out
}

// expectExactlyOnce waits for every seq of run to arrive once per protocol.
// The wait is long: a real peer (rsyslogd, syslog-ng) starts, polls its
// input file and connects on its own schedule, slow on a loaded machine.
func (h *syslogHarness) expectExactlyOnce(run string, n int, protocols ...string) {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := h.received(run)
		ok := true
		for _, p := range protocols {
			ok = ok && len(got[p]) == n
		}
		if ok || time.Now().After(deadline) {
			for _, p := range protocols {
				for i := 0; i < n; i++ {
					if got[p][i] != 1 {
						h.t.Errorf("%s over %s: seq %d arrived %d times (want exactly once)", run, p, i, got[p][i])
					}
				}
			}
			for p := range got {
				if !contains(protocols, p) {
					h.t.Errorf("%s: unexpected events over %s", run, p)
				}
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", bin)
	}
	return p
}

// TestSyslogWithLogger sends with util-linux logger over TCP (octet-counted
// RFC 5424 and newline-framed RFC 3164) and UDP.
func TestSyslogWithLogger(t *testing.T) {
	logger := need(t, "logger")
	h := newSyslogHarness(t)
	cases := []struct {
		run, proto string
		args       []string
	}{
		{"logger-tcp-octet-5424", "syslog-tcp", []string{"--rfc5424", "-T", "--octet-count", "-P", port(h.tcp)}},
		{"logger-tcp-lf-3164", "syslog-tcp", []string{"--rfc3164", "-T", "-P", port(h.tcp)}},
		{"logger-udp-5424", "syslog-udp", []string{"--rfc5424", "-d", "-P", port(h.udp)}},
	}
	for _, c := range cases {
		in := h.lines(c.run, 200)
		args := append([]string{"-n", "127.0.0.1", "-t", "lrtest", "-f", in}, c.args...)
		if out, err := exec.Command(logger, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: logger %v: %v\n%s", c.run, args, err, out)
		}
		h.expectExactlyOnce(c.run, 200, c.proto)
	}
}

// TestSyslogWithRsyslog forwards a file through a real rsyslogd (omfwd) to
// the TCP (octet-counted RFC 5424) and UDP listeners at once.
func TestSyslogWithRsyslog(t *testing.T) {
	rsyslogd := need(t, "rsyslogd")
	h := newSyslogHarness(t)
	work := t.TempDir()
	in := h.lines("rsyslog", 300)
	conf := filepath.Join(work, "send.conf")
	_ = os.WriteFile(conf, []byte(fmt.Sprintf(`
global(workDirectory="%s")
module(load="imfile")
input(type="imfile" File="%s" Tag="rsfile" ruleset="fwd" freshStartTail="off")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" action.resumeRetryCount="-1")
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="udp" template="RSYSLOG_SyslogProtocol23Format")
}
`, work, in, port(h.tcp), port(h.udp))), 0o644)
	cmd := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(work, "pid"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	h.expectExactlyOnce("rsyslog", 300, "syslog-tcp", "syslog-udp")
	if t.Failed() {
		t.Logf("rsyslogd stderr: %s", stderr.String())
	}
}

// TestSyslogWithSyslogNG sends stdin through a real syslog-ng: RFC 5424 over
// TLS (octet-counted, server certificate verified) and RFC 3164 over TCP
// (newline-framed).
func TestSyslogWithSyslogNG(t *testing.T) {
	script, _ := filepath.Abs("testdata/peers/syslog-ng.sh")
	if _, err := os.Stat("/opt/syslog-ng/usr/sbin/syslog-ng"); err != nil && os.Getenv("LOGROUTER_INSTALL_PEERS") == "" {
		t.Skip("syslog-ng is not installed in /opt/syslog-ng (.ci/run installs it)")
	}
	h := newSyslogHarness(t)
	work := t.TempDir()
	in := h.lines("syslog-ng", 300)
	conf := filepath.Join(work, "send.conf")
	_ = os.WriteFile(conf, []byte(fmt.Sprintf(`@version: 3.38
options { stats_freq(0); };
source s_in { file("%s" flags(no-parse) follow-freq(0.1) program-override("sngsend")); };
destination d_tls { syslog("127.0.0.1" port(%s) transport("tls") tls(ca-file("%s") peer-verify(required-trusted))); };
destination d_tcp { network("127.0.0.1" port(%s) transport("tcp")); };
log { source(s_in); destination(d_tls); destination(d_tcp); };
`, in, port(h.tls), h.certPEM, port(h.tcp))), 0o644)
	cmd := exec.Command("bash", script, conf, filepath.Join(work, "run"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	h.expectExactlyOnce("syslog-ng", 300, "syslog-tls", "syslog-tcp")
	if t.Failed() {
		t.Logf("syslog-ng output: %s", strings.TrimSpace(stderr.String()))
	}
}

// TestSyslogMutualTLS: with require_client_cert, a client without a
// certificate signed by client_ca_file is refused; one with it is accepted.
func TestSyslogMutualTLS(t *testing.T) {
	data := t.TempDir()
	cert, key := selfSigned(t, data)
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			TLS: &syslog.TLSConfig{Address: "127.0.0.1:0", CertFile: cert, KeyFile: key, ClientCAFile: cert, RequireClientCert: true},
		}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}},
		Routing:      config.Routing{All: []string{"all"}},
	}
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "q"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	a := startApp(t, cfg)
	h := &syslogHarness{t: t, app: a, data: data}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	_, _, addr := a.SyslogAddrs()
	pemData, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	send := func(withCert bool, run string) error {
		tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		if withCert {
			kp, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{kp}
		}
		c, err := tls.Dial("tcp", addr, tc)
		if err != nil {
			return err
		}
		defer c.Close()
		msg := fmt.Sprintf(`<14>1 2026-11-28T10:00:00Z h app - - - {"run":%q,"seq":0}`, run)
		if _, err := fmt.Fprintf(c, "%d %s", len(msg), msg); err != nil {
			return err
		}
		// TLS 1.3 reports a refused client certificate on the first read.
		// The refusal must be waited for (the server may be slow to verify
		// on a loaded machine); an accepted client gets no answer, and its
		// delivery is checked below.
		wait := 300 * time.Millisecond
		if !withCert {
			wait = 15 * time.Second
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		_, err = c.Read(make([]byte, 1))
		if err != nil && !isTimeoutErr(err) {
			return err
		}
		return nil
	}
	if err := send(false, "mtls-anon"); err == nil {
		t.Error("a client without a certificate was accepted")
	}
	if err := send(true, "mtls-ok"); err != nil {
		t.Fatalf("client with a certificate: %v", err)
	}
	h.expectExactlyOnce("mtls-ok", 1, "syslog-tls")
	if got := h.received("mtls-anon"); len(got) != 0 {
		t.Errorf("events from the refused client arrived: %v", got)
	}
}

func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestSyslogAppSourceTypes: inputs.syslog.app_source_types types messages
// by APP-NAME/TAG (and so selects their profile and rules); other apps keep
// the built-in detection.
func TestSyslogAppSourceTypes(t *testing.T) {
	h := newSyslogHarness(t, func(c *config.Config) {
		c.Inputs.Syslog.AppSourceTypes = map[string]string{"filterlog": "fw.pfsense"}
	})
	conn, err := net.Dial("tcp", h.tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, `<134>1 2026-11-28T10:00:00Z fw1 filterlog - - - {"run":"ast","seq":0}`+"\n")
	fmt.Fprint(conn, `<86>Nov 28 10:00:00 host1 sshd[42]: {"run":"ast","seq":1}`+"\n")
	conn.Close()
	want := map[int]string{0: "fw.pfsense", 1: "linux.auth"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[int]string{}
		files, _ := filepath.Glob(filepath.Join(h.data, "all", "*.ndjson"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			for _, l := range bytes.Split(data, []byte("\n")) {
				var ev struct {
					Run   string
					Seq   int
					Event struct{ Dataset string }
				}
				if json.Unmarshal(l, &ev) == nil && ev.Run == "ast" {
					got[ev.Seq] = ev.Event.Dataset
				}
			}
		}
		if len(got) == 2 || time.Now().After(deadline) {
			if got[0] != want[0] || got[1] != want[1] {
				t.Errorf("source types %v, want %v", got, want)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSyslogIncompleteOctetFrameQuarantined: a TCP connection that closes
// inside an octet-counted frame (RFC 6587) leaves half a message. It used
// to be delivered as a whole message, its length prefix included (and so
// parsed without its PRI); it is quarantined as incomplete_frame, and the
// whole frame before it is delivered.
func TestSyslogIncompleteOctetFrameQuarantined(t *testing.T) {
	h := newSyslogHarness(t)
	conn, err := net.Dial("tcp", h.tcp)
	if err != nil {
		t.Fatal(err)
	}
	whole := `<134>1 2026-11-28T10:00:00Z fw1 app - - - {"run":"cut","seq":0}`
	half := `<134>1 2026-11-28T10:00:00Z fw1 app - - - {"run":"cut","se`
	fmt.Fprintf(conn, "%d %s%d %s", len(whole), whole, len(half)+20, half)
	conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		q, _ := filepath.Glob(filepath.Join(h.data, "quarantine", "*"))
		var quarantined []byte
		for _, f := range q {
			if d, err := os.ReadFile(f); err == nil {
				quarantined = append(quarantined, d...)
			}
		}
		got := h.received("cut")
		if (len(got) > 0 && bytes.Contains(quarantined, []byte("incomplete_frame"))) || time.Now().After(deadline) {
			if len(got) != 1 || got["syslog-tcp"][0] != 1 {
				t.Errorf("delivered %v, want the whole frame once", got)
			}
			if !bytes.Contains(quarantined, []byte(`"reason":"incomplete_frame"`)) {
				t.Errorf("the half frame was not quarantined as incomplete_frame; quarantine holds %q", quarantined)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
