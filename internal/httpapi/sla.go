package httpapi

import (
	"context"

	"greenchannel/api"
	"greenchannel/internal/notify"
	"greenchannel/internal/sla"
)

// ResetRequestClock restarts a clock after a legal interruption.
func (s *Server) ResetRequestClock(ctx context.Context, req api.ResetRequestClockRequestObject) (api.ResetRequestClockResponseObject, error) {
	r, err := s.deps.Casework.Get(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	res := r.Resource()
	if err := s.deps.SLA.ResetClock(ctx, actor(ctx), &res, r.ID, string(req.Body.Clock), req.Body.Reason); err != nil {
		return nil, err
	}
	return api.ResetRequestClock204Response{}, nil
}

// GetSLAReport returns the reply-time figures.
func (s *Server) GetSLAReport(ctx context.Context, req api.GetSLAReportRequestObject) (api.GetSLAReportResponseObject, error) {
	group := "agency"
	if req.Params.GroupBy != nil {
		group = string(*req.Params.GroupBy)
	}
	rows, err := s.deps.SLA.Report(ctx, actor(ctx), req.Params.From, req.Params.To, group)
	if err != nil {
		return nil, err
	}
	return api.GetSLAReport200JSONResponse(slaReportOut(rows)), nil
}

func slaReportOut(rows []sla.ReportRow) api.SLAReport {
	out := api.SLAReport{Items: make([]api.SLAReportRow, len(rows))}
	for i, r := range rows {
		resp, resol, sat := r.Rates()
		out.Items[i] = api.SLAReportRow{Key: r.Key, Name: r.Name, Requests: r.Requests, Dispatched: r.Dispatched,
			AcknowledgedOnTime: r.AcknowledgedOnTime, Evaluated: r.Evaluated, ConfirmedResolved: r.ConfirmedResolved,
			Satisfied: r.Satisfied, ResponseRate: float32(resp), ResolutionRate: float32(resol), SatisfactionRate: float32(sat),
			Breaches: r.Breaches, AckMinutesP50: float32(r.AckP50), AckMinutesP90: float32(r.AckP90)}
	}
	return out
}

// ListSLAPolicies lists the policies.
func (s *Server) ListSLAPolicies(ctx context.Context, _ api.ListSLAPoliciesRequestObject) (api.ListSLAPoliciesResponseObject, error) {
	if err := mayManage(ctx); err != nil {
		return nil, err
	}
	ps, err := s.deps.SLA.Policies(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListSLAPolicies200JSONResponse{Items: make([]api.SLAPolicy, len(ps))}
	for i, p := range ps {
		out.Items[i] = policyOut(p)
	}
	return out, nil
}

// UpdateSLAPolicy changes a policy.
func (s *Server) UpdateSLAPolicy(ctx context.Context, req api.UpdateSLAPolicyRequestObject) (api.UpdateSLAPolicyResponseObject, error) {
	b := req.Body
	p, err := s.deps.SLA.UpdatePolicy(ctx, actor(ctx), req.Id, sla.PolicyInput{Name: b.Name, Precedence: b.Precedence,
		AcknowledgeMinutes: b.AcknowledgeMinutes, ResolutionMinutes: b.ResolutionMinutes, NextResponseMinutes: b.NextResponseMinutes,
		WarnPercent: b.WarnPercent, MaxPauses: b.MaxPauses, MaxPauseMinutes: b.MaxPauseMinutes,
		ReassignOnEscalation: b.ReassignOnEscalation, Active: b.Active})
	if err != nil {
		return nil, err
	}
	return api.UpdateSLAPolicy200JSONResponse(policyOut(p)), nil
}

// ListCalendars lists the calendars.
func (s *Server) ListCalendars(ctx context.Context, _ api.ListCalendarsRequestObject) (api.ListCalendarsResponseObject, error) {
	if err := mayManage(ctx); err != nil {
		return nil, err
	}
	cals, years, err := s.deps.SLA.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListCalendars200JSONResponse{Items: make([]api.Calendar, len(cals))}
	for i, c := range cals {
		ys := years[c.ID]
		if ys == nil {
			ys = []int{}
		}
		out.Items[i] = api.Calendar{Id: c.ID, Code: c.Code, Name: c.Name, Tz: c.TZ, AlwaysOpen: c.AlwaysOpen, Years: ys}
	}
	return out, nil
}

// LoadCalendarYear loads a year of a calendar.
func (s *Server) LoadCalendarYear(ctx context.Context, req api.LoadCalendarYearRequestObject) (api.LoadCalendarYearResponseObject, error) {
	days := func(in *[]api.CalendarDay) []sla.Day {
		if in == nil {
			return nil
		}
		out := make([]sla.Day, len(*in))
		for i, d := range *in {
			out[i] = sla.Day{Date: d.Date.Format("2006-01-02"), Name: deref(d.Name)}
			if d.Closed != nil {
				for _, w := range *d.Closed {
					out[i].Closed = append(out[i].Closed, [2]int{w[0], w[1]})
				}
			}
		}
		return out
	}
	b := req.Body
	if err := s.deps.SLA.LoadCalendarYear(ctx, actor(ctx), req.Id, req.Year, days(&b.Holidays), days(&b.MakeupWorkdays), days(b.Closures)); err != nil {
		return nil, err
	}
	return api.LoadCalendarYear204Response{}, nil
}

// ListWebhooks lists the agency webhooks.
func (s *Server) ListWebhooks(ctx context.Context, _ api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	hooks, err := notify.Hooks(ctx, s.deps.DB, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := api.ListWebhooks200JSONResponse{Items: make([]api.Webhook, len(hooks))}
	for i, h := range hooks {
		out.Items[i] = api.Webhook{Id: h.ID, AgencyId: h.AgencyID, Url: h.URL, Active: h.Active}
	}
	return out, nil
}

// CreateWebhook registers a webhook.
func (s *Server) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	h, err := notify.AddHook(ctx, s.deps.DB, actor(ctx), req.Body.AgencyId, req.Body.Url, req.Body.Secret)
	if err != nil {
		return nil, err
	}
	return api.CreateWebhook201JSONResponse{Id: h.ID, AgencyId: h.AgencyID, Url: h.URL, Active: h.Active}, nil
}

// ListWebhookDeliveries lists a webhook's delivery log.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	ds, err := notify.Deliveries(ctx, s.deps.DB, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := api.ListWebhookDeliveries200JSONResponse{Items: make([]api.Delivery, len(ds))}
	for i, d := range ds {
		out.Items[i] = api.Delivery{Id: d.ID, Event: d.Event, Attempts: d.Attempts, StatusCode: d.StatusCode,
			LastError: d.LastError, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt}
	}
	return out, nil
}

func policyOut(p sla.Policy) api.SLAPolicy {
	return api.SLAPolicy{Id: p.ID, Code: p.Code, Name: p.Name, Precedence: p.Precedence, Category: p.Category,
		Priority: p.Priority, SlaKind: p.SLAKind, CalendarId: p.CalendarID, AcknowledgeMinutes: p.AcknowledgeMinutes,
		ResolutionMinutes: p.ResolutionMinutes, NextResponseMinutes: p.NextResponseMinutes, WarnPercent: p.WarnPercent,
		MaxPauses: p.MaxPauses, MaxPauseMinutes: p.MaxPauseMinutes, ReassignOnEscalation: &p.ReassignOnEscalation, Active: p.Active}
}
