package normalize

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestSenderCrossesEdge: a hostless syslog message (a Cisco ASA by
// default) is hashed with its sender, so that two devices' identical
// messages stay two events. An edge's output read again at a gateway
// (Kafka) was hashed without it: the gateway merged two devices' messages
// and gave the events another _id than the edge. The edge now writes the
// sender (logrouter.sender) and the gateway hashes it again.
func TestSenderCrossesEdge(t *testing.T) {
	edge := mustCompile(t, testConfig()).New()
	gw := mustCompile(t, testConfig()).New()
	const msg = `{"message":"%ASA-4-106023: Deny tcp src outside:203.0.113.9/51234 dst inside:10.0.0.5/22","event":{"dataset":"cisco.asa"}}`
	var p fastjson.Parser
	hashAt := func(sender string) (uint64, uint64, string) {
		out, ev := normalizeOne(t, edge, msg, &EventMeta{Sender: []byte(sender)})
		v, err := p.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		gout, gev, err := gw.Append(nil, v, nil, testMeta(), &EventMeta{Normalized: true, KeepOwnLogrouter: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = gout
		return ev.Hash, gev.Hash, out
	}
	e1, g1, out := hashAt("10.0.0.1")
	e2, g2, _ := hashAt("10.0.0.2")
	if !strings.Contains(out, `"sender":"10.0.0.1"`) {
		t.Errorf("the edge's output does not carry the sender: %s", out)
	}
	if e1 == e2 {
		t.Fatal("the edge merged two senders' messages")
	}
	if g1 == g2 {
		t.Error("the gateway merged two senders' messages that the edge kept apart")
	}
	if g1 != e1 {
		t.Errorf("the gateway hashed the event otherwise than the edge (%x, %x): another _id", g1, e1)
	}
	// Without a sender (a message that names its host) nothing is written.
	out, _ = normalizeOne(t, edge, msg, &EventMeta{})
	if strings.Contains(out, `"sender"`) {
		t.Errorf("a sender written without one: %s", out)
	}
}
