package parse

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestCheckPointDatasetByApp: bracketed key:"value" pairs are parsed
// whoever sends them, but named checkpoint.firewall only when the
// APP-NAME is Log Exporter's (CheckPoint, any case) or there is no header.
func TestCheckPointDatasetByApp(t *testing.T) {
	p := newTestParser()
	for _, tc := range []struct{ msg, dataset string }{
		{`<134>1 2026-11-28T10:00:00Z gw CheckPoint 1 - [action:"Drop"; src:"192.0.2.1"; dst:"192.0.2.2"]`, "checkpoint.firewall"},
		{`<134>1 2026-11-28T10:00:00Z gw checkpoint 1 - [action:"Drop"; src:"192.0.2.1"; dst:"192.0.2.2"]`, "checkpoint.firewall"},
		{`[action:"Drop"; src:"192.0.2.1"; dst:"192.0.2.2"]`, "checkpoint.firewall"},
		{`<134>1 2026-11-28T10:00:00Z host myapp 1 - [a:"1"; b:"2"; c:"3"]`, ""},
	} {
		out, res := p.AppendJSON(nil, []byte(tc.msg))
		if res.Format != FormatCheckPoint {
			t.Errorf("%s: format %q, want checkpoint: %s", tc.msg, res.Format, out)
		}
		if got := fastjson.GetString(out, "event", "dataset"); got != tc.dataset {
			t.Errorf("%s: event.dataset %q, want %q", tc.msg, got, tc.dataset)
		}
	}
}
