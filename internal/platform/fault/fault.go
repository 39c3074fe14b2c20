// Package fault classifies domain errors by what the caller can do about
// them (fix the input, look elsewhere, retry later...). Domain packages
// return *Error values; httpapi turns each Kind into an HTTP status in one
// place, so no domain code knows about HTTP.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the class of a failure.
type Kind int

// The kinds of failure.
const (
	Invalid              Kind = iota + 1 // input is malformed or breaks a rule; Fields say which
	NotFound                             // does not exist, or the actor may not know it exists
	Forbidden                            // exists and is visible, but the actor may not do this
	Conflict                             // the current state does not allow it
	Unauthenticated                      // no valid identity
	RateLimited                          // too many attempts; RetryAfter says when to come back
	PreconditionFailed                   // a stale version (If-Match) was supplied
	PreconditionRequired                 // a version (If-Match) is needed and missing
)

// Field names one offending input field.
type Field struct {
	Name    string // JSON field name, e.g. "uscc"
	Message string
}

// Error is a classified failure with a message fit to show the user.
type Error struct {
	Kind       Kind
	Msg        string
	Fields     []Field
	RetryAfter time.Duration
	// Extra carries machine-readable members (e.g. allowed_actions).
	Extra map[string]any
}

func (e *Error) Error() string { return e.Msg }

// New returns an error of kind with a formatted message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// InvalidField is an Invalid error about one field.
func InvalidField(field, message string) *Error {
	return &Error{Kind: Invalid, Msg: message, Fields: []Field{{Name: field, Message: message}}}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is a fault of kind.
func Is(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}
