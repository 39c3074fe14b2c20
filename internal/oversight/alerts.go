// Package oversight is the office that watches the others (区委政法委执法监督):
// rules that turn inspection and request events into alerts (one alert per
// situation, updated as it recurs), supervision orders (督办) an agency must
// answer in time, and the reports and the per-enterprise burden view.
package oversight

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/workcal"
)

// Alert is one situation the office should look at.
type Alert struct {
	bun.BaseModel `bun:"table:alerts"`
	ID            int64          `bun:"id,pk,autoincrement"`
	Rule          string         `bun:"rule"`
	Severity      string         `bun:"severity"`
	Status        string         `bun:"status"`
	DedupKey      string         `bun:"dedup_key"`
	EnterpriseID  *int64         `bun:"enterprise_id"`
	AgencyIDs     []int64        `bun:"agency_ids,array"`
	InspectionIDs []int64        `bun:"inspection_ids,array"`
	RequestIDs    []int64        `bun:"request_ids,array"`
	Detail        map[string]any `bun:"detail,type:jsonb"`
	Occurrences   int            `bun:"occurrences"`
	FirstSeen     time.Time      `bun:"first_seen"`
	LastSeen      time.Time      `bun:"last_seen"`
	HandlerID     *int64         `bun:"handler_id"`
	HandledAt     *time.Time     `bun:"handled_at"`
	DismissReason *string        `bun:"dismiss_reason"`

	Enterprise *identity.Enterprise `bun:"rel:belongs-to,join:enterprise_id=id"`
}

// Service is the oversight domain.
type Service struct {
	db       *bun.DB
	clock    clock.Clock
	log      *slog.Logger
	calendar func(ctx context.Context) (*workcal.Calendar, error)
}

// NewService returns the oversight service.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger, calendar func(ctx context.Context) (*workcal.Calendar, error)) *Service {
	return &Service{db: db, clock: clk, log: log, calendar: calendar}
}

// finding is what a rule found; raise turns it into an alert.
type finding struct {
	rule        string
	key         string // the situation, without the rule
	enterprise  int64
	agencies    []int64
	inspections []int64
	requests    []int64
	detail      map[string]any
}

// raise records a finding: a new alert, or one more occurrence of the
// alert for the same situation (ids merged, last_seen moved on). Handled
// alerts stay handled: the office already decided about that situation.
func raise(ctx context.Context, tx bun.IDB, f finding, now time.Time) error {
	var severity string
	var active bool
	err := tx.NewRaw("SELECT severity, active FROM alert_rules WHERE rule = ?", f.rule).Scan(ctx, &severity, &active)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
		return nil
	}
	if err != nil {
		return err
	}
	return upsertAlert(ctx, tx, f, severity, now)
}

// upsertAlert writes a finding whose rule is known to be active.
func upsertAlert(ctx context.Context, tx bun.IDB, f finding, severity string, now time.Time) error {
	var ent *int64
	if f.enterprise != 0 {
		ent = &f.enterprise
	}
	if f.detail == nil {
		f.detail = map[string]any{}
	}
	_, err := tx.NewRaw(`INSERT INTO alerts AS a (rule, severity, dedup_key, enterprise_id, agency_ids, inspection_ids, request_ids, detail, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO UPDATE SET
		  last_seen = greatest(a.last_seen, EXCLUDED.last_seen),
		  occurrences = a.occurrences + 1,
		  agency_ids = ARRAY(SELECT DISTINCT unnest(a.agency_ids || EXCLUDED.agency_ids) ORDER BY 1),
		  inspection_ids = ARRAY(SELECT DISTINCT unnest(a.inspection_ids || EXCLUDED.inspection_ids) ORDER BY 1),
		  request_ids = ARRAY(SELECT DISTINCT unnest(a.request_ids || EXCLUDED.request_ids) ORDER BY 1),
		  detail = EXCLUDED.detail`,
		f.rule, severity, f.rule+":"+f.key, ent, ints(f.agencies), ints(f.inspections), ints(f.requests), f.detail, now, now).Exec(ctx)
	return err
}

func ints(v []int64) any {
	if v == nil {
		v = []int64{}
	}
	return pgdialect.Array(v)
}

// AlertFilter narrows Alerts.
type AlertFilter struct {
	Rule, Severity, Status string
	AgencyID               int64
	EnterpriseID           int64
	From, To               *time.Time // last_seen
	BeforeID               int64
	Limit                  int
}

func mayOversee(a identity.Actor, act identity.Action) error {
	return identity.Authorize(a, act, identity.Resource{Kind: identity.ResOversight})
}

// Alerts lists alerts, newest first (oversight only).
func (s *Service) Alerts(ctx context.Context, a identity.Actor, f AlertFilter) ([]Alert, bool, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return nil, false, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var out []Alert
	q := s.db.NewSelect().Model(&out).Relation("Enterprise").OrderExpr("?TableAlias.id DESC").Limit(int64(limit + 1))
	if f.BeforeID > 0 {
		q.Where("?TableAlias.id < ?", f.BeforeID)
	}
	if f.Rule != "" {
		q.Where("?TableAlias.rule = ?", f.Rule)
	}
	if f.Severity != "" {
		q.Where("?TableAlias.severity = ?", f.Severity)
	}
	if f.Status != "" {
		q.Where("?TableAlias.status = ?", f.Status)
	}
	if f.AgencyID != 0 {
		q.Where("? = ANY(?TableAlias.agency_ids)", f.AgencyID)
	}
	if f.EnterpriseID != 0 {
		q.Where("?TableAlias.enterprise_id = ?", f.EnterpriseID)
	}
	if f.From != nil {
		q.Where("?TableAlias.last_seen >= ?", *f.From)
	}
	if f.To != nil {
		q.Where("?TableAlias.last_seen < ?", *f.To)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// HandleAlert moves an alert: ack, resolve, or dismiss (with a reason).
func (s *Service) HandleAlert(ctx context.Context, a identity.Actor, id int64, action, reason string) (Alert, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return Alert{}, err
	}
	to := map[string]string{"ack": "acknowledged", "resolve": "resolved", "dismiss": "dismissed"}[action]
	if to == "" {
		return Alert{}, fault.InvalidField("action", "ack, resolve or dismiss")
	}
	if action == "dismiss" && reason == "" {
		return Alert{}, fault.InvalidField("reason", "忽略预警须写明理由 / a dismissal needs its reason")
	}
	var al Alert
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(&al).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return fault.New(fault.NotFound, "alert not found")
		}
		allowed := map[string][]string{"open": {"acknowledged", "resolved", "dismissed"}, "acknowledged": {"resolved", "dismissed"}}
		ok := false
		for _, s := range allowed[al.Status] {
			ok = ok || s == to
		}
		if !ok {
			return &fault.Error{Kind: fault.Conflict, Msg: "预警已" + al.Status + " / the alert is " + al.Status, Extra: map[string]any{"current_status": al.Status}}
		}
		now := s.clock.Now()
		al.Status, al.HandlerID, al.HandledAt = to, &a.UserID, &now
		if reason != "" {
			al.DismissReason = &reason
		}
		_, err := tx.NewUpdate().Model(&al).Column("status", "handler_id", "handled_at", "dismiss_reason").WherePK().Exec(ctx)
		return err
	})
	return al, err
}

func timeLoc() *time.Location { return clock.Shanghai }

func notFound() error { return fault.New(fault.NotFound, "not found") }
