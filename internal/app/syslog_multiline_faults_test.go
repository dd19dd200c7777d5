package app

// Tests from a third review of the syslog input, driving the real senders
// the docs configure. Each failed on the code as it was found, because of
// the fault its comment describes.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// faults3Events returns the events of the harness's destination whose
// JSON contains marker, decoded.
func (h *syslogHarness) faults3Events(marker string) []map[string]any {
	var out []map[string]any
	files, _ := filepath.Glob(filepath.Join(h.data, "all", "*.ndjson"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			if !bytes.Contains(sc.Bytes(), []byte(marker)) {
				continue
			}
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				out = append(out, ev)
			}
		}
	}
	return out
}

// TestSyslogNGMultiLineOverUDP
//
// What is wrong: a real syslog-ng 3.38 reading a Java application log with
// multi-line-mode(indented) and forwarding with the syslog() driver over
// UDP sends each stack trace as one RFC 5424 datagram whose MSG holds the
// newlines (captured: "<13>1 ... [meta sequenceId=\"1\"] Exception ...\n
// \tat com...\n\tat com...\n"). The UDP listener splits every datagram at
// '\n' (serveUDP: "A datagram is one message; some senders pack several
// lines"), so one message becomes three events: the header line, and two
// "\tat ..." lines with parse_status "raw", no host and no app name, with
// the router's arrival time as their time.
//
// Expected: one event per datagram carrying one message, with the whole
// stack trace as its message: RFC 5426 3.1 ("Each syslog UDP datagram
// MUST contain only one syslog message"); over TCP, syslog-ng's
// octet-counted frames of the same message already arrive whole. The same
// run sends it over TCP too, as the control.
func TestSyslogNGMultiLineOverUDP(t *testing.T) {
	script, _ := filepath.Abs("testdata/peers/syslog-ng.sh")
	if _, err := os.Stat("/opt/syslog-ng/usr/sbin/syslog-ng"); err != nil && os.Getenv("LOGROUTER_INSTALL_PEERS") == "" {
		t.Skip("syslog-ng is not installed in /opt/syslog-ng (.ci/run installs it)")
	}
	h := newSyslogHarness(t)
	work := t.TempDir()
	in := filepath.Join(work, "app.log")
	trace := "Exception in thread \"main\" java.lang.IllegalStateException: faults3sng\n" +
		"\tat com.example.Foo.bar(Foo.java:10)\n" +
		"\tat com.example.Main.main(Main.java:5)\n"
	// The line after the trace ends it (indented mode: a line that does
	// not start with white space starts the next message).
	if err := os.WriteFile(in, []byte(trace+"faults3sng-next started\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(work, "send.conf")
	_ = os.WriteFile(conf, []byte(fmt.Sprintf(`@version: 3.38
options { stats_freq(0); };
source s_in { file("%s" flags(no-parse) multi-line-mode(indented) follow-freq(0.1) program-override("javaapp")); };
destination d_udp { syslog("127.0.0.1" port(%s) transport("udp")); };
destination d_tcp { syslog("127.0.0.1" port(%s) transport("tcp")); };
log { source(s_in); destination(d_udp); destination(d_tcp); };
`, in, port(h.udp), port(h.tcp))), 0o644)
	cmd := exec.Command("bash", script, conf, filepath.Join(work, "run"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	byProto := func() map[string][]map[string]any {
		m := map[string][]map[string]any{}
		// The header line holds the marker, continuation lines name
		// com.example: every event of the trace holds one or the other.
		seen := map[string]bool{}
		for _, marker := range []string{"faults3sng\\n", "faults3sng\"", "com.example"} {
			for _, ev := range h.faults3Events(marker) {
				b, _ := json.Marshal(ev)
				if seen[string(b)] || strings.Contains(string(b), "faults3sng-next") {
					continue
				}
				seen[string(b)] = true
				lr, _ := ev["logrouter"].(map[string]any)
				p, _ := lr["protocol"].(string)
				m[p] = append(m[p], ev)
			}
		}
		return m
	}
	// The TCP copy arrives whole; the UDP datagram was sent with it.
	deadline := time.Now().Add(60 * time.Second)
	for (len(byProto()["syslog-tcp"]) == 0 || len(byProto()["syslog-udp"]) == 0) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	got := byProto()
	if len(got["syslog-tcp"]) != 1 {
		t.Fatalf("control: over TCP the trace came as %d events, want 1 (syslog-ng: %s)", len(got["syslog-tcp"]), out.String())
	}
	want := strings.TrimSuffix(trace, "\n")
	if m := got["syslog-tcp"][0]["message"]; m != want {
		t.Fatalf("control: over TCP message %q, want %q", m, want)
	}
	udp := got["syslog-udp"]
	if len(udp) != 1 {
		for _, ev := range udp {
			b, _ := json.Marshal(ev)
			t.Logf("udp event: %s", b)
		}
		t.Fatalf("syslog-ng's one UDP datagram (one RFC 5424 message, a stack trace) became %d events, want 1", len(udp))
	}
	if m := udp[0]["message"]; m != want {
		t.Errorf("over UDP message %q, want %q", m, want)
	}
}
