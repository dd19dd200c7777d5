package app

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminRefusesCrossSiteBrowserRequest: with
// no admin.token (the embedded configuration's default), requireAdmin
// grants POST /admin/replay and /admin/reload to any request whose TCP peer
// is loopback, and judges nothing else. A web browser on the router's host
// is such a peer for every page it shows: a page on any site can make it
// send a "simple" cross-origin POST (Content-Type text/plain, no custom
// header, so no CORS preflight) to http://127.0.0.1:8686/admin/replay
// ?destination=siem. The browser does not let the page read the answer, but
// the request is served, so the page forges events into the SIEM (or the
// Object Lock archive) as replays. (DNS rebinding, Host: attacker.example,
// gets the same, with the answers readable.)
//
// The browser says so itself: Origin: https://attacker.example and
// Sec-Fetch-Site: cross-site, which no legitimate client of these endpoints
// (router quarantine replay, curl, kubectl port-forward) sends. Expected:
// such a request is refused (403), as http.CrossOriginProtection does, or
// the Host is checked against loopback names; observed: 200 and the forged
// event is in the SIEM.
func TestAdminRefusesCrossSiteBrowserRequest(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.app.AdminAddr()+"/admin/replay?destination=siem", strings.NewReader(forged+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	// What a browser sends for <form enctype="text/plain" method="post">
	// or fetch(url, {method: "POST", mode: "no-cors", body}) from another site.
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", "https://attacker.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Sec-Fetch-Mode", "no-cors")
	req.Header.Set("Referer", "https://attacker.example/page.html")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	delivered := h.siemHas("FORGED", 5*time.Second)
	if res.StatusCode == http.StatusOK || delivered {
		t.Errorf("a cross-site browser request (Origin: https://attacker.example, Sec-Fetch-Site: cross-site) to POST /admin/replay without admin.token was answered %d, forged event in the SIEM: %v; the loopback exemption trusts every page a browser on the host shows (internal/app/admin.go requireAdmin)",
			res.StatusCode, delivered)
	}

	// The same for /admin/reload.
	rq, _ := http.NewRequest(http.MethodPost, "http://"+h.app.AdminAddr()+"/admin/reload", strings.NewReader(""))
	rq.Header.Set("Content-Type", "text/plain")
	rq.Header.Set("Origin", "https://attacker.example")
	rq.Header.Set("Sec-Fetch-Site", "cross-site")
	rs, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	rs.Body.Close()
	if rs.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site browser request to POST /admin/reload answered %d, want 403", rs.StatusCode)
	}
}

// TestAdminLoopbackExemptionRefusesRebindingHost: with no admin.token, a
// loopback request addressed by another name (a DNS rebinding page whose
// name now resolves to 127.0.0.1) is refused; by localhost or 127.0.0.1
// it is taken.
func TestAdminLoopbackExemptionRefusesRebindingHost(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	for host, want := range map[string]int{"attacker.example:8686": http.StatusForbidden, "localhost:8686": http.StatusOK, "127.0.0.1": http.StatusOK} {
		req, err := http.NewRequest(http.MethodPost, "http://"+h.app.AdminAddr()+"/admin/reload", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != want && !(want == http.StatusOK && res.StatusCode == http.StatusUnprocessableEntity) {
			t.Errorf("POST /admin/reload with Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
}
