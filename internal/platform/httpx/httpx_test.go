package httpx_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"greenchannel/internal/platform/httpx"
)

const spec = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name, size]
              additionalProperties: false
              properties:
                name: {type: string, maxLength: 5}
                size: {type: integer, minimum: 1}
      responses:
        "201": {description: created}
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200": {description: ok}
`

type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []httpx.FieldError
}

func newServer(t *testing.T) (*echo.Echo, *strings.Builder) {
	t.Helper()
	var logs strings.Builder
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	e := httpx.New(httpx.Options{Log: log, MapError: func(err error) *httpx.Problem {
		if errors.Is(err, errDomainMissing) {
			return httpx.NotFound("That thing does not exist.")
		}
		return nil
	}})
	doc, err := openapi3.NewLoader().LoadFromData([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	v, err := httpx.ValidateRequests(doc)
	if err != nil {
		t.Fatal(err)
	}
	e.Use(v)
	e.POST("/things", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
	e.GET("/things/:id", func(c echo.Context) error {
		switch c.Param("id") {
		case "1":
			return errors.New("pq: password authentication failed for user secret_db_user")
		case "2":
			panic("nil map in handler")
		case "3":
			return errDomainMissing
		}
		return c.NoContent(http.StatusOK)
	})
	return e, &logs
}

var errDomainMissing = errors.New("thing not found")

func do(t *testing.T, e *echo.Echo, method, path, body string) (*httptest.ResponseRecorder, problem) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var p problem
	if rec.Code >= 400 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: content type %q, body %s", method, path, ct, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") {
			t.Fatalf("problem must carry the request id: %q vs header %q", p.RequestID, rec.Header().Get("X-Request-Id"))
		}
		if p.Status != rec.Code || p.Type == "" || p.Title == "" || p.Instance != strings.Split(path, "?")[0] {
			t.Fatalf("incomplete problem: %+v", p)
		}
	}
	return rec, p
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e, _ := newServer(t)
	if rec, p := do(t, e, "GET", "/nowhere", ""); rec.Code != 404 || p.Type != "/problems/not-found" {
		t.Fatalf("404: %d %+v", rec.Code, p)
	}
	if rec, p := do(t, e, "DELETE", "/things", ""); rec.Code != 405 || p.Type != "/problems/method-not-allowed" {
		t.Fatalf("405: %d %+v", rec.Code, p)
	}
}

func TestValidationListsEveryBadField(t *testing.T) {
	e, _ := newServer(t)
	rec, p := do(t, e, "POST", "/things", `{"name":"toolongname","size":0,"colour":"red"}`)
	if rec.Code != 400 || p.Type != "/problems/validation" {
		t.Fatalf("400: %d %+v", rec.Code, p)
	}
	got := map[string]bool{}
	for _, f := range p.Errors {
		got[f.Field] = true
		if f.In != "body" || f.Message == "" {
			t.Errorf("field error incomplete: %+v", f)
		}
	}
	for _, want := range []string{"/name", "/size", "/colour"} {
		if !got[want] {
			t.Errorf("no error for %s in %+v", want, p.Errors)
		}
	}

	rec, p = do(t, e, "POST", "/things", `{"name":"ok"}`)
	if rec.Code != 400 || len(p.Errors) == 0 || p.Errors[0].Field != "/size" {
		t.Fatalf("missing field: %d %+v", rec.Code, p)
	}
	rec, p = do(t, e, "GET", "/things/abc", "")
	if rec.Code != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "id" || p.Errors[0].In != "path" {
		t.Fatalf("bad path param: %d %+v", rec.Code, p)
	}
	rec, _ = do(t, e, "POST", "/things", `{"name":"ok","size":2}`)
	if rec.Code != 201 {
		t.Fatalf("valid body refused: %d %s", rec.Code, rec.Body)
	}
}

func TestInternalErrorsAreLoggedNotSent(t *testing.T) {
	for _, path := range []string{"/things/1", "/things/2"} {
		e, logs := newServer(t)
		rec, p := do(t, e, "GET", path, "")
		if rec.Code != 500 || p.Type != "/problems/internal" {
			t.Fatalf("%s: %d %+v", path, rec.Code, p)
		}
		body := rec.Body.String()
		for _, secret := range []string{"secret_db_user", "nil map", "goroutine", ".go:"} {
			if strings.Contains(body, secret) {
				t.Fatalf("%s: response leaks %q: %s", path, secret, body)
			}
		}
		if !strings.Contains(logs.String(), p.RequestID) {
			t.Fatalf("%s: the log must hold the cause under the request id", path)
		}
	}
}

func TestDomainErrorsMapThroughTheMapper(t *testing.T) {
	e, _ := newServer(t)
	rec, p := do(t, e, "GET", "/things/3", "")
	if rec.Code != 404 || p.Detail != "That thing does not exist." {
		t.Fatalf("%d %+v", rec.Code, p)
	}
}

func TestSecurityHeadersAndBodyLimit(t *testing.T) {
	e, _ := newServer(t)
	rec, _ := do(t, e, "GET", "/things/9", "")
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `","size":1}`
	rec, p := do(t, e, "POST", "/things", big)
	if rec.Code != http.StatusRequestEntityTooLarge || p.Type != "/problems/too-large" {
		t.Fatalf("2 MiB body: %d %+v", rec.Code, p)
	}
	_, _ = io.Discard.Write(nil)
}

func TestInFlightCapAnswers503(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = httpx.ErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e.GET("/slow", func(c echo.Context) error {
		entered <- struct{}{}
		<-release
		return c.NoContent(http.StatusOK)
	}, httpx.InFlight(1, 20*time.Millisecond))
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
		done <- rec.Code
	}()
	<-entered
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil)) // waits its 20 ms, then gives up
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the cap: %d %v", rec.Code, rec.Header())
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the admitted request: %d", code)
	}
}

func TestRateLimitCountsPerAddressNotPerForwardedHeader(t *testing.T) {
	e := httpx.New(httpx.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.Use(httpx.RateLimit("/codes/", 3))
	e.GET("/codes/:c", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	e.GET("/other", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	get := func(path, addr, forwarded string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = addr + ":1234"
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		// A client that makes up a forwarded address each time is still one client.
		if rec := get("/codes/A", "10.0.0.1", fmt.Sprintf("192.0.2.%d", i)); rec.Code != http.StatusOK {
			t.Fatalf("scan %d: %d", i+1, rec.Code)
		}
	}
	rec := get("/codes/B", "10.0.0.1", "192.0.2.99")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("4th scan in a minute: %d %v", rec.Code, rec.Header())
	}
	if rec := get("/codes/A", "10.0.0.2", ""); rec.Code != http.StatusOK {
		t.Fatalf("another phone: %d", rec.Code)
	}
	if rec := get("/other", "10.0.0.1", ""); rec.Code != http.StatusOK {
		t.Fatalf("a path outside the prefix: %d", rec.Code)
	}
}

func TestTrustedProxyForwardsTheClientAddress(t *testing.T) {
	_, proxies, _ := net.ParseCIDR("10.1.0.0/16")
	e := httpx.New(httpx.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: []*net.IPNet{proxies}})
	e.GET("/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
	for _, tc := range []struct{ peer, forwarded, want string }{
		{"10.1.2.3", "203.0.113.7", "203.0.113.7"},           // through the proxy
		{"10.9.9.9", "203.0.113.7", "10.9.9.9"},              // not a proxy: its header is ignored
		{"10.1.2.3", "203.0.113.7, 10.1.2.4", "203.0.113.7"}, // two proxies
	} {
		req := httptest.NewRequest(http.MethodGet, "/ip", nil)
		req.RemoteAddr = tc.peer + ":1234"
		req.Header.Set("X-Forwarded-For", tc.forwarded)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Body.String() != tc.want {
			t.Errorf("peer %s forwarding %q: client %q, want %q", tc.peer, tc.forwarded, rec.Body.String(), tc.want)
		}
	}
}
