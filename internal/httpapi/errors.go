package httpapi

import (
	"net/http"
	"strconv"

	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/httpx"
)

// MapError turns a classified domain failure into its problem. This is the
// only place fault kinds meet HTTP status codes.
func MapError(err error) *httpx.Problem {
	f, ok := fault.As(err)
	if !ok {
		return nil
	}
	var p *httpx.Problem
	switch f.Kind {
	case fault.Invalid:
		p = httpx.Unprocessable(f.Msg)
	case fault.NotFound:
		p = httpx.NotFound("没有找到 / not found")
	case fault.Forbidden:
		p = httpx.Forbidden(f.Msg)
	case fault.Conflict:
		p = httpx.Conflict(f.Msg)
	case fault.Unauthenticated:
		p = httpx.Unauthorized(f.Msg)
	case fault.RateLimited:
		p = httpx.NewProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests", f.Msg)
		secs := int(f.RetryAfter.Seconds() + 0.999)
		p.Headers = map[string]string{"Retry-After": strconv.Itoa(max(secs, 1))}
	case fault.PreconditionFailed:
		p = httpx.NewProblem(http.StatusPreconditionFailed, "stale-version", "Precondition failed", f.Msg)
	case fault.PreconditionRequired:
		p = httpx.NewProblem(http.StatusPreconditionRequired, "version-required", "Precondition required", f.Msg)
	default:
		return nil
	}
	for _, fe := range f.Fields {
		p.Errors = append(p.Errors, httpx.FieldError{Field: "/" + fe.Name, In: "body", Message: fe.Message})
	}
	if len(f.Extra) > 0 {
		p.Extra = f.Extra
	}
	return p
}
