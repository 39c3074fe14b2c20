package pg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// ErrSchemaBehind means migrations exist that the database has not applied.
var ErrSchemaBehind = errors.New("database schema is out of date: run `greenchannel migrate up`")

// Migrator applies the embedded SQL migrations.
type Migrator struct {
	m *migrate.Migrator
}

// NewMigrator reads the migrations in fsys.
func NewMigrator(db *bun.DB, fsys fs.FS) (*Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	return &Migrator{m: migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
}

// Up applies every pending migration and returns their names.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck // the lock row is best effort; a crash leaves it for `migrate unlock`
	group, err := m.m.Migrate(ctx)
	if err != nil {
		return nil, err
	}
	return names(group.Migrations), nil
}

// Down rolls back the last applied group and returns the names rolled back.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck
	group, err := m.m.Rollback(ctx)
	if err != nil {
		return nil, err
	}
	return names(group.Migrations), nil
}

// Status lists every migration with "applied" or "pending".
func (m *Migrator) Status(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, mg := range ms {
		state := "pending"
		if mg.IsApplied() {
			state = "applied " + mg.MigratedAt.Format("2006-01-02 15:04:05")
		}
		out = append(out, fmt.Sprintf("%-40s %s", mg.String(), state))
	}
	return out, nil
}

// Check returns ErrSchemaBehind, naming the pending migrations, when the
// database lags the binary. The server refuses to start on that.
func (m *Migrator) Check(ctx context.Context) error {
	var exists bool
	if err := m.m.DB().NewRaw("SELECT to_regclass('bun_migrations') IS NOT NULL").Scan(ctx, &exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w (no migrations applied yet)", ErrSchemaBehind)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return err
	}
	if pending := ms.Unapplied(); len(pending) > 0 {
		return fmt.Errorf("%w (pending: %s)", ErrSchemaBehind, strings.Join(names(pending), ", "))
	}
	return nil
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, len(ms))
	for i, mg := range ms {
		out[i] = mg.String()
	}
	return out
}
