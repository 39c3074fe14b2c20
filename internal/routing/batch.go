package routing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/notify"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// batchSize is the most requests one routing transaction places.
const batchSize = 500

// batchLock is the advisory lock that lets one batch router run at a time.
// A burst of filings is then placed by a short queue of large batches
// instead of many transactions fighting over the same officers' locks; a
// lone request is a batch of one.
const batchLock = 0x67635f726f757465 // "gc_route"

// Route handles TaskAssign. A fresh request (no agency yet) is placed
// together with the fresh requests waiting behind it, up to batchSize, in
// one transaction: rules, officers and their loads are read once per
// batch, every decision is made in memory in filing order with the loads
// updated as it goes, and the results are written with one statement per
// table. A request that has been with an agency (transferred, declined,
// missed) goes through Assign, as does a fresh one whose eligible officers
// were all being assigned elsewhere at that moment (Assign waits for them).
func (e *Engine) Route(ctx context.Context, requestID int64) error {
	var status casework.Status
	var pool sql.NullString
	var agency sql.NullInt64
	err := e.db.NewRaw("SELECT status, pool_reason, agency_id FROM requests WHERE id = ?", requestID).
		Scan(ctx, &status, &pool, &agency)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = e.Assign(ctx, requestID) // reports the missing request as Assign does
		return err
	case err != nil:
		return err
	case status != casework.Submitted || pool.Valid:
		return nil // already placed: a duplicate or late task
	case agency.Valid:
		_, err = e.Assign(ctx, requestID)
		return err
	}
	ownLeft, err := e.batch(ctx, requestID)
	if err != nil || !ownLeft {
		return err
	}
	_, err = e.Assign(ctx, requestID)
	return err
}

// batch runs routeBatch in a transaction of its own, one at a time in this
// process, and remembers what it placed.
func (e *Engine) batch(ctx context.Context, requestID int64) (ownLeft bool, err error) {
	e.batching.Lock()
	defer e.batching.Unlock()
	if e.settled.has(requestID) {
		return false, nil // fresh when Route read it, placed since by the batch this task waited for
	}
	var done []*casework.Request
	err = pg.RunInTx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ownLeft, done, err = e.routeBatch(ctx, tx, requestID)
		return err
	})
	if err != nil {
		return false, err
	}
	e.settled.add(done)
	return ownLeft, nil
}

// placement is one request of a batch and what became of it.
type placement struct {
	r    *casework.Request
	town string
	ex   *Explanation
	to   *Candidate // nil: pooled or left for its own task
	left bool       // every eligible officer was busy elsewhere
}

// routeBatch places requestID and up to batchSize-1 other fresh requests.
// ownLeft reports that requestID itself could not be placed here; done
// lists the requests placed or pooled, as they were read.
func (e *Engine) routeBatch(ctx context.Context, tx bun.Tx, requestID int64) (ownLeft bool, done []*casework.Request, err error) {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", batchLock); err != nil {
		return false, nil, err
	}
	own, err := casework.Lookup(ctx, tx, requestID, true)
	if err != nil {
		return false, nil, err
	}
	if own.Status != casework.Submitted || own.AgencyID != nil {
		return false, nil, nil // the batch before this one placed it
	}
	var rest []*casework.Request
	// Filing order; SKIP LOCKED passes over requests someone is changing
	// right now (a withdrawal, a single-request routing): their own tasks
	// come back for them.
	if err := tx.NewSelect().Model(&rest).
		Where("status = ? AND pool_reason IS NULL AND agency_id IS NULL AND id <> ?", casework.Submitted, requestID).
		OrderExpr("updated_at").Limit(batchSize - 1).For("UPDATE SKIP LOCKED").Scan(ctx); err != nil {
		return false, nil, err
	}
	batch := make([]*placement, 0, len(rest)+1)
	for _, r := range append([]*casework.Request{own}, rest...) {
		batch = append(batch, &placement{r: r})
	}
	now := e.clock.Now()
	if err := e.decide(ctx, tx, batch, now); err != nil {
		return false, nil, err
	}
	var placed []*placement
	for _, p := range batch {
		switch {
		case p.to != nil:
			placed = append(placed, p)
			done = append(done, p.r)
		case p.left:
			ownLeft = ownLeft || p.r.ID == requestID
		default:
			p.ex.Outcome = "pooled"
			if err := e.toPool(ctx, tx, p.r, p.ex.AgencyID, PoolNoEligible, now, map[string]any{"explanation": p.ex}); err != nil {
				return false, nil, err
			}
			done = append(done, p.r)
		}
	}
	return ownLeft, done, e.offerAll(ctx, tx, placed, now)
}

// decide picks the agency and officer of every request in the batch.
func (e *Engine) decide(ctx context.Context, tx bun.Tx, batch []*placement, now time.Time) error {
	picks := 0
	var cats []casework.Category
	if err := tx.NewSelect().Model(&cats).Scan(ctx); err != nil {
		return err
	}
	var rules []Rule
	if err := tx.NewSelect().Model(&rules).Where("active").OrderExpr("priority").Scan(ctx); err != nil {
		return err
	}
	var enterpriseIDs, requestIDs []int64
	for _, p := range batch {
		enterpriseIDs = append(enterpriseIDs, p.r.EnterpriseID)
		requestIDs = append(requestIDs, p.r.ID)
	}
	var towns []struct {
		ID   int64  `bun:"id"`
		Town string `bun:"town_code"`
	}
	// Prepared, with the ids as arrays: the same text for every batch.
	if err := pg.ScanPrepared(ctx, tx, &towns, "SELECT id, coalesce(town_code, '') AS town_code FROM enterprises WHERE id = ANY($1)",
		enterpriseIDs); err != nil {
		return err
	}
	var recusals, declines []struct {
		A int64 `bun:"a"`
		B int64 `bun:"b"`
	}
	if err := pg.ScanPrepared(ctx, tx, &recusals, "SELECT officer_id AS a, enterprise_id AS b FROM recusals WHERE enterprise_id = ANY($1)",
		enterpriseIDs); err != nil {
		return err
	}
	if err := pg.ScanPrepared(ctx, tx, &declines, "SELECT user_id AS a, request_id AS b FROM request_declines WHERE request_id = ANY($1)",
		requestIDs); err != nil {
		return err
	}
	townOf := map[int64]string{}
	for _, t := range towns {
		townOf[t.ID] = t.Town
	}
	type pair struct{ officer, other int64 }
	recused, declined := map[pair]bool{}, map[pair]bool{}
	for _, x := range recusals {
		recused[pair{x.A, x.B}] = true
	}
	for _, x := range declines {
		declined[pair{x.A, x.B}] = true
	}

	officers := map[int64][]Candidate{} // by agency, loads kept current as the batch assigns
	for _, p := range batch {
		p.town = townOf[p.r.EnterpriseID]
		i := slices.IndexFunc(cats, func(c casework.Category) bool { return c.Code == p.r.Category })
		if i < 0 {
			return fmt.Errorf("routing: request %d has unknown category %q", p.r.ID, p.r.Category)
		}
		rule, err := firstRule(rules, p.r.Category, p.town)
		if err != nil {
			return err
		}
		p.ex = &Explanation{RuleID: rule.ID, AgencyID: rule.AgencyID, Weight: cats[i].Weight, RequiredSkill: cats[i].Code,
			Rule: fmt.Sprintf("#%d priority %d", rule.ID, rule.Priority)}
		if rule.Note != "" {
			p.ex.Rule += " (" + rule.Note + ")"
		}
		if rule.RequiredSkill != nil {
			p.ex.RequiredSkill = *rule.RequiredSkill
		}
		staff, ok := officers[rule.AgencyID]
		if !ok {
			if staff, err = lockedCandidates(ctx, tx, rule.AgencyID); err != nil {
				return err
			}
			officers[rule.AgencyID] = staff
		}
		cands := slices.Clone(staff)
		for j := range cands {
			c := &cands[j]
			c.recused = recused[pair{c.UserID, p.r.EnterpriseID}]
			c.declined = declined[pair{c.UserID, p.r.ID}]
		}
		eligible := rank(cands, p.ex, p.town)
		for _, c := range eligible {
			if c.busy {
				c.Skipped = "busy: being assigned by another worker"
				p.left = true
				continue
			}
			// The next request of the batch sees this one's weight, and this
			// officer as the most recently assigned (a nanosecond per pick
			// keeps the batch's picks in order).
			at := now.Add(time.Duration(picks))
			picks++
			c.Chosen, c.lastAssigned, p.to, p.left = true, &at, c, false
			for j := range staff {
				if staff[j].UserID == c.UserID {
					staff[j].Load += p.ex.Weight
					staff[j].lastAssigned = &at
				}
			}
			break
		}
		p.ex.list(cands)
	}
	return nil
}

// firstRule is matchRule over rules already read, in priority order.
func firstRule(rules []Rule, category, town string) (*Rule, error) {
	for i, r := range rules {
		if (r.Category == nil || *r.Category == category) && (r.TownCode == nil || *r.TownCode == town) {
			return &rules[i], nil
		}
	}
	return nil, errors.New("routing: no rule matches and there is no catch-all rule")
}

// lockedCandidates locks the agency's officers' profiles (skipping those
// another transaction holds: they are marked busy) and then reads the
// candidates with their loads, in a new statement so the loads include
// whatever the previous lock holders committed.
func lockedCandidates(ctx context.Context, tx bun.Tx, agencyID int64) ([]Candidate, error) {
	var locked []int64
	if err := pg.ScanPrepared(ctx, tx, &locked, `SELECT p.user_id FROM officer_profiles p JOIN users u ON u.id = p.user_id
		WHERE u.agency_id = $1 AND u.role = $2 AND u.disabled_at IS NULL
		FOR UPDATE OF p SKIP LOCKED`, agencyID, string(identity.RoleOfficer)); err != nil {
		return nil, err
	}
	cands, err := candidates(ctx, tx, agencyID, 0, 0)
	if err != nil {
		return nil, err
	}
	for i := range cands {
		cands[i].busy = !slices.Contains(locked, cands[i].UserID)
	}
	return cands, nil
}

// offerAll writes the batch's offers: the requests, their timeline
// entries, the officers' last assignment, the offer expiry tasks and the
// officers' notices, one statement each.
func (e *Engine) offerAll(ctx context.Context, tx bun.Tx, placed []*placement, now time.Time) error {
	if len(placed) == 0 {
		return nil
	}
	ids := make([]int64, len(placed))
	for i, p := range placed {
		ids[i] = p.r.ID
	}
	windows, err := e.window(ctx, tx, ids, now)
	if err != nil {
		return err
	}
	var (
		reqIDs, agencyIDs, assigneeIDs []int64
		versions                       []int
		events                         []casework.Event
		tasks                          []jobs.Task
		notices                        []notify.Addressed
		lastAssigned                   = map[int64]time.Time{}
	)
	for _, p := range placed {
		r, c := p.r, p.to
		p.ex.Outcome = "assigned"
		r.Status, r.AgencyID, r.AssigneeID = casework.Assigned, &p.ex.AgencyID, &c.UserID
		r.Version++
		reqIDs, agencyIDs, assigneeIDs = append(reqIDs, r.ID), append(agencyIDs, p.ex.AgencyID), append(assigneeIDs, c.UserID)
		versions = append(versions, r.Version)
		events = append(events, casework.Event{RequestID: r.ID, At: now, Kind: "assigned", Data: map[string]any{
			"explanation": p.ex, "agency_id": p.ex.AgencyID, "assignee_id": c.UserID, "assignee": c.DisplayName}})
		tasks = append(tasks, jobs.Task{
			Type: TaskOfferExpired, Key: fmt.Sprintf("offer:%d:%d", r.ID, r.Version),
			Payload: OfferPayload{RequestID: r.ID, Version: r.Version}, Queue: jobs.QueueCritical,
			ProcessAt: windows[r.ID],
		})
		notices = append(notices, notify.Addressed{UserID: c.UserID, Notice: notify.Notice{Kind: "request.assigned",
			Title: "新诉求待接收 " + r.TicketNo, Body: r.Title, RequestID: r.ID}})
		lastAssigned[c.UserID] = *c.lastAssigned
	}
	// One array per column, prepared: PostgreSQL parses a 500-row VALUES
	// list slower than it applies it.
	if _, err := pg.ExecPrepared(ctx, tx, `UPDATE requests r SET status = $1, agency_id = v.agency_id, assignee_id = v.assignee_id,
		version = v.version, updated_at = $2, offered_at = $2, pool_reason = NULL
		FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::int[]) AS v (id, agency_id, assignee_id, version)
		WHERE r.id = v.id`, string(casework.Assigned), now, reqIDs, agencyIDs, assigneeIDs, versions); err != nil {
		return fmt.Errorf("routing: store offers: %w", err)
	}
	officerIDs, officerAt := make([]int64, 0, len(lastAssigned)), make([]time.Time, 0, len(lastAssigned))
	for id, at := range lastAssigned {
		officerIDs, officerAt = append(officerIDs, id), append(officerAt, at)
	}
	if _, err := pg.ExecPrepared(ctx, tx, `UPDATE officer_profiles p SET last_assigned_at = v.at
		FROM unnest($1::bigint[], $2::timestamptz[]) AS v (user_id, at) WHERE p.user_id = v.user_id`, officerIDs, officerAt); err != nil {
		return err
	}
	if err := casework.AddEvents(ctx, tx, events); err != nil {
		return err
	}
	if err := jobs.EnqueueMany(ctx, tx, tasks); err != nil {
		return err
	}
	return notify.SendAll(ctx, tx, now, notices)
}
