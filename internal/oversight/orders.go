package oversight

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/notify"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Order is a supervision order (督办) to an agency.
type Order struct {
	bun.BaseModel `bun:"table:supervision_orders"`
	ID            int64      `bun:"id,pk,autoincrement"`
	AgencyID      int64      `bun:"agency_id"`
	AlertID       *int64     `bun:"alert_id"`
	RequestID     *int64     `bun:"request_id"`
	InspectionID  *int64     `bun:"inspection_id"`
	Instruction   string     `bun:"instruction"`
	IssuedBy      int64      `bun:"issued_by"`
	IssuedAt      time.Time  `bun:"issued_at"`
	DueAt         time.Time  `bun:"due_at"`
	Status        string     `bun:"status"`
	Response      *string    `bun:"response"`
	RespondedBy   *int64     `bun:"responded_by"`
	RespondedAt   *time.Time `bun:"responded_at"`
	ReviewNote    *string    `bun:"review_note"`
	ReviewedAt    *time.Time `bun:"reviewed_at"`
	OverdueAt     *time.Time `bun:"overdue_at"`
	Version       int        `bun:"version"`

	Agency *identity.Agency `bun:"rel:belongs-to,join:agency_id=id"`
}

func (o *Order) resource() identity.Resource {
	return identity.Resource{Kind: identity.ResOrder, AgencyID: o.AgencyID}
}

// OrderInput is a new order.
type OrderInput struct {
	AgencyID                         int64
	AlertID, RequestID, InspectionID int64
	Instruction                      string
	DueInWorkingDays                 int
}

// IssueOrder sends a supervision order, due at the end of the n-th working
// day on the SLA calendar.
func (s *Service) IssueOrder(ctx context.Context, a identity.Actor, in OrderInput) (Order, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return Order{}, err
	}
	refs := 0
	for _, id := range []int64{in.AlertID, in.RequestID, in.InspectionID} {
		if id != 0 {
			refs++
		}
	}
	switch {
	case refs != 1:
		return Order{}, fault.InvalidField("alert_id", "督办须针对一条预警、一件诉求或一次检查 / name exactly one alert, request or inspection")
	case strings.TrimSpace(in.Instruction) == "":
		return Order{}, fault.InvalidField("instruction", "请写明督办要求 / write the instruction")
	case in.DueInWorkingDays < 1 || in.DueInWorkingDays > 60:
		return Order{}, fault.InvalidField("due_in_working_days", "1–60 working days")
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return Order{}, err
	}
	now := s.clock.Now()
	due, _ := cal.EndOfWorkingDays(now, in.DueInWorkingDays)
	o := Order{AgencyID: in.AgencyID, Instruction: in.Instruction, IssuedBy: a.UserID, IssuedAt: now, DueAt: due, Status: "issued", Version: 1}
	if in.AlertID != 0 {
		o.AlertID = &in.AlertID
	}
	if in.RequestID != 0 {
		o.RequestID = &in.RequestID
	}
	if in.InspectionID != 0 {
		o.InspectionID = &in.InspectionID
	}
	err = pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&o).ExcludeColumn("id").Returning("id").Exec(ctx); err != nil {
			return fault.InvalidField("agency_id", "unknown agency, alert, request or inspection")
		}
		if err := orderEvent(ctx, tx, o.ID, now, a.UserID, "issued", map[string]any{"instruction": in.Instruction, "due_at": due}); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, now, audit.Entry{Actor: a.String(), Action: "order.issue", TargetType: "order",
			TargetID: strconv.FormatInt(o.ID, 10), Detail: map[string]any{"agency_id": o.AgencyID, "due_at": due}}); err != nil {
			return err
		}
		leads, err := notify.AgencyLeads(ctx, tx, o.AgencyID)
		if err != nil {
			return err
		}
		return notify.Send(ctx, tx, now, leads, notify.Notice{Kind: "order.issued", Title: fmt.Sprintf("督办件：请于%s前答复", due.In(timeLoc()).Format("01月02日 15:04")), Body: in.Instruction})
	})
	if err != nil {
		return Order{}, err
	}
	return s.Order(ctx, a, o.ID)
}

func orderEvent(ctx context.Context, tx bun.IDB, id int64, at time.Time, actor int64, kind string, data map[string]any) error {
	_, err := tx.NewRaw("INSERT INTO order_events (order_id, at, actor_id, kind, data) VALUES (?, ?, ?, ?, ?)", id, at, actor, kind, data).Exec(ctx)
	return err
}

// Order returns an order to oversight or to the agency's leads.
func (s *Service) Order(ctx context.Context, a identity.Actor, id int64) (Order, error) {
	var o Order
	if err := s.db.NewSelect().Model(&o).Relation("Agency").Where("?TableAlias.id = ?", id).Scan(ctx); err != nil {
		return Order{}, fault.New(fault.NotFound, "order not found")
	}
	if err := identity.Authorize(a, identity.Read, o.resource()); err != nil {
		return Order{}, err
	}
	return o, nil
}

// Orders lists orders: all for oversight, the agency's own for a lead.
func (s *Service) Orders(ctx context.Context, a identity.Actor, status string) ([]Order, error) {
	var out []Order
	q := s.db.NewSelect().Model(&out).Relation("Agency").OrderExpr("?TableAlias.id DESC").Limit(500)
	switch a.Role {
	case identity.RoleOversight:
	case identity.RoleLead:
		q.Where("?TableAlias.agency_id = ?", a.AgencyID)
	default:
		return nil, fault.New(fault.Forbidden, "only the oversight office and agency leads read supervision orders")
	}
	if status != "" {
		q.Where("?TableAlias.status = ?", status)
	}
	err := q.Scan(ctx)
	return out, err
}

// OrderStep moves an order: "respond" (the agency lead, with its answer),
// "accept" or "return" (oversight, with a note when returning).
func (s *Service) OrderStep(ctx context.Context, a identity.Actor, id int64, step, text string) (Order, error) {
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var o Order
		if err := tx.NewSelect().Model(&o).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return fault.New(fault.NotFound, "order not found")
		}
		act := identity.Oversee
		if step == "respond" {
			act = identity.Lead
		}
		if err := identity.Authorize(a, act, o.resource()); err != nil {
			return err
		}
		from := map[string][]string{"respond": {"issued", "returned"}, "accept": {"answered"}, "return": {"answered"}}[step]
		ok := false
		for _, f := range from {
			ok = ok || o.Status == f
		}
		if !ok {
			return &fault.Error{Kind: fault.Conflict, Msg: "督办件当前状态为 " + o.Status + " / the order is " + o.Status, Extra: map[string]any{"current_status": o.Status}}
		}
		if (step == "respond" || step == "return") && strings.TrimSpace(text) == "" {
			return fault.InvalidField("text", "请填写内容 / write the answer or the reason")
		}
		now := s.clock.Now()
		switch step {
		case "respond":
			o.Status, o.Response, o.RespondedBy, o.RespondedAt = "answered", &text, &a.UserID, &now
		case "accept":
			o.Status, o.ReviewedAt = "accepted", &now
			if text != "" {
				o.ReviewNote = &text
			}
		case "return":
			o.Status, o.ReviewNote, o.ReviewedAt = "returned", &text, &now
		}
		o.Version++
		if _, err := tx.NewUpdate().Model(&o).WherePK().ExcludeColumn("id").Exec(ctx); err != nil {
			return err
		}
		return orderEvent(ctx, tx, o.ID, now, a.UserID, step, map[string]any{"text": text})
	})
	if err != nil {
		return Order{}, err
	}
	return s.Order(ctx, a, id)
}

// OverdueOrders escalates orders past their due time without an accepted
// answer: once each, like an SLA breach — the agency's leads and the office
// are told, and the order is marked overdue.
func (s *Service) OverdueOrders(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var ids []int64
	if err := s.db.NewRaw(`SELECT id FROM supervision_orders WHERE status IN ('issued', 'returned') AND overdue_at IS NULL AND due_at < ?`, now).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			var o Order
			if err := tx.NewSelect().Model(&o).Where("id = ? AND overdue_at IS NULL AND status IN ('issued', 'returned')", id).For("UPDATE").Scan(ctx); err != nil {
				return nil // handled meanwhile
			}
			o.OverdueAt = &now
			if _, err := tx.NewUpdate().Model(&o).Column("overdue_at").WherePK().Exec(ctx); err != nil {
				return err
			}
			n++
			if err := orderEvent(ctx, tx, o.ID, now, o.IssuedBy, "overdue", nil); err != nil {
				return err
			}
			leads, err := notify.AgencyLeads(ctx, tx, o.AgencyID)
			if err != nil {
				return err
			}
			office, err := notify.Oversight(ctx, tx)
			if err != nil {
				return err
			}
			return notify.Send(ctx, tx, now, append(leads, office...), notify.Notice{Kind: "order.overdue",
				Title: fmt.Sprintf("督办件 #%d 已逾期未答复", o.ID), Body: o.Instruction})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// OrderEvents returns an order's history.
func (s *Service) OrderEvents(ctx context.Context, a identity.Actor, id int64) ([]map[string]any, error) {
	if _, err := s.Order(ctx, a, id); err != nil {
		return nil, err
	}
	var rows []struct {
		At      time.Time      `bun:"at"`
		ActorID *int64         `bun:"actor_id"`
		Kind    string         `bun:"kind"`
		Data    map[string]any `bun:"data"`
	}
	if err := s.db.NewRaw("SELECT at, actor_id, kind, data FROM order_events WHERE order_id = ? ORDER BY id", id).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{"at": r.At, "actor_id": r.ActorID, "kind": r.Kind, "data": r.Data}
	}
	return out, nil
}
