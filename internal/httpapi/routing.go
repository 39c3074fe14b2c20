package httpapi

import (
	"context"

	"greenchannel/api"
	"greenchannel/internal/notify"
	"greenchannel/internal/routing"
)

// SetDuty puts the caller on or off duty.
func (s *Server) SetDuty(ctx context.Context, req api.SetDutyRequestObject) (api.SetDutyResponseObject, error) {
	p, err := s.deps.Identity.SetDuty(ctx, actor(ctx), req.Body.OnDuty)
	if err != nil {
		return nil, err
	}
	return api.SetDuty200JSONResponse(*officerOut(&p)), nil
}

// ListNotifications returns the caller's notifications.
func (s *Server) ListNotifications(ctx context.Context, req api.ListNotificationsRequestObject) (api.ListNotificationsResponseObject, error) {
	ns, err := notify.List(ctx, s.deps.DB, actor(ctx), s.deps.Now(), deref(req.Params.Unread), limitOf(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	out := api.ListNotifications200JSONResponse{Items: make([]api.Notification, len(ns))}
	for i, n := range ns {
		out.Items[i] = api.Notification{Id: n.ID, Kind: n.Kind, Title: n.Title, Body: n.Body, RequestId: n.RequestID,
			CreatedAt: n.CreatedAt, Read: n.ReadAt != nil}
	}
	return out, nil
}

// MarkNotificationsRead marks the caller's notifications read.
func (s *Server) MarkNotificationsRead(ctx context.Context, req api.MarkNotificationsReadRequestObject) (api.MarkNotificationsReadResponseObject, error) {
	if err := notify.MarkRead(ctx, s.deps.DB, actor(ctx), req.Body.Ids, s.deps.Now()); err != nil {
		return nil, err
	}
	return api.MarkNotificationsRead204Response{}, nil
}

// ListRoutingRules lists the routing rules.
func (s *Server) ListRoutingRules(ctx context.Context, _ api.ListRoutingRulesRequestObject) (api.ListRoutingRulesResponseObject, error) {
	rules, err := s.deps.Routing.Rules(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := api.ListRoutingRules200JSONResponse{Items: make([]api.RoutingRule, len(rules))}
	for i, r := range rules {
		out.Items[i] = ruleOut(r)
	}
	return out, nil
}

// CreateRoutingRule adds a rule.
func (s *Server) CreateRoutingRule(ctx context.Context, req api.CreateRoutingRuleRequestObject) (api.CreateRoutingRuleResponseObject, error) {
	r, err := s.deps.Routing.SaveRule(ctx, actor(ctx), 0, ruleIn(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateRoutingRule201JSONResponse(ruleOut(r)), nil
}

// UpdateRoutingRule changes a rule.
func (s *Server) UpdateRoutingRule(ctx context.Context, req api.UpdateRoutingRuleRequestObject) (api.UpdateRoutingRuleResponseObject, error) {
	r, err := s.deps.Routing.SaveRule(ctx, actor(ctx), req.Id, ruleIn(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateRoutingRule200JSONResponse(ruleOut(r)), nil
}

// CreateRecusal records a recusal.
func (s *Server) CreateRecusal(ctx context.Context, req api.CreateRecusalRequestObject) (api.CreateRecusalResponseObject, error) {
	if err := s.deps.Routing.Recuse(ctx, actor(ctx), req.Body.OfficerId, req.Body.EnterpriseId, req.Body.Reason); err != nil {
		return nil, err
	}
	return api.CreateRecusal204Response{}, nil
}

func ruleIn(b api.RoutingRuleInput) routing.RuleInput {
	return routing.RuleInput{Priority: b.Priority, Category: b.Category, TownCode: b.Town, AgencyID: b.AgencyId,
		RequiredSkill: b.RequiredSkill, Active: b.Active, Note: b.Note}
}

func ruleOut(r routing.Rule) api.RoutingRule {
	return api.RoutingRule{Id: r.ID, Priority: r.Priority, Category: r.Category, Town: r.TownCode, AgencyId: r.AgencyID,
		RequiredSkill: r.RequiredSkill, Active: r.Active, Note: r.Note}
}
