package pg_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

// A batch runs inside its transaction: it sees the transaction's writes,
// a missing row is sql.ErrNoRows, and a failing statement rolls the whole
// transaction back.
func TestBatchesRunInsideTheirTransaction(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	err := pg.RunInBatchTx(ctx, db, func(ctx context.Context, tx *pg.BatchTx) error {
		var id int64
		var insert pg.Batch
		insert.QueryRow(func(row pgx.Row) error { return row.Scan(&id) },
			"INSERT INTO agencies (code, name, kind) VALUES ($1, '批量法院', 'court') RETURNING id", "b-court")
		if err := tx.Send(ctx, &insert); err != nil {
			return err
		}
		var b pg.Batch
		var names []string
		var missing, prepared error
		readNames := func(rows pgx.Rows) error {
			var name string
			err := rows.Scan(&name)
			names = append(names, name)
			return err
		}
		b.Query(readNames, "SELECT name FROM agencies WHERE code = $1", "b-court")
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
		again.Query(readNames, "SELECT name FROM agencies WHERE code = $1", "b-court")
		if err := tx.Send(ctx, &again); err != nil || len(names) != 2 || names[1] != "批量法院" {
			t.Errorf("the same statement again: %v %v", names, err)
		}
		var kind string
		if prepared = pg.ScanPrepared(ctx, tx.IDB(), &kind, "SELECT kind FROM agencies WHERE id = $1", id); prepared != nil || kind != "court" {
			t.Errorf("prepared statement in a batch transaction: %q %v", kind, prepared)
		}
		var failing pg.Batch
		failing.QueryRow(func(row pgx.Row) error { var n int; return row.Scan(&n) }, "SELECT 1 / $1::int", 0)
		return tx.Send(ctx, &failing)
	})
	if err == nil {
		t.Fatal("a failing batch statement: no error")
	}
	if n := countAgencies(t, db, "b-court"); n != 0 {
		t.Fatalf("after the failed transaction: %d rows", n)
	}
}

// BEGIN goes with the first batch and COMMIT with the one Commit sends:
// the writes of both batches land together, a batch after the commit is
// refused, and the connection goes back to the pool outside any
// transaction. An error after a batch rolls everything back.
func TestBatchTransactionsBeginAndCommitWithTheirBatches(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	insert := func(code string) *pg.Batch {
		var b pg.Batch
		b.Exec("INSERT INTO agencies (code, name, kind) VALUES ($1, '批量法院', 'court')", code)
		return &b
	}
	err := pg.RunInBatchTx(ctx, db, func(ctx context.Context, tx *pg.BatchTx) error {
		if err := tx.Send(ctx, insert("b-one")); err != nil {
			return err
		}
		if n := countAgencies(t, db, "b-one"); n != 0 {
			t.Errorf("the first batch's write is seen outside its transaction before the commit (%d rows)", n)
		}
		if err := tx.Commit(ctx, insert("b-two")); err != nil {
			return err
		}
		if err := tx.Send(ctx, insert("b-three")); err == nil {
			t.Error("a batch after the commit was sent")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := countAgencies(t, db, "b-one") + countAgencies(t, db, "b-two") + countAgencies(t, db, "b-three"); n != 2 {
		t.Fatalf("after the commit: %d of the two rows", n)
	}
	var open int
	if err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).
		Scan(ctx, &open); err != nil || open != 0 {
		t.Fatalf("connections left in a transaction: %d %v", open, err)
	}

	stop := errors.New("stop")
	err = pg.RunInBatchTx(ctx, db, func(ctx context.Context, tx *pg.BatchTx) error {
		if err := tx.Send(ctx, insert("b-four")); err != nil {
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) || countAgencies(t, db, "b-four") != 0 {
		t.Fatalf("an error after a batch: %v, %d rows kept", err, countAgencies(t, db, "b-four"))
	}
}

func countAgencies(t *testing.T, db *bun.DB, code string) int {
	t.Helper()
	var n int
	if err := db.NewRaw("SELECT count(*) FROM agencies WHERE code = ?", code).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}
