package harness

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fastjson"
)

// OSReceiver is an OpenSearch 2.x bulk endpoint that counts: GET / answers
// like a node, POST /_bulk and /{index}/_bulk take NDJSON action + source
// pairs (gzip or not), record each source in its Dest and answer every item
// 201, or 409 to a create of a document it already has (the same
// bench_seq: the same content, so the same _id), as OpenSearch does. Between SetDown's times it answers every bulk request 503, like a
// cluster that is down.
type OSReceiver struct {
	Dest               *Dest
	s                  *server
	downFrom, downTill atomic.Int64

	// ids holds the _ids of the documents stored by create: OpenSearch
	// answers 409 to a create of an _id it holds, and only then.
	idMu sync.Mutex
	ids  map[uint64]struct{}
}

// stored records the _id of a create and reports whether it was already
// stored (a 409). _ids are 16 hex digits (the router's event hash); any
// other is hashed.
func (o *OSReceiver) stored(id []byte) bool {
	var k uint64
	if v, err := strconv.ParseUint(string(id), 16, 64); err == nil && len(id) == 16 {
		k = v
	} else {
		k = xxhash.Sum64(id)
	}
	o.idMu.Lock()
	defer o.idMu.Unlock()
	if _, ok := o.ids[k]; ok {
		return true
	}
	o.ids[k] = struct{}{}
	return false
}

// NewOSReceiver starts a receiver on a free loopback port.
func NewOSReceiver(d *Dest) (*OSReceiver, error) {
	o := &OSReceiver{Dest: d, ids: map[uint64]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"lrbench","cluster_name":"lrbench","cluster_uuid":"lrbench","version":{"distribution":"opensearch","number":"2.19.1","build_type":"tar","minimum_wire_compatibility_version":"7.10.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`))
	})
	mux.HandleFunc("POST /_bulk", o.bulk)
	mux.HandleFunc("POST /{index}/_bulk", o.bulk)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"resource_not_found_exception","reason":"lrbench receiver: not implemented"},"status":404}`))
	})
	s, err := startServer(mux)
	if err != nil {
		return nil, err
	}
	o.s = s
	return o, nil
}

// URL is the receiver's base URL (the sink's urls entry).
func (o *OSReceiver) URL() string { return o.s.URL() }

// Close stops the receiver.
func (o *OSReceiver) Close() { o.s.Close() }

// SetDown makes bulk requests between from and till answer 503.
func (o *OSReceiver) SetDown(from, till time.Time) {
	o.downFrom.Store(from.UnixNano())
	o.downTill.Store(till.UnixNano())
}

func (o *OSReceiver) bulk(w http.ResponseWriter, r *http.Request) {
	o.Dest.requests.Add(1)
	now := time.Now().UnixNano()
	if now >= o.downFrom.Load() && now < o.downTill.Load() {
		o.Dest.refused.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"root_cause":[{"type":"cluster_block_exception","reason":"lrbench: down on purpose"}],"type":"cluster_block_exception","reason":"lrbench: down on purpose"},"status":503}`))
		return
	}
	wk := workPool.Get().(*work)
	defer workPool.Put(wk)
	if err := wk.readBody(r); err != nil {
		http.Error(w, `{"error":{"type":"parse_exception","reason":"bad body"},"status":400}`, http.StatusBadRequest)
		return
	}
	// Items first, then the header, which says whether any failed.
	items := &wk.out
	items.Reset()
	body := wk.body.Bytes()
	// OpenSearch parses the whole request before it indexes anything: a
	// malformed or unsupported action line refuses it all (400), so check
	// every action line before recording a document.
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest = cutLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		act, err := wk.ap.ParseBytes(line)
		if err != nil {
			http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"malformed action/metadata line"},"status":400}`, http.StatusBadRequest)
			return
		}
		if act.Get("create") == nil && act.Get("index") == nil {
			http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"lrbench takes create and index actions only"},"status":400}`, http.StatusBadRequest)
			return
		}
		_, rest = cutLine(rest) // its document
	}
	n, conflicts, invalid := 0, 0, 0
	for len(body) > 0 {
		var line []byte
		line, body = cutLine(body)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		act, _ := wk.ap.ParseBytes(line) // checked above
		op := "create"
		meta := act.Get(op)
		if meta == nil {
			op = "index"
			meta = act.Get(op)
		}
		var src []byte
		src, body = cutLine(body)
		if n > 0 {
			items.WriteByte(',')
		}
		if t := bytes.TrimSpace(src); len(t) == 0 || t[0] != '{' || fastjson.ValidateBytes(t) != nil {
			// OpenSearch refuses a document that is not a JSON object,
			// item by item: the router must quarantine it, never count
			// it sent.
			o.Dest.invalid.Add(1)
			n++
			items.WriteString(`{"`)
			items.WriteString(op)
			items.WriteString(`":{"_index":`)
			writeQuoted(items, meta.GetStringBytes("_index"))
			items.WriteString(`,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}`)
			invalid++
			continue
		}
		// A create of an _id already stored gets OpenSearch's 409; a copy
		// of an event under another _id (another content: a cross-protocol
		// repeat) is stored, a duplicate in the index.
		conflict := o.Dest.eventFast(&wk.p, src, now, op == "create" && o.stored(meta.GetStringBytes("_id")))
		n++
		items.WriteString(`{"`)
		items.WriteString(op)
		items.WriteString(`":{"_index":`)
		writeQuoted(items, meta.GetStringBytes("_index"))
		items.WriteString(`,"_id":`)
		writeQuoted(items, meta.GetStringBytes("_id"))
		if conflict {
			conflicts++
			items.WriteString(`,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"version conflict, document already exists"}}}`)
			continue
		}
		items.WriteString(`,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"status":201}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	if conflicts > 0 || invalid > 0 {
		_, _ = w.Write([]byte(`{"took":1,"errors":true,"items":[`))
	} else {
		_, _ = w.Write([]byte(`{"took":1,"errors":false,"items":[`))
	}
	_, _ = w.Write(items.Bytes())
	_, _ = w.Write([]byte(`]}`))
}

// cutLine returns b's first line (without its newline) and the rest.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// writeQuoted writes s as a JSON string; index names and ids need no
// escaping, anything else goes through strconv.
func writeQuoted(out *bytes.Buffer, s []byte) {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			out.Write(strconv.AppendQuote(out.AvailableBuffer(), string(s)))
			return
		}
	}
	out.WriteByte('"')
	out.Write(s)
	out.WriteByte('"')
}
