package syslog

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

// TestSyslogJSONPayloadDensity: a syslog message's JSON payload too dense
// in values to parse (jsonscan.ParseCost: a long array of tiny values, up
// to max_message_bytes, 16 MiB at most) was parsed unguarded, uncharged to
// max_inflight_bytes, and the connection's parser kept what the parse grew
// (210 MiB for a 1 MiB message) for as long as the connection lived. It is
// kept as text now, as a payload nested too deep is (the message whole, a
// string), and a parser grown by a large payload is let go after it.
func TestSyslogJSONPayloadDensity(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	sink := testutil.DiscardSink{SinkName: "all"}
	eng := testengine.New(t, testengine.P1EDR, sink, &testutil.MemQuarantine{}, log)
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxMessageBytes: 1 << 20}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	st := srv.newStream("tcp")
	defer st.close()
	st.b.Meta.Peer = "192.0.2.1"
	base := reviewLiveHeap()
	for _, tc := range []struct {
		name, payload string
		json          bool
	}{
		// 1 MiB: 512 Ki zeros (a few KiB compressed on a TLS stream).
		{"dense", `{"a":[` + strings.Repeat("0,", 512<<10-8) + `0]}`, false},
		// 1 MiB of values every ~20 bytes: parsed, and let go after.
		{"large", `{"a":[` + strings.Repeat(`"abcdefghijklmnop",`, 50<<10) + `"z"]}`, true},
	} {
		st.add([]byte(`<14>1 2026-11-28T10:00:00Z h app - - - `+tc.payload), frameWhole)
		if len(st.rejected) != 0 || len(st.b.Events) != 1 {
			t.Fatalf("%s: %d events, rejected %v; want the message delivered", tc.name, len(st.b.Events), st.rejected)
		}
		raw := string(st.b.Events[0].Raw)
		if asText := strings.Contains(raw, `"message":"{\"a\":[`); asText == tc.json {
			t.Fatalf("%s: parsed as JSON %v, want %v: %.200s", tc.name, !asText, tc.json, raw)
		}
		st.b.Reset()
		st.rejected = st.rejected[:0]
		st.charge()
		if n := srv.inflight.Load(); n != 0 {
			t.Fatalf("%s: %d bytes of max_inflight_bytes still charged with nothing held", tc.name, n)
		}
	}
	held := int64(reviewLiveHeap()) - int64(base)
	runtime.KeepAlive(st)
	if held > 32<<20 {
		t.Errorf("the idle stream holds %d MiB after two 1 MiB messages", held>>20)
	}
}
