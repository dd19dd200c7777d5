package normalize

// A review: max_fields at a gateway against an edge's profile renames
// (the juniper.srx wildcard renames of 669f8eb move ~20 SD parameters into
// new ECS objects). It fails on the code as found; the comment describes
// that code.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestGatewayMaxFieldsAfterRenames
//
// What is wrong: the edge counts max_fields while it walks the input
// (walk: n.fields++ per member, before any rename), so a parameter renamed
// from sd.junos@X.source-address to source.ip counts once. Its output has
// new objects the input did not (source, destination, observer,
// observer.ingress ...), and a gateway reading that output back
// (EventMeta.Normalized) walks and counts them all: ownMeta exempts only
// logrouter.*, @timestamp, event.dataset and event.ingested. An event the
// edge accepted within max_fields is refused by the gateway with the same
// configuration as too_many_fields and quarantined. (The same holds for
// any profile rename into a deeper path, and for the fields a profile's
// copy, map and set add; the juniper.srx profile of these commits renames
// into about a dozen new objects per session event.)
//
// How to reproduce: max_fields 12; a profile renaming three
// sd.junos@*.* parameters into source.ip, destination.ip and
// observer.ingress.zone; an event of exactly 12 fields; normalize it at an
// edge, then its output at a gateway (faultGateway's EventMeta).
//
// Expected: accepted at the gateway. TestGatewayMaxFieldsCountsOnlyTheEventsOwn
// states the contract: "the gateway treats an edge's event as the event
// the edge normalized, so the same event is accepted whether it came
// through an edge or straight to the gateway". Otherwise the edge has
// acknowledged an event that never reaches the index.
func TestGatewayMaxFieldsAfterRenames(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFields = 12
	cfg.Profiles = []ProfileSpec{{Name: "srx", Rename: OrderedMap{
		Keys:   []string{"sd.junos@*.source-address", "sd.junos@*.destination-address", "sd.junos@*.source-zone-name"},
		Values: []string{"source.ip", "destination.ip", "observer.ingress.zone"},
	}}}
	var b strings.Builder
	b.WriteString(`{"ts":1700000000,"sd":{"junos@2636.1.1.1.2.129":{"source-address":"10.0.0.1","destination-address":"10.0.0.2","source-zone-name":"trust"`)
	for i := 1; i <= cfg.MaxFields-6; i++ { // ts, sd, junos@..., the three renamed: 6
		fmt.Fprintf(&b, `,"f%d":"v%d"`, i, i)
	}
	b.WriteString(`}}}`)
	edgeOut, _ := faultHash(t, cfg, b.String(), &EventMeta{SourceType: []byte("srx")})
	if !strings.Contains(edgeOut, `"source":{"ip":"10.0.0.1"}`) {
		t.Fatalf("precondition: renamed at the edge: %s", edgeOut)
	}
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(edgeOut)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = n.Append(nil, v, nil, testMeta(), &EventMeta{Normalized: true, KeepOwnLogrouter: true})
	if errors.Is(err, ErrTooManyFields) {
		t.Errorf("an event of %d fields (max_fields %d), accepted by the edge, is refused by the gateway: the objects the renames made are counted against it\n edge output: %s",
			cfg.MaxFields, cfg.MaxFields, edgeOut)
	} else if err != nil {
		t.Fatalf("gateway: %v", err)
	}
}
