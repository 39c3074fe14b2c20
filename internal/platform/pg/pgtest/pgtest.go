// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, copied from a template that is migrated once per schema version.
// Copying a template takes tens of milliseconds, so tests stay independent
// and can run in parallel without cleaning up after each other.
//
// The server is GC_DATABASE_URL (default: the `make dev` cluster). A server
// that cannot be reached fails the test: a skipped database test hides bugs.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/config"
	"greenchannel/internal/platform/pg"
	"greenchannel/migrations"
)

// templateLock serialises template builds across test processes.
const templateLock = 7_432_100

// New returns a handle on a new database with every migration applied. The
// database is dropped when the test ends.
func New(t testing.TB) *bun.DB {
	t.Helper()
	db, _ := NewWithURL(t)
	return db
}

// NewWithURL is New that also returns the database's URL, for code that
// opens its own connections (LISTEN, advisory locks).
func NewWithURL(t testing.TB) (*bun.DB, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	base := BaseURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s (run `make services-up`): %v", base, err)
	}
	defer admin.Close(context.Background())

	tmpl, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "gc_test_" + randomSuffix()
	if err := createFrom(ctx, admin, name, tmpl); err != nil {
		t.Fatalf("pgtest: create %s: %v", name, err)
	}
	dbURL := withDatabase(base, name)
	db, err := pg.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db, dbURL
}

// BaseURL is the server the test databases are created on.
func BaseURL() string {
	if u := os.Getenv("GC_DATABASE_URL"); u != "" {
		return u
	}
	return config.DefaultDatabaseURL
}

// ensureTemplate returns the name of a template database migrated to the
// current migrations, building it if needed. The name carries a hash of the
// migration files, so a changed migration gets a new template.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "gc_template_" + sum
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under a scratch name and rename when complete, so a crash never
	// leaves a half-migrated template behind.
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, err := pg.Open(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	m, err := pg.NewMigrator(db, migrations.FS)
	if err == nil {
		_, err = m.Up(ctx)
	}
	_ = db.Close()
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	// Older templates belong to migrations that no longer exist.
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'gc\\_template\\_%' AND datname <> $1", name)
	if err != nil {
		return "", err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, o := range old {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+o+" WITH (FORCE)")
	}
	return name, nil
}

// createFrom copies tmpl. PostgreSQL refuses while another session is
// connected to the template, which can happen for an instant while a
// parallel test process copies it too; retry briefly.
func createFrom(ctx context.Context, admin *pgx.Conn, name, tmpl string) error {
	var err error
	for range 50 {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl+" STRATEGY FILE_COPY")
		if err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func migrationsHash() (string, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually waits, a little at a time and at most ten seconds, for what
// another connection makes true: a NOTIFY reaches its listener after the
// notifying transaction commits, not with it.
func Eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
