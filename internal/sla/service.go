package sla

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// Task types of the SLA engine.
const (
	TaskDeadline  = "sla:deadline"  // a warn or due instant has come
	TaskEscalate  = "sla:escalate"  // a breach is a working day old
	TaskSweep     = "sla:sweep"     // backstop: handle every deadline that has passed
	TaskRecompute = "sla:recompute" // a calendar or policy changed
)

// DeadlinePayload names one scheduled deadline of one clock version.
type DeadlinePayload struct {
	ClockID int64  `json:"clock_id"`
	Version int    `json:"version"`
	What    string `json:"what"` // warn, due, or sweep (queued by a sweep tick)
}

// ClockPayload names a clock.
type ClockPayload struct {
	ClockID int64 `json:"clock_id"`
}

// RecomputePayload names what changed.
type RecomputePayload struct {
	CalendarID int64 `json:"calendar_id,omitempty"`
	PolicyID   int64 `json:"policy_id,omitempty"`
}

// Service is the SLA engine.
type Service struct {
	db    *bun.DB
	clock clock.Clock
	log   *slog.Logger
	cals  calendars
}

// NewService returns the SLA engine.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{db: db, clock: clk, log: log}
}

var _ casework.Observer = (*Service)(nil)

// RequestChanged moves the request's clocks with its lifecycle, in the
// same transaction as the change. (A new request's clocks open with its
// filing: QueueFiling.)
func (s *Service) RequestChanged(ctx context.Context, tx bun.Tx, c casework.Change) error {
	r, at := c.Request, c.At
	actor := &c.ActorID
	if c.ActorID == 0 {
		actor = nil
	}
	switch c.Action {
	case string(casework.ActAccept):
		return s.record(ctx, tx, r.ID, Acknowledge, "stop", "accepted", actor, at)
	case string(casework.ActReply):
		return s.each(ctx, tx, r.ID, at, actor, "public reply", [][2]string{{Acknowledge, "stop"}, {NextResponse, "stop"}})
	case string(casework.ActRequestInfo):
		if err := s.each(ctx, tx, r.ID, at, actor, "public reply", [][2]string{{Acknowledge, "stop"}, {NextResponse, "stop"}}); err != nil {
			return err
		}
		return s.record(ctx, tx, r.ID, Resolution, "pause", c.Reason, actor, at)
	case "message":
		if !c.ByEnterprise {
			return nil
		}
		if c.From == casework.WaitingEnterprise {
			if err := s.record(ctx, tx, r.ID, Resolution, "resume", "enterprise answered", actor, at); err != nil {
				return err
			}
		}
		return s.startNextResponse(ctx, tx, r, at)
	case string(casework.ActResolve):
		return s.each(ctx, tx, r.ID, at, actor, "resolved",
			[][2]string{{Acknowledge, "stop"}, {Resolution, "stop"}, {NextResponse, "stop"}})
	case string(casework.ActReopen):
		return s.record(ctx, tx, r.ID, Resolution, "resume", "reopened: "+c.Reason, actor, at)
	case string(casework.ActWithdraw), string(casework.ActConfirm), "auto_close":
		return s.each(ctx, tx, r.ID, at, actor, c.Action,
			[][2]string{{Acknowledge, "stop"}, {Resolution, "stop"}, {NextResponse, "stop"}})
	}
	// transfer, decline and assign keep every clock as it is: the enterprise
	// has waited the same time whoever holds the request.
	return nil
}

func (s *Service) each(ctx context.Context, tx bun.Tx, requestID int64, at time.Time, actor *int64, reason string, steps [][2]string) error {
	for _, st := range steps {
		if err := s.record(ctx, tx, requestID, st[0], st[1], reason, actor, at); err != nil {
			return err
		}
	}
	return nil
}

// startNextResponse opens a next-response cycle for an enterprise message,
// unless one is already running.
func (s *Service) startNextResponse(ctx context.Context, tx bun.Tx, r *casework.Request, at time.Time) error {
	var last Clock
	err := tx.NewSelect().Model(&last).Where("request_id = ? AND kind = ?", r.ID, NextResponse).OrderExpr("cycle DESC").Limit(1).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil && last.State != Stopped {
		return nil
	}
	var res Clock
	if err := tx.NewSelect().Model(&res).Where("request_id = ? AND kind = ?", r.ID, Resolution).Limit(1).Scan(ctx); err != nil {
		return nil // requests filed before the SLA engine have no clocks
	}
	var p Policy
	if err := tx.NewSelect().Model(&p).Where("id = ?", res.PolicyID).Scan(ctx); err != nil {
		return err
	}
	var ids []int64
	if err := pg.ScanPrepared(ctx, tx, &ids, clockIDsSQL, 1); err != nil {
		return err
	}
	o, err := s.open(ctx, tx, ids, r.ID, &p, last.Cycle+1, at, NextResponse)
	if err != nil {
		return err
	}
	return o.write(ctx, tx)
}

// record appends an event to the request's latest clock of kind when the
// event makes sense in the clock's state, and refreshes the clock.
func (s *Service) record(ctx context.Context, tx bun.IDB, requestID int64, kind, event, reason string, actor *int64, at time.Time) error {
	c := new(Clock)
	err := tx.NewSelect().Model(c).Where("request_id = ? AND kind = ?", requestID, kind).
		OrderExpr("cycle DESC").Limit(1).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case event == "pause" && c.State != Running,
		event == "resume" && c.State == Running,
		event == "resume" && c.State == Stopped && kind != Resolution, // only a reopen resumes a stopped clock
		event == "stop" && c.State == Stopped:
		return nil
	}
	if event == "resume" && c.State == Stopped && c.Outcome != nil && *c.Outcome == Met {
		c.Outcome = nil // it was not met after all: the enterprise reopened it
	}
	if event == "reset" {
		c.Outcome, c.WarnedAt, c.BreachedAt, c.EscalatedAt = nil, nil, nil, nil
	}
	if err := addEvent(ctx, tx, c.ID, at, event, reason, actor); err != nil {
		return err
	}
	return s.refresh(ctx, tx, []*Clock{c}, at)
}

func addEvent(ctx context.Context, tx bun.IDB, clockID int64, at time.Time, kind, reason string, actor *int64) error {
	_, err := tx.NewInsert().Model(&Event{ClockID: clockID, At: at, Kind: kind, Reason: reason, ActorID: actor}).ExcludeColumn("id").Exec(ctx)
	return err
}

// Reset restarts a clock from zero after a legal interruption. Agency leads
// may; the reason is kept in the clock's log.
func (s *Service) Reset(ctx context.Context, tx bun.IDB, requestID int64, kind, reason string, actor int64) error {
	if reason == "" {
		return invalid("reason", "重新计时须写明法定事由 / a reset needs its legal reason")
	}
	return s.record(ctx, tx, requestID, kind, "reset", reason, &actor, s.clock.Now())
}

// refresh re-derives clocks from their logs, stores the result, and
// schedules the deadline tasks of the new version. Met and breached
// outcomes, once set, are never undone here.
func (s *Service) refresh(ctx context.Context, tx bun.IDB, clocks []*Clock, now time.Time) error {
	return s.rederive(ctx, tx, clocks, now, nil)
}

// schedule is what a clock's deadline tasks depend on.
type schedule struct {
	target, warnPercent int
	state               string
	due, warn           time.Time
	provisional, over   bool
}

// scheduleOf is the clock's schedule. The instants are taken in UTC: a
// time read from the database and the same instant derived on a calendar
// differ in location, and schedules are compared with ==.
func scheduleOf(c *Clock) schedule {
	sc := schedule{target: c.TargetMinutes, warnPercent: c.WarnPercent, state: c.State, provisional: c.Provisional, over: c.OverPauseCap}
	if c.DueAt != nil {
		sc.due = c.DueAt.UTC()
	}
	if c.WarnAt != nil {
		sc.warn = c.WarnAt.UTC()
	}
	return sc
}

// rederive is refresh; with before (the clocks' schedules as stored), a
// clock whose schedule comes out the same is left as it is: no new version,
// no new deadline tasks. Its stored elapsed minutes stay those of its last
// change, which is what they always are between changes.
func (s *Service) rederive(ctx context.Context, tx bun.IDB, clocks []*Clock, now time.Time, before map[int64]schedule) error {
	if len(clocks) == 0 {
		return nil
	}
	ids := make([]int64, len(clocks))
	for i, c := range clocks {
		ids[i] = c.ID
	}
	// Only when and what: a recompute reads a million clocks' logs, and the
	// schedule depends on nothing else.
	var events []Event
	if err := tx.NewSelect().Model(&events).Column("clock_id", "at", "kind").
		Where("clock_id IN (?)", bun.List(ids)).OrderExpr("clock_id, id").Scan(ctx); err != nil {
		return err
	}
	byClock := map[int64][]Event{}
	for _, e := range events {
		byClock[e.ClockID] = append(byClock[e.ClockID], e)
	}
	policies := map[int64]*Policy{}
	var tasks []jobs.Task
	changed := make([]*Clock, 0, len(clocks))
	for _, c := range clocks {
		cal, err := s.cals.get(ctx, tx, c.CalendarID)
		if err != nil {
			return err
		}
		d := derive(cal, c.TargetMinutes, c.WarnPercent, byClock[c.ID], now)
		c.State, c.ElapsedMinutes, c.PausedMinutes, c.PauseCount = d.state, d.elapsed, d.paused, len(d.pauses)
		c.DueAt, c.WarnAt, c.Provisional, c.StoppedAt = d.due, d.warn, d.provisional, d.stoppedAt
		if c.State == Stopped && c.Outcome == nil && len(byClock[c.ID]) > 0 {
			outcome := Met
			if d.elapsed > c.TargetMinutes {
				// Stopped late before any deadline task ran: it is still a breach.
				outcome = Breached
				if c.BreachedAt == nil {
					c.BreachedAt = d.due
					if err := s.recordBreach(ctx, tx, c, 1, *d.due); err != nil {
						return err
					}
				}
			}
			c.Outcome = &outcome
		}
		p, ok := policies[c.PolicyID]
		if !ok {
			p = new(Policy)
			if err := tx.NewSelect().Model(p).Where("id = ?", c.PolicyID).Scan(ctx); err != nil {
				return err
			}
			policies[c.PolicyID] = p
		}
		c.OverPauseCap = (p.MaxPauses != nil && c.PauseCount > *p.MaxPauses) ||
			(p.MaxPauseMinutes != nil && c.PausedMinutes > *p.MaxPauseMinutes)
		if old, ok := before[c.ID]; ok && old == scheduleOf(c) {
			continue
		}
		c.Version++
		c.UpdatedAt = now
		changed = append(changed, c)
		tasks = append(tasks, deadlineTasks(c)...)
	}
	if len(changed) == 0 {
		return nil
	}
	if err := storeClocks(ctx, tx, changed); err != nil {
		return fmt.Errorf("store clocks: %w", err)
	}
	return jobs.EnqueueMany(ctx, tx, tasks)
}

// storeClocks writes the derived fields of clocks in one statement, a
// column array each: a recompute batch of thousands costs one statement,
// short to send and to plan, instead of a VALUES list of thousands of rows.
func storeClocks(ctx context.Context, tx bun.IDB, clocks []*Clock) error {
	_, err := tx.NewRaw(`UPDATE sla_clocks c SET target_minutes = u.target_minutes, state = u.state, outcome = u.outcome,
		  elapsed_minutes = u.elapsed_minutes, paused_minutes = u.paused_minutes, pause_count = u.pause_count,
		  over_pause_cap = u.over_pause_cap, due_at = u.due_at, warn_at = u.warn_at, provisional = u.provisional,
		  warned_at = u.warned_at, breached_at = u.breached_at, escalated_at = u.escalated_at, stopped_at = u.stopped_at,
		  version = u.version, updated_at = u.updated_at
		FROM unnest(?::bigint[], ?::int[], ?::text[], ?::text[], ?::int[], ?::int[], ?::int[], ?::boolean[],
		  ?::timestamptz[], ?::timestamptz[], ?::boolean[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[],
		  ?::int[], ?::timestamptz[])
		  AS u(id, target_minutes, state, outcome, elapsed_minutes, paused_minutes, pause_count, over_pause_cap,
		  due_at, warn_at, provisional, warned_at, breached_at, escalated_at, stopped_at, version, updated_at)
		WHERE c.id = u.id`,
		column(clocks, func(c *Clock) int64 { return c.ID }),
		column(clocks, func(c *Clock) int { return c.TargetMinutes }),
		column(clocks, func(c *Clock) string { return c.State }),
		column(clocks, func(c *Clock) *string { return c.Outcome }),
		column(clocks, func(c *Clock) int { return c.ElapsedMinutes }),
		column(clocks, func(c *Clock) int { return c.PausedMinutes }),
		column(clocks, func(c *Clock) int { return c.PauseCount }),
		column(clocks, func(c *Clock) bool { return c.OverPauseCap }),
		column(clocks, func(c *Clock) *time.Time { return c.DueAt }),
		column(clocks, func(c *Clock) *time.Time { return c.WarnAt }),
		column(clocks, func(c *Clock) bool { return c.Provisional }),
		column(clocks, func(c *Clock) *time.Time { return c.WarnedAt }),
		column(clocks, func(c *Clock) *time.Time { return c.BreachedAt }),
		column(clocks, func(c *Clock) *time.Time { return c.EscalatedAt }),
		column(clocks, func(c *Clock) *time.Time { return c.StoppedAt }),
		column(clocks, func(c *Clock) int { return c.Version }),
		column(clocks, func(c *Clock) time.Time { return c.UpdatedAt }),
	).Exec(ctx)
	return err
}

// column is one field of every clock as a PostgreSQL array.
func column[T any](clocks []*Clock, field func(*Clock) T) *pgdialect.ArrayValue {
	out := make([]T, len(clocks))
	for i, c := range clocks {
		out[i] = field(c)
	}
	return pgdialect.Array(out)
}

// deadlineTasks is the next deadline task of a running clock's version:
// its warning while that is still to come, else its due instant. The
// warning schedules the due task when it is handled (check), so a clock
// has one task waiting at a time: a filing writes, relays and keeps in
// Redis half the tasks it would with both at once. A task of an older
// version finds the version moved on and does nothing.
func deadlineTasks(c *Clock) []jobs.Task {
	if c.State != Running {
		return nil
	}
	if c.WarnedAt == nil && c.WarnAt != nil {
		return []jobs.Task{{Type: TaskDeadline, Queue: jobs.QueueCritical, ProcessAt: *c.WarnAt,
			Key: fmt.Sprintf("sla:%d:warn:%d", c.ID, c.Version), Payload: DeadlinePayload{c.ID, c.Version, "warn"}}}
	}
	if c.BreachedAt == nil && c.DueAt != nil {
		return []jobs.Task{{Type: TaskDeadline, Queue: jobs.QueueCritical, ProcessAt: *c.DueAt,
			Key: fmt.Sprintf("sla:%d:due:%d", c.ID, c.Version), Payload: DeadlinePayload{c.ID, c.Version, "due"}}}
	}
	return nil
}

// Deadline handles a scheduled warn or due task. A superseded version does
// nothing; the current one re-checks the clock against the time now.
func (s *Service) Deadline(ctx context.Context, p DeadlinePayload) error {
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c := new(Clock)
		if err := tx.NewSelect().Model(c).Where("id = ?", p.ClockID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		if c.Version != p.Version {
			return nil
		}
		return s.check(ctx, tx, c, s.clock.Now())
	})
}

// check fires a clock's warning and breach if their time has come. Each
// fires once: warned_at and breached_at are set in the same transaction.
func (s *Service) check(ctx context.Context, tx bun.Tx, c *Clock, now time.Time) error {
	if c.State != Running {
		return nil
	}
	if c.WarnedAt == nil && c.WarnAt != nil && !now.Before(*c.WarnAt) {
		c.WarnedAt = &now
		if _, err := tx.NewUpdate().Model(c).Column("warned_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, c, now, "sla_warning", true); err != nil {
			return err
		}
		if err := s.tell(ctx, tx, "warn", c, now); err != nil {
			return err
		}
		if c.DueAt != nil && now.Before(*c.DueAt) {
			// The due task follows the warning (deadlineTasks).
			if err := jobs.EnqueueMany(ctx, tx, deadlineTasks(c)); err != nil {
				return err
			}
		}
	}
	if c.BreachedAt == nil && c.DueAt != nil && !now.Before(*c.DueAt) {
		breached := Breached
		c.BreachedAt, c.Outcome = c.DueAt, &breached
		if _, err := tx.NewUpdate().Model(c).Column("breached_at", "outcome").WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := s.recordBreach(ctx, tx, c, 1, *c.DueAt); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, c, now, "sla_breached", false); err != nil {
			return err
		}
		if err := s.tell(ctx, tx, "breach", c, now); err != nil {
			return err
		}
		cal, err := s.cals.get(ctx, tx, c.CalendarID)
		if err != nil {
			return err
		}
		escalateAt, _ := cal.Add(*c.DueAt, cal.MinutesPerDay())
		return jobs.Enqueue(ctx, tx, jobs.Task{Type: TaskEscalate, Queue: jobs.QueueCritical, ProcessAt: escalateAt,
			Key: fmt.Sprintf("sla:%d:escalate", c.ID), Payload: ClockPayload{c.ID}})
	}
	return nil
}

func (s *Service) recordBreach(ctx context.Context, tx bun.IDB, c *Clock, level int, at time.Time) error {
	_, err := tx.NewRaw(`INSERT INTO sla_breaches (clock_id, request_id, agency_id, assignee_id, clock_kind, level, at)
		SELECT ?, r.id, r.agency_id, r.assignee_id, ?, ?, ? FROM requests r WHERE r.id = ?
		ON CONFLICT (clock_id, level) DO NOTHING`, c.ID, c.Kind, level, at, c.RequestID).Exec(ctx)
	return err
}

func (s *Service) timeline(ctx context.Context, tx bun.IDB, c *Clock, at time.Time, kind string, internal bool) error {
	return casework.AddEvent(ctx, tx, c.RequestID, at, nil, kind, internal, map[string]any{
		"clock": c.Kind, "cycle": c.Cycle, "due_at": c.DueAt, "target_minutes": c.TargetMinutes})
}

// Escalate acts on a breach still open a working day later: the oversight
// office is told and a level-2 breach recorded.
func (s *Service) Escalate(ctx context.Context, p ClockPayload) error {
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c := new(Clock)
		if err := tx.NewSelect().Model(c).Where("id = ?", p.ClockID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		return s.escalate(ctx, tx, c, s.clock.Now())
	})
}

func (s *Service) escalate(ctx context.Context, tx bun.Tx, c *Clock, now time.Time) error {
	if c.EscalatedAt != nil || c.BreachedAt == nil || c.State == Stopped {
		return nil
	}
	cal, err := s.cals.get(ctx, tx, c.CalendarID)
	if err != nil {
		return err
	}
	if at, _ := cal.Add(*c.BreachedAt, cal.MinutesPerDay()); now.Before(at) {
		return nil // early (a sweep or a clock moved): the scheduled task comes back
	}
	c.EscalatedAt = &now
	if _, err := tx.NewUpdate().Model(c).Column("escalated_at").WherePK().Exec(ctx); err != nil {
		return err
	}
	if err := s.recordBreach(ctx, tx, c, 2, now); err != nil {
		return err
	}
	if err := s.timeline(ctx, tx, c, now, "sla_escalated", true); err != nil {
		return err
	}
	if err := s.tell(ctx, tx, "escalate", c, now); err != nil {
		return err
	}
	var reassign bool
	if err := tx.NewSelect().Model((*Policy)(nil)).Column("reassign_on_escalation").Where("id = ?", c.PolicyID).Scan(ctx, &reassign); err != nil {
		return err
	}
	if !reassign {
		return nil
	}
	return casework.Reroute(ctx, tx, c.RequestID, now,
		fmt.Sprintf("%s时限超时一个工作日，按规则改派 / reassigned: the %s deadline passed a working day ago", clockNames[c.Kind], c.Kind))
}

// Sweep is the backstop for deadline tasks that never ran (Redis was down,
// a task was lost). A tick reads only the clocks whose warning, deadline or
// escalation has come, through partial indexes on warn_at, due_at and
// breached_at, and queues a task for each in one statement: the workers
// handle them as they handle the scheduled ones. The handlers re-read the
// clock and act only on what is due, so a task that was merely late (and
// still runs) and its sweep copy together act once. The keys carry a
// ten-minute bucket: a clock still due ten minutes later (the workers are
// behind or down) is queued again, not every minute. It returns how many
// clocks it queued.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var due []struct {
		ID       int64 `bun:"id"`
		Version  int   `bun:"version"`
		Escalate bool  `bun:"escalate"`
	}
	// Each part reads its partial index in deadline order, most overdue
	// first. Without the order and limit the planner, which cannot tell
	// that few clocks past their deadline are still running, expected a
	// fifth of the table and sent each part to parallel workers: 60–150 ms
	// for a thousand rows instead of a few milliseconds.
	err := s.db.NewRaw(`
		(SELECT id, version, false AS escalate FROM sla_clocks WHERE state = 'running' AND breached_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT 5000)
		UNION (SELECT id, version, false FROM sla_clocks WHERE state = 'running' AND warned_at IS NULL AND warn_at <= ? ORDER BY warn_at LIMIT 5000)
		UNION (SELECT id, version, true FROM sla_clocks WHERE state <> 'stopped' AND escalated_at IS NULL AND breached_at <= ? ORDER BY breached_at LIMIT 5000)
		LIMIT 5000`, now, now, now.Add(-24*time.Hour)).Scan(ctx, &due)
	if err != nil {
		return 0, err
	}
	bucket := now.Unix() / 600
	tasks := make([]jobs.Task, len(due))
	for i, c := range due {
		if c.Escalate {
			tasks[i] = jobs.Task{Type: TaskEscalate, Queue: jobs.QueueCritical,
				Key: fmt.Sprintf("sla:%d:escalate:sweep:%d", c.ID, bucket), Payload: ClockPayload{c.ID}}
			continue
		}
		tasks[i] = jobs.Task{Type: TaskDeadline, Queue: jobs.QueueCritical,
			Key: fmt.Sprintf("sla:%d:sweep:%d:%d", c.ID, c.Version, bucket), Payload: DeadlinePayload{c.ID, c.Version, "sweep"}}
	}
	if err := jobs.EnqueueMany(ctx, s.db, tasks); err != nil {
		return 0, err
	}
	return len(due), nil
}

// Recompute re-derives every open clock of a calendar or policy after an
// administrator changed it. Policy targets are re-read; outcomes already
// met or breached stay. Only clocks whose deadlines move get a new version
// and new deadline tasks (an edit next month leaves this week's deadlines
// alone). Batches of 2,000 clocks, read by id from the open clocks'
// index (each starts where the last ended), run two at a time, each in
// its own transaction: its events in one query, the derivation in Go, the
// moved clocks in one UPDATE and their tasks in one INSERT. A million open
// clocks take about 20 s on two cores.
func (s *Service) Recompute(ctx context.Context, p RecomputePayload) (int, error) {
	now := s.clock.Now()
	if p.CalendarID != 0 {
		s.cals.forget(p.CalendarID) // the edit that queued this must be seen now
	}
	var pol *Policy
	if p.PolicyID != 0 {
		pol = new(Policy)
		if err := s.db.NewSelect().Model(pol).Where("id = ?", p.PolicyID).Scan(ctx); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []*Clock)
	errc := make(chan error, 3)
	const workers = 2
	for range workers {
		go func() {
			for clocks := range batches {
				before := make(map[int64]schedule, len(clocks))
				for _, c := range clocks {
					before[c.ID] = scheduleOf(c)
					if pol != nil && c.Outcome == nil {
						if t := pol.target(c.Kind); t > 0 {
							c.TargetMinutes, c.WarnPercent = t, pol.WarnPercent
						}
					}
				}
				if err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
					return s.rederive(ctx, tx, clocks, now, before)
				}); err != nil {
					errc <- err
					cancel()
					for range batches { // let the reader finish
					}
					return
				}
			}
			errc <- nil
		}()
	}
	var after int64
	total := 0
	var readErr error
	for {
		var clocks []*Clock
		q := s.db.NewSelect().Model(&clocks).Where("state <> 'stopped'").Where("id > ?", after).OrderExpr("id").Limit(2000)
		if p.CalendarID != 0 {
			q.Where("calendar_id = ?", p.CalendarID)
		}
		if p.PolicyID != 0 {
			q.Where("policy_id = ?", p.PolicyID)
		}
		if err := q.Scan(ctx); err != nil {
			readErr = err
			break
		}
		if len(clocks) == 0 {
			break
		}
		after = clocks[len(clocks)-1].ID
		total += len(clocks)
		select {
		case batches <- clocks:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(batches)
	var err error
	for range workers {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = readErr
	}
	return total, err
}
