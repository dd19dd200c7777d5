package harness

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
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

	// ids holds the (index, _id) keys of the documents stored by create:
	// OpenSearch answers 409 to a create of an _id the index holds, and
	// only then.
	idMu sync.Mutex
	ids  map[uint64]struct{}
}

// stored records the _id of a create in index and reports whether the
// index already held it (a 409). _ids are 16 hex digits (the router's event
// hash); any other is hashed. The key mixes in the index's hash: _ids are
// per index.
func (o *OSReceiver) stored(index, id []byte) bool {
	var k uint64
	if v, err := strconv.ParseUint(string(id), 16, 64); err == nil && len(id) == 16 {
		k = v
	} else {
		k = xxhash.Sum64(id)
	}
	k ^= xxhash.Sum64(index) * 0x9E3779B97F4A7C15
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
	if now := time.Now().UnixNano(); now >= o.downFrom.Load() && now < o.downTill.Load() {
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
	// Arrival is when the body is in, as the HEC receiver takes it: both
	// latency columns include the transfer.
	now := time.Now().UnixNano()
	// Items first, then the header, which says whether any failed.
	items := &wk.out
	items.Reset()
	body := wk.body.Bytes()
	// OpenSearch parses the whole request before it indexes anything: a
	// malformed or unsupported action line refuses it all (400), so read
	// every action line (once) before recording a document.
	acts := wk.acts[:0]
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest = cutLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		a, err := readAction(&wk.ap, line)
		if err != nil {
			http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"`+err.Error()+`"},"status":400}`, http.StatusBadRequest)
			return
		}
		var src []byte
		src, rest = cutLine(rest) // its document
		a.src = src
		acts = append(acts, a)
	}
	wk.acts = acts[:0]
	// The answer is cut to ?filter_path= as OpenSearch cuts it (the
	// router asks for each item's _index, _id, status and error).
	f := osfake.ParseFilterPath(r.URL.Query().Get("filter_path"))
	keeps := [2]itemKeep{keepOf(f, "index"), keepOf(f, "create")}
	n, conflicts, invalid := 0, 0, 0
	for i := range acts {
		a := &acts[i]
		k := &keeps[0]
		if a.create {
			k = &keeps[1]
		}
		if t := bytes.TrimSpace(a.src); len(t) == 0 || t[0] != '{' || fastjson.ValidateBytes(t) != nil {
			// OpenSearch refuses a document that is not a JSON object,
			// item by item: the router must quarantine it, never count
			// it sent.
			o.Dest.invalid.Add(1)
			n = k.write(items, n, a.index, nil, 400, `{"type":"mapper_parsing_exception","reason":"failed to parse"}`)
			invalid++
			continue
		}
		// A create of an _id the index holds gets OpenSearch's 409 and
		// stores nothing, whatever the document: a router that gave two
		// events one _id loses the second there (it counts 409 as
		// delivered), and so it shows as lost here. A copy of an event
		// under another _id (another content: a cross-protocol repeat) is
		// stored, a duplicate in the index.
		if a.create && o.stored(a.index, a.id) {
			o.Dest.conflicts.Add(1)
			conflicts++
			n = k.write(items, n, a.index, a.id, 409, `{"type":"version_conflict_engine_exception","reason":"version conflict, document already exists"}`)
			continue
		}
		o.Dest.eventFast(&wk.p, a.src, now)
		n = k.write(items, n, a.index, a.id, 201, "")
	}
	w.Header().Set("Content-Type", "application/json")
	errs := "false"
	if conflicts > 0 || invalid > 0 {
		errs = "true"
	}
	head := []byte{'{'}
	if f.Keeps("took") {
		head = append(head, `"took":1,`...)
	}
	if f.Keeps("errors") {
		head = append(head, `"errors":`+errs+`,`...)
	}
	if n == 0 {
		_, _ = w.Write(append(bytes.TrimSuffix(head, []byte(",")), '}'))
		return
	}
	_, _ = w.Write(append(head, `"items":[`...))
	_, _ = w.Write(items.Bytes())
	_, _ = w.Write([]byte(`]}`))
}

// itemKeep says which fields of an item's answer filter_path keeps, for one
// operation.
type itemKeep struct {
	op                                                         string
	index, id, version, result, shards, seq, term, status, err bool
}

func keepOf(f *osfake.FilterPath, op string) itemKeep {
	k := func(field string) bool { return f.Keeps("items", op, field) }
	return itemKeep{op: op, index: k("_index"), id: k("_id"), version: k("_version"), result: k("result"),
		shards: k("_shards"), seq: k("_seq_no"), term: k("_primary_term"), status: k("status"), err: k("error")}
}

// write appends one item's answer (an OpenSearch 2.x answer: a created
// item's has every field; a refused one's _index, _id, status and error)
// after n items, and returns the items written; an item the filter
// empties is left out, as OpenSearch leaves it out.
func (k *itemKeep) write(items *bytes.Buffer, n int, index, id []byte, status int, errJSON string) int {
	mark := items.Len()
	if n > 0 {
		items.WriteByte(',')
	}
	items.WriteString(`{"`)
	items.WriteString(k.op)
	items.WriteString(`":{`)
	body := items.Len()
	field := func(name string) {
		if items.Len() > body {
			items.WriteByte(',')
		}
		items.WriteByte('"')
		items.WriteString(name)
		items.WriteString(`":`)
	}
	if k.index {
		field("_index")
		writeQuoted(items, index)
	}
	if k.id && id != nil {
		field("_id")
		writeQuoted(items, id)
	}
	if status == 201 {
		if k.version {
			field("_version")
			items.WriteByte('1')
		}
		if k.result {
			field("result")
			items.WriteString(`"created"`)
		}
		if k.shards {
			field("_shards")
			items.WriteString(`{"total":2,"successful":1,"failed":0}`)
		}
		if k.seq {
			field("_seq_no")
			items.WriteString(strconv.Itoa(n))
		}
		if k.term {
			field("_primary_term")
			items.WriteByte('1')
		}
	}
	if k.status {
		field("status")
		items.WriteString(strconv.Itoa(status))
	}
	if k.err && errJSON != "" {
		field("error")
		items.WriteString(errJSON)
	}
	if items.Len() == body {
		items.Truncate(mark)
		return n
	}
	items.WriteString("}}")
	return n + 1
}

// bulkAction is one action line of a bulk body and its document.
type bulkAction struct {
	create         bool   // create, else index
	index, id, src []byte // into the body (or copies, for lines parsed in full)
}

// readAction reads one action line. The router's own shape,
// {"create":{"_index":"NAME","_id":"ID"}} (or "index") with plain names,
// is read by a byte scan that accepts nothing else; any other line is
// parsed in full, as the cluster would. Parsing every action line cost the
// harness ~0.1 core of the two the router runs on.
func readAction(p *fastjson.Parser, line []byte) (bulkAction, error) {
	if a, ok := scanAction(line); ok {
		return a, nil
	}
	act, err := p.ParseBytes(line)
	if err != nil {
		return bulkAction{}, errors.New("malformed action/metadata line")
	}
	a := bulkAction{create: true}
	meta := act.Get("create")
	if meta == nil {
		a.create = false
		if meta = act.Get("index"); meta == nil {
			return bulkAction{}, errors.New("lrbench takes create and index actions only")
		}
	}
	// The parser's strings live until its next parse: keep copies.
	a.index = bytes.Clone(meta.GetStringBytes("_index"))
	a.id = bytes.Clone(meta.GetStringBytes("_id"))
	return a, nil
}

var (
	actCreate = []byte(`{"create":{"_index":"`)
	actIndex  = []byte(`{"index":{"_index":"`)
	actID     = []byte(`","_id":"`)
	actEnd    = []byte(`"}}`)
)

// scanAction reads a line of exactly the router's action shape whose name
// and id need no unescaping; ok is false for anything else.
func scanAction(line []byte) (a bulkAction, ok bool) {
	switch {
	case bytes.HasPrefix(line, actCreate):
		a.create, line = true, line[len(actCreate):]
	case bytes.HasPrefix(line, actIndex):
		line = line[len(actIndex):]
	default:
		return a, false
	}
	if a.index, line, ok = plainUntil(line, actID); !ok {
		return a, false
	}
	if a.id, line, ok = plainUntil(line, actEnd); !ok || len(line) != 0 {
		return a, false
	}
	return a, true
}

// plainUntil returns the bytes of b before end, which must hold no quote,
// backslash or control byte, and what follows end.
func plainUntil(b, end []byte) (val, rest []byte, ok bool) {
	for i, c := range b {
		if c == '"' {
			if !bytes.HasPrefix(b[i:], end) {
				return nil, nil, false
			}
			return b[:i], b[i+len(end):], true
		}
		if c == '\\' || c < 0x20 {
			return nil, nil, false
		}
	}
	return nil, nil, false
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
