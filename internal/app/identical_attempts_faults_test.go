package app

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// detectLines counts the NDJSON lines containing marker in the
// files of dir.
func detectLines(dir, marker string) int {
	n := 0
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), marker) {
				n++
			}
		}
	}
	return n
}

// TestOpenSearchKeepsIdenticalAttempts (review: what a
// detection engineer's content sees)
//
// Fault: the OpenSearch destination (P2: OS security, firewall, IdP,
// CloudTrail) stores N distinct occurrences of a log line whose text is
// the same as ONE document, even with deduplication off, and counts the
// other N-1 as delivered. Its bulk `_id` is the event's content hash, and
// two occurrences of the same message in the same second (RFC 3164 and
// Cisco ASA timestamps have no fraction of a second) have the same content
// hash; the second `create` is answered 409, which the sink counts as
// delivered.
//
// Sequence: starter rules, dedup off (configuration.md: `dedup.enabled`
// default false), P2 routed to OpenSearch and to a file destination. A
// Cisco ASA under an AnyConnect password spray (the 2024 campaigns; Cisco's
// guidance is to count %ASA-6-113015 per source) logs five rejected
// logins for user admin from 198.51.100.23 within one second, over TCP
// syslog: five identical lines.
//
// Expected: five events in OpenSearch, as in the file destination fed by
// the same routing entry. configuration.md on `type: opensearch` says the
// only way two different events share an `_id` is a 64-bit hash collision
// ("two different events in one index share it with probability about
// n²/2⁶⁵ for n events"), and the promise is "every dropped event counted
// with a reason"; with dedup off nothing is meant to merge events. A
// threshold rule (OpenSearch alerting/Security Analytics: N failed logins
// from one source in M minutes) counts documents.
//
// Actual: the file destination has 5, OpenSearch has 1 document; the other
// four were answered 409 and counted delivered, with no drop counted
// anywhere. The SIEM (Splunk HEC) and the archive keep all five, so the
// same brute force has different counts in different tools.
//
// Severity: high for detection (brute force / password spray thresholds
// on P2 sources are under-counted silently, with dedup off).
func TestOpenSearchKeepsIdenticalAttempts(t *testing.T) {
	srv := osfake.New()
	defer srv.Close()
	h := newReviewStarterWith(t, func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
		for i := range c.Destinations {
			if c.Destinations[i].Name == "opensearch" {
				c.Destinations[i] = config.Destination{Name: "opensearch", Type: "opensearch",
					OpenSearch: &opensearch.Config{URLs: []string{srv.URL}}}
			}
		}
		c.Destinations = append(c.Destinations, config.Destination{Name: "p2copy", Type: "file",
			File: &file.Config{Dir: filepath.Join(filepath.Dir(c.Queue.Dir), "p2copy")}})
		c.Routing.P2 = []string{"opensearch", "p2copy"}
		c.Dedup.Enabled = false
	})
	_, tcp, _ := h.app.SyslogAddrs()
	conn, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	user := fmt.Sprintf("spray%d", time.Now().UnixNano())
	line := "<166>Nov 28 2026 10:00:00: %ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = " +
		user + " : user IP = 198.51.100.23\n"
	if _, err := conn.Write([]byte(strings.Repeat(line, 5))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for detectLines(filepath.Join(h.data, "p2copy"), user) < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	inFile := detectLines(filepath.Join(h.data, "p2copy"), user)
	if inFile != 5 {
		t.Fatalf("the file destination on the same P2 route got %d of the 5 attempts", inFile)
	}
	docs := func() int {
		n := 0
		for _, d := range srv.Docs() {
			if bytes.Contains(d.Source, []byte(user)) {
				n++
			}
		}
		return n
	}
	// Wait until OpenSearch was offered all five (or holds them).
	for (srv.BulkItems() < 5 && docs() < 5) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if got := docs(); got != 5 {
		t.Errorf("five failed logins (identical ASA lines in one second, dedup off): OpenSearch holds %d document(s), "+
			"the file destination on the same route %d; bulk items offered %d (the rest answered 409 on their shared _id and counted delivered)",
			got, inFile, srv.BulkItems())
	}
}
