package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestReplayRawSplitsAsInputs: an input's record replayed through the
// plain path (/admin/replay: NDJSON, Firehose, Kafka records) that holds
// several events is split as the inputs split it, a part refused again
// passed back alone; a destination's refused event (split nil) never is.
func TestReplayRawSplitsAsInputs(t *testing.T) {
	cfg := normalize.DefaultConfig()
	cfg.MaxFields = 50
	wk := testengine.Router(t, "", cfg, "archive").NewWorker()
	var wide strings.Builder
	wide.WriteString(`{"name":"WIDE"`)
	for i := range 100 {
		fmt.Fprintf(&wide, `,"p%d":%d`, i, i)
	}
	wide.WriteString(`}`)
	raw := []byte(`{"kind":"admin#reports#activity","id":{"applicationName":"admin"},"events":[{"name":"A"},` + wide.String() + `,{"name":"B"}]}`)

	b := pipeline.NewBatch()
	defer b.Release()
	var p fastjson.Parser
	var again []string
	if err := addRaw(wk, b, &p, raw, nil, func(r []byte, reason, _ string) { again = append(again, reason+" "+string(r)) }); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 2 || !strings.Contains(string(b.Events[0].Raw), `"events":{"name":"A"}`) || !strings.Contains(string(b.Events[1].Raw), `"events":{"name":"B"}`) {
		t.Fatalf("%d events, want the activity's A and B", len(b.Events))
	}
	if len(again) != 1 || !strings.Contains(again[0], `"events":{"name":"WIDE"`) || strings.Contains(again[0], `"name":"A"`) {
		t.Fatalf("refused again: %q, want the wide event alone", again)
	}

	b.Reset()
	if err := addRaw(wk, b, &p, []byte(`{"kind":"admin#reports#activity","events":[{"name":"A"},{"name":"B"}]}`), nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 {
		t.Fatalf("without split: %d events, want the record as one", len(b.Events))
	}
}
