package pipeline

import (
	"errors"
	"fmt"
)

// ErrPermanent marks an error no retry can fix (a malformed event, a rejected
// mapping, a 4xx other than 429). Events that fail with it go to quarantine
// instead of into an endless retry. Test with errors.Is.
var ErrPermanent = errors.New("permanent failure")

// ErrOverloaded means a destination cannot take more data right now; sources
// translate it into backpressure (HTTP 429/503 with Retry-After, TCP stops
// reading) and never into a drop.
var ErrOverloaded = errors.New("overloaded")

// ErrClosed is returned by components used after Close.
var ErrClosed = errors.New("closed")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// Permanentf is fmt.Errorf wrapped with Permanent.
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err is marked permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }
