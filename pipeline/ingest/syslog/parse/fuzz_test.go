package parse

import (
	"bytes"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

func addCorpusSeeds(f *testing.F) {
	for _, line := range allCorpus(f) {
		f.Add(line)
	}
	for _, s := range allocSamples {
		f.Add([]byte(s.msg))
	}
}

// FuzzAppendJSON: any bytes never panic and always give one valid,
// non-empty JSON object that represents every word of MSG.
func FuzzAppendJSON(f *testing.F) {
	addCorpusSeeds(f)
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, msg []byte) {
		var res Result
		dst, res = p.AppendJSON(dst[:0], msg)
		checkOutput(t, p, msg, dst, res)
		if a, b := appendStr(nil, msg), normalize.AppendString(nil, msg); !bytes.Equal(a, b) {
			t.Errorf("appendStr %s, normalize.AppendString %s", a, b)
		}
	})
}

// splitPairs turns fuzz bytes into key/value pairs: pieces separated by
// NUL, alternately a key (reduced to [A-Za-z0-9_], prefixed so it is never
// a reserved name) and a value.
func splitPairs(b []byte) (keys, vals [][]byte) {
	parts := bytes.Split(b, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		k := []byte{'k'}
		for _, c := range parts[i] {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
				k = append(k, c)
			}
		}
		keys = append(keys, k)
		vals = append(vals, parts[i+1])
	}
	return keys, vals
}

// checkPairs verifies that obj holds exactly the first occurrence of each
// key with its value (after want, a function of the value).
func checkPairs(t *testing.T, out []byte, obj *fastjson.Object, keys, vals [][]byte, want func([]byte) string) {
	t.Helper()
	first := map[string]string{}
	var order []string
	for i, k := range keys {
		if _, dup := first[string(k)]; !dup {
			first[string(k)] = want(vals[i])
			order = append(order, string(k))
		}
	}
	n := 0
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if n < len(order) && string(k) != order[n] {
			t.Errorf("key %d is %q, want %q\n%s", n, k, order[n], out)
		}
		n++
		if got := string(v.GetStringBytes()); got != first[string(k)] {
			t.Errorf("%s = %q, want %q\n%s", k, got, first[string(k)], out)
		}
	})
	if n != len(order) {
		t.Errorf("%d pairs, want %d\n%s", n, len(order), out)
	}
}

// FuzzCEF: CEF extensions encoded by the specification's rules (\\ \= \n \r
// escaped, pairs joined by a space) parse back to the same pairs, the first
// of duplicate keys winning; arbitrary bytes after a CEF header and after
// "CEF:" are handled like any message.
func FuzzCEF(f *testing.F) {
	f.Add([]byte("src\x0010.0.0.1\x00act\x00blocked a = b\x00msg\x00line1\nline2\\ \x00src\x00dup"))
	f.Add([]byte("a\x00\x00b\x00  spaced  \x00c\x00x|y\r"))
	f.Add([]byte(`src=10.0.0.1 act=blocked a \= dst=1.1.1.1`))
	f.Add([]byte(`a=b\\ c=d\ne`))
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, msg := range [][]byte{
			append([]byte("CEF:0|Vendor|Product|1.0|100|name|5|"), b...),
			append([]byte("<134>Nov 28 10:00:00 host CEF:"), b...),
		} {
			var res Result
			dst, res = p.AppendJSON(dst[:0], msg)
			checkOutput(t, p, msg, dst, res)
		}

		keys, vals := splitPairs(b)
		if len(keys) == 0 {
			return
		}
		var ext []byte
		for i, k := range keys {
			if i > 0 {
				ext = append(ext, ' ')
			}
			ext = append(ext, k...)
			ext = append(ext, '=')
			for _, c := range vals[i] {
				switch c {
				case '\\', '=':
					ext = append(ext, '\\', c)
				case '\n':
					ext = append(ext, '\\', 'n')
				case '\r':
					ext = append(ext, '\\', 'r')
				default:
					ext = append(ext, c)
				}
			}
		}
		msg := append([]byte("CEF:0|V|P|1|2|N|3|"), ext...)
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		if res.Format != FormatCEF {
			t.Fatalf("not CEF: %s", out)
		}
		v, _ := fastjson.ParseBytes(out)
		obj, err := v.Get("cef", "extensions").Object()
		if err != nil {
			t.Fatalf("no extensions: %s", out)
		}
		checkPairs(t, out, obj, keys, vals, func(v []byte) string {
			return sanitize(bytes.TrimRight(v, " ")) // a value's trailing spaces separate it from the next key
		})
	})
}

// FuzzKV: pairs written as key="value" (\" and \\ escaped) parse back to
// the same pairs, the first of duplicate keys winning; arbitrary bytes are
// handled like any message, with and without a syslog header.
func FuzzKV(f *testing.F) {
	f.Add([]byte("date\x002026-11-28\x00time\x0010:00:00\x00devid\x00FGT1\x00tz\x00-0800"))
	f.Add([]byte("a\x00x \"quoted\" \\ y\x00b\x00\x00c\x00'single'\x00a\x00dup"))
	f.Add([]byte(`a=1 b="two words" c='three' d=`))
	f.Add([]byte(`type=USER_LOGIN msg=audit(1.2:3): pid=1 msg='op=login acct="root" res=failed'`))
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, msg := range [][]byte{b, append([]byte("<189>Nov 28 10:00:00 fw01 "), b...)} {
			var res Result
			dst, res = p.AppendJSON(dst[:0], msg)
			checkOutput(t, p, msg, dst, res)
		}

		keys, vals := splitPairs(b)
		if len(keys) < 3 {
			return
		}
		var msg []byte
		for i, k := range keys {
			if i > 0 {
				msg = append(msg, ' ')
			}
			msg = append(msg, k...)
			msg = append(msg, '=', '"')
			for _, c := range vals[i] {
				if c == '"' || c == '\\' {
					msg = append(msg, '\\')
				}
				msg = append(msg, c)
			}
			msg = append(msg, '"')
		}
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		if res.Format != FormatKV {
			t.Fatalf("not KV: %s", out)
		}
		v, _ := fastjson.ParseBytes(out)
		o, _ := v.Object()
		kv := new(fastjson.Arena).NewObject()
		o.Visit(func(k []byte, v *fastjson.Value) {
			switch string(k) {
			case "timestamp", "event", "logrouter", "message":
			default:
				kv.Set(string(k), v)
			}
		})
		obj, _ := kv.Object()
		checkPairs(t, out, obj, keys, vals, func(v []byte) string { return sanitize(v) })
	})
}

// FuzzCheckPoint: pairs written in Log Exporter's syslog format
// ([key:"value"; ...], \" and \\ escaped) after an RFC 5424 header parse
// back to the same pairs, the first of duplicate keys winning; arbitrary
// bytes in the brackets are handled like any message.
func FuzzCheckPoint(f *testing.F) {
	f.Add([]byte("action\x00Drop\x00src\x00192.0.2.1\x00dst\x00192.0.2.2\x00service\x00445"))
	f.Add([]byte("a\x00x \"quoted\"; \\ y]\x00b\x00\x00c\x00[x:\"y\"]\x00a\x00dup"))
	f.Add([]byte(`action:"Drop"; src:"1; dst:"2"`))
	const head = "<134>1 2026-11-28T10:00:00Z gw CheckPoint 1 - "
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, msg := range [][]byte{append([]byte(head+"["), append(b, ']')...), append([]byte("["), append(b, ']')...)} {
			var res Result
			dst, res = p.AppendJSON(dst[:0], msg)
			checkOutput(t, p, msg, dst, res)
		}

		keys, vals := splitPairs(b)
		if len(keys) < 3 {
			return
		}
		msg := []byte(head + "[")
		for i, k := range keys {
			if i > 0 {
				msg = append(msg, ';', ' ')
			}
			msg = append(msg, k...)
			msg = append(msg, ':', '"')
			for _, c := range vals[i] {
				if c == '"' || c == '\\' {
					msg = append(msg, '\\')
				}
				msg = append(msg, c)
			}
			msg = append(msg, '"')
		}
		msg = append(msg, ']')
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		if res.Format != FormatCheckPoint {
			t.Fatalf("not checkpoint: %s", out)
		}
		v, _ := fastjson.ParseBytes(out)
		o, _ := v.Object()
		kv := new(fastjson.Arena).NewObject()
		o.Visit(func(k []byte, v *fastjson.Value) {
			switch string(k) {
			case "timestamp", "log", "host", "process", "event", "logrouter", "message":
			default:
				kv.Set(string(k), v)
			}
		})
		obj, _ := kv.Object()
		checkPairs(t, out, obj, keys, vals, func(v []byte) string { return sanitize(v) })
	})
}
