package sink

import (
	"errors"
	"fmt"
	"time"
)

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or anything it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// ThrottledError asks for a retry after a delay the destination named.
type ThrottledError struct {
	Err   error
	After time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled (retry after %s): %v", e.After, e.Err)
}
func (e *ThrottledError) Unwrap() error { return e.Err }

// Throttled wraps err with a retry delay.
func Throttled(err error, after time.Duration) error { return &ThrottledError{Err: err, After: after} }

// ItemError is one record a destination refused for good.
type ItemError struct {
	Index  int    // index into Batch.Items
	Reason string // short, stable reason label ("too_old", "too_large", ...)
	Detail string // human-readable detail
}

// PartialError reports records refused for good while the rest of the
// batch was accepted.
type PartialError struct {
	Items []ItemError
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d records refused", len(e.Items))
}
