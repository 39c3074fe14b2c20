package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/notify"
)

var clockNames = map[string]string{Acknowledge: "响应", Resolution: "办结", NextResponse: "答复"}

// tell runs the escalation ladder: a warning goes to the officer, a breach
// to the agency's leads (and the officer), an escalation to the oversight
// office; the agency's webhooks hear of all three.
func (s *Service) tell(ctx context.Context, tx bun.IDB, what string, c *Clock, at time.Time) error {
	r, err := casework.Lookup(ctx, tx, c.RequestID, false)
	if err != nil {
		return err
	}
	var users []int64
	var title string
	switch what {
	case "warn":
		title = fmt.Sprintf("即将超时：%s %s时限", r.TicketNo, clockNames[c.Kind])
		if r.AssigneeID != nil {
			users = []int64{*r.AssigneeID}
		}
	case "breach":
		title = fmt.Sprintf("已超时：%s %s时限", r.TicketNo, clockNames[c.Kind])
		if r.AssigneeID != nil {
			users = []int64{*r.AssigneeID}
		}
	case "escalate":
		title = fmt.Sprintf("超时一个工作日仍未处理：%s", r.TicketNo)
		if users, err = notify.Oversight(ctx, tx); err != nil {
			return err
		}
	}
	if r.AgencyID != nil && (what == "breach" || (what == "warn" && r.AssigneeID == nil)) {
		leads, err := notify.AgencyLeads(ctx, tx, *r.AgencyID)
		if err != nil {
			return err
		}
		users = append(users, leads...)
	}
	if err := notify.Send(ctx, tx, at, users, notify.Notice{Kind: "sla." + what, Title: title, Body: r.Title, RequestID: r.ID}); err != nil {
		return err
	}
	if r.AgencyID == nil {
		return nil
	}
	return notify.Webhook(ctx, tx, at, *r.AgencyID, "sla."+what, map[string]any{
		"request_id": r.ID, "ticket_no": r.TicketNo, "clock": c.Kind, "due_at": c.DueAt, "at": at})
}
