package normalize

import "github.com/valyala/fastjson"

// DocumentHash returns the content hash of doc, an event this normalizer
// (with this configuration) wrote earlier: the Hash Append gave it, so that
// an event replayed as it is to a destination keeps its OpenSearch _id and
// dedup key. Ingest metadata is left out as it was: the root "logrouter"
// member and event.ingested (one the input carried itself was hashed then,
// and makes the two differ).
func (n *Normalizer) DocumentHash(doc *fastjson.Object) uint64 {
	var sum uint64
	doc.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "logrouter":
			return
		case "event":
			if o, err := v.Object(); err == nil && o.Len() > 0 {
				eph := n.keyHash(0, key)
				o.Visit(func(k []byte, v *fastjson.Value) {
					if string(k) != "ingested" {
						sum += n.memberHash(eph, k, v)
					}
				})
				return
			}
		}
		sum += n.memberHash(0, key, v)
	})
	return sum
}

// memberHash is the hash writeObject gives member key: v under path hash ph.
func (n *Normalizer) memberHash(ph uint64, key []byte, v *fastjson.Value) uint64 {
	if composite(v) {
		var h uint64
		n.hashBuf, _, h = n.writeValue(n.hashBuf[:0], v, n.keyHash(ph, key))
		return h
	}
	n.hashBuf = AppendString(n.hashBuf[:0], key)
	n.hashBuf = append(n.hashBuf, ':')
	n.hashBuf, _, _ = n.writeValue(n.hashBuf, v, 0)
	return n.leafHash(ph, n.hashBuf)
}
