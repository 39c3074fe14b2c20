// Package pg opens the PostgreSQL handle, runs transactions and migrations,
// and turns driver errors into a few typed errors the domain can act on.
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string) (*bun.DB, error) { return OpenTraced(ctx, url, nil) }

// OpenTraced is Open with a pgx tracer on every connection (nil for none):
// it sees the statements bun's query hooks do not, the prepared ones.
func OpenTraced(ctx context.Context, url string, tracer pgx.QueryTracer) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %w", err)
	}
	cfg.Tracer = tracer
	// bun writes values into the SQL text, so nearly every statement is new
	// to the server: preparing and caching each one (pgx's default) costs a
	// round trip and memory per statement and saves nothing.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// Short OLTP statements: JIT compilation costs far more than it saves.
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["jit"] = "off"
	sqldb := stdlib.OpenDB(*cfg)
	// Four connections a core (8 to 32): enough to keep PostgreSQL busy
	// while some wait on the network, few enough that backends do not
	// fight over the cores. On 2 cores, pgbench of the public verify
	// statement (prepared) ran at 14,900/s from 8 clients and at 10,100/s
	// from 32.
	conns := min(max(4*runtime.GOMAXPROCS(0), 8), 32)
	sqldb.SetMaxOpenConns(conns)
	// As many idle as open: with fewer, a busy moment closes connections
	// as soon as requests return them and opens new ones (a PostgreSQL
	// backend each, cold caches and all) a moment later. Idle ones still
	// close after five minutes.
	sqldb.SetMaxIdleConns(conns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	sqldb.SetConnMaxLifetime(time.Hour)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return db, nil
}

// Typed errors a caller can branch on without knowing SQLSTATE codes.
var (
	ErrUnique        = errors.New("pg: unique violation")
	ErrForeignKey    = errors.New("pg: foreign key violation")
	ErrCheck         = errors.New("pg: check violation")
	ErrSerialization = errors.New("pg: serialization failure")
)

// MapError wraps a driver error in the matching typed error, keeping the
// original (and its constraint name) in the chain.
func MapError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505":
		return fmt.Errorf("%w (%s): %w", ErrUnique, pgErr.ConstraintName, err)
	case "23503":
		return fmt.Errorf("%w (%s): %w", ErrForeignKey, pgErr.ConstraintName, err)
	case "23514":
		return fmt.Errorf("%w (%s): %w", ErrCheck, pgErr.ConstraintName, err)
	case "40001", "40P01":
		return fmt.Errorf("%w: %w", ErrSerialization, err)
	}
	return err
}

// Constraint returns the name of the violated constraint, or "".
func Constraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// RunInTx runs fn in a read-committed transaction, committing when fn returns
// nil. Serialization failures and deadlocks are retried a few times, so fn
// must be safe to run again (it only talks to the database through tx).
func RunInTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return runInTx(ctx, db, &sql.TxOptions{}, fn)
}

// RunInSnapshot is RunInTx at REPEATABLE READ: every statement of fn sees
// the database as it was at fn's first statement. For reads that must
// agree with each other (a report from stored and live figures) and for
// work that must know exactly what it saw.
func RunInSnapshot(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return runInTx(ctx, db, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, fn)
}

func runInTx(ctx context.Context, db bun.IDB, opts *sql.TxOptions, fn func(ctx context.Context, tx bun.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = MapError(db.RunInTx(ctx, opts, fn))
		if !errors.Is(err, ErrSerialization) {
			return err
		}
	}
	return err
}
