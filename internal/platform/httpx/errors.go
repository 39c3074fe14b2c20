package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// ErrorMapper turns a domain error into a problem, or returns nil when it
// does not know the error. httpapi supplies one; httpx knows no domain.
type ErrorMapper func(error) *Problem

// ErrorHandler is the one place an error becomes a response: a problem+json
// body with the request id. 5xx causes are logged once, never sent.
func ErrorHandler(log *slog.Logger, mapDomain ErrorMapper) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := toProblem(err, mapDomain)
		p.Instance = c.Request().URL.Path
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if p.Status >= 500 {
			log.Error("request failed", "request_id", p.RequestID, "method", c.Request().Method,
				"path", c.Request().URL.Path, "status", p.Status, "err", err)
		}
		for k, v := range p.Headers {
			c.Response().Header().Set(k, v)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(p.Status)
			return
		}
		body, _ := marshalProblem(p)
		_ = c.Blob(p.Status, "application/problem+json", body)
	}
}

func toProblem(err error, mapDomain ErrorMapper) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		return &cp
	}
	if mapDomain != nil {
		if p := mapDomain(err); p != nil {
			return p
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromEchoError(he)
	}
	return Internal()
}

func fromEchoError(he *echo.HTTPError) *Problem {
	switch he.Code {
	case http.StatusNotFound:
		return NotFound("There is nothing at this address.")
	case http.StatusMethodNotAllowed:
		return NewProblem(he.Code, "method-not-allowed", "Method not allowed",
			"This address does not accept this HTTP method.")
	case http.StatusRequestEntityTooLarge:
		return NewProblem(he.Code, "too-large", "Request too large", "The request body is larger than this endpoint accepts.")
	case http.StatusUnsupportedMediaType:
		return NewProblem(he.Code, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")
	case http.StatusTooManyRequests:
		return NewProblem(he.Code, "rate-limited", "Too many requests", "Slow down and try again shortly.")
	case http.StatusUnauthorized:
		return Unauthorized("Log in first.")
	case http.StatusForbidden:
		return Forbidden("You may not do this.")
	}
	if he.Code >= 400 && he.Code < 500 {
		detail := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			detail = m
		}
		return NewProblem(he.Code, "http-"+strconv.Itoa(he.Code), http.StatusText(he.Code), detail)
	}
	return Internal()
}

// marshalProblem writes the standard members and any extension members.
func marshalProblem(p *Problem) ([]byte, error) {
	if len(p.Extra) == 0 {
		return json.Marshal(p)
	}
	base, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}
