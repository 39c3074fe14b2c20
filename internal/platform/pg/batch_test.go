package pg_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

// A batch runs inside its transaction: it sees the transaction's writes,
// a missing row is sql.ErrNoRows, and a failing statement rolls the whole
// transaction back.
func TestBatchesRunInsideTheirTransaction(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	err := pg.RunInBatchTx(ctx, db, func(ctx context.Context, tx pg.BatchTx) error {
		var id int64
		if err := tx.NewRaw("INSERT INTO agencies (code, name, kind) VALUES ('b-court', '批量法院', 'court') RETURNING id").Scan(ctx, &id); err != nil {
			return err
		}
		var b pg.Batch
		var names []string
		var missing, prepared error
		b.Query(func(rows pgx.Rows) error {
			var name string
			err := rows.Scan(&name)
			names = append(names, name)
			return err
		}, "SELECT name FROM agencies WHERE code = $1", "b-court")
		b.QueryRow(func(row pgx.Row) error {
			var name string
			missing = row.Scan(&name)
			return nil
		}, "SELECT name FROM agencies WHERE id = $1", id+1000)
		if err := tx.Send(ctx, &b); err != nil {
			return err
		}
		if len(names) != 1 || names[0] != "批量法院" || !errors.Is(missing, sql.ErrNoRows) {
			t.Errorf("batch read %v, missing row: %v", names, missing)
		}
		// Sent again, the statement is already prepared on the connection.
		var again pg.Batch
		again.Query(func(rows pgx.Rows) error {
			var name string
			err := rows.Scan(&name)
			names = append(names, name)
			return err
		}, "SELECT name FROM agencies WHERE code = $1", "b-court")
		if err := tx.Send(ctx, &again); err != nil || len(names) != 2 || names[1] != "批量法院" {
			t.Errorf("the same statement again: %v %v", names, err)
		}
		var kind string
		if prepared = pg.ScanPrepared(ctx, tx, &kind, "SELECT kind FROM agencies WHERE id = $1", id); prepared != nil || kind != "court" {
			t.Errorf("prepared statement in a batch transaction: %q %v", kind, prepared)
		}
		var failing pg.Batch
		failing.QueryRow(func(row pgx.Row) error { var n int; return row.Scan(&n) }, "SELECT 1 / $1::int", 0)
		return tx.Send(ctx, &failing)
	})
	if err == nil {
		t.Fatal("a failing batch statement: no error")
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM agencies WHERE code = 'b-court'").Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("after the failed transaction: %d rows, %v", n, err)
	}
}
