package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/notify"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// OfferWindow returns when offers of the requests made at t expire if not
// accepted. The SLA engine supplies the acknowledge deadlines on the
// working calendar.
type OfferWindow func(ctx context.Context, db bun.IDB, requestIDs []int64, t time.Time) (map[int64]time.Time, error)

// Engine routes requests.
type Engine struct {
	db     *bun.DB
	clock  clock.Clock
	log    *slog.Logger
	cases  *casework.Service
	window OfferWindow
	// MaxMisses is how many unanswered offers send a request to the lead.
	maxMisses int
	settled   settled
	// batching lets one batch of this process run at a time (batchLock
	// does the same across processes): the tasks of a burst that arrive
	// while a batch runs wait here, holding no database connection, and
	// most then find their request placed by it.
	batching sync.Mutex
}

// NewEngine returns the routing engine. window may be nil: offers then
// expire after two hours.
func NewEngine(db *bun.DB, clk clock.Clock, log *slog.Logger, cases *casework.Service, window OfferWindow) *Engine {
	if window == nil {
		window = func(_ context.Context, _ bun.IDB, ids []int64, t time.Time) (map[int64]time.Time, error) {
			out := make(map[int64]time.Time, len(ids))
			for _, id := range ids {
				out[id] = t.Add(2 * time.Hour)
			}
			return out, nil
		}
	}
	return &Engine{db: db, clock: clk, log: log, cases: cases, window: window, maxMisses: 2}
}

// openStatuses are the statuses that count against an officer's capacity.
var openStatuses = []casework.Status{casework.Assigned, casework.InProgress, casework.WaitingEnterprise}

// Assign routes the request if it still waits for routing; otherwise it
// does nothing, so a duplicate or late task has no effect. It returns the
// explanation of what it decided (nil when there was nothing to do).
func (e *Engine) Assign(ctx context.Context, requestID int64) (*Explanation, error) {
	var ex *Explanation
	err := pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ex, err = e.assign(ctx, tx, requestID)
		return err
	})
	return ex, err
}

func (e *Engine) assign(ctx context.Context, tx bun.Tx, requestID int64) (*Explanation, error) {
	r, err := casework.Lookup(ctx, tx, requestID, true)
	if err != nil {
		return nil, err
	}
	var pool sql.NullString
	if err := tx.NewRaw("SELECT pool_reason FROM requests WHERE id = ?", r.ID).Scan(ctx, &pool); err != nil {
		return nil, err
	}
	if r.Status != casework.Submitted || pool.Valid {
		return nil, nil // someone (or an earlier run) already placed it
	}
	var cat casework.Category
	if err := tx.NewSelect().Model(&cat).Where("code = ?", r.Category).Scan(ctx); err != nil {
		return nil, err
	}
	var town sql.NullString
	if err := tx.NewRaw("SELECT town_code FROM enterprises WHERE id = ?", r.EnterpriseID).Scan(ctx, &town); err != nil {
		return nil, err
	}

	ex := &Explanation{Weight: cat.Weight, RequiredSkill: cat.Code}
	if r.AgencyID != nil {
		// Transferred or declined: it stays with the agency it is in.
		ex.AgencyID, ex.Rule = *r.AgencyID, "kept: transferred to or declined within this agency"
	} else {
		rule, err := matchRule(ctx, tx, cat.Code, town.String)
		if err != nil {
			return nil, err
		}
		ex.RuleID, ex.AgencyID = rule.ID, rule.AgencyID
		ex.Rule = fmt.Sprintf("#%d priority %d", rule.ID, rule.Priority)
		if rule.Note != "" {
			ex.Rule += " (" + rule.Note + ")"
		}
		if rule.RequiredSkill != nil {
			ex.RequiredSkill = *rule.RequiredSkill
		}
	}

	cands, err := candidates(ctx, tx, ex.AgencyID, r.ID, r.EnterpriseID)
	if err != nil {
		return nil, err
	}
	chosen := e.choose(ctx, tx, cands, ex, town.String)
	ex.list(cands)
	now := e.clock.Now()
	if chosen == nil {
		ex.Outcome = "pooled"
		return ex, e.toPool(ctx, tx, r, ex.AgencyID, PoolNoEligible, now, map[string]any{"explanation": ex})
	}
	ex.Outcome = "assigned"
	return ex, e.offer(ctx, tx, r, ex.AgencyID, chosen, now, map[string]any{"explanation": ex})
}

func matchRule(ctx context.Context, tx bun.IDB, category, town string) (*Rule, error) {
	rule := new(Rule)
	err := tx.NewSelect().Model(rule).
		Where("active").
		Where("category IS NULL OR category = ?", category).
		Where("town_code IS NULL OR town_code = ?", town).
		OrderExpr("priority").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("routing: no rule matches and there is no catch-all rule")
	}
	return rule, err
}

// candidates reads every active officer of the agency with their current load.
func candidates(ctx context.Context, tx bun.IDB, agencyID, requestID, enterpriseID int64) ([]Candidate, error) {
	var rows []struct {
		UserID       int64      `bun:"user_id"`
		Username     string     `bun:"username"`
		DisplayName  string     `bun:"display_name"`
		OnDuty       bool       `bun:"on_duty"`
		Capacity     int        `bun:"capacity"`
		Skills       []string   `bun:"skills,array"`
		Towns        []string   `bun:"towns,array"`
		LastAssigned *time.Time `bun:"last_assigned_at"`
		Load         int        `bun:"load"`
		Recused      bool       `bun:"recused"`
		Declined     bool       `bun:"declined"`
	}
	// Loads in one grouped pass over the agency's open requests rather than
	// a sum per officer; prepared, as every routing reads it.
	open := make([]string, len(openStatuses))
	for i, st := range openStatuses {
		open[i] = string(st)
	}
	err := pg.ScanPrepared(ctx, tx, &rows, `
		WITH loads AS (
		  SELECT q.assignee_id, sum(c.weight) AS load FROM requests q JOIN categories c ON c.code = q.category
		  WHERE q.agency_id = $1 AND q.assignee_id IS NOT NULL AND q.status = ANY($2) GROUP BY 1)
		SELECT u.id AS user_id, u.username, u.display_name, p.on_duty, p.capacity, p.skills, p.towns, p.last_assigned_at,
		       coalesce(l.load, 0) AS load,
		       EXISTS (SELECT 1 FROM recusals x WHERE x.officer_id = u.id AND x.enterprise_id = $3) AS recused,
		       EXISTS (SELECT 1 FROM request_declines d WHERE d.user_id = u.id AND d.request_id = $4) AS declined
		FROM users u JOIN officer_profiles p ON p.user_id = u.id LEFT JOIN loads l ON l.assignee_id = u.id
		WHERE u.agency_id = $1 AND u.role = $5 AND u.disabled_at IS NULL
		ORDER BY u.id`,
		agencyID, open, enterpriseID, requestID, string(identity.RoleOfficer))
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, len(rows))
	for i, r := range rows {
		out[i] = Candidate{UserID: r.UserID, Username: r.Username, DisplayName: r.DisplayName, Load: r.Load, Capacity: r.Capacity,
			onDuty: r.OnDuty, skills: r.Skills, towns: r.Towns, recused: r.Recused, declined: r.Declined, lastAssigned: r.LastAssigned}
	}
	return out, nil
}

// rank marks why each candidate is skipped and orders the eligible ones:
// least loaded first, ties to the one assigned least recently.
func rank(cands []Candidate, ex *Explanation, town string) []*Candidate {
	var eligible []*Candidate
	for i := range cands {
		c := &cands[i]
		switch {
		case !c.onDuty:
			c.Skipped = "off duty"
		case !slices.Contains(c.skills, ex.RequiredSkill):
			c.Skipped = "lacks skill " + ex.RequiredSkill
		case len(c.towns) > 0 && !slices.Contains(c.towns, town):
			c.Skipped = "does not serve town " + town
		case c.recused:
			c.Skipped = "recused for this enterprise"
		case c.declined:
			c.Skipped = "declined or missed this request before"
		case c.Load+ex.Weight > c.Capacity:
			c.Skipped = fmt.Sprintf("at capacity (%d+%d > %d)", c.Load, ex.Weight, c.Capacity)
		default:
			eligible = append(eligible, c)
		}
		c.rank = -1
	}
	sort.SliceStable(eligible, func(i, j int) bool {
		a, b := eligible[i], eligible[j]
		if a.Load != b.Load {
			return a.Load < b.Load
		}
		switch {
		case a.lastAssigned == nil && b.lastAssigned != nil:
			return true
		case a.lastAssigned != nil && b.lastAssigned == nil:
			return false
		case a.lastAssigned != nil && !a.lastAssigned.Equal(*b.lastAssigned):
			return a.lastAssigned.Before(*b.lastAssigned)
		}
		return a.UserID < b.UserID
	})
	for i, c := range eligible {
		c.rank = i
	}
	return eligible
}

// choose picks the first-ranked eligible officer, confirming the pick under
// a lock on the officer's profile, so concurrent workers never push anyone
// over capacity.
func (e *Engine) choose(ctx context.Context, tx bun.Tx, cands []Candidate, ex *Explanation, town string) *Candidate {
	eligible := rank(cands, ex, town)
	// Several workers route at once and would all pick the same least-loaded
	// officer; SKIP LOCKED lets each take the next one instead of queueing
	// behind one lock. Only if every eligible officer was busy does a second
	// pass wait for the locks, so nobody is pooled for mere contention.
	for _, wait := range []bool{false, true} {
		busy := false
		for _, c := range eligible {
			if c.Skipped != "" && !strings.HasPrefix(c.Skipped, "busy") {
				continue
			}
			// A savepoint per candidate: rolling back to it releases the lock
			// on an officer we pass over, so a transaction holds at most one
			// officer lock and workers cannot deadlock on each other's.
			if _, err := tx.ExecContext(ctx, "SAVEPOINT candidate"); err != nil {
				e.log.Warn("routing: savepoint", "err", err)
				return nil
			}
			pass := func() { _, _ = tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT candidate") }
			capacity, onDuty, locked, err := lockOfficer(ctx, tx, c.UserID, wait)
			if err != nil {
				pass()
				e.log.Warn("routing: lock officer", "user_id", c.UserID, "err", err)
				continue
			}
			if !locked {
				pass()
				c.Skipped, busy = "busy: being assigned by another worker", true
				continue
			}
			// Count only now: in READ COMMITTED a statement that waited for a
			// lock still reads with the snapshot it started with, so the count
			// must be a new statement to see what the previous holder committed.
			var load int
			if err := tx.NewRaw(`SELECT coalesce(sum(c.weight), 0) FROM requests q JOIN categories c ON c.code = q.category
				WHERE q.assignee_id = ? AND q.status IN (?)`, c.UserID, bun.List(openStatuses)).Scan(ctx, &load); err != nil {
				pass()
				e.log.Warn("routing: count load", "user_id", c.UserID, "err", err)
				continue
			}
			c.Load, c.Capacity, c.Skipped = load, capacity, ""
			if !onDuty || load+ex.Weight > capacity {
				pass()
				c.Skipped = fmt.Sprintf("at capacity when locked (%d+%d > %d)", load, ex.Weight, capacity)
				continue
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT candidate"); err != nil {
				e.log.Warn("routing: release savepoint", "err", err)
				return nil
			}
			c.Chosen = true
			return c
		}
		if !busy {
			return nil
		}
	}
	return nil
}

// lockOfficer locks an officer's profile, waiting or not; locked is false
// when another transaction holds it and wait is false.
func lockOfficer(ctx context.Context, tx bun.Tx, userID int64, wait bool) (capacity int, onDuty, locked bool, err error) {
	q := "SELECT capacity, on_duty FROM officer_profiles WHERE user_id = ? FOR UPDATE SKIP LOCKED"
	if wait {
		q = "SELECT capacity, on_duty FROM officer_profiles WHERE user_id = ? FOR UPDATE"
	}
	err = tx.NewRaw(q, userID).Scan(ctx, &capacity, &onDuty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, false, nil
	}
	return capacity, onDuty, err == nil, err
}

// offer assigns r to c and schedules the expiry of the offer.
func (e *Engine) offer(ctx context.Context, tx bun.Tx, r *casework.Request, agencyID int64, c *Candidate, now time.Time, data map[string]any) error {
	r.Status, r.AgencyID, r.AssigneeID = casework.Assigned, &agencyID, &c.UserID
	if err := e.cases.Save(ctx, tx, r, "status", "agency_id", "assignee_id"); err != nil {
		return err
	}
	if _, err := tx.NewRaw("UPDATE requests SET offered_at = ?, pool_reason = NULL WHERE id = ?", now, r.ID).Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.NewRaw("UPDATE officer_profiles SET last_assigned_at = ? WHERE user_id = ?", now, c.UserID).Exec(ctx); err != nil {
		return err
	}
	data["agency_id"], data["assignee_id"], data["assignee"] = agencyID, c.UserID, c.DisplayName
	if err := casework.AddEvent(ctx, tx, r.ID, now, nil, "assigned", false, data); err != nil {
		return err
	}
	windows, err := e.window(ctx, tx, []int64{r.ID}, now)
	if err != nil {
		return err
	}
	if err := jobs.Enqueue(ctx, tx, jobs.Task{
		Type: TaskOfferExpired, Key: fmt.Sprintf("offer:%d:%d", r.ID, r.Version),
		Payload: OfferPayload{RequestID: r.ID, Version: r.Version}, Queue: jobs.QueueCritical,
		ProcessAt: windows[r.ID],
	}); err != nil {
		return err
	}
	return notify.Send(ctx, tx, now, []int64{c.UserID}, notify.Notice{Kind: "request.assigned",
		Title: "新诉求待接收 " + r.TicketNo, Body: r.Title, RequestID: r.ID})
}

// toPool leaves r with the agency and no officer, and tells the leads.
func (e *Engine) toPool(ctx context.Context, tx bun.Tx, r *casework.Request, agencyID int64, reason string, now time.Time, data map[string]any) error {
	r.Status, r.AgencyID, r.AssigneeID = casework.Submitted, &agencyID, nil
	if err := e.cases.Save(ctx, tx, r, "status", "agency_id", "assignee_id"); err != nil {
		return err
	}
	if _, err := tx.NewRaw("UPDATE requests SET pool_reason = ? WHERE id = ?", reason, r.ID).Exec(ctx); err != nil {
		return err
	}
	data["agency_id"], data["reason"] = agencyID, reason
	if err := casework.AddEvent(ctx, tx, r.ID, now, nil, "pooled", false, data); err != nil {
		return err
	}
	leads, err := notify.AgencyLeads(ctx, tx, agencyID)
	if err != nil {
		return err
	}
	title := "诉求进入待分配池 " + r.TicketNo
	if reason == PoolOfferMissed {
		title = "诉求多次无人接收，请指派 " + r.TicketNo
	}
	return notify.Send(ctx, tx, now, leads, notify.Notice{Kind: "request.pooled", Title: title, Body: r.Title, RequestID: r.ID})
}
