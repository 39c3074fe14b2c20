package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/sla"
)

// kpis are the dashboard's tiles for one period.
type kpis struct {
	Response, Resolution, Satisfaction float64 // 三率
	OpenBreaches                       int
	Inspections, RepeatVisits          int
	JointShare                         float64
	Requests                           int
}

// series is one chart: category labels and named value lists, drawn by
// static/app.js with ECharts.
type series struct {
	Labels []string             `json:"labels"`
	Lines  map[string][]float64 `json:"lines"`
}

func monthStart(t time.Time) time.Time {
	l := t.In(clock.Shanghai)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, clock.Shanghai)
}

// sums adds up report rows into one.
func sums(reqs []sla.ReportRow, insp []oversight.InspectionRow) (sla.ReportRow, oversight.InspectionRow) {
	var r sla.ReportRow
	for _, x := range reqs {
		r.Requests += x.Requests
		r.Dispatched += x.Dispatched
		r.AcknowledgedOnTime += x.AcknowledgedOnTime
		r.Evaluated += x.Evaluated
		r.ConfirmedResolved += x.ConfirmedResolved
		r.Satisfied += x.Satisfied
		r.Breaches += x.Breaches
	}
	var i oversight.InspectionRow
	for _, x := range insp {
		i.Inspections += x.Inspections
		i.Joint += x.Joint
		i.RepeatVisits += x.RepeatVisits
		i.Onsite += x.Onsite
	}
	return r, i
}

// dashboard is the oversight office's home: this month's figures, six
// months of trend, this month by agency, and the open alerts.
func (p *pages) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	from := monthStart(p.Now())
	to := from.AddDate(0, 1, 0)
	reqs, err := p.Oversight.RequestReport(ctx, a, p.SLA, from, to, "agency")
	if err != nil {
		return p.fail(c, err)
	}
	insp, err := p.Oversight.InspectionReport(ctx, a, from, to, "agency")
	if err != nil {
		return p.fail(c, err)
	}
	r, i := sums(reqs, insp)
	k := kpis{Requests: r.Requests, Inspections: i.Inspections, RepeatVisits: i.RepeatVisits}
	k.Response, k.Resolution, k.Satisfaction = r.Rates()
	if i.Inspections > 0 {
		k.JointShare = float64(i.Joint) / float64(i.Inspections)
	}
	for _, rule := range []string{"sla_breach", "sla_breach_unresolved"} {
		open, _, err := p.Oversight.Alerts(ctx, a, oversight.AlertFilter{Rule: rule, Status: "open", Limit: 100})
		if err != nil {
			return err
		}
		k.OpenBreaches += len(open)
	}

	trend := series{Lines: map[string][]float64{}}
	lang := langOf(c)
	nInsp, nReq, nResp := translate(lang, "检查次数"), translate(lang, "诉求件数"), translate(lang, "及时响应率 %")
	for m := 5; m >= 0; m-- {
		f := from.AddDate(0, -m, 0)
		rr, err := p.Oversight.RequestReport(ctx, a, p.SLA, f, f.AddDate(0, 1, 0), "agency")
		if err != nil {
			return err
		}
		ir, err := p.Oversight.InspectionReport(ctx, a, f, f.AddDate(0, 1, 0), "agency")
		if err != nil {
			return err
		}
		rs, is := sums(rr, ir)
		resp, _, _ := rs.Rates()
		trend.Labels = append(trend.Labels, f.Format("2006-01"))
		trend.Lines[nInsp] = append(trend.Lines[nInsp], float64(is.Inspections))
		trend.Lines[nReq] = append(trend.Lines[nReq], float64(rs.Requests))
		trend.Lines[nResp] = append(trend.Lines[nResp], float64(int(resp*1000))/10)
	}
	byAgency := series{Lines: map[string][]float64{}}
	nRepeat, nBreach := translate(lang, "重复检查"), translate(lang, "超期")
	seen := map[string]int{}
	add := func(name, line string, v float64) {
		idx, ok := seen[name]
		if !ok {
			idx = len(byAgency.Labels)
			seen[name] = idx
			byAgency.Labels = append(byAgency.Labels, name)
			for k := range byAgency.Lines {
				byAgency.Lines[k] = append(byAgency.Lines[k], 0)
			}
		}
		for _, l := range []string{nInsp, nRepeat, nReq, nBreach} {
			for len(byAgency.Lines[l]) < len(byAgency.Labels) {
				byAgency.Lines[l] = append(byAgency.Lines[l], 0)
			}
		}
		byAgency.Lines[line][idx] += v
	}
	for _, x := range insp {
		add(x.Name, nInsp, float64(x.Inspections))
		add(x.Name, nRepeat, float64(x.RepeatVisits))
	}
	for _, x := range reqs {
		add(x.Name, nReq, float64(x.Requests))
		add(x.Name, nBreach, float64(x.Breaches))
	}

	open, _, err := p.Oversight.Alerts(ctx, a, oversight.AlertFilter{Status: "open", Limit: 10})
	if err != nil {
		return err
	}
	// Downloads are the API's reports, opened with the page's session.
	download := func(report, format string) string {
		q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "format": {format}}
		return "/api/v1/oversight/reports/" + report + "?" + q.Encode()
	}
	return p.render(c, http.StatusOK, "dashboard.html", map[string]any{
		"Title": "执法监督", "K": k, "Month": from.Format("2006-01"), "Trend": trend, "ByAgency": byAgency,
		"Alerts": open, "AgencyNames": p.agencyNames(ctx, a),
		"Downloads": map[string]string{"RequestsXLSX": download("requests", "xlsx"), "RequestsCSV": download("requests", "csv"),
			"InspectionsXLSX": download("inspections", "xlsx"), "InspectionsCSV": download("inspections", "csv")},
	})
}

// alerts is the full alert list with filters.
func (p *pages) alerts(c echo.Context) error {
	return p.renderAlerts(c, http.StatusOK, "")
}

func (p *pages) renderAlerts(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	f := oversight.AlertFilter{Status: c.QueryParam("status"), Rule: c.QueryParam("rule"), Severity: c.QueryParam("severity"), Limit: 100}
	f.AgencyID, _ = strconv.ParseInt(c.QueryParam("agency"), 10, 64)
	list, _, err := p.Oversight.Alerts(ctx, a, f)
	if err != nil {
		return p.fail(c, err)
	}
	agencies, err := p.Identity.Agencies(ctx, a)
	if err != nil {
		return err
	}
	return p.render(c, status, "oversight.html", map[string]any{
		"Title": "监督预警", "Alerts": list, "Rules": ruleZh, "Agencies": agencies,
		"AgencyNames": p.agencyNames(ctx, a), "Error": errMsg, "F": f, "CSV": alertsCSV(c.QueryParams()),
	})
}

// alertsCSV is the API's alert list with the page's filters, as CSV.
func alertsCSV(filters url.Values) string {
	q := url.Values{"format": {"csv"}}
	for _, k := range []string{"status", "rule", "severity"} {
		if v := filters.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if v := filters.Get("agency"); v != "" {
		q.Set("agency_id", v)
	}
	return "/api/v1/oversight/alerts?" + q.Encode()
}

// handleAlert acknowledges, resolves or dismisses an alert.
func (p *pages) handleAlert(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	if _, err := p.Oversight.HandleAlert(c.Request().Context(), actorOf(c), id, c.FormValue("action"), strings.TrimSpace(c.FormValue("reason"))); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderAlerts(c, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/oversight/alerts")
}

// orders lists supervision orders (the office's issue form on top, filled
// from an alert when it came from one).
func (p *pages) orders(c echo.Context) error {
	return p.renderOrders(c, http.StatusOK, "")
}

func (p *pages) renderOrders(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	list, err := p.Oversight.Orders(ctx, a, c.QueryParam("status"))
	if err != nil {
		return p.fail(c, err)
	}
	agencies, err := p.Identity.Agencies(ctx, a)
	if err != nil {
		return err
	}
	data := map[string]any{"Title": "督办", "Orders": list, "Agencies": agencies, "Error": errMsg,
		"Office": a.Role == identity.RoleOversight, "AgencyID": int64(0)}
	if id, err := strconv.ParseInt(c.FormValue("alert_id"), 10, 64); err == nil && id > 0 {
		for _, al := range p.alertByID(ctx, a, id) {
			data["Alert"] = al
			if len(al.AgencyIDs) > 0 {
				data["AgencyID"] = al.AgencyIDs[0]
			}
		}
	}
	return p.render(c, status, "orders.html", data)
}

func (p *pages) alertByID(ctx context.Context, a identity.Actor, id int64) []oversight.Alert {
	list, _, err := p.Oversight.Alerts(ctx, a, oversight.AlertFilter{BeforeID: id + 1, Limit: 1})
	if err != nil || len(list) == 0 || list[0].ID != id {
		return nil
	}
	return list
}

// issueOrder sends a supervision order to an agency.
func (p *pages) issueOrder(c echo.Context) error {
	in := oversight.OrderInput{Instruction: strings.TrimSpace(c.FormValue("instruction"))}
	in.AgencyID, _ = strconv.ParseInt(c.FormValue("agency_id"), 10, 64)
	in.AlertID, _ = strconv.ParseInt(c.FormValue("alert_id"), 10, 64)
	in.DueInWorkingDays, _ = strconv.Atoi(c.FormValue("due_days"))
	if t := strings.TrimSpace(c.FormValue("ticket")); t != "" && in.AlertID == 0 {
		r, err := p.Casework.ByTicket(c.Request().Context(), actorOf(c), t)
		if err != nil {
			return refuse(c, err, func(status int, msg string) error { return p.renderOrders(c, status, msg) })
		}
		in.RequestID = r.ID
	}
	if _, err := p.Oversight.IssueOrder(c.Request().Context(), actorOf(c), in); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderOrders(c, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/oversight/orders")
}

// orderStep is the lead answering an order, or the office accepting or
// returning the answer.
func (p *pages) orderStep(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	back := "/oversight/orders"
	if strings.HasPrefix(c.Path(), "/work") {
		back = "/work/orders"
	}
	if _, err := p.Oversight.OrderStep(c.Request().Context(), actorOf(c), id, c.FormValue("step"), strings.TrimSpace(c.FormValue("text"))); err != nil {
		return refuse(c, err, func(status int, msg string) error {
			if back == "/work/orders" {
				return p.renderLeadOrders(c, status, msg)
			}
			return p.renderOrders(c, status, msg)
		})
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// leadOrders are the supervision orders an agency lead must answer.
func (p *pages) leadOrders(c echo.Context) error {
	return p.renderLeadOrders(c, http.StatusOK, "")
}

func (p *pages) renderLeadOrders(c echo.Context, status int, errMsg string) error {
	list, err := p.Oversight.Orders(c.Request().Context(), actorOf(c), "")
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, status, "orders.html", map[string]any{"Title": "督办", "Orders": list, "Error": errMsg})
}

// burden is one enterprise's inspections and requests on one page, found
// by name or credit code.
func (p *pages) burden(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	data := map[string]any{"Title": "企业负担", "Q": q}
	if q != "" {
		list, _, err := p.Identity.ListEnterprises(ctx, a, identity.EnterpriseFilter{Q: q, Page: identity.Page{Limit: 10}})
		if err != nil {
			return p.fail(c, err)
		}
		data["Matches"] = list
		if len(list) == 1 || c.QueryParam("uscc") != "" {
			code := c.QueryParam("uscc")
			if code == "" {
				code = string(list[0].USCC)
			}
			uscc, err := identity.ParseUSCC("uscc", code)
			if err != nil {
				return p.fail(c, err)
			}
			b, err := p.Oversight.EnterpriseBurden(ctx, a, uscc)
			if err != nil {
				return p.fail(c, err)
			}
			data["B"] = b
		}
	}
	return p.render(c, http.StatusOK, "burden.html", data)
}

// agencyNames maps agency ids to names.
func (p *pages) agencyNames(ctx context.Context, a identity.Actor) map[int64]string {
	out := map[int64]string{}
	all, err := p.Identity.Agencies(ctx, a)
	if err != nil {
		p.Log.Warn("web: list agencies", "err", err)
		return out
	}
	for _, a := range all {
		out[a.ID] = a.Name
	}
	return out
}
