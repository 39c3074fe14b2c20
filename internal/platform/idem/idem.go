// Package idem makes creation requests safe to retry. A client sends an
// Idempotency-Key with a POST; the first call claims the key inside its own
// transaction and records what it created, and a retry with the same key
// and body gets the same result back instead of a second copy. A retry with
// the same key but a different body is refused.
//
// Concurrent duplicates are serialised by the primary key: the second
// INSERT waits for the first transaction and then sees its row.
package idem

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Key identifies one idempotent call.
type Key struct {
	Scope  string // what kind of creation, e.g. "request.create"
	UserID int64  // keys are per user: two users may pick the same key
	Key    string
	Body   []byte // the canonical request body; its hash is compared on retry
}

// Claim takes k inside transaction tx. It returns (0, nil) when the caller
// is first and should go on to create, then queue Complete in the same
// transaction; or the id the
// first call created when this is a retry. A different body under the same
// key is a fault.Invalid.
func Claim(ctx context.Context, tx bun.IDB, k Key, now time.Time) (int64, error) {
	hash := sha256.Sum256(k.Body)
	res, err := tx.NewRaw(`INSERT INTO idempotency_keys (scope, user_id, key, request_hash, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, k.Scope, k.UserID, k.Key, hash[:], now).Exec(ctx)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return 0, nil
	}
	var row struct {
		Hash     []byte        `bun:"request_hash"`
		ResultID sql.NullInt64 `bun:"result_id"`
	}
	err = tx.NewRaw(`SELECT request_hash, result_id FROM idempotency_keys WHERE scope = ? AND user_id = ? AND key = ?`,
		k.Scope, k.UserID, k.Key).Scan(ctx, &row)
	if err != nil {
		return 0, err
	}
	if string(row.Hash) != string(hash[:]) {
		return 0, &fault.Error{Kind: fault.Invalid,
			Msg:    "这个 Idempotency-Key 已用于内容不同的请求 / this Idempotency-Key was already used with a different body",
			Fields: []fault.Field{{Name: "Idempotency-Key", Message: "use a new key for a different request"}}}
	}
	if !row.ResultID.Valid {
		// Only possible if the first call committed without completing, which
		// Complete in the same transaction rules out.
		return 0, errors.New("idempotency key claimed without a result")
	}
	return row.ResultID.Int64, nil
}

// Complete adds to b, a batch of the claiming transaction, the record of
// what the first call created.
func Complete(b *pg.Batch, k Key, resultID int64) {
	b.Exec(`UPDATE idempotency_keys SET result_id = $1 WHERE scope = $2 AND user_id = $3 AND key = $4`,
		resultID, k.Scope, k.UserID, k.Key)
}

// Prune forgets keys older than before (they are kept at least 24 h).
func Prune(ctx context.Context, db bun.IDB, before time.Time) (int64, error) {
	res, err := db.NewDelete().Table("idempotency_keys").Where("created_at < ?", before).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
