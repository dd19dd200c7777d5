package opensearch

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestHeadersSent checks that the "headers" reach the cluster on every
// request (bulk and bootstrap alike), next to the headers the sink sets
// itself, and with basic authentication still in place.
func TestHeadersSent(t *testing.T) {
	srv := osfake.New(osfake.WithBasicAuth("u", "p"))
	t.Cleanup(srv.Close)
	type seen struct {
		path, method          string
		msg, tm, proxy, ctype string
		auth                  bool
	}
	var mu sync.Mutex
	var reqs []seen
	srv.SetRequestHook(func(r *http.Request) {
		_, _, ok := r.BasicAuth()
		mu.Lock()
		reqs = append(reqs, seen{
			path: r.URL.Path, method: r.Method,
			msg: r.Header.Get("VL-Msg-Field"), tm: r.Header.Get("Vl-Time-Field"),
			proxy: r.Header.Get("X-Proxy-Key"), ctype: r.Header.Get("Content-Type"), auth: ok,
		})
		mu.Unlock()
	})
	e := newEnvOn(t, srv, Config{
		Username: "u", Password: "p",
		// Names in any case: they are sent canonicalized.
		Headers:   map[string]string{"VL-Msg-Field": "message", "vl-time-field": "@timestamp", "X-Proxy-Key": "k1"},
		Bootstrap: BootstrapConfig{Enabled: true},
	}, withBootstrapTiming(10*time.Millisecond, 5*time.Second))
	b := makeBatch(t, 7, 50, time.Second)
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	checkStored(t, e, b, DefaultIndex, nil)

	mu.Lock()
	defer mu.Unlock()
	var bulk, other int
	for _, r := range reqs {
		if r.msg != "message" || r.tm != "@timestamp" || r.proxy != "k1" || !r.auth {
			t.Fatalf("%s %s: headers VL-Msg-Field %q VL-Time-Field %q X-Proxy-Key %q, basic auth %v", r.method, r.path, r.msg, r.tm, r.proxy, r.auth)
		}
		if r.path == "/_bulk" {
			bulk++
			if r.ctype != "application/x-ndjson" {
				t.Fatalf("bulk Content-Type %q", r.ctype)
			}
		} else {
			other++
		}
	}
	if bulk == 0 || other == 0 {
		t.Fatalf("%d bulk and %d other requests seen: %+v", bulk, other, reqs)
	}
}
