// Package audit keeps the append-only, hash-chained record of security- and
// oversight-relevant actions. Each entry stores the SHA-256 of the entry
// before it, so editing or deleting a row in the middle breaks every hash
// after it, and `greenchannel audit verify` names the first broken link.
// The table also refuses UPDATE and DELETE through a trigger.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Entry is what the caller records.
type Entry struct {
	Actor      string // "user:42", "system", "ip:1.2.3.4"
	Action     string // "user.login_failed", "request.transfer", ...
	TargetType string
	TargetID   string
	Detail     any // before/after, reasons; marshalled to JSON
}

type row struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID         int64           `bun:"id,pk,autoincrement"`
	At         time.Time       `bun:"at"`
	Actor      string          `bun:"actor"`
	Action     string          `bun:"action"`
	TargetType string          `bun:"target_type"`
	TargetID   string          `bun:"target_id"`
	Detail     json.RawMessage `bun:"detail,type:json"`
	PrevHash   []byte          `bun:"prev_hash"`
	Hash       []byte          `bun:"hash"`
}

// chainLock serialises appends so two transactions never fork the chain.
const chainLock = 7_432_200

var genesis = make([]byte, sha256.Size)

// Append records e at time at inside tx, a transaction (a bun.Tx, or a
// pg.BatchTx's IDB). The chain lock is held until tx ends, so keep audited
// transactions short.
func Append(ctx context.Context, tx bun.IDB, at time.Time, e Entry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s: detail: %w", e.Action, err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLock); err != nil {
		return fmt.Errorf("audit %s: lock: %w", e.Action, err)
	}
	prev := genesis
	var last []byte
	err = tx.NewSelect().Table("audit_log").Column("hash").OrderExpr("id DESC").Limit(1).Scan(ctx, &last)
	if err == nil {
		prev = last
	} else if !isNoRows(err) {
		return fmt.Errorf("audit %s: last hash: %w", e.Action, err)
	}
	r := &row{
		At:         at.UTC().Truncate(time.Microsecond), // what PostgreSQL keeps
		Actor:      e.Actor,
		Action:     e.Action,
		TargetType: e.TargetType,
		TargetID:   e.TargetID,
		Detail:     detail,
		PrevHash:   prev,
	}
	r.Hash = r.sum()
	if _, err := tx.NewInsert().Model(r).ExcludeColumn("id").Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// sum hashes the previous hash and every field, each length-prefixed so no
// two different entries serialise to the same bytes.
func (r *row) sum() []byte {
	h := sha256.New()
	h.Write(r.PrevHash)
	for _, f := range []string{
		r.At.Format(time.RFC3339Nano), r.Actor, r.Action, r.TargetType, r.TargetID, string(r.Detail),
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// Result is the outcome of Verify.
type Result struct {
	Checked  int   // entries read
	BrokenAt int64 // id of the first entry that does not fit the chain; 0 if intact
	Reason   string
}

// Verify walks the whole chain in id order and reports the first entry whose
// stored hash is wrong or whose link to its predecessor is broken.
func Verify(ctx context.Context, db bun.IDB) (Result, error) {
	var res Result
	prev := genesis
	var after int64
	for {
		var rows []row
		if err := db.NewSelect().Model(&rows).Where("id > ?", after).OrderExpr("id").Limit(1000).Scan(ctx); err != nil {
			return res, err
		}
		for i := range rows {
			r := &rows[i]
			r.At = r.At.UTC()
			res.Checked++
			switch {
			case !bytes.Equal(r.PrevHash, prev):
				res.BrokenAt, res.Reason = r.ID, "does not link to the entry before it (an entry was removed or replaced)"
				return res, nil
			case !bytes.Equal(r.sum(), r.Hash):
				res.BrokenAt, res.Reason = r.ID, "content does not match its hash (the entry was edited)"
				return res, nil
			}
			prev, after = r.Hash, r.ID
		}
		if len(rows) < 1000 {
			return res, nil
		}
	}
}
