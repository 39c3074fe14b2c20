package pg

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// Prepared statements: a few hot statements with $n parameters run
// prepared, planned once per pooled connection. bun writes values into the
// SQL text, so each of its statements is planned anew; for a public page
// scanned thousands of times a second, or the pre-checks of every
// inspection code, planning costs more than running. A prepared plan also
// locks only the indexes it uses, where planning locks every index of
// every table named (under a burst, backends queued on the lock manager).
//
// pgx keeps the statements in each connection's own cache, prepared on
// that connection at first use. (A database/sql Stmt would prepare on a
// connection of its own choosing, which a pool whose every connection is
// in a transaction waiting for that statement can never give.)

// ScanPrepared runs query prepared in idb (the database or a bun.Tx) and
// scans as bun does: every row into a slice, or the one row into anything
// else, with sql.ErrNoRows when there is none.
func ScanPrepared(ctx context.Context, idb bun.IDB, dest any, query string, args ...any) error {
	rows, err := queryPrepared(ctx, idb, query, args)
	if err != nil {
		return err
	}
	db := idb.NewSelect().DB() // for bun's scanning of models
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Slice {
		return db.ScanRows(ctx, rows, dest)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := db.ScanRow(ctx, rows, dest); err != nil {
		return err
	}
	return rows.Close()
}

// SelectPrepared runs a bun select prepared and scans its one row into the
// query's model, relations joined in included, with sql.ErrNoRows when there
// is none. Its values are parameters written into its conditions as $1, $2
// (not bun's ?, which would write the value into the text), so the text is
// the same each time and pgx's cache prepares it once per connection.
func SelectPrepared(ctx context.Context, idb bun.IDB, q *bun.SelectQuery, args ...any) error {
	rows, err := queryPrepared(ctx, idb, q.String(), args)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, err := q.GetModel().ScanRows(ctx, rows)
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return rows.Close()
}

// QueryRowPrepared runs query prepared in idb for one row of plain columns.
func QueryRowPrepared(ctx context.Context, idb bun.IDB, query string, args ...any) (*sql.Row, error) {
	q, err := sqlOf(idb)
	if err != nil {
		return nil, err
	}
	return q.QueryRowContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...), nil
}

// ExecPrepared runs a statement that returns no rows prepared in idb.
func ExecPrepared(ctx context.Context, idb bun.IDB, query string, args ...any) (sql.Result, error) {
	q, err := sqlOf(idb)
	if err != nil {
		return nil, err
	}
	return q.ExecContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
}

// queryPrepared sends the statement past bun (which would write the values
// into it) to pgx, asking for its statement cache.
func queryPrepared(ctx context.Context, idb bun.IDB, query string, args []any) (*sql.Rows, error) {
	q, err := sqlOf(idb)
	if err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, append([]any{pgx.QueryExecModeCacheStatement}, args...)...)
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlOf is the database/sql handle under a bun one.
func sqlOf(idb bun.IDB) (querier, error) {
	switch x := idb.(type) {
	case *bun.DB:
		return x.DB, nil
	case bun.Tx:
		return x.Tx, nil
	case bun.Conn:
		return x.Conn, nil
	}
	return nil, fmt.Errorf("pg: prepared statements run in a *bun.DB, bun.Tx or bun.Conn, not %T", idb)
}
