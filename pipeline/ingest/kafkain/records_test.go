package kafkain

import (
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// TestBatchEnvelopeSplit: a record read from Azure Event Hubs' Kafka
// endpoint holds a diagnostic-settings batch ({"records":[...]}); each of
// its records is one event. A CloudTrail file's {"Records":[...]} too.
func TestBatchEnvelopeSplit(t *testing.T) {
	e := newEngine(t, &fullQueueSink{}, nil)
	p := newPartition(e)
	p.add(&kafka.Message{Offset: 5, Value: []byte(`{"records":[{"category":"SignInLogs","operationName":"Sign-in activity"},{"category":"AuditLogs"}]}`)})
	p.add(&kafka.Message{Offset: 6, Value: []byte(`{"Records":[{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}]}` + "\n" + `{"user":"x"}`)})
	if len(p.rej) != 0 {
		t.Fatalf("rejected %d records: %s", len(p.rej), p.rej[0].Detail)
	}
	want := []string{`"SignInLogs"`, `"AuditLogs"`, `"CreateUser"`, `"user":"x"`}
	if len(p.b.Events) != len(want) {
		t.Fatalf("%d events, want %d (one per record, and the plain line)", len(p.b.Events), len(want))
	}
	for i, w := range want {
		if raw := string(p.b.Events[i].Raw); !strings.Contains(raw, w) || strings.Contains(strings.ToLower(raw), `"records"`) {
			t.Errorf("event %d = %s, want the record holding %s", i, raw, w)
		}
	}
}

// TestActivityEventsSplit: a Google Workspace activity of several events
// read from a topic is one event per activity event, each the activity
// holding only it.
func TestActivityEventsSplit(t *testing.T) {
	e := newEngine(t, &fullQueueSink{}, nil)
	p := newPartition(e)
	p.add(&kafka.Message{Offset: 7, Value: []byte(`{"kind":"admin#reports#activity","id":{"time":"2026-11-30T11:00:00Z","applicationName":"admin"},"events":[{"name":"CREATE_USER"},{"name":"ASSIGN_ROLE"}]}`)})
	if len(p.rej) != 0 {
		t.Fatalf("rejected %d records: %s", len(p.rej), p.rej[0].Detail)
	}
	want := []string{`"events":{"name":"CREATE_USER"}`, `"events":{"name":"ASSIGN_ROLE"}`}
	if len(p.b.Events) != len(want) {
		t.Fatalf("%d events, want %d (one per activity event)", len(p.b.Events), len(want))
	}
	for i, w := range want {
		if raw := string(p.b.Events[i].Raw); !strings.Contains(raw, w) {
			t.Errorf("event %d = %s, want the activity holding only %s", i, raw, w)
		}
	}
}

// TestAPIPagesSplit: a Graph collection page or a Google Workspace
// Reports API page a poller wrote to a topic is one event per record, a
// Reports activity of several events one per event.
func TestAPIPagesSplit(t *testing.T) {
	e := newEngine(t, &fullQueueSink{}, nil)
	p := newPartition(e)
	p.add(&kafka.Message{Offset: 8, Value: []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits","value":[{"id":"d1"},{"id":"d2"}]}`)})
	p.add(&kafka.Message{Offset: 9, Value: []byte(`{"kind":"admin#reports#activities","items":[{"kind":"admin#reports#activity","events":[{"name":"CREATE_USER"},{"name":"ASSIGN_ROLE"}]},{"kind":"admin#reports#activity","events":[{"name":"DELETE_USER"}]}]}`)})
	if len(p.rej) != 0 {
		t.Fatalf("rejected %d records: %s", len(p.rej), p.rej[0].Detail)
	}
	want := []string{`"d1"`, `"d2"`, `"events":{"name":"CREATE_USER"}`, `"events":{"name":"ASSIGN_ROLE"}`, `"events":[{"name":"DELETE_USER"}]`}
	if len(p.b.Events) != len(want) {
		t.Fatalf("%d events, want %d (one per record and activity event)", len(p.b.Events), len(want))
	}
	for i, w := range want {
		if raw := string(p.b.Events[i].Raw); !strings.Contains(raw, w) || strings.Contains(raw, "odata") || strings.Contains(raw, `"items"`) {
			t.Errorf("event %d = %s, want the record holding %s", i, raw, w)
		}
	}
}
