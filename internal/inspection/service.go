package inspection

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/cache"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/workcal"
)

// Service is the inspection domain.
type Service struct {
	db        *bun.DB
	clock     clock.Clock
	log       *slog.Logger
	keys      [][]byte // code signing keys, newest first
	publicURL string
	// Calendar counts rectification deadlines in working days.
	calendar    func(ctx context.Context) (*workcal.Calendar, error)
	verifyCache *cache.Exact[string, *Verified]
	draw        func() uint32 // a new code's random bits
}

// NewService returns the inspection service.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger, keys [][]byte, publicURL string,
	calendar func(ctx context.Context) (*workcal.Calendar, error)) *Service {
	db.RegisterModel((*InspectionInspector)(nil))
	return &Service{db: db, clock: clk, log: log, keys: keys, publicURL: strings.TrimRight(publicURL, "/"), calendar: calendar,
		verifyCache: newVerifyCache(), draw: drawRandom}
}

// VerifyURL is what the QR code on a code holds.
func (s *Service) VerifyURL(code string) string { return s.publicURL + "/v/" + code }

// IssueInput is an inspector's request for a code.
type IssueInput struct {
	USCC           string
	Items          []string
	Mode           string // onsite, offsite
	Kind           string // routine, triggered, special
	Trigger        string
	TriggerRef     string
	PlanID         int64
	From, To       time.Time
	Inspectors     []int64
	JointAgencies  []int64
	OverrideReason string
}

// Issue runs the pre-checks and, if nothing blocks (or only overridable
// rules do and a reason is given), issues a signed code in the same
// transaction. A refusal is a fault.Invalid whose Extra lists every
// finding under "checks".
func (s *Service) Issue(ctx context.Context, a identity.Actor, in IssueInput) (Inspection, error) {
	if a.Role != identity.RoleInspector {
		return Inspection{}, fault.New(fault.Forbidden, "只有执法人员可以申请检查码 / only inspectors request codes")
	}
	if err := s.validate(in); err != nil {
		return Inspection{}, err
	}
	// Microseconds, as stored: the answer shows what a later read shows.
	in.From, in.To = in.From.Truncate(time.Microsecond), in.To.Truncate(time.Microsecond)
	// A code is 32 random bits: with millions issued, a new one repeats an
	// old one about once in a thousand. The unique index refuses it, the
	// transaction rolls back whole, and it runs again with another code.
	for try := 1; ; try++ {
		out, err := s.issue(ctx, a, in, SignCode(s.keys[0], s.draw()))
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, pg.ErrUnique) || pg.Constraint(err) != "inspections_code_key" {
			return Inspection{}, err
		}
		if try == 5 {
			return Inspection{}, fmt.Errorf("issue: no free code after %d draws", try)
		}
	}
}

// issue is one attempt of Issue with the given code, in two round trips:
// BEGIN with the reads of the pre-checks, the writes with the COMMIT. The
// inspection it returns is what it wrote, with the agency and inspectors
// read along with the pre-checks: reading it back after the commit cost
// two more round trips.
func (s *Service) issue(ctx context.Context, a identity.Actor, in IssueInput, code string) (Inspection, error) {
	var out Inspection
	err := pg.RunInBatchTx(ctx, s.db, func(ctx context.Context, tx *pg.BatchTx) error {
		// The enterprise's row stays locked to the end: two codes asked
		// for at once are checked one after the other, so they cannot both
		// pass a cap that has room for one. (NO KEY UPDATE leaves rows
		// referring to the enterprise free to be written.)
		var reads pg.Batch
		p, err := queuePrechecks(&reads, a.AgencyID, in, true)
		if err != nil {
			return err
		}
		// The new inspection's id comes with the reads, so that its
		// analysis task can be written with it. A refused code leaves a
		// gap in the ids.
		var id int64
		reads.QueryRow(func(row pgx.Row) error { return row.Scan(&id) }, `SELECT nextval(pg_get_serial_sequence('inspections', 'id'))`)
		agency := new(identity.Agency)
		identity.QueueAgency(&reads, a.AgencyID, agency)
		var inspectors []identity.User
		identity.QueueUsers(&reads, in.Inspectors, &inspectors)
		if err := tx.Send(ctx, &reads); err != nil {
			return err
		}
		ent, checks, err := p.run()
		if err != nil {
			return err
		}
		blocked := false
		for i := range checks {
			if checks[i].Severity != "block" {
				continue
			}
			if overridable[checks[i].Rule] && strings.TrimSpace(in.OverrideReason) != "" {
				checks[i].Overridden = true
				continue
			}
			blocked = true
		}
		if blocked {
			return &fault.Error{Kind: fault.Invalid, Msg: "预检未通过，不能签发检查码 / the pre-checks block this inspection",
				Extra: map[string]any{"checks": checks}}
		}
		var trigger, override *string
		var plan *int64
		if in.Kind == "triggered" {
			trigger = &in.Trigger
		}
		if in.PlanID != 0 {
			plan = &in.PlanID
		}
		if in.OverrideReason != "" {
			override = &in.OverrideReason
		}
		checksJSON, err := json.Marshal(checks)
		if err != nil {
			return err
		}
		eventJSON, err := json.Marshal(map[string]any{"checks": checks})
		if err != nil {
			return err
		}
		// Microseconds, as stored: the answer shows what a later read shows.
		now := s.clock.Now().Truncate(time.Microsecond)
		if override != nil {
			if err := audit.Append(ctx, tx.IDB(), now, audit.Entry{Actor: a.String(), Action: "inspection.override", TargetType: "inspection",
				TargetID: strconv.FormatInt(id, 10), Detail: map[string]any{"reason": in.OverrideReason, "checks": checks}}); err != nil {
				return err
			}
		}
		var writes pg.Batch
		writes.Exec(insertInspectionSQL, id, code, ent.ID, a.AgencyID, a.UserID, in.Items, in.Mode, in.Kind, trigger, in.TriggerRef, plan,
			in.From, in.To, nonNil(in.JointAgencies), override, string(checksJSON), CodeIssued, now, in.Inspectors, string(eventJSON))
		if err := jobs.EnqueueIn(&writes, analysisTask(id, "issued")); err != nil {
			return err
		}
		if err := tx.Commit(ctx, &writes); err != nil {
			return err
		}
		out = Inspection{ID: id, Code: code, EnterpriseID: ent.ID, AgencyID: a.AgencyID, CreatedBy: a.UserID, ItemCodes: in.Items,
			Mode: in.Mode, Kind: in.Kind, TriggerType: trigger, TriggerRef: in.TriggerRef, PlanID: plan, WindowFrom: in.From,
			WindowTo: in.To, JointAgencyIDs: nonNil(in.JointAgencies), OverrideReason: override, Checks: checks, Status: CodeIssued,
			CreatedAt: now, UpdatedAt: now, Agency: agency, Enterprise: &ent, Inspectors: inspectors}
		return nil
	})
	return out, err
}

// insertInspectionSQL writes an issued code with its inspectors and its
// first timeline entry in one statement.
const insertInspectionSQL = `WITH inspection AS (
	  INSERT INTO inspections (id, code, enterprise_id, agency_id, created_by, item_codes, mode, kind, trigger_type, trigger_ref, plan_id,
	    window_from, window_to, joint_agency_ids, override_reason, checks, status, created_at, updated_at)
	  OVERRIDING SYSTEM VALUE
	  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id),
	inspectors AS (
	  INSERT INTO inspection_inspectors (inspection_id, user_id) SELECT inspection.id, u FROM inspection, unnest($19::bigint[]) AS u)
	INSERT INTO inspection_events (inspection_id, at, actor_id, kind, data) SELECT id, $18, $5, 'code_issued', $20 FROM inspection`

func nonNil(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

func (s *Service) validate(in IssueInput) error {
	var fields []fault.Field
	add := func(f, m string) { fields = append(fields, fault.Field{Name: f, Message: m}) }
	if len(in.Items) == 0 {
		add("items", "至少选择一个检查事项 / choose at least one item")
	}
	if in.Mode != "onsite" && in.Mode != "offsite" {
		add("mode", "onsite or offsite")
	}
	if in.Kind != "routine" && in.Kind != "triggered" && in.Kind != "special" {
		add("kind", "routine, triggered or special")
	}
	if in.Kind == "special" && in.PlanID == 0 {
		add("plan_id", "专项检查须引用检查计划 / a special inspection names its plan")
	}
	if !in.To.After(in.From) {
		add("window", "结束时间须晚于开始时间 / the window must end after it starts")
	} else if in.To.Sub(in.From) > 31*24*time.Hour {
		add("window", "检查码有效期最长31天 / a code is valid for at most 31 days")
	}
	if len(in.Inspectors) == 0 {
		add("inspectors", "请填写检查人员 / name the inspectors")
	}
	if len(fields) > 0 {
		return &fault.Error{Kind: fault.Invalid, Msg: fields[0].Message, Fields: fields}
	}
	return nil
}

func (s *Service) event(ctx context.Context, tx bun.IDB, id int64, at time.Time, actor *int64, kind string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	_, err := tx.NewRaw(`INSERT INTO inspection_events (inspection_id, at, actor_id, kind, data) VALUES (?, ?, ?, ?, ?)`,
		id, at, actor, kind, data).Exec(ctx)
	return err
}

func analyze(ctx context.Context, tx bun.IDB, id int64, event string) error {
	return jobs.Enqueue(ctx, tx, analysisTask(id, event))
}

// analysisTask evaluates the oversight alert rules after an event of an
// inspection.
func analysisTask(id int64, event string) jobs.Task {
	return jobs.Task{Type: TaskAnalyze, Queue: jobs.QueueLow,
		Key: fmt.Sprintf("analyze:%d:%s", id, event), Payload: AnalyzePayload{InspectionID: id, Event: event}}
}

func load(ctx context.Context, db bun.IDB, id int64, forUpdate bool) (*Inspection, error) {
	i := new(Inspection)
	q := db.NewSelect().Model(i).Where("?TableAlias.id = $1")
	if forUpdate {
		q.For("UPDATE")
	} else {
		q.Relation("Agency").Relation("Enterprise")
	}
	// Prepared, as every issued code is read back and every page reads one:
	// planning the joins cost more than running them.
	if err := pg.SelectPrepared(ctx, db, q, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.New(fault.NotFound, "inspection not found")
		}
		return nil, err
	}
	if !forUpdate {
		if err := pg.ScanPrepared(ctx, db, &i.Inspectors, inspectionInspectorsSQL, id); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// inspectionInspectorsSQL reads the inspectors of one inspection.
const inspectionInspectorsSQL = `SELECT u.id, u.username, u.display_name, u.role, u.password_hash, u.agency_id, u.enterprise_id, u.phone,
	  u.disabled_at, u.created_at, u.updated_at
	FROM inspection_inspectors x JOIN users u ON u.id = x.user_id WHERE x.inspection_id = $1 ORDER BY u.id`

// Get returns an inspection the actor may see.
func (s *Service) Get(ctx context.Context, a identity.Actor, id int64) (Inspection, error) {
	i, err := load(ctx, s.db, id, false)
	if err != nil {
		return Inspection{}, err
	}
	if err := identity.Authorize(a, identity.Read, i.Resource()); err != nil {
		return Inspection{}, err
	}
	return *i, nil
}

// Lookup reads an inspection without an access check (for jobs).
func Lookup(ctx context.Context, db bun.IDB, id int64) (*Inspection, error) {
	return load(ctx, db, id, false)
}

// LookupForRules reads an inspection with its agency and enterprise, in
// one statement and without its inspectors, for the oversight rules that
// run on every inspection event.
func LookupForRules(ctx context.Context, db bun.IDB, id int64) (*Inspection, error) {
	i := new(Inspection)
	if err := db.NewSelect().Model(i).Relation("Agency").Relation("Enterprise").Where("?TableAlias.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fault.New(fault.NotFound, "inspection not found")
		}
		return nil, err
	}
	return i, nil
}

// Filter narrows List.
type Filter struct {
	EnterpriseID int64
	AgencyID     int64
	Item         string
	Status       string
	From, To     *time.Time // window overlaps
	BeforeID     int64
	Limit        int
}

// List returns inspections the actor may see, newest first.
func (s *Service) List(ctx context.Context, a identity.Actor, f Filter) ([]Inspection, bool, error) {
	limit := f.Limit
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var out []Inspection
	q := s.db.NewSelect().Model(&out).Relation("Agency").Relation("Enterprise").Relation("Inspectors").
		OrderExpr("?TableAlias.id DESC").Limit(int64(limit + 1))
	switch a.Role {
	case identity.RoleEnterprise:
		q.Where("?TableAlias.enterprise_id = ?", a.EnterpriseID)
	case identity.RoleInspector, identity.RoleLead:
		q.Where("?TableAlias.agency_id = ? OR ? = ANY(?TableAlias.joint_agency_ids)", a.AgencyID, a.AgencyID)
	case identity.RoleOversight:
	default:
		return nil, false, fault.New(fault.Forbidden, "your role does not read inspections")
	}
	if f.BeforeID > 0 {
		q.Where("?TableAlias.id < ?", f.BeforeID)
	}
	if f.EnterpriseID != 0 {
		q.Where("?TableAlias.enterprise_id = ?", f.EnterpriseID)
	}
	if f.AgencyID != 0 {
		q.Where("?TableAlias.agency_id = ?", f.AgencyID)
	}
	if f.Item != "" {
		q.Where("? = ANY(?TableAlias.item_codes)", f.Item)
	}
	if f.Status != "" {
		q.Where("?TableAlias.status = ?", f.Status)
	}
	if f.From != nil {
		q.Where("?TableAlias.window_to >= ?", *f.From)
	}
	if f.To != nil {
		q.Where("?TableAlias.window_from < ?", *f.To)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// Items lists the items an inspector's agency may use (all for the
// administrator and oversight).
func (s *Service) Items(ctx context.Context, a identity.Actor) ([]Item, error) {
	var out []Item
	q := s.db.NewSelect().Model(&out).OrderExpr("code")
	switch a.Role {
	case identity.RoleAdmin, identity.RoleOversight:
	case identity.RoleInspector:
		q.Where("code IN (SELECT item_code FROM agency_items WHERE agency_id = ?)", a.AgencyID).Where("status = 'published'")
	default:
		return nil, fault.New(fault.Forbidden, "your role does not use inspection items")
	}
	err := q.Scan(ctx)
	return out, err
}

// Verified is what the public verify page shows for a scanned code.
type Verified struct {
	Valid  bool
	Reason string // why not valid, in plain words
	// Inspection holds what the page shows: ids, items, mode, kind,
	// status, window, and the agency's and enterprise's names.
	Inspection *Inspection
	Items      []Item
	// Inspectors are masked names with certificate numbers.
	Inspectors []struct{ Name, Certificate string }
}

// Confirm records that the inspectors arrived, as the enterprise says. A
// code of another enterprise, or used outside its window, is refused and
// reported to the oversight office.
func (s *Service) Confirm(ctx context.Context, a identity.Actor, raw string) (Inspection, error) {
	if a.Role != identity.RoleEnterprise {
		return Inspection{}, fault.New(fault.Forbidden, "只有被检查企业可以确认 / only the inspected enterprise confirms")
	}
	code := NormalizeCode(raw)
	if !validCode(s.keys, code) {
		return Inspection{}, fault.New(fault.NotFound, "no such code")
	}
	var refused error
	var id int64
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		i := new(Inspection)
		if err := tx.NewSelect().Model(i).Where("code = ?", code).For("UPDATE").Scan(ctx); err != nil {
			return fault.New(fault.NotFound, "no such code")
		}
		id = i.ID
		now := s.clock.Now()
		why, kind := "", fault.Conflict
		switch {
		case i.EnterpriseID != a.EnterpriseID:
			why, kind = "该检查码不是针对贵企业的 / this code is for another enterprise", fault.Forbidden
		case i.Status == Cancelled:
			why = "该检查已取消 / this inspection was cancelled"
		case now.Before(i.WindowFrom) || now.After(i.WindowTo):
			why = "不在检查码有效时间内 / outside the code's window"
		case i.Status != CodeIssued:
			return fault.New(fault.Conflict, "已确认过 / already confirmed")
		}
		if why != "" {
			refused = &fault.Error{Kind: kind, Msg: why}
			if err := s.event(ctx, tx, i.ID, now, &a.UserID, "confirm_refused", map[string]any{"reason": why, "enterprise_id": a.EnterpriseID}); err != nil {
				return err
			}
			return analyze(ctx, tx, i.ID, fmt.Sprintf("confirm_refused:%d", now.UnixMicro()))
		}
		i.Status, i.ConfirmedAt, i.UpdatedAt = Confirmed, &now, now
		if _, err := tx.NewUpdate().Model(i).Column("status", "confirmed_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.event(ctx, tx, i.ID, now, &a.UserID, "confirmed", nil)
	})
	if err != nil {
		return Inspection{}, err
	}
	if refused != nil {
		return Inspection{}, refused
	}
	return s.Get(ctx, a, id)
}

// RecordInput is the visit record.
type RecordInput struct {
	Start, End    time.Time
	Findings      []map[string]any // per item: item, result, note
	Outcome       string
	RectifyDays   int
	PenaltyAmount float64
	Documents     []string
}

// Record writes the visit record. A record without the enterprise's
// confirmation is allowed but reported (no code scan).
func (s *Service) Record(ctx context.Context, a identity.Actor, id int64, in RecordInput) (Inspection, error) {
	switch {
	case !slices.Contains([]string{"no_issue", "rectify", "case_opened", "penalty"}, in.Outcome):
		return Inspection{}, fault.InvalidField("outcome", "no_issue, rectify, case_opened or penalty")
	case in.Outcome == "rectify" && in.RectifyDays <= 0:
		return Inspection{}, fault.InvalidField("rectify_days", "责令整改须给出整改期限（工作日）/ give the rectification period in working days")
	case in.Outcome == "penalty" && in.PenaltyAmount <= 0:
		return Inspection{}, fault.InvalidField("penalty_amount", "give the penalty amount")
	case !in.End.After(in.Start):
		return Inspection{}, fault.InvalidField("end", "the visit ends after it starts")
	}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		i, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := identity.Authorize(a, identity.Work, i.Resource()); err != nil {
			return err
		}
		if a.Role != identity.RoleInspector {
			return fault.New(fault.Forbidden, "only inspectors record visits")
		}
		if i.Status != CodeIssued && i.Status != Confirmed {
			return &fault.Error{Kind: fault.Conflict, Msg: "该检查已" + i.Status + "，不能再记录 / this inspection is " + i.Status,
				Extra: map[string]any{"current_status": i.Status}}
		}
		now := s.clock.Now()
		noScan := i.ConfirmedAt == nil
		i.Status, i.StartedAt, i.EndedAt, i.Outcome, i.UpdatedAt = Recorded, &in.Start, &in.End, &in.Outcome, now
		i.Record = map[string]any{"findings": in.Findings, "documents": in.Documents, "no_code_scan": noScan}
		if in.Outcome == "rectify" {
			cal, err := s.calendar(ctx)
			if err != nil {
				return err
			}
			due, _ := cal.AddWorkingDays(workcal.DateOf(in.End, clock.Shanghai), in.RectifyDays)
			t := due.Time()
			i.RectifyDue = &t
		}
		if in.Outcome == "penalty" {
			i.PenaltyAmount = &in.PenaltyAmount
		}
		if _, err := tx.NewUpdate().Model(i).Column("status", "started_at", "ended_at", "outcome", "record", "rectify_due",
			"penalty_amount", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if err := s.event(ctx, tx, i.ID, now, &a.UserID, "recorded", map[string]any{"outcome": in.Outcome, "no_code_scan": noScan}); err != nil {
			return err
		}
		return analyze(ctx, tx, i.ID, "recorded")
	})
	if err != nil {
		return Inspection{}, err
	}
	return s.Get(ctx, a, id)
}

// Evaluate records the enterprise's rating of a visit.
func (s *Service) Evaluate(ctx context.Context, a identity.Actor, id int64, rating int, tags []string, comment string, complaint bool) (Evaluation, error) {
	if rating < 1 || rating > 5 {
		return Evaluation{}, fault.InvalidField("rating", "1–5")
	}
	ev := Evaluation{InspectionID: id, EnterpriseID: a.EnterpriseID, AuthorID: a.UserID, Rating: rating, Tags: tags, Comment: comment, Complaint: complaint}
	if ev.Tags == nil {
		ev.Tags = []string{}
	}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		i, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		res := identity.Resource{Kind: identity.ResEvaluation, EnterpriseID: i.EnterpriseID, AgencyID: i.AgencyID}
		if err := identity.Authorize(a, identity.Work, res); err != nil {
			return err
		}
		if i.Status != Recorded && i.Status != Confirmed {
			return &fault.Error{Kind: fault.Conflict, Msg: "检查完成后才能评价 / rate the visit after it happened", Extra: map[string]any{"current_status": i.Status}}
		}
		ev.CreatedAt = s.clock.Now()
		r, err := tx.NewInsert().Model(&ev).On("CONFLICT (inspection_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return fault.New(fault.Conflict, "已经评价过 / already rated")
		}
		return analyze(ctx, tx, id, "evaluated")
	})
	return ev, err
}

// Evaluation returns the rating of a visit to those who may read it: the
// enterprise that gave it and the oversight office, never the agency.
func (s *Service) Evaluation(ctx context.Context, a identity.Actor, id int64) (Evaluation, error) {
	i, err := load(ctx, s.db, id, false)
	if err != nil {
		return Evaluation{}, err
	}
	res := identity.Resource{Kind: identity.ResEvaluation, EnterpriseID: i.EnterpriseID, AgencyID: i.AgencyID}
	if err := identity.Authorize(a, identity.Read, res); err != nil {
		return Evaluation{}, err
	}
	var ev Evaluation
	if err := s.db.NewSelect().Model(&ev).Where("inspection_id = ?", id).Scan(ctx); err != nil {
		return Evaluation{}, fault.New(fault.NotFound, "not rated yet")
	}
	return ev, nil
}

// Cancel withdraws a code before the visit.
func (s *Service) Cancel(ctx context.Context, a identity.Actor, id int64, reason string) (Inspection, error) {
	if strings.TrimSpace(reason) == "" {
		return Inspection{}, fault.InvalidField("reason", "请写明取消原因 / give the reason")
	}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		i, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := identity.Authorize(a, identity.Work, i.Resource()); err != nil {
			return err
		}
		if a.Role != identity.RoleInspector && a.Role != identity.RoleLead {
			return fault.New(fault.Forbidden, "only the inspecting agency cancels")
		}
		if i.Status != CodeIssued && i.Status != Confirmed {
			return &fault.Error{Kind: fault.Conflict, Msg: "该检查已" + i.Status + " / this inspection is " + i.Status, Extra: map[string]any{"current_status": i.Status}}
		}
		now := s.clock.Now()
		i.Status, i.CancelReason, i.UpdatedAt = Cancelled, &reason, now
		if _, err := tx.NewUpdate().Model(i).Column("status", "cancel_reason", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.event(ctx, tx, i.ID, now, &a.UserID, "cancelled", map[string]any{"reason": reason})
	})
	if err != nil {
		return Inspection{}, err
	}
	return s.Get(ctx, a, id)
}
