package httpx

import (
	"errors"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// ValidateRequests checks every request that matches an operation in doc
// against it before a handler runs, answering 400 with one entry per bad
// field. Requests that match no operation pass through to Echo's 404/405.
//
// The operation is found from the route Echo already matched (its template
// and parameters), not by matching the URL a second time with the spec's own
// router, which cost a tenth of the server's time on the public code check.
// The generated handlers register exactly the spec's paths, so the two agree.
func ValidateRequests(doc *openapi3.T) (echo.MiddlewareFunc, error) {
	routes := map[string]*routers.Route{} // "GET /api/v1/requests/:id"
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			routes[method+" "+echoTemplate(path)] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	opts := &openapi3filter.Options{
		MultiError:         true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // auth is our own middleware
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := routes[c.Request().Method+" "+c.Path()]
			if route == nil {
				return next(c)
			}
			names, values := c.ParamNames(), c.ParamValues()
			params := make(map[string]string, len(names))
			for i, n := range names {
				params[n] = values[i]
			}
			in := &openapi3filter.RequestValidationInput{
				Request: c.Request(), PathParams: params, Route: route, Options: opts,
			}
			if err := openapi3filter.ValidateRequest(c.Request().Context(), in); err != nil {
				return validationProblem(err)
			}
			return next(c)
		}
	}, nil
}

// echoTemplate writes an OpenAPI path ("/requests/{id}") as Echo's route
// template ("/requests/:id").
func echoTemplate(path string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i])
		b.WriteByte(':')
		b.WriteString(path[i+1 : j])
		path = path[j+1:]
	}
}

func validationProblem(err error) *Problem {
	var fields []FieldError
	collectFieldErrors(err, &fields)
	if len(fields) == 0 {
		return BadRequest("The request does not match the API description.")
	}
	p := BadRequest("Some fields are missing or invalid; see errors.", fields...)
	for _, f := range fields {
		if f.In == "header" && strings.EqualFold(f.Field, "Content-Type") {
			p.Status, p.Type, p.Title = http.StatusUnsupportedMediaType, problemBase+"unsupported-media-type", "Unsupported media type"
		}
	}
	return p
}

func collectFieldErrors(err error, out *[]FieldError) {
	// A RequestError may wrap a MultiError of schema errors, so look for the
	// RequestError first to keep its context (which parameter, or the body).
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		var multi openapi3.MultiError
		if errors.As(err, &multi) {
			for _, e := range multi {
				collectFieldErrors(e, out)
			}
			return
		}
		*out = append(*out, FieldError{Message: err.Error()})
		return
	}
	if top, ok := err.(openapi3.MultiError); ok {
		for _, e := range top {
			collectFieldErrors(e, out)
		}
		return
	}
	switch {
	case reqErr.Parameter != nil:
		*out = append(*out, FieldError{Field: reqErr.Parameter.Name, In: reqErr.Parameter.In, Message: reasonOf(reqErr)})
	case reqErr.RequestBody != nil:
		var inner openapi3.MultiError
		if errors.As(reqErr.Err, &inner) {
			for _, e := range inner {
				*out = append(*out, bodyFieldError(e))
			}
			return
		}
		*out = append(*out, bodyFieldError(reqErr.Err))
	default:
		*out = append(*out, FieldError{Message: reasonOf(reqErr)})
	}
}

func bodyFieldError(err error) FieldError {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := "/" + strings.Join(se.JSONPointer(), "/")
		msg := se.Reason
		if field == "/" && (se.SchemaField == "required" || se.SchemaField == "properties") {
			// "property \"x\" is missing" / "is unsupported": point at the property.
			if name, ok := quoted(se.Reason); ok {
				field = "/" + name
			}
		}
		return FieldError{Field: field, In: "body", Message: msg}
	}
	if err == nil {
		return FieldError{Field: "/", In: "body", Message: "invalid body"}
	}
	msg := err.Error()
	if strings.Contains(msg, "value is required but missing") {
		msg = "a JSON body is required"
	}
	if strings.Contains(msg, "header Content-Type has unexpected value") {
		return FieldError{Field: "Content-Type", In: "header", Message: "send application/json"}
	}
	return FieldError{Field: "/", In: "body", Message: msg}
}

func reasonOf(e *openapi3filter.RequestError) string {
	var se *openapi3.SchemaError
	if errors.As(e.Err, &se) {
		return se.Reason
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Reason
}

func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return "", false
	}
	return s[i+1 : i+1+j], true
}
