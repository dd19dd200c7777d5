package main

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestSyslogReplayKeepsSender (review)
//
// Sequence: two firewalls (here 127.0.0.1 and 127.0.0.2) send the same
// hostless RFC 3164 message (no HOSTNAME, as a Cisco ASA sends by
// default) over TCP. The syslog input keeps such messages of two devices
// apart: the sender's address is part of the content hash
// (EventMeta.Sender; commit "dedup: hostless syslog messages of two
// devices ... stay distinct") and it is logrouter.peer. Both messages are
// refused (too_many_fields under a low normalize.max_fields) and
// quarantined, each record with its "peer". The limit is raised and
// `router quarantine replay` sends both records to POST
// /admin/replay/syslog ("syslog frames are parsed as the syslog input
// parses them").
//
// What happens: the replay request carries no peer; the router uses the
// replay client's address as every frame's sender (syslog.Replayer.Add:
// em.Sender = b.Meta.Peer). The two devices' messages get one content
// hash and deduplication (on by default) drops one of them: one event
// reaches the archive where the input itself delivers two (control).
//
// Expected: a replayed syslog frame keeps the sender its record names, so
// that it is the event the input would have made of it: two events.
func TestSyslogReplayKeepsSender(t *testing.T) {
	data := t.TempDir()
	withSyslog := func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
		c.Dedup.Enabled = true // as in config.example.yaml
	}
	frame := func(marker string) string {
		return `<134>Nov 28 10:00:00 filterlog: {"action":"block","src":"203.0.113.9","dst":"10.0.0.5","dport":22,"proto":"tcp","rule":"77","note":"` + marker + `"}`
	}
	send := func(a *app.App, from, msg string) {
		_, tcp, _ := a.SyslogAddrs()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		conn, err := d.Dial("tcp", tcp)
		if err != nil {
			t.Skipf("cannot send from %s: %v", from, err)
		}
		fmt.Fprint(conn, msg+"\n")
		conn.Close()
	}
	senders := []string{"127.0.0.1", "127.0.0.2"}

	a1, cfg, stop1 := faultsReplayRouter(t, data, 6, withSyslog)
	for _, s := range senders {
		send(a1, s, frame("peerdup-replayed"))
	}
	for _, s := range senders {
		if _, ok := waitQuarantined(cfg.Quarantine.Dir, 5*time.Second, func(r quarantine.Record) bool {
			return bytes.Contains(r.Raw, []byte("peerdup-replayed")) && strings.HasPrefix(r.Peer, s)
		}); !ok {
			t.Fatalf("the message from %s was not quarantined", s)
		}
	}
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, withSyslog)
	archDir := filepath.Join(data, "archive")
	// Control: the input keeps the two devices' messages apart.
	for _, s := range senders {
		send(a2, s, frame("peerdup-direct"))
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(faultsReplayArchivedLines(archDir, "peerdup-direct")) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(faultsReplayArchivedLines(archDir, "peerdup-direct")); n != 2 {
		t.Fatalf("control: the input archived %d of the two devices' messages", n)
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 replayed") {
		t.Fatalf("replay did not send both records: %s", out.String())
	}
	deadline = time.Now().Add(3 * time.Second)
	for len(faultsReplayArchivedLines(archDir, "peerdup-replayed")) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := faultsReplayArchivedLines(archDir, "peerdup-replayed")
	if len(got) != 2 {
		t.Errorf("replay of the two devices' quarantined messages archived %d events, the input itself archives 2 (replay: %s)\n%s",
			len(got), strings.TrimSpace(out.String()), strings.Join(got, "\n"))
	}
}
