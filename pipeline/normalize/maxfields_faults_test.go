package normalize

// A fault a review proved; the test failed before the fix.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestGatewayMaxFieldsCountsOnlyTheEventsOwn
//
// What is wrong: max_fields bounds the fields an event arrives with; the
// edge counts them while it walks the input, before it adds its own
// metadata (@timestamp, event.dataset, event.ingested, logrouter.input,
// protocol, peer, token). A gateway reading that event back from Kafka
// (EventMeta.Normalized, KeepOwnLogrouter) walks the edge's output and
// counts every member, the edge's metadata included. An event with exactly
// max_fields fields (accepted, acknowledged and queued by the edge) is
// therefore refused by the gateway with the same max_fields as
// too_many_fields and quarantined: the edge -> Kafka -> gateway path
// quarantines events the router itself made too big, which the same router
// config takes when they are sent to the gateway directly.
//
// Expected: docs/configuration.md: "max_fields | 2000 | larger events are
// quarantined (too_many_fields)", a bound on the event, not on logrouter's
// ingest metadata; docs/architecture.md ("An edge's events at the
// gateway"): the gateway treats an edge's event as the event the edge
// normalized, so the same event is accepted whether it came through an
// edge or straight to the gateway. The gateway normalizes the edge's
// output of an event within max_fields without error.
func TestGatewayMaxFieldsCountsOnlyTheEventsOwn(t *testing.T) {
	cfg := testConfig()
	cfg.MaxFields = 40
	var b strings.Builder
	b.WriteString(`{"ts":1700000000`)
	for i := 1; i < cfg.MaxFields; i++ {
		fmt.Fprintf(&b, `,"f%d":"v%d"`, i, i)
	}
	b.WriteString(`}`)
	in := b.String()

	// At the edge (as sent straight to a router): within the bound.
	edgeOut, _ := faultHash(t, cfg, in, nil)

	// At the gateway, from Kafka.
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(edgeOut)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = n.Append(nil, v, nil, testMeta(), &EventMeta{Normalized: true, KeepOwnLogrouter: true})
	if errors.Is(err, ErrTooManyFields) {
		t.Errorf("an event of %d fields (max_fields %d), accepted by the edge, is refused by the gateway as too_many_fields: "+
			"the edge's own metadata is counted against the event (edge output: %s)", cfg.MaxFields, cfg.MaxFields, edgeOut)
	} else if err != nil {
		t.Fatalf("gateway: %v", err)
	}
}
