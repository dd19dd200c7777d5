package main

// Review fault of 30af50d ("split Microsoft Graph and Google Reports API
// pages into their records"), kept as a test once fixed: quarantine replay
// of a page's refused record (request.partRaw now quarantines a batch
// envelope's record from a request with a time of its own in an envelope
// of its own).

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestHECRawPageRecordReplayKeepsItsOwnTime
//
// What is wrong: 30af50d makes a Graph collection page a batch envelope on
// every endpoint that splits envelopes, HEC's raw endpoint included
// (/services/collector/raw: a line that is a JSON object is split,
// normalize.Parts). Its records are added by Worker.AddRecords, which
// turns the request's time (?time=, EventMeta.Time, "It wins over the
// event's own timestamp fields") into each record's DEFAULT time only: a
// sign-in keeps its own createdDateTime. A record refused there is
// quarantined as its own JSON (request.partRaw: q.env is nil on the raw
// endpoint) with the request's ?time= as the Rejected's DefaultTime. `router
// quarantine replay` sends it to POST /admin/replay?time=..., and addRaw
// fills EventMeta.Time from it (RequestMeta.Fill): the record, no longer
// inside a page, gets the request's time as @timestamp instead of its own.
// The HEC event endpoint avoids this by quarantining the part in an
// envelope of its own ({"records":[part]}, EnvelopeWith); the raw endpoint
// does not. (The same holds for an Azure {"records":[...]} line on the raw
// endpoint; the pages of this commit reach the same path.)
//
// Reproduce: router 1 (normalize.max_fields 20) takes on
// /services/collector/raw?time=1700000000 one Graph sign-ins page of two
// sign-ins (createdDateTime 10:00 and 11:00), the second too wide: the
// first is archived with its own time, the second quarantined. Router 2 on
// the same data (default max_fields): router quarantine replay.
//
// Expected: the replayed sign-in's @timestamp is its own createdDateTime
// (2026-11-30T11:00:00Z), as the live input gives the records it takes
// (route.Worker.AddRecords: "an envelope's time ... is each record's only
// when it has none of its own"; docs/configuration.md#quarantine: a replay
// applies what the record would have had so that it maps and routes as it
// would have; Microsoft Graph signIn: createdDateTime is "the date and
// time the sign-in was initiated").
func TestHECRawPageRecordReplayKeepsItsOwnTime(t *testing.T) {
	data := t.TempDir()
	signIn := func(marker, at, extra string) string {
		return `{"id":"` + marker + `","createdDateTime":"` + at + `","userPrincipalName":"jdoe@example.com",` +
			`"appDisplayName":"` + marker + `","conditionalAccessStatus":"success","clientAppUsed":"Browser",` +
			`"ipAddress":"198.51.100.7","status":{"errorCode":0}` + extra + `}`
	}
	var wide strings.Builder
	wide.WriteString(`,"detail":{"p":0`)
	for i := range 40 {
		fmt.Fprintf(&wide, `,"p%d":"v%d"`, i, i)
	}
	wide.WriteString(`}`)
	page := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[` +
		signIn("rvw-raw-small", "2026-11-30T10:00:00Z", "") + `,` + signIn("rvw-raw-wide", "2026-11-30T11:00:00Z", wide.String()) + `]}`

	a1, cfg, stop1 := faultsReplayRouter(t, data, 20, nil)
	if code, body := faultsReplayPost(t, a1.HTTPAddr(), "/services/collector/raw?time=1700000000", "", page+"\n"); code != 200 {
		t.Fatalf("hec raw: %d %s", code, body)
	}
	small, ok := faultsReplayWait(filepath.Join(data, "archive"), "rvw-raw-small")
	if !ok {
		t.Fatal("the small sign-in was not archived")
	}
	if ts := faultsReplayField(t, small, "@timestamp"); ts != "2026-11-30T10:00:00.000Z" {
		t.Fatalf("control: the live record's @timestamp is %v, want its own 2026-11-30T10:00:00.000Z", ts)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rvw-raw-wide"))
	}); !ok {
		t.Fatal("the wide sign-in was not quarantined (max_fields 20)")
	}
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, nil)
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	line, ok := faultsReplayWait(filepath.Join(data, "archive"), "rvw-raw-wide")
	if !ok {
		t.Fatalf("the replayed sign-in was not archived (replay said %q)", strings.TrimSpace(out.String()))
	}
	if ts := faultsReplayField(t, line, "@timestamp"); ts != "2026-11-30T11:00:00.000Z" {
		t.Errorf("the replayed sign-in's @timestamp is %v, want its own createdDateTime 2026-11-30T11:00:00.000Z "+
			"(live, the request's ?time= is only a page record's default time)", ts)
	}
}
