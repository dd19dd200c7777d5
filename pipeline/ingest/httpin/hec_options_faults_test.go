package httpin

// Review faults of the HEC receiver against real shippers, kept as tests once fixed (SOC migration from
// Splunk HEC): the OPTIONS connection probe of Docker's splunk logging
// driver.

import (
	"net/http"
	"testing"
)

// TestHECDockerLogDriverOptionsProbe: Docker's `splunk` logging
// driver (moby/moby daemon/logger/splunk/splunk.go) fixes the URL path to
// /services/collector/event/1.0 (parseURL) and, unless
// `splunk-verify-connection=false` is set (it defaults to true), checks the
// endpoint when the logger is created: verifySplunkConnection sends
// `OPTIONS /services/collector/event/1.0` with no Authorization header and
// fails New() unless the answer is exactly 200 ("splunk: failed to verify
// connection - <status> - <body>"). A failed New() means the daemon
// cannot start the container ("failed to initialize logging driver"); with
// `log-driver: splunk` in daemon.json no container on the host starts.
// Splunk answers OPTIONS on every HEC route with 200, an empty body and
// `Allow: POST,OPTIONS`, token or not.
//
// logrouter serves only POST there: the route table's catch-all
// (methodNotAllowed, bulk.go) answers OPTIONS with 405
// `{"text":"Incorrect HTTP method ...","code":405}`, so every container
// whose logs a SOC points from Splunk to logrouter fails to start and
// ships nothing (the SOC sees no error on its side).
//
// Expected: OPTIONS on the HEC event and raw endpoints answers 200 without
// requiring a token (as Splunk does), so the driver's probe passes.
func TestHECDockerLogDriverOptionsProbe(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "docker", Token: "00000000-1111-2222-3333-444444444444"}}}, nil)
	for _, path := range []string{
		"/services/collector/event/1.0", // the driver's fixed path
		"/services/collector/event",
		"/services/collector/raw",
	} {
		// As verifySplunkConnection sends it: no body, no Authorization.
		w := f.do("OPTIONS", path, "", "")
		if w.Code != http.StatusOK {
			t.Errorf("OPTIONS %s = %d %s; Docker's splunk logging driver needs 200 here or the container does not start", path, w.Code, w.Body)
		}
	}
	// The probe must not have made anything of itself.
	if n := len(f.rec.Events()); n != 0 {
		t.Errorf("the OPTIONS probe delivered %d events", n)
	}
}
