package route_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestAddAllIsAllOrNone: AddAll splits a record that holds several events
// (a Google Workspace activity) as AddParts does, and when one of them is
// refused it takes back those it added and returns the error (a syslog
// frame is quarantined whole and replayed whole: a part kept would come
// twice). Events added before the record stay, and the activity is as it
// was.
func TestAddAllIsAllOrNone(t *testing.T) {
	cfg := normalize.DefaultConfig()
	cfg.MaxFields = 50
	w := testengine.Router(t, "", cfg, "archive").NewWorker()
	var wide strings.Builder
	wide.WriteString(`{"name":"WIDE","p0":0`)
	for i := 1; i < 100; i++ {
		fmt.Fprintf(&wide, `,"p%d":%d`, i, i)
	}
	wide.WriteString(`}`)
	activity := func(evs ...string) string {
		return `{"kind":"admin#reports#activity","id":{"applicationName":"admin"},"events":[` + strings.Join(evs, ",") + `]}`
	}
	b := pipeline.NewBatch()
	defer b.Release()
	add := func(s string) error {
		return w.AddAll(b, fastjson.MustParse(s), nil, &normalize.EventMeta{Time: 1})
	}
	if err := add(`{"message":"before"}`); err != nil {
		t.Fatal(err)
	}
	if err := add(activity(`{"name":"A"}`, `{"name":"B"}`)); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 3 {
		t.Fatalf("%d events, want 1 + the activity's 2", len(b.Events))
	}
	arena := len(b.Arena())
	refused := fastjson.MustParse(activity(`{"name":"C"}`, wide.String(), `{"name":"D"}`))
	was := string(refused.MarshalTo(nil))
	if err := w.AddAll(b, refused, nil, &normalize.EventMeta{Time: 1}); err == nil {
		t.Fatal("an activity with an event past max_fields was taken")
	}
	if len(b.Events) != 3 || len(b.Arena()) != arena {
		t.Fatalf("after a refused activity: %d events, arena %d bytes; want the 3 before it and %d bytes", len(b.Events), len(b.Arena()), arena)
	}
	if now := string(refused.MarshalTo(nil)); now != was {
		t.Errorf("the refused activity changed:\n%s\nwant\n%s", now, was)
	}
	for i, want := range []string{`"before"`, `"events":{"name":"A"}`, `"events":{"name":"B"}`} {
		if !strings.Contains(string(b.Events[i].Raw), want) {
			t.Errorf("event %d = %s, want %s", i, b.Events[i].Raw, want)
		}
	}
	if err := add(`{"message":"after"}`); err != nil || len(b.Events) != 4 || !strings.Contains(string(b.Events[3].Raw), `"after"`) {
		t.Fatalf("an event after the refused activity: err %v, %d events", err, len(b.Events))
	}
}
