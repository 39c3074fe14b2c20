// Package httpx holds the HTTP plumbing shared by the API and the web pages:
// the Echo instance and its middleware, OpenAPI request validation, metrics,
// and the one error handler that renders every failure as RFC 9457
// application/problem+json.
package httpx

import (
	"fmt"
	"net/http"
)

// FieldError is one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	In      string `json:"in,omitempty"` // body, query, path, header
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem. It is also an error, so handlers return it
// and the error handler renders it.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID ties the answer to the server's log lines.
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// Extra members specific to a problem type (e.g. allowed_actions).
	Extra map[string]any `json:"-"`
	// Headers to set on the response (e.g. Retry-After).
	Headers map[string]string `json:"-"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problemBase prefixes every problem type. A relative URI reference keeps the
// types stable whatever host serves the API.
const problemBase = "/problems/"

// NewProblem builds a problem of a stable kind (a slug such as "not-found").
func NewProblem(status int, kind, title, detail string) *Problem {
	return &Problem{Type: problemBase + kind, Title: title, Status: status, Detail: detail}
}

// Common problems. The detail is shown to users, so write it in plain words.
func BadRequest(detail string, errs ...FieldError) *Problem {
	p := NewProblem(http.StatusBadRequest, "validation", "Invalid request", detail)
	p.Errors = errs
	return p
}

// Unprocessable is for well-formed input the domain refuses (a bad credit code).
func Unprocessable(detail string, errs ...FieldError) *Problem {
	p := NewProblem(http.StatusUnprocessableEntity, "unprocessable", "Request cannot be processed", detail)
	p.Errors = errs
	return p
}

// NotFound answers for missing resources and for resources the caller may
// not see (existence is not revealed).
func NotFound(detail string) *Problem {
	return NewProblem(http.StatusNotFound, "not-found", "Not found", detail)
}

// Forbidden is for a visible resource the caller may not change.
func Forbidden(detail string) *Problem {
	return NewProblem(http.StatusForbidden, "forbidden", "Forbidden", detail)
}

// Unauthorized asks the caller to log in.
func Unauthorized(detail string) *Problem {
	p := NewProblem(http.StatusUnauthorized, "unauthorized", "Authentication required", detail)
	p.Headers = map[string]string{"WWW-Authenticate": `Bearer realm="greenchannel"`}
	return p
}

// Conflict is for a state that does not allow the action.
func Conflict(detail string) *Problem {
	return NewProblem(http.StatusConflict, "conflict", "Conflict", detail)
}

// Unavailable reports a dependency that is down.
func Unavailable(detail string) *Problem {
	return NewProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", detail)
}

// Internal hides the cause; the cause is logged with the request id.
func Internal() *Problem {
	return NewProblem(http.StatusInternalServerError, "internal", "Internal error",
		"Something went wrong on our side. Quote the request_id if you contact support.")
}
