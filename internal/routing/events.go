package routing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// OfferExpired handles the end of an offer's acknowledge window. If the
// offer still stands untouched (same version, still assigned), the officer
// missed it: it goes to the next candidate, or after MaxMisses to the lead.
func (e *Engine) OfferExpired(ctx context.Context, p OfferPayload) error {
	return pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := casework.Lookup(ctx, tx, p.RequestID, true)
		if err != nil {
			return err
		}
		if r.Status != casework.Assigned || r.Version != p.Version || r.AssigneeID == nil {
			return nil // accepted, reassigned or withdrawn in time
		}
		now := e.clock.Now()
		missed := *r.AssigneeID
		if _, err := tx.NewRaw(`INSERT INTO request_declines (request_id, user_id, reason, at) VALUES (?, ?, 'offer not accepted in time', ?)
			ON CONFLICT DO NOTHING`, r.ID, missed, now).Exec(ctx); err != nil {
			return err
		}
		var misses int
		if err := tx.NewRaw("UPDATE requests SET offer_misses = offer_misses + 1 WHERE id = ? RETURNING offer_misses", r.ID).Scan(ctx, &misses); err != nil {
			return err
		}
		if err := casework.AddEvent(ctx, tx, r.ID, now, nil, "offer_expired", false,
			map[string]any{"missed_by": missed, "misses": misses}); err != nil {
			return err
		}
		if misses >= e.maxMisses {
			return e.toPool(ctx, tx, r, *r.AgencyID, PoolOfferMissed, now, map[string]any{})
		}
		r.Status, r.AssigneeID = casework.Submitted, nil
		if err := e.cases.Save(ctx, tx, r, "status", "assignee_id"); err != nil {
			return err
		}
		_, err = e.assign(ctx, tx, r.ID)
		return err
	})
}

// Drain tries to place the agency's pooled requests that wait for
// capacity, most urgent first, and stops at the first that still finds
// nobody (the rest would not either, short of skills).
func (e *Engine) Drain(ctx context.Context, agencyID int64) (int, error) {
	var ids []int64
	err := e.db.NewRaw(`SELECT id FROM requests WHERE status = 'submitted' AND pool_reason = ? AND agency_id = ?
		ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id LIMIT 100`,
		PoolNoEligible, agencyID).Scan(ctx, &ids)
	if err != nil {
		return 0, err
	}
	placed := 0
	for _, id := range ids {
		var ex *Explanation
		err := pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewRaw("UPDATE requests SET pool_reason = NULL WHERE id = ? AND status = 'submitted' AND pool_reason = ?", id, PoolNoEligible).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			ex, err = e.assign(ctx, tx, id)
			return err
		})
		if err != nil {
			return placed, err
		}
		if ex != nil && ex.Outcome == "assigned" {
			placed++
		}
	}
	return placed, nil
}

// OfficerChanged re-routes the not-yet-accepted requests of an officer who
// went off duty or was disabled (accepted ones stay; the lead sees them
// flagged), then drains the agency pool, since an officer coming on duty
// or getting more capacity may take pooled work.
func (e *Engine) OfficerChanged(ctx context.Context, userID int64) error {
	var st struct {
		AgencyID sql64 `bun:"agency_id"`
		Active   bool  `bun:"active"`
	}
	err := e.db.NewRaw(`SELECT u.agency_id, (u.disabled_at IS NULL AND coalesce(p.on_duty, false)) AS active
		FROM users u LEFT JOIN officer_profiles p ON p.user_id = u.id WHERE u.id = ?`, userID).Scan(ctx, &st)
	if err != nil {
		return err
	}
	if !st.Active {
		var ids []int64
		if err := e.db.NewRaw("SELECT id FROM requests WHERE assignee_id = ? AND status = 'assigned'", userID).Scan(ctx, &ids); err != nil {
			return err
		}
		for _, id := range ids {
			err := pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
				r, err := casework.Lookup(ctx, tx, id, true)
				if err != nil || r.Status != casework.Assigned || r.AssigneeID == nil || *r.AssigneeID != userID {
					return err
				}
				now := e.clock.Now()
				r.Status, r.AssigneeID = casework.Submitted, nil
				if err := e.cases.Save(ctx, tx, r, "status", "assignee_id"); err != nil {
					return err
				}
				if err := casework.AddEvent(ctx, tx, r.ID, now, nil, "unassigned", false,
					map[string]any{"officer_id": userID, "why": "officer off duty or disabled"}); err != nil {
					return err
				}
				_, err = e.assign(ctx, tx, r.ID)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	if st.AgencyID != 0 {
		_, err := e.Drain(ctx, int64(st.AgencyID))
		return err
	}
	return nil
}

type sql64 int64

// Scan lets a NULL agency read as 0.
func (v *sql64) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*v = 0
	case int64:
		*v = sql64(x)
	default:
		return fmt.Errorf("sql64: %T", src)
	}
	return nil
}

// Reconcile routes requests left waiting for routing longer than stale
// (their task was lost, or Redis was down for long), and drains every
// agency pool once. It is the scheduler's backstop, not the normal path.
func (e *Engine) Reconcile(ctx context.Context, stale time.Duration) (int, error) {
	var ids []int64
	if err := e.db.NewRaw(`SELECT id FROM requests WHERE status = 'submitted' AND pool_reason IS NULL AND updated_at < ? ORDER BY id LIMIT 500`,
		e.clock.Now().Add(-stale)).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		ex, err := e.Assign(ctx, id)
		if err != nil {
			return n, err
		}
		if ex != nil {
			n++
		}
	}
	var agencies []int64
	if err := e.db.NewRaw(`SELECT DISTINCT agency_id FROM requests WHERE status = 'submitted' AND pool_reason = ?`, PoolNoEligible).Scan(ctx, &agencies); err != nil {
		return n, err
	}
	for _, a := range agencies {
		if _, err := e.Drain(ctx, a); err != nil {
			return n, err
		}
	}
	return n, nil
}

// RequestChanged implements casework.Observer: when a request stops
// counting against an officer (resolved, withdrawn, moved on), the agency
// pool may move; a lead's manual assignment clears the pool state.
func (e *Engine) RequestChanged(ctx context.Context, tx bun.Tx, c casework.Change) error {
	switch casework.Action(c.Action) {
	case casework.ActAssign:
		_, err := tx.NewRaw("UPDATE requests SET pool_reason = NULL, offered_at = ? WHERE id = ?", c.At, c.Request.ID).Exec(ctx)
		return err
	case casework.ActResolve, casework.ActWithdraw, casework.ActTransfer, casework.ActDecline:
	default:
		return nil
	}
	if c.FromAgencyID == 0 {
		return nil
	}
	return jobs.Enqueue(ctx, tx, jobs.Task{Type: TaskDrain, Queue: jobs.QueueCritical,
		Key:     fmt.Sprintf("drain:%d:%d:%d", c.FromAgencyID, c.Request.ID, c.Request.Version),
		Payload: DrainPayload{AgencyID: c.FromAgencyID}})
}

var _ casework.Observer = (*Engine)(nil)
