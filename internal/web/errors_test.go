package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"greenchannel/internal/platform/httpx"
)

// A browser gets an error page in the site's style; the API keeps its
// problem+json.
func TestErrorsArePagesForBrowsers(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpx.New(httpx.Options{Log: quiet, Metrics: prometheus.NewRegistry()})
	Register(e, Deps{Log: quiet})
	get := func(path, accept, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept", accept)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	rec := get("/no/such/page", "text/html,application/xhtml+xml", "")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(rec.Body.String(), "找不到这个页面") || !strings.Contains(rec.Body.String(), `href="/static/app.css"`) {
		t.Fatalf("browser 404: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := get("/no/such/page", "text/html", "lang=en"); !strings.Contains(rec.Body.String(), "there is no such page") {
		t.Fatalf("English 404:\n%s", rec.Body)
	}
	if rec := get("/api/v1/nothing", "text/html", ""); !strings.Contains(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("API 404 must stay problem+json: %s", rec.Header().Get("Content-Type"))
	}
	if rec := get("/no/such/page", "application/json", ""); !strings.Contains(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("non-browser 404: %s", rec.Header().Get("Content-Type"))
	}
}

// Assets are compressed and revalidated, so a slow link downloads them once.
func TestStaticAssetsRevalidateAndCompress(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpx.New(httpx.Options{Log: quiet})
	Register(e, Deps{Log: quiet})
	req := httptest.NewRequest(http.MethodGet, "/static/app.css", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	tag := rec.Header().Get("ETag")
	if rec.Code != http.StatusOK || tag == "" || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("first load: %d etag %q encoding %q", rec.Code, tag, rec.Header().Get("Content-Encoding"))
	}
	req = httptest.NewRequest(http.MethodGet, "/static/app.css", nil)
	req.Header.Set("If-None-Match", tag)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("revalidation: %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
