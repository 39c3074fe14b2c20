package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// ActInput is one step on a request.
type ActInput struct {
	Action         Action
	Body           string // reply, materials asked for, resolution
	Reason         string // transfer, decline, reopen
	TargetAgencyID int64  // transfer
	AssigneeID     int64  // assign
	// Version is the If-Match the caller read; nil means it sent none.
	Version *int
}

// Act takes one step of the state machine. The order of refusals is: not
// visible (404), not this party's step (403), stale or missing version
// (412/428), not a step allowed in this state (409, naming the allowed
// ones), and missing input (422).
func (s *Service) Act(ctx context.Context, a identity.Actor, id int64, in ActInput) (Request, error) {
	t, known := transitions[in.Action]
	if !known {
		return Request{}, fault.InvalidField("action", "unknown action")
	}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := loadRequest(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := identity.Authorize(a, identity.Read, r.Resource()); err != nil {
			return err
		}
		if !mayTake(a, r, t) {
			return fault.New(fault.Forbidden, "%s 不是您可以执行的操作 / you are not the party who may %s this request", in.Action, in.Action)
		}
		if err := checkVersion(r, in.Version); err != nil {
			return err
		}
		if !slices.Contains(t.from, r.Status) {
			return notNow(a, r, in.Action)
		}
		if err := checkInput(t, in); err != nil {
			return err
		}
		return s.apply(ctx, tx, a, r, in, t)
	})
	if err != nil {
		return Request{}, err
	}
	// Not Get: after a transfer the actor may no longer see the request, yet
	// it should see the outcome of the step it just took.
	r, err := loadRequest(ctx, s.db, id, false)
	if err != nil {
		return Request{}, err
	}
	return *r, nil
}

func checkVersion(r *Request, v *int) error {
	if v == nil {
		return fault.New(fault.PreconditionRequired, "请带上 If-Match（诉求的 ETag）/ send If-Match with the request's ETag")
	}
	if *v != r.Version {
		return &fault.Error{Kind: fault.PreconditionFailed,
			Msg:   "诉求已被他人更新，请刷新后再操作 / the request changed since you read it; reload and try again",
			Extra: map[string]any{"current_version": r.Version}}
	}
	return nil
}

func notNow(a identity.Actor, r *Request, act Action) error {
	allowed := AllowedActions(a, r)
	names := make([]string, len(allowed))
	for i, x := range allowed {
		names[i] = string(x)
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "none"
	}
	return &fault.Error{Kind: fault.Conflict,
		Msg:   fmt.Sprintf("诉求当前状态为 %s，不能 %s / the request is %s; %s is not possible now (allowed: %s)", r.Status, act, r.Status, act, list),
		Extra: map[string]any{"current_status": r.Status, "allowed_actions": names}}
}

func checkInput(t transition, in ActInput) error {
	switch {
	case t.needBody && strings.TrimSpace(in.Body) == "":
		return fault.InvalidField("body", "请填写内容 / this action needs a body")
	case t.needReason && strings.TrimSpace(in.Reason) == "":
		return fault.InvalidField("reason", "请填写理由 / this action needs a reason")
	case t.needTarget && in.TargetAgencyID == 0:
		return fault.InvalidField("target_agency_id", "请选择移交的机关 / choose the agency to transfer to")
	case t.needAssignee && in.AssigneeID == 0:
		return fault.InvalidField("assignee_id", "请选择承办人 / choose the officer")
	}
	return nil
}

// apply performs a permitted step and records it.
func (s *Service) apply(ctx context.Context, tx bun.Tx, a identity.Actor, r *Request, in ActInput, t transition) error {
	now := s.clock.Now()
	from := r.Status
	change := Change{Request: r, Action: string(in.Action), From: from, At: now, ActorID: a.UserID, Reason: in.Body + in.Reason}
	if r.AgencyID != nil {
		change.FromAgencyID = *r.AgencyID
	}
	if r.AssigneeID != nil {
		change.FromAssigneeID = *r.AssigneeID
	}
	data := map[string]any{"action": in.Action}
	cols := []string{"status"}
	route := false

	switch in.Action {
	case ActAccept:
		r.AcceptedAt = &now
		cols = append(cols, "accepted_at")
	case ActReply, ActRequestInfo, ActResolve:
		if err := insertMessage(ctx, tx, r.ID, a.UserID, in.Body, false, now); err != nil {
			return err
		}
		data["body"] = in.Body
		if in.Action == ActReply && r.Status == Assigned {
			// Answering is accepting: the officer has taken the case up.
			t.to = InProgress
			r.AcceptedAt = &now
			cols = append(cols, "accepted_at")
		}
		if in.Action == ActResolve {
			r.Resolution, r.ResolvedAt = &in.Body, &now
			cols = append(cols, "resolution", "resolved_at")
		}
	case ActTransfer:
		target, err := s.transferTarget(ctx, tx, r, in.TargetAgencyID)
		if err != nil {
			return err
		}
		data["reason"], data["from_agency_id"], data["to_agency_id"], data["to_agency"] = in.Reason, r.AgencyID, target.ID, target.Name
		r.AgencyID, r.AssigneeID = &target.ID, nil
		cols = append(cols, "agency_id", "assignee_id")
		route = true
	case ActDecline:
		if _, err := tx.NewRaw(`INSERT INTO request_declines (request_id, user_id, reason, at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, r.ID, a.UserID, in.Reason, now).Exec(ctx); err != nil {
			return err
		}
		data["reason"] = in.Reason
		r.AssigneeID = nil
		cols = append(cols, "assignee_id")
		route = true
	case ActWithdraw:
		r.ClosedAt = &now
		cols = append(cols, "closed_at")
	case ActReopen:
		if r.ResolvedAt == nil || now.Sub(*r.ResolvedAt) > s.limits.ReopenWindow {
			return &fault.Error{Kind: fault.Conflict,
				Msg:   fmt.Sprintf("办结超过%d天，不能重新打开，请重新提交诉求 / it is more than %d days since this was resolved; file a new request", int(s.limits.ReopenWindow.Hours()/24), int(s.limits.ReopenWindow.Hours()/24)),
				Extra: map[string]any{"current_status": r.Status, "allowed_actions": []string{"confirm"}}}
		}
		data["reason"] = in.Reason
		r.ReopenCount++
		r.ResolvedAt, r.Resolution = nil, nil
		cols = append(cols, "reopen_count", "resolved_at", "resolution")
	case ActConfirm:
		r.ClosedAt = &now
		cols = append(cols, "closed_at")
	case ActAssign:
		var officer identity.User
		err := tx.NewSelect().Model(&officer).Where("id = ? AND agency_id = ? AND role IN (?) AND disabled_at IS NULL",
			in.AssigneeID, *r.AgencyID, bun.List([]identity.Role{identity.RoleOfficer, identity.RoleLead})).Scan(ctx)
		if err != nil {
			return fault.InvalidField("assignee_id", "只能指派给本机关在岗人员 / choose an active officer of this agency")
		}
		data["assignee_id"], data["assignee"] = officer.ID, officer.DisplayName
		r.AssigneeID, r.AcceptedAt = &officer.ID, nil
		cols = append(cols, "assignee_id", "accepted_at")
	}
	if t.to != "" {
		r.Status = t.to
	}
	if err := s.save(ctx, tx, r, now, cols...); err != nil {
		return err
	}
	if r.Status != from {
		data["from"], data["to"] = from, r.Status
	}
	if err := addEvent(ctx, tx, r.ID, now, &a.UserID, string(in.Action), false, data); err != nil {
		return err
	}
	if in.Action == ActTransfer || in.Action == ActDecline || in.Action == ActAssign {
		if err := audit.Append(ctx, tx, now, audit.Entry{Actor: a.String(), Action: "request." + string(in.Action),
			TargetType: "request", TargetID: fmt.Sprint(r.ID), Detail: data}); err != nil {
			return err
		}
	}
	if route {
		if err := jobs.Enqueue(ctx, tx, routingTask(r)); err != nil {
			return err
		}
	}
	return s.notify(ctx, tx, change)
}

// save writes the changed columns and moves the version on.
func (s *Service) save(ctx context.Context, tx bun.IDB, r *Request, now time.Time, cols ...string) error {
	r.Version++
	r.UpdatedAt = now
	cols = append(cols, "version", "updated_at")
	_, err := tx.NewUpdate().Model(r).Column(cols...).WherePK().Exec(ctx)
	return err
}

// Save is save for other domains (routing) that changed a locked request
// in their own transaction.
func (s *Service) Save(ctx context.Context, tx bun.IDB, r *Request, cols ...string) error {
	return s.save(ctx, tx, r, s.clock.Now(), cols...)
}

func (s *Service) transferTarget(ctx context.Context, tx bun.Tx, r *Request, agencyID int64) (*identity.Agency, error) {
	ag := new(identity.Agency)
	err := tx.NewSelect().Model(ag).Where("id = ? AND active", agencyID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.InvalidField("target_agency_id", "没有这个机关 / no such agency")
	}
	if err != nil {
		return nil, err
	}
	switch ag.Kind {
	case identity.KindCourt, identity.KindProcuratorate, identity.KindPolice, identity.KindJustice:
	default:
		return nil, fault.InvalidField("target_agency_id", "诉求只能移交政法机关 / requests go to a court, procuratorate, police or justice bureau")
	}
	if r.AgencyID != nil && *r.AgencyID == ag.ID {
		return nil, fault.InvalidField("target_agency_id", "已在该机关 / the request is already with this agency")
	}
	return ag, nil
}

func insertMessage(ctx context.Context, tx bun.IDB, requestID, authorID int64, body string, internal bool, at time.Time) error {
	_, err := tx.NewInsert().Model(&Message{RequestID: requestID, AuthorID: authorID, Body: body, Internal: internal, CreatedAt: at}).
		ExcludeColumn("id").Exec(ctx)
	return err
}

// PostMessage adds a reply or, for the agency, an internal note. An
// enterprise message on a request waiting for it moves it back to the
// agency (and resumes the clock).
func (s *Service) PostMessage(ctx context.Context, a identity.Actor, id int64, body string, internal bool) (Request, error) {
	if strings.TrimSpace(body) == "" {
		return Request{}, fault.InvalidField("body", "消息不能为空 / the message is empty")
	}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := loadRequest(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := identity.Authorize(a, identity.Read, r.Resource()); err != nil {
			return err
		}
		now := s.clock.Now()
		from := r.Status
		switch {
		case a.Role == identity.RoleEnterprise:
			if internal {
				return fault.New(fault.Forbidden, "企业不能发内部备注 / enterprises cannot write internal notes")
			}
			if !r.Status.Open() {
				return notNowMessage(r)
			}
		case a.Role == identity.RoleOfficer || a.Role == identity.RoleLead:
			// Anyone in the agency may note; answering the enterprise is the
			// assignee's or the lead's (the reply action).
			if !internal && !identity.Can(a, identity.Work, r.Resource()) {
				return fault.New(fault.Forbidden, "只有承办人可以答复企业 / only the assigned officer or a lead answers the enterprise")
			}
			if !internal && !r.Status.Open() {
				return notNowMessage(r)
			}
		default:
			return fault.New(fault.Forbidden, "your role does not write on requests")
		}
		if err := insertMessage(ctx, tx, r.ID, a.UserID, body, internal, now); err != nil {
			return err
		}
		kind := "message"
		if internal {
			kind = "internal_note"
		}
		if err := addEvent(ctx, tx, r.ID, now, &a.UserID, kind, internal, map[string]any{"body": body}); err != nil {
			return err
		}
		if internal {
			return nil
		}
		if a.Role == identity.RoleEnterprise && r.Status == WaitingEnterprise {
			r.Status = InProgress
			if err := s.save(ctx, tx, r, now, "status"); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, r.ID, now, &a.UserID, "status_changed", false,
				map[string]any{"from": from, "to": r.Status, "why": "enterprise answered"}); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, Change{Request: r, Action: "message", From: from, At: now, ActorID: a.UserID,
			ByEnterprise: a.Role == identity.RoleEnterprise})
	})
	if err != nil {
		return Request{}, err
	}
	return s.Get(ctx, a, id)
}

func notNowMessage(r *Request) error {
	return &fault.Error{Kind: fault.Conflict,
		Msg:   fmt.Sprintf("诉求已%s，不能再留言 / the request is %s; messages are closed", r.Status, r.Status),
		Extra: map[string]any{"current_status": r.Status}}
}

// Timeline returns the request's events, oldest first; the enterprise does
// not see internal ones.
func (s *Service) Timeline(ctx context.Context, a identity.Actor, id int64) ([]Event, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, err
	}
	var out []Event
	q := s.db.NewSelect().Model(&out).Relation("Actor").Where("?TableAlias.request_id = ?", id).OrderExpr("?TableAlias.id")
	if a.Role == identity.RoleEnterprise {
		q.Where("NOT ?TableAlias.internal")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, err
	}
	if a.Role == identity.RoleEnterprise {
		for i := range out {
			for _, k := range agencyOnlyKeys {
				delete(out[i].Data, k)
			}
		}
	}
	return out, nil
}

// agencyOnlyKeys are parts of public events the enterprise does not see:
// the routing explanation names other officers and their workloads.
var agencyOnlyKeys = []string{"explanation"}

// GiveFeedback records the enterprise's rating after resolution.
func (s *Service) GiveFeedback(ctx context.Context, a identity.Actor, id int64, rating int, comment string) (Feedback, error) {
	if rating < 1 || rating > 5 {
		return Feedback{}, fault.InvalidField("rating", "评分为1到5 / rating is 1 to 5")
	}
	fb := Feedback{RequestID: id, AuthorID: a.UserID, Rating: rating, Comment: comment}
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := loadRequest(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := identity.Authorize(a, identity.Read, r.Resource()); err != nil {
			return err
		}
		if a.Role != identity.RoleEnterprise {
			return fault.New(fault.Forbidden, "只有提交诉求的企业可以评价 / only the enterprise that filed it rates it")
		}
		if r.Status != Resolved && r.Status != Closed {
			return &fault.Error{Kind: fault.Conflict, Msg: "办结后才能评价 / rate the request once it is resolved",
				Extra: map[string]any{"current_status": r.Status}}
		}
		fb.CreatedAt = s.clock.Now()
		res, err := tx.NewInsert().Model(&fb).On("CONFLICT (request_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.Conflict, "已经评价过 / this request has been rated already")
		}
		return addEvent(ctx, tx, r.ID, fb.CreatedAt, &a.UserID, "feedback", false, map[string]any{"rating": rating, "comment": comment})
	})
	return fb, err
}

// AutoClose closes requests resolved longer ago than the limit and not
// reopened. Each close is its own guarded update, so running it twice, or
// alongside a confirm, has one effect.
func (s *Service) AutoClose(ctx context.Context) (int, error) {
	now := s.clock.Now()
	var ids []int64
	if err := s.db.NewSelect().Model((*Request)(nil)).Column("id").
		Where("status = ? AND resolved_at < ?", Resolved, now.Add(-s.limits.AutoCloseAfter)).
		Limit(1000).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	closed := 0
	for _, id := range ids {
		err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			r, err := loadRequest(ctx, tx, id, true)
			if err != nil || r.Status != Resolved || r.ResolvedAt == nil || now.Sub(*r.ResolvedAt) <= s.limits.AutoCloseAfter {
				return err
			}
			r.Status, r.ClosedAt = Closed, &now
			if err := s.save(ctx, tx, r, now, "status", "closed_at"); err != nil {
				return err
			}
			closed++
			if err := addEvent(ctx, tx, r.ID, now, nil, "auto_closed", false, map[string]any{"from": Resolved, "to": Closed}); err != nil {
				return err
			}
			return s.notify(ctx, tx, Change{Request: r, Action: "auto_close", From: Resolved, At: now})
		})
		if err != nil {
			return closed, err
		}
	}
	return closed, nil
}
