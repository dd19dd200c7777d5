package harness

import (
	"bytes"
	"net/http"
	"time"
)

// HECReceiver is a Splunk HTTP Event Collector that counts: POST
// /services/collector[/event] with "Authorization: Splunk <token>", bodies of
// concatenated JSON envelopes (gzip or not), each envelope's "event" object
// recorded in its Dest; answers {"text":"Success","code":0}.
type HECReceiver struct {
	Dest  *Dest
	token []byte
	s     *server
}

// NewHECReceiver starts a receiver on a free loopback port.
func NewHECReceiver(d *Dest, token string) (*HECReceiver, error) {
	h := &HECReceiver{Dest: d, token: []byte("Splunk " + token)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/collector", h.collect)
	mux.HandleFunc("POST /services/collector/event", h.collect)
	mux.HandleFunc("POST /services/collector/event/1.0", h.collect)
	mux.HandleFunc("GET /services/collector/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"HEC is healthy","code":17}`))
	})
	s, err := startServer(mux)
	if err != nil {
		return nil, err
	}
	h.s = s
	return h, nil
}

// URL is the receiver's base URL (the sink's url).
func (h *HECReceiver) URL() string { return h.s.URL() }

// Close stops the receiver.
func (h *HECReceiver) Close() { h.s.Close() }

func hecAnswer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (h *HECReceiver) collect(w http.ResponseWriter, r *http.Request) {
	h.Dest.requests.Add(1)
	if auth := r.Header.Get("Authorization"); auth == "" {
		hecAnswer(w, http.StatusUnauthorized, `{"text":"Token is required","code":2}`)
		return
	} else if !bytes.Equal([]byte(auth), h.token) {
		hecAnswer(w, http.StatusForbidden, `{"text":"Invalid token","code":4}`)
		return
	}
	wk := workPool.Get().(*work)
	defer workPool.Put(wk)
	if err := wk.readBody(r); err != nil {
		hecAnswer(w, http.StatusBadRequest, `{"text":"Invalid data format","code":6}`)
		return
	}
	now := time.Now().UnixNano()
	rest := wk.body.Bytes()
	n := 0
	for {
		obj, tail, ok := nextObject(rest)
		if !ok {
			if len(bytes.TrimSpace(tail)) > 0 {
				h.Dest.invalid.Add(1) // a torn or non-object tail
			}
			break
		}
		rest = tail
		n++
		v, err := wk.p.ParseBytes(obj)
		if err != nil {
			h.Dest.invalid.Add(1)
			continue
		}
		h.Dest.event(v.Get("event"), len(obj), now)
	}
	if n == 0 {
		hecAnswer(w, http.StatusBadRequest, `{"text":"No data","code":5}`)
		return
	}
	hecAnswer(w, http.StatusOK, `{"text":"Success","code":0}`)
}
