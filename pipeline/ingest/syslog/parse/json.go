package parse

import (
	"bytes"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a JSON payload (fastjson, downstream,
// accepts 300).
const maxJSONDepth = 128

// detectJSON accepts b when it is exactly one JSON object (then only
// whitespace). Its members are merged at the top level of the output; a
// payload with a "logrouter" member is left as text (that name is reserved).
func (p *Parser) detectJSON(b []byte) bool {
	end, keys, ok := p.scanJSON(b)
	if !ok || keys&keyLogrouter != 0 {
		return false
	}
	for _, c := range b[end:] {
		if !isJSONSpace(c) {
			return false
		}
	}
	pl := &p.pl
	pl.format, pl.jsonKeys, pl.obj = fmtJSON, keys, b[1:end-1]
	return true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

const (
	jsValue = iota // a value is expected
	jsKey          // a member name is expected
	jsAfter        // a value ended
)

// scanJSON validates the JSON value at b[0:] (strict RFC 8259 grammar; bytes
// >= 0x80 inside strings are not checked here, see appendValidUTF8) and
// returns the index after it and the reserved top-level member names found.
func (p *Parser) scanJSON(b []byte) (end int, keys uint8, ok bool) {
	p.stack = p.stack[:0]
	i, state := 0, jsValue
	for {
		switch state {
		case jsValue:
			i = skipJSONSpace(b, i)
			if i >= len(b) {
				return 0, 0, false
			}
			switch c := b[i]; c {
			case '{', '[':
				if len(p.stack) >= maxJSONDepth {
					return 0, 0, false
				}
				i = skipJSONSpace(b, i+1)
				if i < len(b) && b[i] == c+2 { // '}' or ']'
					i++
					state = jsAfter
					continue
				}
				p.stack = append(p.stack, c)
				if c == '{' {
					state = jsKey
				}
			case '"':
				if i, ok = scanJSONString(b, i); !ok {
					return 0, 0, false
				}
				state = jsAfter
			case 't':
				if !hasPrefix(b[i:], "true") {
					return 0, 0, false
				}
				i += 4
				state = jsAfter
			case 'f':
				if !hasPrefix(b[i:], "false") {
					return 0, 0, false
				}
				i += 5
				state = jsAfter
			case 'n':
				if !hasPrefix(b[i:], "null") {
					return 0, 0, false
				}
				i += 4
				state = jsAfter
			default:
				if i, ok = scanJSONNumber(b, i); !ok {
					return 0, 0, false
				}
				state = jsAfter
			}
		case jsKey:
			if i >= len(b) || b[i] != '"' {
				return 0, 0, false
			}
			ks := i + 1
			if i, ok = scanJSONString(b, i); !ok {
				return 0, 0, false
			}
			if len(p.stack) == 1 {
				keys |= reservedJSONKey(b[ks : i-1])
			}
			i = skipJSONSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, 0, false
			}
			i++
			state = jsValue
		case jsAfter:
			if len(p.stack) == 0 {
				return i, keys, true
			}
			i = skipJSONSpace(b, i)
			if i >= len(b) {
				return 0, 0, false
			}
			top := p.stack[len(p.stack)-1]
			switch b[i] {
			case ',':
				i = skipJSONSpace(b, i+1)
				if top == '{' {
					state = jsKey
				} else {
					state = jsValue
				}
			case top + 2: // '}' for '{', ']' for '['
				p.stack = p.stack[:len(p.stack)-1]
				i++
			default:
				return 0, 0, false
			}
		}
	}
}

// jsonPlain[c] is true for bytes that need no attention inside a string.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = false, false
	return t
}()

// scanJSONString validates the string at b[i] == '"' and returns the index
// after its closing quote.
func scanJSONString(b []byte, i int) (int, bool) {
	i++
	for {
		for i < len(b) && jsonPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, false
				}
				i += 6
			default:
				return 0, false
			}
		default: // control character
			return 0, false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanJSONNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// at b[i:] and returns the index after it.
func scanJSONNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return 0, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	return i, true
}

// appendValidUTF8 appends validated JSON text, replacing invalid UTF-8 (only
// possible inside strings) by \ufffd.
func appendValidUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// reservedJSONKey is reservedKey for the raw member name k (between the
// quotes), decoded when it holds escapes ("log\u0072outer" is "logrouter").
func reservedJSONKey(k []byte) uint8 {
	if bytes.IndexByte(k, '\\') < 0 {
		return reservedKey(k)
	}
	var buf [16]byte // non-ASCII names are not reserved; 16 bytes decide the rest
	n := 0
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c == '\\' {
			i++
			switch k[i] { // scanJSONString validated the escape
			case 'u':
				v := 0
				for _, h := range k[i+1 : i+5] {
					v <<= 4
					switch {
					case h >= '0' && h <= '9':
						v |= int(h - '0')
					case h >= 'a' && h <= 'f':
						v |= int(h - 'a' + 10)
					default:
						v |= int(h - 'A' + 10)
					}
				}
				if v >= 0x80 {
					// Reserved names are ASCII, but "logrouter.<anything>"
					// is reserved whatever follows the prefix.
					if n >= len("logrouter.") && string(buf[:len("logrouter.")]) == "logrouter." {
						return keyLogrouter
					}
					return 0
				}
				c = byte(v)
				i += 4
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			default:
				c = k[i]
			}
		}
		if n == len(buf) {
			// Longer than any reserved name but "logrouter.<anything>",
			// which reservedKey reserves whatever its length.
			return reservedKey(buf[:n])
		}
		buf[n] = c
		n++
	}
	return reservedKey(buf[:n])
}
