package app

// Review (real shippers): a device's RFC 3164 line relayed by rsyslog with
// the configuration docs/shippers.md gives (omfwd, octet-counted,
// RSYSLOG_SyslogProtocol23Format) is not the event the same line makes
// relayed with rsyslog's default forwarding format.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/file"
)

type relayEvent struct {
	Message string
	Event   struct{ Dataset string }
	User    struct{ Name string }
	Process struct{ Name string }
	Log     struct {
		Syslog struct{ Version int }
	}
}

// relayEvents reads the events of destination dest whose host is
// host, keyed by "rfc5424" or "rfc3164" (the header rsyslog sent).
func relayEvents(t *testing.T, dir, host string) map[string]relayEvent {
	out := map[string]relayEvent{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev relayEvent
			var h struct {
				Host      struct{ Hostname string }
				Logrouter struct {
					ParseStatus string `json:"parse_status"`
				}
			}
			if json.Unmarshal(sc.Bytes(), &ev) != nil || json.Unmarshal(sc.Bytes(), &h) != nil || h.Host.Hostname != host {
				continue
			}
			out[h.Logrouter.ParseStatus] = ev
		}
	}
	return out
}

// TestRsyslogDocumentedRelayLosesISE
//
// What the user sees: Cisco ISE sends its RFC 3164 syslog to a central
// rsyslog, which forwards it to logrouter with the omfwd action of
// docs/shippers.md. Relayed with RSYSLOG_TraditionalForwardFormat the
// event is event.dataset cisco_ise.log, user.name bob, and P2 (rule
// "network access control"); relayed with the documented template it is
// dataset "syslog", no user, P3 (archive only): the SIEM and OpenSearch
// never see failed authentications. Every relayed message also starts with
// a space (" 0000370855 ...", " Failed password ..."), so rules written
// "message startsWith ..." or "matches '^...'" miss them.
//
// Cause: rsyslog's %msg% of an RFC 3164 message keeps the space after the
// tag, and its RFC 5424 template writes the TAG as APP-NAME: the bytes are
// "262 <181>1 2026-12-01T07:20:00+00:00 ise01 CISE_Failed_Attempts - - -  0000370855 ...".
// parse5424 (pipeline/ingest/syslog/parse/header.go, the SP before MSG)
// skips one space and keeps the second; the ISE profile and rule look for
// "^CISE_" in message only (rules/profiles/80-more-sources.yaml,
// rules/20-p2-security-telemetry.yaml), never at APP-NAME.
func TestRsyslogDocumentedRelayLosesISE(t *testing.T) {
	rsyslogd := need(t, "rsyslogd")
	rulesDir, _ := filepath.Abs("../../rules")
	data := t.TempDir()
	cfg := &config.Config{
		Log:          config.Log{Level: "error", Format: "text"},
		Admin:        config.Admin{Address: "127.0.0.1:0"},
		Inputs:       config.Inputs{Syslog: &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}, {Name: "p2", Type: "file", File: &file.Config{Dir: filepath.Join(data, "p2")}}},
		Routing:      config.Routing{All: []string{"all"}, P2: []string{"p2"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// The starter rules and profiles of the repository, as router run loads them.
	a, err := New(cfg, RulesSource{FS: os.DirFS(rulesDir), Dir: "."}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	_, tcpAddr, _ := a.SyslogAddrs()
	h := struct{ data, tcp string }{data, tcpAddr}
	work := t.TempDir()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inPort := port(pc.LocalAddr().String())
	pc.Close()
	conf := filepath.Join(work, "relay.conf")
	// The documented action (docs/shippers.md, rsyslog), and the same
	// with rsyslog's default format, newline-framed.
	_ = os.WriteFile(conf, []byte(fmt.Sprintf(`
global(workDirectory="%s")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%s" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         queue.type="LinkedList" queue.filename="fwd_logrouter"
         queue.saveOnShutdown="on" action.resumeRetryCount="-1")
  action(type="omfwd" target="127.0.0.1" port="%s" protocol="tcp" template="RSYSLOG_TraditionalForwardFormat")
}
`, work, inPort, port(h.tcp), port(h.tcp))), 0o644)
	cmd := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(work, "pid"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// Cisco ISE's line, as the device sends it.
	line := `<181>Nov 28 10:00:00 ise01 CISE_Failed_Attempts 0000370855 1 0 2026-11-28 10:00:00.123 +00:00 0011223344 5400 NOTICE Failed-Attempt: Authentication failed, ConfigVersionId=140, Device IP Address=10.0.0.5, UserName=bob, NetworkDeviceName=sw01,`
	var all, p2 map[string]relayEvent
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if c, err := net.Dial("udp", "127.0.0.1:"+inPort); err == nil {
			_, _ = c.Write([]byte(line)) // resent until both arrive (rsyslogd starts on its own schedule); dedup drops repeats
			c.Close()
		}
		all = relayEvents(t, filepath.Join(h.data, "all"), "ise01")
		if len(all) == 2 {
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	all = relayEvents(t, filepath.Join(h.data, "all"), "ise01")
	p2 = relayEvents(t, filepath.Join(h.data, "p2"), "ise01")
	trad, doc := all["rfc3164"], all["rfc5424"]
	if len(all) != 2 {
		t.Fatalf("want one event relayed each way, got %v (rsyslogd: %s)", all, stderr.String())
	}
	t.Logf("RSYSLOG_TraditionalForwardFormat: dataset %q user %q P2 %v message %q", trad.Event.Dataset, trad.User.Name, p2["rfc3164"].Event.Dataset != "", trad.Message)
	t.Logf("documented (RFC 5424):            dataset %q user %q P2 %v message %q", doc.Event.Dataset, doc.User.Name, p2["rfc5424"].Event.Dataset != "", doc.Message)
	if doc.Event.Dataset != trad.Event.Dataset || doc.User.Name != trad.User.Name {
		t.Errorf("relayed with the documented rsyslog config, Cisco ISE's event is dataset %q user %q; with rsyslog's default format %q user %q",
			doc.Event.Dataset, doc.User.Name, trad.Event.Dataset, trad.User.Name)
	}
	if _, ok := p2["rfc5424"]; !ok {
		t.Errorf("relayed with the documented rsyslog config, Cisco ISE's failed authentication is not P2 (it is with rsyslog's default format: %v)", p2["rfc3164"].Event.Dataset != "")
	}
	if strings.HasPrefix(doc.Message, " ") {
		t.Errorf("relayed with the documented rsyslog config, message starts with a space: %q", doc.Message)
	}
}
