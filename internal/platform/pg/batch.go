package pg

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// Batch is statements sent to PostgreSQL together and answered in one round
// trip. For a request that needs several independent reads in a
// transaction, the round trips cost more than the reads: each is a write
// and a read on the socket for both sides and a wait in between.
//
// Each statement is prepared on its connection the first time that
// connection sends it, and then run by name (EXECUTE, its values written
// in by pgx), so its plan is kept as ScanPrepared's are. Sent as plain
// text, the nine statements of an inspection code's pre-checks spent more
// time being planned than run.
type Batch struct {
	b        pgx.Batch
	prepared []batchStatement
}

type batchStatement struct{ name, sql string }

// Query adds a statement; scan is called for each row it returns, with the
// row's columns in order.
func (b *Batch) Query(scan func(pgx.Rows) error, query string, args ...any) {
	b.queue(query, args).Query(func(rows pgx.Rows) error {
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
	b.queue(query, args).QueryRow(scan)
}

// Exec adds a statement whose rows, if any, are not read.
func (b *Batch) Exec(query string, args ...any) {
	b.queue(query, args)
}

// queue adds EXECUTE of query's prepared statement, named after its text.
func (b *Batch) queue(query string, args []any) *pgx.QueuedQuery {
	sum := sha256.Sum256([]byte(query))
	st := batchStatement{name: "batch_" + hex.EncodeToString(sum[:16]), sql: query}
	b.prepared = append(b.prepared, st)
	execute := "EXECUTE " + st.name
	if len(args) > 0 {
		params := make([]string, len(args))
		for i := range params {
			params[i] = "$" + strconv.Itoa(i+1)
		}
		execute += "(" + strings.Join(params, ", ") + ")"
	}
	return b.b.Queue(execute, args...)
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
		conn := c.Conn()
		for _, st := range b.prepared {
			// A round trip the first time on this connection, none after.
			if _, err := conn.Prepare(ctx, st.name, st.sql); err != nil {
				return MapError(err)
			}
		}
		return MapError(conn.SendBatch(ctx, &b.b).Close())
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
