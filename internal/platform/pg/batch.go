package pg

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
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

// BatchTx is a read-committed transaction that sends its statements in
// batches. Its BEGIN goes with its first batch and its COMMIT with the one
// sent by Commit: a transaction of two batches costs two round trips, not
// four. On this kind of machine a round trip costs both processes several
// system calls, and those cost more than a small statement.
type BatchTx struct {
	conn      bun.Conn
	begun     bool // BEGIN sent
	committed bool
}

// Send sends b in the transaction and runs its scans, stopping at the
// first error.
func (tx *BatchTx) Send(ctx context.Context, b *Batch) error { return tx.send(ctx, b, false) }

// Commit sends b and commits, in one round trip. Nothing may be sent
// after it.
func (tx *BatchTx) Commit(ctx context.Context, b *Batch) error { return tx.send(ctx, b, true) }

// IDB is the transaction for statements that are not batched (bun's, the
// prepared ones). A batch must have been sent first: it carried the BEGIN.
func (tx *BatchTx) IDB() bun.IDB {
	if !tx.begun || tx.committed {
		panic("pg: BatchTx.IDB outside the transaction: send a batch first")
	}
	return tx.conn
}

func (tx *BatchTx) send(ctx context.Context, b *Batch, commit bool) error {
	if tx.committed {
		return errors.New("pg: batch sent after the transaction's commit")
	}
	return withPgx(tx.conn, func(conn *pgx.Conn) error {
		for _, st := range b.prepared {
			// A round trip the first time on this connection, none after.
			if _, err := conn.Prepare(ctx, st.name, st.sql); err != nil {
				return MapError(err)
			}
		}
		var all pgx.Batch
		if !tx.begun {
			all.Queue("BEGIN")
			tx.begun = true
		}
		all.QueuedQueries = append(all.QueuedQueries, b.b.QueuedQueries...)
		if commit {
			all.Queue("COMMIT")
			tx.committed = true
		}
		return MapError(conn.SendBatch(ctx, &all).Close())
	})
}

// end commits a transaction fn left open, or rolls back after an error,
// going by the connection's own transaction status.
func (tx *BatchTx) end(ctx context.Context, failed bool) error {
	return withPgx(tx.conn, func(conn *pgx.Conn) error {
		pc := conn.PgConn()
		switch {
		case pc.IsClosed() || pc.TxStatus() == 'I':
			return nil
		case !failed && pc.TxStatus() == 'T':
			_, err := conn.Exec(ctx, "COMMIT")
			return MapError(err)
		}
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil || failed {
			return err
		}
		return errors.New("pg: a statement of the transaction failed; it was rolled back")
	})
}

func withPgx(c bun.Conn, fn func(*pgx.Conn) error) error {
	return c.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pg: batches need pgx's driver, not %T", driverConn)
		}
		return fn(sc.Conn())
	})
}

// RunInBatchTx runs fn in a BatchTx on a connection of its own, committing
// when fn returns nil (if fn did not commit) and rolling back otherwise.
// Serialization failures and deadlocks are retried a few times, as in
// RunInTx.
func RunInBatchTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx *BatchTx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = MapError(runInBatchTx(ctx, db, fn)); !errors.Is(err, ErrSerialization) {
			return err
		}
	}
	return err
}

func runInBatchTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx *BatchTx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx := &BatchTx{conn: conn}
	if err := fn(ctx, tx); err != nil {
		if rerr := tx.end(context.WithoutCancel(ctx), true); rerr != nil {
			// The connection is in an unknown state: drop it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		return err
	}
	return tx.end(ctx, false)
}
