package jsonscan

import (
	"errors"
	"fmt"
)

// ErrFraming: the objects and arrays of a document are malformed.
var ErrFraming = errors.New("malformed JSON")

// Members calls fn with each member of the JSON object d: its key as
// written (between its quotes, escapes included) and its value's bytes,
// found by scanning (the values fn parses are validated then). null is an
// object without members. The first error fn returns stops the scan and is
// returned; a malformed object gives an error wrapping ErrFraming.
func Members(d []byte, fn func(k, v []byte) error) error {
	i := SkipWS(d, 0)
	if string(d[i:]) == "null" {
		return nil
	}
	if i >= len(d) || d[i] != '{' {
		return fmt.Errorf("%w: expected an object", ErrFraming)
	}
	i = SkipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		i++
	} else {
		for {
			if i >= len(d) || d[i] != '"' {
				return fmt.Errorf("%w: expected a member's key at byte %d", ErrFraming, i)
			}
			e := StringEnd(d, i)
			if e < 0 {
				return fmt.Errorf("%w: unterminated key", ErrFraming)
			}
			k := d[i+1 : e-1]
			i = SkipWS(d, e)
			if i >= len(d) || d[i] != ':' {
				return fmt.Errorf("%w: expected ':' after key %q", ErrFraming, k)
			}
			i = SkipWS(d, i+1)
			ve := ValueEnd(d, i)
			if ve < 0 {
				return fmt.Errorf("%w: the value of %q", ErrFraming, k)
			}
			if err := fn(k, d[i:ve]); err != nil {
				return err
			}
			i = SkipWS(d, ve)
			if i < len(d) && d[i] == ',' {
				i = SkipWS(d, i+1)
				continue
			}
			if i < len(d) && d[i] == '}' {
				i++
				break
			}
			return fmt.Errorf("%w: expected ',' or '}' after the value of %q", ErrFraming, k)
		}
	}
	if SkipWS(d, i) != len(d) {
		return fmt.Errorf("%w: data after the object", ErrFraming)
	}
	return nil
}

// Elements calls fn with each element of the JSON array d (null: none),
// as Members does with an object's members.
func Elements(d []byte, fn func(el []byte) error) error {
	i := SkipWS(d, 0)
	if string(d[i:]) == "null" {
		return nil
	}
	if i >= len(d) || d[i] != '[' {
		return fmt.Errorf("%w: expected an array", ErrFraming)
	}
	i = SkipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		i++
	} else {
		for n := 1; ; n++ {
			ve := ValueEnd(d, i)
			if ve < 0 {
				return fmt.Errorf("%w: array element %d", ErrFraming, n)
			}
			if err := fn(d[i:ve]); err != nil {
				return err
			}
			i = SkipWS(d, ve)
			if i < len(d) && d[i] == ',' {
				i = SkipWS(d, i+1)
				continue
			}
			if i < len(d) && d[i] == ']' {
				i++
				break
			}
			return fmt.Errorf("%w: expected ',' or ']' after array element %d", ErrFraming, n)
		}
	}
	if SkipWS(d, i) != len(d) {
		return fmt.Errorf("%w: data after the array", ErrFraming)
	}
	return nil
}

// Splice returns a copy of d with part, a subslice of it, replaced by
// with.
func Splice(d, part []byte, with string) []byte {
	at := cap(d) - cap(part)
	out := make([]byte, 0, len(d)-len(part)+len(with))
	out = append(out, d[:at]...)
	out = append(out, with...)
	return append(out, d[at+len(part):]...)
}

// Values returns about how many values d holds: its commas and opening
// brackets outside strings, plus one. What a parser allocates for d grows
// with it, not with d's length alone (an array of "0," costs fastjson tens
// of bytes a byte).
func Values(d []byte) int {
	n := 1
	for i := 0; i < len(d); i++ {
		switch d[i] {
		case '"':
			e := StringEnd(d, i)
			if e < 0 {
				return n
			}
			i = e - 1
		case ',', '[', '{':
			n++
		}
	}
	return n
}
