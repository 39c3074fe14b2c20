package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"greenchannel/api"
	"greenchannel/internal/config"
	"greenchannel/internal/platform/jobs/jobstest"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
	"greenchannel/migrations"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testDeps(t *testing.T, dbURL, redisURL string) *deps {
	t.Helper()
	cfg, err := config.Parse(func(k string) string {
		return map[string]string{"GC_DATABASE_URL": dbURL, "GC_REDIS_URL": redisURL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDeps(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return d
}

func handler(t *testing.T, d *deps) http.Handler {
	t.Helper()
	e, err := newHTTP(d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func get(t *testing.T, e http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

func TestReadinessFollowsPostgresAndRedis(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	redis := jobstest.StartServer(t)
	d := handler(t, testDeps(t, dbURL, redis.URL()))

	if code, body := get(t, d, "/readyz"); code != 200 {
		t.Fatalf("all up: %d %v", code, body)
	}

	redis.Stop()
	code, body := get(t, d, "/readyz")
	if code != 503 || !strings.Contains(body["detail"].(string), "redis") {
		t.Fatalf("redis down: %d %v", code, body)
	}
	if body["request_id"] == "" || body["type"] != "/problems/unavailable" {
		t.Fatalf("readiness failure must be a full problem: %v", body)
	}
	if code, _ := get(t, d, "/healthz"); code != 200 {
		t.Fatalf("liveness must not depend on Redis: %d", code)
	}
	redis.Start()
	if code, body := get(t, d, "/readyz"); code != 200 {
		t.Fatalf("redis back: %d %v", code, body)
	}
}

func TestReadinessFailsWithoutPostgres(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := jobstest.Redis(t)
	d := handler(t, testDeps(t, dbURL, redisURL))
	// Dropping the database under the running process is what an outage
	// looks like from here: every new connection is refused.
	admin, err := pg.Open(context.Background(), pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := dbURL[strings.LastIndex(dbURL, "/")+1:]
	name = strings.SplitN(name, "?", 2)[0]
	if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, d, "/readyz")
	if code != 503 || !strings.Contains(body["detail"].(string), "postgres") {
		t.Fatalf("postgres gone: %d %v", code, body)
	}
}

func TestServeRefusesAnOutOfDateSchema(t *testing.T) {
	t.Parallel()
	db, dbURL := pgtest.NewWithURL(t)
	_, redisURL := jobstest.Redis(t)
	m, err := pg.NewMigrator(db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := testDeps(t, dbURL, redisURL)
	err = d.checkSchema(context.Background())
	if !errors.Is(err, pg.ErrSchemaBehind) || !strings.Contains(err.Error(), "greenchannel migrate up") {
		t.Fatalf("want a refusal naming the fix, got %v", err)
	}
	if code, body := get(t, handler(t, d), "/readyz"); code != 503 || !strings.Contains(body["detail"].(string), "migrate up") {
		t.Fatalf("readyz on a stale schema: %d %v", code, body)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"version"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "greenchannel") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := Run(context.Background(), []string{"frobnicate"}, &out, &errOut); !errors.Is(err, ErrUsage) {
		t.Fatalf("unknown command: %v", err)
	}
	for _, c := range commands() {
		errOut.Reset()
		if err := Run(context.Background(), []string{c.name, "--help"}, &out, &errOut); err != nil {
			t.Fatalf("%s --help: %v", c.name, err)
		}
		if !strings.Contains(errOut.String(), "greenchannel "+c.name) {
			t.Fatalf("%s --help printed %q", c.name, errOut.String())
		}
	}
}

// The request validator finds an operation by the template of the route Echo
// matched, so every operation of the spec must be registered under its own
// path; one that is not would go unvalidated.
func TestEverySpecOperationIsRoutedUnderItsOwnPath(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	redis := jobstest.StartServer(t)
	e, err := newHTTP(testDeps(t, dbURL, redis.URL()))
	if err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for _, r := range e.Routes() {
		routed[r.Method+" "+r.Path] = true
	}
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	n := 0
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			n++
			if key := method + " " + param.ReplaceAllString(path, ":$1"); !routed[key] {
				t.Errorf("%s is in the spec but not routed", key)
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d operations in the spec", n)
	}
}
