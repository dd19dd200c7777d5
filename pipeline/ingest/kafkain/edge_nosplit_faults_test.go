package kafkain

import (
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	kafkasink "github.com/logrouter/logrouter/sinks/kafka"
)

// TestActivityEdgeEventNotSplitAgain
//
// What is wrong: b55c36c made partition.addJSON split any record that
// normalize.Parts finds to hold several events, including a logrouter
// edge's event (edge -> Kafka -> gateway: the logrouter-priority header,
// EventMeta{KeepOwnLogrouter, Normalized}). An edge's event is one event
// the edge already normalized and classified; the gateway does not run a
// source profile on it again ("its events ... are not normalized by a
// source profile again", source.go). An edge whose input does not split a
// Google Workspace activity (its syslog input: syslog/server.go stream.add
// calls Worker.Add on the payload whole; or an edge of a release before
// b55c36c) writes the activity as one event: events a list of two,
// event.action and google_workspace.login.* copied from events.0. The
// gateway now turns that into two events, each keeping the first event's
// event.action and login fields while its events object is the second
// event: the second document says event.action login_verification next to
// events.name login_success, and neither is what the edge routed. The
// gateway's own replay of an edge's event (/admin/replay/edge, addEdge in
// internal/app/admin.go) adds it whole, so a live read and a replay of the
// same record disagree.
//
// Reproduce: feed the partition one record with the edge's header whose
// value is an edge's normalized activity of two events.
//
// Expected: one event, the edge's event as it is (README: a gateway reads
// "a logrouter edge's metadata" back from Kafka and routes the edge's
// events; normalize.Parts' split is for raw source records, as the
// commit says: "The HTTP and Kafka inputs ... split such an activity as
// they split a batch envelope", and a batch envelope is never an edge's
// event).
func TestActivityEdgeEventNotSplitAgain(t *testing.T) {
	e := newEngine(t, &fullQueueSink{}, nil)
	p := newPartition(e)
	defer e.PutWorker(p.w)
	// What an edge's syslog input writes for an activity of two events
	// (one event; the profile copied events.0's name).
	edgeEvent := `{"@timestamp":"2026-11-30T10:00:00.000Z","host":{"hostname":"gw"},"kind":"admin#reports#activity",` +
		`"id":{"uniqueQualifier":"31","applicationName":"login"},"user":{"email":"jdoe@example.com","id":"1"},"source":{"ip":"203.0.113.66"},` +
		`"events":[{"type":"login","name":"login_verification"},{"type":"login","name":"login_success","parameters":[{"name":"is_suspicious","boolValue":true}]}],` +
		`"logrouter":{"parse_status":"rfc5424","payload":"json","input":"syslog","protocol":"tcp"},` +
		`"event":{"action":"login_verification","category":"authentication","module":"google_workspace","dataset":"google_workspace"},` +
		`"google_workspace":{"event":{"type":"login"}}}`
	p.add(&kafka.Message{Topic: "t", Partition: 0, Offset: 7, Value: []byte(edgeEvent),
		Headers: []kafka.Header{{Key: kafkasink.HeaderPriority, Value: []byte("P2")}}})
	if len(p.rej) != 0 {
		t.Fatalf("rejected %d records: %s", len(p.rej), p.rej[0].Detail)
	}
	if len(p.b.Events) != 1 {
		for i := range p.b.Events {
			raw := string(p.b.Events[i].Raw)
			if strings.Contains(raw, `"events":{"type":"login","name":"login_success"`) && strings.Contains(raw, `"action":"login_verification"`) {
				t.Logf("event %d holds events.name login_success under event.action login_verification: %.400s", i, raw)
			}
		}
		t.Fatalf("the gateway made %d events of one edge's event, want 1 (an edge's event is routed as the edge made it)", len(p.b.Events))
	}
}
