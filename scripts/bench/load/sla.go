package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/workcal"
	"greenchannel/internal/sla"
)

// runClocks gives every loaded request the SLA clocks the product would
// have kept for it, in the state its status implies at load time: an
// acknowledge clock stopped at acceptance (met or breached), a resolution
// clock running, paused (waiting for the enterprise) or stopped at
// resolution or withdrawal; deadlines that passed before now are marked
// warned, breached and escalated as the deadline tasks would have; the
// breaches are in sla_breaches and most closed requests carry the
// enterprise's rating. Targets, warn shares and calendars are the
// matching policy's, deadlines are counted on the product's own working
// calendar. Clocks, events, breaches and ratings are COPYed.
func runClocks(args []string) error {
	fs := flag.NewFlagSet("clocks", flag.ExitOnError)
	db := dbFlag(fs)
	reload := fs.Bool("reload", false, "drop the loaded clocks, breaches and ratings first (a fresh start for the sweep)")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 3)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *reload {
		if _, err := pool.Exec(ctx, `TRUNCATE sla_clock_events, sla_breaches, request_feedback, sla_clocks`); err != nil {
			return err
		}
	}
	p, err := openProduct(ctx, *db)
	if err != nil {
		return err
	}
	defer p.db.Close()

	// Requests loaded after the clocks (the open set) get theirs; the
	// clocks already loaded are kept.
	var missing bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM requests r
		WHERE NOT EXISTS (SELECT 1 FROM sla_clocks c WHERE c.request_id = r.id))`).Scan(&missing); err != nil {
		return err
	}
	if !missing {
		var have, open int64
		if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'stopped') FROM sla_clocks`).Scan(&have, &open); err != nil {
			return err
		}
		fmt.Printf("  clocks: %d clocks (%d open) already loaded; kept\n", have, open)
		return emit(os.Getenv("BENCH_RESULTS"), record{"C.clocks.total", float64(have), ""}, record{"C.clocks.open", float64(open), ""})
	}
	pols, err := loadPolicies(ctx, pool)
	if err != nil {
		return err
	}
	cals := map[int64]*workcal.Calendar{}
	rows, err := pool.Query(ctx, `SELECT id, code FROM calendars`)
	if err != nil {
		return err
	}
	calCode := map[int64]string{}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return err
		}
		calCode[id] = code
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for id, code := range calCode {
		c, err := p.sla.CalendarByCode(ctx, code)
		if err != nil {
			return err
		}
		cals[id] = c
	}

	now := time.Now().UTC()
	t0 := time.Now()
	var base int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM sla_clocks`).Scan(&base); err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return err
	}
	// Generated from one pass over the requests; the rows are held in memory
	// (about 1 GB at a million requests) and COPYed table by table.
	reqs, err := pool.Query(ctx, `SELECT r.id, r.category, r.priority, r.status, r.created_at, r.accepted_at, r.resolved_at,
		r.closed_at, r.updated_at, r.agency_id, r.assignee_id, r.created_by FROM requests r
		WHERE NOT EXISTS (SELECT 1 FROM sla_clocks c WHERE c.request_id = r.id) ORDER BY r.id`)
	if err != nil {
		return err
	}
	g := rand.New(rand.NewPCG(7, 11))
	var clocks, events, breaches, feedback [][]any
	nextID := base
	open := 0
	for reqs.Next() {
		var r loadedRequest
		if err := reqs.Scan(&r.id, &r.category, &r.priority, &r.status, &r.created, &r.accepted, &r.resolved, &r.closed,
			&r.updated, &r.agency, &r.assignee, &r.author); err != nil {
			return err
		}
		pol := pols.match(r.category, r.priority)
		if pol == nil {
			return fmt.Errorf("request %d: no policy matches %s/%s", r.id, r.category, r.priority)
		}
		cal := cals[pol.CalendarID]
		for _, kind := range []string{sla.Acknowledge, sla.Resolution} {
			nextID++
			c := clockFor(g, cal, pol, &r, kind, now)
			if c.state != sla.Stopped {
				open++
			}
			clocks = append(clocks, c.row(nextID, &r, pol, kind))
			for _, e := range c.events {
				events = append(events, []any{nextID, e.at, e.kind, e.reason})
			}
			if c.breachedAt != nil {
				breaches = append(breaches, []any{nextID, r.id, r.agency, r.assignee, kind, 1, *c.breachedAt})
				if c.escalatedAt != nil {
					breaches = append(breaches, []any{nextID, r.id, r.agency, r.assignee, kind, 2, *c.escalatedAt})
				}
			}
		}
		if r.status == "closed" && r.resolved != nil && g.IntN(100) < 60 {
			feedback = append(feedback, []any{r.id, r.author, rating(g), "", r.closed.Add(-time.Duration(g.IntN(3600)) * time.Second)})
		}
	}
	if err := reqs.Err(); err != nil {
		return err
	}
	if len(clocks) == 0 {
		return errors.New("no requests loaded (run `load bulkload` first)")
	}
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"sla_clocks", []string{"id", "request_id", "kind", "cycle", "policy_id", "calendar_id", "target_minutes", "warn_percent", "state",
			"outcome", "elapsed_minutes", "paused_minutes", "pause_count", "over_pause_cap", "due_at", "warn_at", "provisional",
			"warned_at", "breached_at", "escalated_at", "stopped_at", "version", "created_at", "updated_at"}, clocks},
		{"sla_clock_events", []string{"clock_id", "at", "kind", "reason"}, events},
		{"sla_breaches", []string{"clock_id", "request_id", "agency_id", "assignee_id", "clock_kind", "level", "at"}, breaches},
		{"request_feedback", []string{"request_id", "author_id", "rating", "comment", "created_at"}, feedback},
	} {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", t.table, err)
		}
	}
	if _, err := conn.Exec(ctx, `RESET session_replication_role`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('sla_clocks', 'id'), $1)`, nextID); err != nil {
		return err
	}
	for _, t := range []string{"sla_clocks", "sla_clock_events", "sla_breaches", "request_feedback"} {
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE `+t); err != nil {
			return err
		}
	}
	fmt.Printf("  clocks: %d clocks (%d open), %d events, %d breaches, %d ratings in %.1fs\n",
		len(clocks), open, len(events), len(breaches), len(feedback), time.Since(t0).Seconds())
	var total, allOpen int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'stopped') FROM sla_clocks`).Scan(&total, &allOpen); err != nil {
		return err
	}
	return emit(os.Getenv("BENCH_RESULTS"), record{"C.clocks.total", float64(total), ""}, record{"C.clocks.open", float64(allOpen), ""})
}

func rating(g *rand.Rand) int {
	switch n := g.IntN(100); {
	case n < 55:
		return 5
	case n < 82:
		return 4
	case n < 92:
		return 3
	case n < 97:
		return 2
	default:
		return 1
	}
}

type loadedRequest struct {
	id                         int64
	category, priority, status string
	created                    time.Time
	accepted, resolved, closed *time.Time
	updated                    time.Time
	agency, assignee           *int64
	author                     int64
}

type policySet struct {
	list    []sla.Policy
	catKind map[string]*string
}

func loadPolicies(ctx context.Context, pool *pgxpool.Pool) (*policySet, error) {
	ps := &policySet{catKind: map[string]*string{}}
	rows, err := pool.Query(ctx, `SELECT id, category, priority, sla_kind, calendar_id, acknowledge_minutes, resolution_minutes,
		warn_percent, max_pauses, max_pause_minutes FROM sla_policies WHERE active ORDER BY precedence, id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p sla.Policy
		if err := rows.Scan(&p.ID, &p.Category, &p.Priority, &p.SLAKind, &p.CalendarID, &p.AcknowledgeMinutes, &p.ResolutionMinutes,
			&p.WarnPercent, &p.MaxPauses, &p.MaxPauseMinutes); err != nil {
			return nil, err
		}
		ps.list = append(ps.list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT code, sla_kind FROM categories`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code string
		var kind *string
		if err := rows.Scan(&code, &kind); err != nil {
			return nil, err
		}
		ps.catKind[code] = kind
	}
	return ps, rows.Err()
}

// match is the product's matchPolicy rule: the first active policy by
// precedence whose category, priority and category kind all hold.
func (ps *policySet) match(category, priority string) *sla.Policy {
	for i := range ps.list {
		p := &ps.list[i]
		if p.Category != nil && *p.Category != category {
			continue
		}
		if p.Priority != nil && *p.Priority != priority {
			continue
		}
		if p.SLAKind != nil && (ps.catKind[category] == nil || *ps.catKind[category] != *p.SLAKind) {
			continue
		}
		return p
	}
	return nil
}

type clockEvent struct {
	at           time.Time
	kind, reason string
}

type loadedClock struct {
	state                                   string
	outcome                                 *string
	elapsed, paused, pauses                 int
	due, warn                               *time.Time
	warnedAt, breachedAt, escalatedAt, stop *time.Time
	events                                  []clockEvent
}

func (c *loadedClock) row(id int64, r *loadedRequest, p *sla.Policy, kind string) []any {
	target := p.AcknowledgeMinutes
	if kind == sla.Resolution {
		target = p.ResolutionMinutes
	}
	overCap := (p.MaxPauses != nil && c.pauses > *p.MaxPauses) || (p.MaxPauseMinutes != nil && c.paused > *p.MaxPauseMinutes)
	updated := r.created
	if n := len(c.events); n > 0 {
		updated = c.events[n-1].at
	}
	return []any{id, r.id, kind, 1, p.ID, p.CalendarID, target, p.WarnPercent, c.state, c.outcome, c.elapsed, c.paused, c.pauses,
		overCap, c.due, c.warn, false, c.warnedAt, c.breachedAt, c.escalatedAt, c.stop, 1 + len(c.events), r.created, updated}
}

// clockFor is what the product's derive() stores for the simple logs a
// loaded request has: start; start, stop; start, pause.
func clockFor(g *rand.Rand, cal *workcal.Calendar, p *sla.Policy, r *loadedRequest, kind string, now time.Time) loadedClock {
	target := p.AcknowledgeMinutes
	if kind == sla.Resolution {
		target = p.ResolutionMinutes
	}
	warnTarget := int(math.Ceil(float64(target) * float64(p.WarnPercent) / 100))
	c := loadedClock{state: sla.Running, events: []clockEvent{{r.created, "start", ""}}}
	var stopAt, pauseAt *time.Time
	switch kind {
	case sla.Acknowledge:
		switch {
		case r.accepted != nil:
			stopAt = r.accepted
		case r.status == "withdrawn" || r.status == "closed" || r.status == "resolved":
			stopAt = &r.updated
		}
	case sla.Resolution:
		switch r.status {
		case "resolved", "closed":
			stopAt = r.resolved
			if stopAt == nil {
				stopAt = &r.updated
			}
		case "withdrawn":
			stopAt = &r.updated
		case "waiting_enterprise":
			from := r.created
			if r.accepted != nil {
				from = *r.accepted
			}
			span := now.Sub(from)
			t := from.Add(time.Duration(g.Int64N(int64(span)/2+1)) + span/2) // paused within the second half of its life
			pauseAt = &t
		}
	}
	add := func(m int) *time.Time { t, _ := cal.Add(r.created, m); return &t }
	switch {
	case stopAt != nil:
		c.state, c.stop = sla.Stopped, stopAt
		c.events = append(c.events, clockEvent{*stopAt, "stop", "loaded"})
		c.elapsed, _ = cal.Between(r.created, *stopAt)
		if c.elapsed >= target {
			c.due = add(target)
		}
		if c.elapsed >= warnTarget {
			c.warn = add(warnTarget)
		}
		outcome := sla.Met
		if c.elapsed > target {
			outcome = sla.Breached
			c.breachedAt = c.due
		}
		c.outcome = &outcome
	case pauseAt != nil:
		c.state, c.pauses = sla.Paused, 1
		c.events = append(c.events, clockEvent{*pauseAt, "pause", "补充材料"})
		c.elapsed, _ = cal.Between(r.created, *pauseAt)
		c.paused, _ = cal.Between(*pauseAt, now)
		if c.elapsed >= target {
			c.due = add(target)
		}
		if c.elapsed >= warnTarget {
			c.warn = add(warnTarget)
		}
	default:
		c.elapsed, _ = cal.Between(r.created, now)
		c.due, c.warn = add(target), add(warnTarget)
	}
	// What the deadline tasks did before now.
	if c.warn != nil && !c.warn.After(now) && (c.stop == nil || c.warn.Before(*c.stop)) {
		c.warnedAt = c.warn
	}
	if c.state != sla.Stopped && c.due != nil && !c.due.After(now) {
		outcome := sla.Breached
		c.breachedAt, c.outcome = c.due, &outcome
	}
	if c.breachedAt != nil && (c.stop == nil || c.stop.After(*c.breachedAt)) {
		if esc, _ := cal.Add(*c.breachedAt, cal.MinutesPerDay()); !esc.After(now) && (c.stop == nil || c.stop.After(esc)) {
			c.escalatedAt = &esc
		}
	}
	return c
}

// runSLABench times the product's sweep tick, recompute and report.
func runSLABench(args []string) error {
	fs := flag.NewFlagSet("sla", flag.ExitOnError)
	db := dbFlag(fs)
	due := fs.Int("due", 1000, "clocks due in each sweep tick")
	ticks := fs.Int("ticks", 3, "timed runs of the sweep tick")
	handle := fs.Int("handle", 200, "queued tasks then run through the product's handlers (context)")
	reports := fs.Int("reports", 5, "runs of each report")
	year := fs.Int("year", time.Now().Year()-1, "calendar year of the report")
	recompute := fs.Bool("recompute", true, "time a calendar edit's recompute")
	dir := fs.String("dir", ".", "where to write the captured pgbench scripts")
	what := fs.String("what", "report,sweep,recompute", "which parts to run")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	p, err := openProduct(ctx, *db)
	if err != nil {
		return err
	}
	defer p.db.Close()
	parts := splitList(*what)
	office, err := p.office(ctx)
	if err != nil {
		return err
	}

	if slices.Contains(parts, "report") {
		loc, _ := time.LoadLocation("Asia/Shanghai")
		from := time.Date(*year, 1, 1, 0, 0, 0, 0, loc)
		to := from.AddDate(1, 0, 0)
		for _, group := range []string{"agency", "category", "officer"} {
			var n int
			sqls, err := p.capture.record(func() error {
				rows, err := p.sla.Report(ctx, office, from, to, group)
				for _, r := range rows {
					n += r.Requests
				}
				return err
			})
			if err != nil {
				return err
			}
			script := filepath.Join(*dir, "sla-report-"+group+".sql")
			if err := pgbenchScript(script, sqls, false); err != nil {
				return err
			}
			d, err := timeRuns(*reports, func(int) error { _, err := p.sla.Report(ctx, office, from, to, group); return err })
			if err != nil {
				return err
			}
			fmt.Printf("  C.report.%s: sla.Report %d by %s over %d requests: median %s (runs: %s); pgbench script %s\n",
				group, *year, group, n, fmtMs(median(d)), durs(d), script)
			if err := emitRuns(*results, "C.report."+group, d); err != nil {
				return err
			}
			if err := emit(*results, record{"C.report." + group + ".requests", float64(n), ""}); err != nil {
				return err
			}
		}
	}

	if slices.Contains(parts, "sweep") {
		// The clock is set where the next ~*due deadlines have passed (the
		// deadline tasks were lost: Redis was down). Each run times the same
		// tick from the same state: the tick only queues tasks, and the
		// queued rows are removed again before the next run.
		var open int
		if err := p.db.NewRaw(`SELECT count(*) FROM sla_clocks WHERE state <> 'stopped'`).Scan(ctx, &open); err != nil {
			return err
		}
		if _, err := p.db.NewRaw(`DELETE FROM outbox WHERE task_key LIKE 'sla:%:sweep:%' AND dispatched_at IS NULL`).Exec(ctx); err != nil {
			return err
		}
		var after time.Time
		if err := p.db.NewRaw(`SELECT now()`).Scan(ctx, &after); err != nil {
			return err
		}
		at, n, err := nowWithDue(ctx, p, after, *due)
		if err != nil {
			return err
		}
		p.clock.Set(at)
		for run := range *ticks {
			var queued int
			t0 := time.Now()
			sqls, err := p.capture.record(func() error { var err error; queued, err = p.sla.Sweep(ctx); return err })
			d := time.Since(t0)
			if err != nil {
				return err
			}
			if run == 0 {
				if err := pgbenchScript(filepath.Join(*dir, "sla-sweep-tick.sql"), sqls, false); err != nil {
					return err
				}
			}
			fmt.Printf("  C.sweep: tick at %s: %d clocks due by the selection; the tick queued %d in %s (%d statements; %d open clocks)\n",
				at.Format(time.RFC3339), n, queued, fmtMs(d), len(sqls), open)
			if err := emit(*results, record{"C.sweep.ms", ms(d), "ms"}, record{"C.sweep.handled", float64(queued), ""},
				record{"C.sweep.statements", float64(len(sqls)), ""}); err != nil {
				return err
			}
			if run < *ticks-1 {
				if _, err := p.db.NewRaw(`DELETE FROM outbox WHERE task_key LIKE 'sla:%:sweep:%' AND dispatched_at IS NULL`).Exec(ctx); err != nil {
					return err
				}
			}
		}
		// Context: what a worker then spends per queued task, in the
		// product's handlers (the first *handle of them).
		d, err := runQueuedSLATasks(ctx, p, *handle)
		if err != nil {
			return err
		}
		if len(d) > 0 {
			s := summarize(d)
			fmt.Printf("  C.sweep: the product's handlers ran %d of the queued tasks one after another: %s per task\n", len(d), s)
			if err := emit(*results, record{"C.sweep.task_p50", ms(s.P50), "ms"}, record{"C.sweep.task_p99", ms(s.P99), "ms"}); err != nil {
				return err
			}
		}
		if _, err := p.db.NewRaw(`UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL AND task_key LIKE 'sla:%:sweep:%'`).Exec(ctx); err != nil {
			return err
		}
	}

	if slices.Contains(parts, "recompute") && *recompute {
		var calID int64
		var n int
		if err := p.db.NewRaw(`SELECT id FROM calendars WHERE code = 'working'`).Scan(ctx, &calID); err != nil {
			return err
		}
		if err := p.db.NewRaw(`SELECT count(*) FROM sla_clocks WHERE state <> 'stopped' AND calendar_id = ?`, calID).Scan(ctx, &n); err != nil {
			return err
		}
		p.clock.Set(time.Now())
		// The edit: the offices close for a whole working day about two weeks
		// ahead (a move), written as sla.Service.LoadCalendarYear writes a
		// closure, with the version bump; the recompute is what it queues.
		// Deadlines after that day move by a day; earlier ones stay.
		cal, err := p.sla.CalendarByCode(ctx, "working")
		if err != nil {
			return err
		}
		var closed time.Time
		for d := time.Now().AddDate(0, 0, 14); ; d = d.AddDate(0, 0, 1) {
			day := workcal.DateOf(d, clock.Shanghai)
			var taken int
			if err := p.db.NewRaw(`SELECT count(*) FROM calendar_days WHERE calendar_id = ? AND day = ?`, calID, day.String()).Scan(ctx, &taken); err != nil {
				return err
			}
			if cal.IsWorkingDay(day) && taken == 0 {
				closed = day.Time()
				break
			}
		}
		if _, err := p.db.NewRaw(`INSERT INTO calendar_days (calendar_id, day, kind, name, windows) VALUES (?, ?, 'closure', '办公场所搬迁（压测）', '[[0, 1440]]')`,
			calID, closed.Format(time.DateOnly)).Exec(ctx); err != nil {
			return err
		}
		if _, err := p.db.NewRaw(`UPDATE calendars SET version = version + 1, updated_at = now() WHERE id = ?`, calID).Exec(ctx); err != nil {
			return err
		}
		var versionsBefore int64
		if err := p.db.NewRaw(`SELECT coalesce(sum(version), 0) FROM sla_clocks WHERE state <> 'stopped' AND calendar_id = ?`, calID).Scan(ctx, &versionsBefore); err != nil {
			return err
		}
		t0 := time.Now()
		var done int
		sqls, err := p.capture.record(func() error {
			var err error
			done, err = p.sla.Recompute(ctx, sla.RecomputePayload{CalendarID: calID})
			return err
		})
		d := time.Since(t0)
		if err != nil {
			return err
		}
		// The first batch's statements (its read and its transaction), for
		// pgbench: the recompute is that batch over and over.
		for i, q := range sqls {
			if strings.EqualFold(strings.TrimSpace(q), "COMMIT") {
				sqls = sqls[:i+1]
				break
			}
		}
		if err := pgbenchScript(filepath.Join(*dir, "sla-recompute-batch.sql"), sqls, false); err != nil {
			return err
		}
		var versionsAfter int64
		if err := p.db.NewRaw(`SELECT coalesce(sum(version), 0) FROM sla_clocks WHERE state <> 'stopped' AND calendar_id = ?`, calID).Scan(ctx, &versionsAfter); err != nil {
			return err
		}
		rate := float64(done) / d.Seconds()
		fmt.Printf("  C.recompute: closure on %s: %d open clocks of the working calendar (%d counted before) re-derived in %.1fs, %d of them moved: %.0f clocks/s; at that rate 1,000,000 open clocks take %.0fs\n",
			closed.Format(time.DateOnly), done, n, d.Seconds(), versionsAfter-versionsBefore, rate, 1e6/rate)
		if err := emit(*results, record{"C.recompute.s", d.Seconds(), "s"}, record{"C.recompute.clocks", float64(done), ""},
			record{"C.recompute.rate", rate, "clocks/s"}); err != nil {
			return err
		}
	}
	return nil
}

// runQueuedSLATasks runs up to limit of the tasks a sweep queued through
// the product's handlers, as a worker would, and returns each one's time.
func runQueuedSLATasks(ctx context.Context, p *product, limit int) ([]time.Duration, error) {
	var rows []struct {
		ID      int64  `bun:"id"`
		Type    string `bun:"task_type"`
		Payload []byte `bun:"payload"`
	}
	if err := p.db.NewRaw(`SELECT id, task_type, payload::text AS payload FROM outbox
		WHERE dispatched_at IS NULL AND task_key LIKE 'sla:%:sweep:%' ORDER BY id LIMIT ?`, limit).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, r := range rows {
		t0 := time.Now()
		var err error
		switch r.Type {
		case sla.TaskDeadline:
			var x sla.DeadlinePayload
			if err = json.Unmarshal(r.Payload, &x); err == nil {
				err = p.sla.Deadline(ctx, x)
			}
		case sla.TaskEscalate:
			var x sla.ClockPayload
			if err = json.Unmarshal(r.Payload, &x); err == nil {
				err = p.sla.Escalate(ctx, x)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("task %d: %w", r.ID, err)
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// sweepSelect is the selection of sla.Service.Sweep at now (for counting).
func sweepSelect(now time.Time) string {
	f := func(t time.Time) string { return "'" + t.UTC().Format("2006-01-02 15:04:05.999999-07:00") + "'" }
	return `SELECT id FROM sla_clocks WHERE state = 'running' AND breached_at IS NULL AND due_at <= ` + f(now) + `
		UNION SELECT id FROM sla_clocks WHERE state = 'running' AND warned_at IS NULL AND warn_at <= ` + f(now) + `
		UNION SELECT id FROM sla_clocks WHERE state <> 'stopped' AND escalated_at IS NULL AND breached_at <= ` + f(now.Add(-24*time.Hour)) + `
		LIMIT 5000`
}

// nowWithDue finds the instant after which exactly n deadlines (warn or
// due, not yet handled) have come: the sweep at that now sees about n
// clocks (a clock whose warning and breach both passed counts once).
func nowWithDue(ctx context.Context, p *product, after time.Time, n int) (time.Time, int, error) {
	var at *time.Time
	// The n-th deadline, or the last when fewer are left (a small data set).
	err := p.db.NewRaw(`SELECT max(t) FROM (SELECT t FROM (
		  SELECT due_at AS t FROM sla_clocks WHERE state = 'running' AND breached_at IS NULL AND due_at > ?
		  UNION ALL SELECT warn_at FROM sla_clocks WHERE state = 'running' AND warned_at IS NULL AND warn_at > ?
		) x ORDER BY t LIMIT ?) y`, after, after, max(n, 1)).Scan(ctx, &at)
	if err != nil || at == nil {
		return time.Time{}, 0, fmt.Errorf("no deadlines after %s: %v", after, err)
	}
	var count int
	if err := p.db.NewRaw(`SELECT count(*) FROM (`+sweepSelect(*at)+`) x`).Scan(ctx, &count); err != nil {
		return time.Time{}, 0, err
	}
	return *at, count, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func durs(d []time.Duration) string {
	out := ""
	for i, x := range d {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%.1f", ms(x))
	}
	return out + " ms"
}

// emitRuns records each run of a Go-level timing under key (ms).
func emitRuns(path, key string, d []time.Duration) error {
	recs := make([]record, len(d))
	for i, x := range d {
		recs[i] = record{key, ms(x), "ms"}
	}
	return emit(path, recs...)
}
