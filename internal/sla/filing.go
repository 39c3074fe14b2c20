package sla

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

var _ casework.Filer = (*Service)(nil)

// QueueFiling implements casework.Filer: a new request's acknowledge and
// resolution clocks open in its filing's transaction. The policy and the
// clocks' ids are read with the filing's reads; the clocks, their start
// events and their deadline tasks go with its writes.
func (s *Service) QueueFiling(reads *pg.Batch, category string, priority casework.Priority) casework.FilingWrites {
	p, found := new(Policy), false
	queuePolicy(reads, category, string(priority), p, &found)
	var ids []int64
	queueClockIDs(reads, 2, &ids)
	return func(ctx context.Context, tx bun.IDB, writes *pg.Batch, r *casework.Request) error {
		if !found {
			return ErrNoPolicy
		}
		o, err := s.open(ctx, tx, ids, r.ID, p, 1, r.CreatedAt, Acknowledge, Resolution)
		if err != nil {
			return err
		}
		return o.queue(writes)
	}
}

// queuePolicy adds to b the match of the first active policy, by
// precedence, whose conditions (category, priority, category kind) all
// hold; a policy with none is the catch-all. An empty priority stands for
// the category's default, which the same statement looks up. Only the
// columns opening clocks needs are read into p; found is false when no
// policy matches.
func queuePolicy(b *pg.Batch, category, priority string, p *Policy, found *bool) {
	b.QueryRow(func(row pgx.Row) error {
		err := row.Scan(&p.ID, &p.CalendarID, &p.AcknowledgeMinutes, &p.ResolutionMinutes, &p.NextResponseMinutes, &p.WarnPercent)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		*found = err == nil
		return err
	}, `SELECT id, calendar_id, acknowledge_minutes, resolution_minutes, next_response_minutes, warn_percent
	FROM sla_policies
	WHERE active
	  AND (category IS NULL OR category = $1)
	  AND (priority IS NULL OR priority = coalesce(nullif($2, ''), (SELECT default_priority FROM categories WHERE code = $1)))
	  AND (sla_kind IS NULL OR sla_kind = (SELECT sla_kind FROM categories WHERE code = $1))
	ORDER BY precedence, id LIMIT 1`, category, priority)
}

// queueClockIDs adds to b the drawing of n new clock ids: the clocks'
// deadline tasks, written beside them, carry their ids. Ids a policy
// without one of the kinds leaves unused are a gap.
func queueClockIDs(b *pg.Batch, n int, ids *[]int64) {
	b.Query(func(rows pgx.Rows) error {
		var id int64
		err := rows.Scan(&id)
		*ids = append(*ids, id)
		return err
	}, clockIDsSQL, n)
}

const clockIDsSQL = `SELECT nextval(pg_get_serial_sequence('sla_clocks', 'id')) FROM generate_series(1, $1)`

// opening is what opening clocks writes: the clocks, already at version 1
// with their deadlines, and their deadline tasks. A new clock's log is its
// start event alone, so the deadlines are derived before the insert.
type opening struct {
	clocks []*Clock
	tasks  []jobs.Task
}

// open builds the clocks of the given kinds with the policy's targets, one
// id of ids each; a kind the policy sets no target for has no clock.
func (s *Service) open(ctx context.Context, db bun.IDB, ids []int64, requestID int64, p *Policy, cycle int, at time.Time, kinds ...string) (opening, error) {
	var o opening
	cal, err := s.cals.get(ctx, db, p.CalendarID)
	if err != nil {
		return o, err
	}
	started := []Event{{At: at, Kind: "start"}}
	for i, kind := range kinds {
		target := p.target(kind)
		if target <= 0 {
			continue
		}
		d := derive(cal, target, p.WarnPercent, started, at)
		c := &Clock{ID: ids[i], RequestID: requestID, Kind: kind, Cycle: cycle, PolicyID: p.ID, CalendarID: p.CalendarID,
			TargetMinutes: target, WarnPercent: p.WarnPercent, State: d.state, DueAt: d.due, WarnAt: d.warn,
			Provisional: d.provisional, Version: 1, CreatedAt: at, UpdatedAt: at}
		o.clocks = append(o.clocks, c)
		o.tasks = append(o.tasks, deadlineTasks(c)...)
	}
	return o, nil
}

// queue adds the opening's writes to a batch of its transaction.
func (o opening) queue(b *pg.Batch) error {
	if len(o.clocks) == 0 {
		return nil
	}
	b.Exec(openClocksSQL, o.args()...)
	if len(o.tasks) == 0 {
		return nil
	}
	return jobs.EnqueueIn(b, o.tasks...)
}

// write is queue for a transaction that does not batch.
func (o opening) write(ctx context.Context, tx bun.IDB) error {
	if len(o.clocks) == 0 {
		return nil
	}
	if _, err := pg.ExecPrepared(ctx, tx, openClocksSQL, o.args()...); err != nil {
		return fmt.Errorf("open clocks: %w", err)
	}
	return jobs.EnqueueMany(ctx, tx, o.tasks)
}

// args are openClocksSQL's arguments. The clocks of one opening share
// their request, cycle, policy and start.
func (o opening) args() []any {
	n := len(o.clocks)
	ids, kinds, targets, states := make([]int64, n), make([]string, n), make([]int, n), make([]string, n)
	due, warn, provisional := make([]*time.Time, n), make([]*time.Time, n), make([]bool, n)
	for i, c := range o.clocks {
		ids[i], kinds[i], targets[i], states[i] = c.ID, c.Kind, c.TargetMinutes, c.State
		due[i], warn[i], provisional[i] = c.DueAt, c.WarnAt, c.Provisional
	}
	c := o.clocks[0]
	return []any{c.RequestID, c.Cycle, c.PolicyID, c.CalendarID, c.WarnPercent, c.CreatedAt,
		ids, kinds, targets, states, due, warn, provisional}
}

// openClocksSQL writes new clocks and their start events in one statement.
const openClocksSQL = `WITH clock AS (
	  INSERT INTO sla_clocks (id, request_id, kind, cycle, policy_id, calendar_id, target_minutes, warn_percent, state,
	    due_at, warn_at, provisional, version, created_at, updated_at)
	  OVERRIDING SYSTEM VALUE
	  SELECT id, $1, kind, $2, $3, $4, target, $5, state, due, warn, provisional, 1, $6, $6
	  FROM unnest($7::bigint[], $8::text[], $9::int[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::bool[])
	    AS u(id, kind, target, state, due, warn, provisional)
	  RETURNING id)
	INSERT INTO sla_clock_events (clock_id, at, kind) SELECT id, $6, 'start' FROM clock`
