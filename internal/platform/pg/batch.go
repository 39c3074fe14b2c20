package pg

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// Batch is statements sent to PostgreSQL together and answered in one round
// trip. For a request that needs several independent reads in a
// transaction, the round trips cost more than the reads: each is a write
// and a read on the socket for both sides and a wait in between.
//
// The statements go in one simple-protocol message, their values written
// in by pgx, so PostgreSQL plans each one; batch small statements whose
// planning is cheap.
type Batch struct {
	b pgx.Batch
}

// Query adds a statement; scan is called for each row it returns, with the
// row's columns in order.
func (b *Batch) Query(scan func(pgx.Rows) error, query string, args ...any) {
	b.b.Queue(query, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// QueryRow adds a statement that returns one row; scan reads it. With no
// row, Scan's error is pgx's, which errors.Is takes for sql.ErrNoRows as
// elsewhere in this package.
func (b *Batch) QueryRow(scan func(pgx.Row) error, query string, args ...any) {
	b.b.Queue(query, args...).QueryRow(scan)
}

// BatchTx is a transaction that can also send batches.
type BatchTx struct {
	bun.Tx
	conn bun.Conn
}

// Send sends the batch inside the transaction and runs its scans, stopping
// at the first error.
func (tx BatchTx) Send(ctx context.Context, b *Batch) error {
	return tx.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pg: batches need pgx's driver, not %T", driverConn)
		}
		return MapError(c.Conn().SendBatch(ctx, &b.b).Close())
	})
}

// RunInBatchTx is RunInTx on a connection of its own, so that fn may send
// batches inside the transaction.
func RunInBatchTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx BatchTx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return runInTx(ctx, conn, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, BatchTx{Tx: tx, conn: conn})
	})
}
