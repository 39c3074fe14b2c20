package sla

import (
	"context"
	"sort"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/pg"
)

// View is one clock as the API shows it.
type View struct {
	Kind             string
	Cycle            int
	State            string // running, paused, met, breached
	DueAt            *time.Time
	RemainingMinutes int // working minutes; negative once overdue
	TargetMinutes    int
	Provisional      bool
	PausedMinutes    int
	Pauses           []Pause
	OverPauseCap     bool
}

// Block is a request's clocks: the latest cycle of each kind.
type Block struct {
	Acknowledge, Resolution, NextResponse *View
}

// Urgent returns the earliest deadline of a running clock (nil when none),
// to order work queues by.
func (b Block) Urgent() *time.Time {
	var best *time.Time
	for _, v := range []*View{b.Acknowledge, b.Resolution, b.NextResponse} {
		if v != nil && v.DueAt != nil && (v.State == Running || v.State == Breached) && (best == nil || v.DueAt.Before(*best)) {
			best = v.DueAt
		}
	}
	return best
}

// blocksSQL reads the clocks of requests with their logs, prepared: the
// same text for one request or fifty.
const blocksSQL = `SELECT request_id, kind, cycle, calendar_id, target_minutes, warn_percent, outcome, over_pause_cap,
	  (SELECT json_agg(json_build_object('at', e.at, 'kind', e.kind, 'reason', e.reason) ORDER BY e.id)
	   FROM sla_clock_events e WHERE e.clock_id = clock.id) AS events
	FROM sla_clocks AS clock WHERE request_id = ANY($1) ORDER BY request_id, kind, cycle`

// Blocks returns the clocks of the given requests, derived as of now.
func (s *Service) Blocks(ctx context.Context, requestIDs []int64) (map[int64]Block, error) {
	out := map[int64]Block{}
	if len(requestIDs) == 0 {
		return out, nil
	}
	// The clocks with their logs in one statement: a list page shows fifty
	// requests, and every page and every filing reads this. Only the
	// columns a view is derived from: scanning every column of a hundred
	// clocks (eight timestamps each) was a third of a list page's CPU.
	var clocks []struct {
		RequestID     int64   `bun:"request_id"`
		Kind          string  `bun:"kind"`
		Cycle         int     `bun:"cycle"`
		CalendarID    int64   `bun:"calendar_id"`
		TargetMinutes int     `bun:"target_minutes"`
		WarnPercent   int     `bun:"warn_percent"`
		Outcome       *string `bun:"outcome"`
		OverPauseCap  bool    `bun:"over_pause_cap"`
		Events        []Event `bun:"events,type:jsonb"`
	}
	if err := pg.ScanPrepared(ctx, s.db, &clocks, blocksSQL, requestIDs); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for _, c := range clocks { // ordered by cycle: later cycles overwrite earlier ones
		cal, err := s.cals.get(ctx, s.db, c.CalendarID)
		if err != nil {
			return nil, err
		}
		d := derive(cal, c.TargetMinutes, c.WarnPercent, c.Events, now)
		v := &View{Kind: c.Kind, Cycle: c.Cycle, State: d.state, DueAt: d.due, TargetMinutes: c.TargetMinutes,
			RemainingMinutes: c.TargetMinutes - d.elapsed, Provisional: d.provisional, PausedMinutes: d.paused,
			Pauses: d.pauses, OverPauseCap: c.OverPauseCap}
		switch {
		case c.Outcome != nil && (d.state == Stopped || *c.Outcome == Breached):
			v.State = *c.Outcome
		case d.state == Running && d.due != nil && !now.Before(*d.due):
			v.State = Breached // past due; the breach task is on its way
		}
		b := out[c.RequestID]
		switch c.Kind {
		case Acknowledge:
			b.Acknowledge = v
		case Resolution:
			b.Resolution = v
		case NextResponse:
			b.NextResponse = v
		}
		out[c.RequestID] = b
	}
	return out, nil
}

// SortByUrgency orders request ids by their earliest running deadline;
// requests with no running clock keep their order, after the rest.
func SortByUrgency(ids []int64, blocks map[int64]Block) {
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := blocks[ids[i]].Urgent(), blocks[ids[j]].Urgent()
		switch {
		case a == nil:
			return false
		case b == nil:
			return true
		}
		return a.Before(*b)
	})
}

// AcknowledgeDue is when each request's acknowledge clock runs out, which
// is how long an officer has to accept an offer made at t; db is the
// routing transaction. Without a running clock (no policy matched at
// filing) an offer gets two hours.
func (s *Service) AcknowledgeDue(ctx context.Context, db bun.IDB, requestIDs []int64, t time.Time) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(requestIDs))
	for _, id := range requestIDs {
		out[id] = t.Add(2 * time.Hour)
	}
	var rows []struct {
		RequestID int64     `bun:"request_id"`
		DueAt     time.Time `bun:"due_at"`
	}
	err := db.NewSelect().Table("sla_clocks").Column("request_id", "due_at").
		Where("request_id IN (?) AND kind = ? AND state = ? AND due_at IS NOT NULL", bun.List(requestIDs), Acknowledge, Running).
		Scan(ctx, &rows)
	for _, r := range rows {
		if !r.DueAt.Before(t) {
			out[r.RequestID] = r.DueAt
		}
	}
	return out, err
}
