package normalize

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// OpenSearch (and Elasticsearch) refuse a document, with a
// mapper_parsing_exception that no retry mends, when one of its field names
// is empty or blank, starts or ends with '.', holds an empty or blank
// segment between dots ("a..b"), or, at the top level, is one of the
// metadata fields the index keeps for itself (_id, _source ...). Such names
// come from real sources: a MongoDB change stream's _id, a CSV header's empty
// column, a key-value parser meeting "a.=1". The normalizer writes them under
// names every destination accepts, so that the event reaches OpenSearch
// rather than the quarantine, and its value is kept:
//
//   - an empty or blank segment becomes "_": "" -> "_", "a..b" -> "a._.b",
//     ".a" -> "_.a", "a." -> "a._";
//   - a top-level metadata name gains a leading underscore: "_id" -> "__id".
//
// Blank is Java's Character.isWhitespace (OpenSearch's String.isBlank):
// ASCII whitespace, 0x1c-0x1f, and Unicode separators but the non-breaking.

// metadataNames are OpenSearch 2.x's metadata fields, with _type (still one
// in Elasticsearch 7, which the opensearch destination can write to).
var metadataNames = [...]string{"_id", "_index", "_source", "_routing", "_field_names", "_ignored", "_seq_no",
	"_version", "_primary_term", "_doc_count", "_data_stream_timestamp", "_nested_path", "_type"}

// blankByte reports whether c is whitespace to Java's Character.isWhitespace
// (ASCII only): \t \n \v \f \r, 0x1c-0x1f and space.
func blankByte(c byte) bool { return (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= ' ') }

// searchableKey returns key as written: key itself in the common case
// (without allocating), or the replacement described above (a new slice).
// top is whether the key is a member of the document's root object.
func searchableKey(key []byte, top bool) []byte {
	return searchableKeyDot(key, top, bytes.IndexByte(key, '.') >= 0)
}

// searchableKeyDot is searchableKey for a key known to hold a '.' or not.
func searchableKeyDot(key []byte, top, dot bool) []byte {
	if !dot && len(key) > 0 && !blankByte(key[0]) && key[0] < utf8.RuneSelf && (!top || key[0] != '_') {
		return key // the common case: no dot, nothing blank at either end, no leading '_' at the root
	}
	if top && len(key) > 1 && key[0] == '_' {
		for _, m := range metadataNames {
			if string(key) == m {
				return append([]byte{'_'}, key...)
			}
		}
	}
	if !badSegments(key) {
		return key
	}
	out := make([]byte, 0, len(key)+4)
	for i := 0; ; {
		j := bytes.IndexByte(key[i:], '.')
		seg := key[i:]
		if j >= 0 {
			seg = key[i : i+j]
		}
		if blank(seg) {
			out = append(out, '_')
		} else {
			out = append(out, seg...)
		}
		if j < 0 {
			return out
		}
		out = append(out, '.')
		i += j + 1
	}
}

// badSegments reports whether a segment of key between dots (the whole key
// when it has none) is empty or blank.
func badSegments(key []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(key[i:], '.')
		if j < 0 {
			return blank(key[i:])
		}
		if blank(key[i : i+j]) {
			return true
		}
		i += j + 1
	}
}

// blank reports whether s is empty or only blank: Java's
// Character.isWhitespace, which OpenSearch's String.isBlank applies (ASCII
// blanks, and Unicode space, line and paragraph separators other than the
// non-breaking ones: U+3000 is blank, U+00A0 is not).
func blank(s []byte) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !blankByte(c) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if !javaSpace(r) {
			return false
		}
		i += n
	}
	return true
}

// javaSpace is Character.isWhitespace for a non-ASCII rune.
func javaSpace(r rune) bool {
	switch r {
	case 0xA0, 0x2007, 0x202F:
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}
