package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/sla"
)

// row is a request in a list, with the deadline that matters now.
type row struct {
	casework.Request
	Clock *clockView
}

func (p *pages) rows(ctx context.Context, rs []casework.Request) ([]row, map[int64]sla.Block, error) {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	blocks, err := p.SLA.Blocks(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{Request: r, Clock: deadline(blocks[r.ID])}
	}
	return out, blocks, nil
}

// portal is the enterprise's home: its requests and the filing form.
func (p *pages) portal(c echo.Context) error {
	return p.renderPortal(c, http.StatusOK, "", map[string]string{})
}

func (p *pages) renderPortal(c echo.Context, status int, errMsg string, form map[string]string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	list, _, err := p.Casework.List(ctx, a, casework.Filter{Limit: 50})
	if err != nil {
		return p.fail(c, err)
	}
	rows, _, err := p.rows(ctx, list)
	if err != nil {
		return err
	}
	cats, err := p.Casework.Categories(ctx)
	if err != nil {
		return err
	}
	return p.render(c, status, "portal.html", map[string]any{
		"Title": "我的诉求 My requests", "Rows": rows, "Categories": cats,
		"Key": newKey(), "Form": form, "Error": errMsg,
	})
}

// fileRequest files a request from the portal form. The form's hidden
// idempotency key makes a double submit file once.
func (p *pages) fileRequest(c echo.Context) error {
	form := map[string]string{}
	for _, k := range []string{"category", "title", "description", "contact_phone"} {
		form[k] = strings.TrimSpace(c.FormValue(k))
	}
	r, _, err := p.Casework.Create(c.Request().Context(), actorOf(c), casework.NewRequest{
		Category: form["category"], Title: form["title"], Description: form["description"],
		ContactPhone: form["contact_phone"], IdempotencyKey: c.FormValue("idempotency_key"),
	})
	if err != nil {
		status, msg, ok := problem(err)
		if !ok {
			return err
		}
		return p.renderPortal(c, status, msg, form)
	}
	return c.Redirect(http.StatusSeeOther, "/portal/requests/"+strconv.FormatInt(r.ID, 10))
}

// queue is an officer's or lead's work, the nearest deadline first.
func (p *pages) queue(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := p.Casework.Queue(ctx, actorOf(c))
	if err != nil {
		return p.fail(c, err)
	}
	rows, blocks, err := p.rows(ctx, list)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	byID := map[int64]row{}
	for i, r := range rows {
		ids[i], byID[r.ID] = r.ID, r
	}
	sla.SortByUrgency(ids, blocks)
	for i, id := range ids {
		rows[i] = byID[id]
	}
	return p.render(c, http.StatusOK, "work.html", map[string]any{"Title": "待办 Work queue", "Rows": rows})
}

func base(c echo.Context) string {
	if strings.HasPrefix(c.Path(), "/work") {
		return "/work"
	}
	return "/portal"
}

// requestPage shows one request: facts, deadline, timeline and the forms
// for the steps the viewer may take now.
func (p *pages) requestPage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	return p.renderRequest(c, id, http.StatusOK, "")
}

func (p *pages) renderRequest(c echo.Context, id int64, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	r, err := p.Casework.Get(ctx, a, id)
	if err != nil {
		return p.fail(c, err)
	}
	events, err := p.Casework.Timeline(ctx, a, id)
	if err != nil {
		return p.fail(c, err)
	}
	blocks, err := p.SLA.Blocks(ctx, []int64{id})
	if err != nil {
		return err
	}
	allowed := map[string]bool{}
	for _, act := range casework.AllowedActions(a, &r) {
		allowed[string(act)] = true
	}
	data := map[string]any{
		"Title": r.TicketNo + " " + r.Title, "Req": r, "Events": events, "Allowed": allowed,
		"Clock": deadline(blocks[id]), "Base": base(c), "Error": errMsg,
		"Agency": a.Role == identity.RoleOfficer || a.Role == identity.RoleLead,
		"Lead":   a.Role == identity.RoleLead,
	}
	if allowed[string(casework.ActTransfer)] {
		data["Agencies"] = p.transferTargets(ctx, a)
	}
	return p.render(c, status, "request.html", data)
}

// transferTargets are the legal organs a request may move to.
func (p *pages) transferTargets(ctx context.Context, a identity.Actor) []identity.Agency {
	all, err := p.Identity.Agencies(ctx, a)
	if err != nil {
		p.Log.Warn("web: list agencies", "err", err)
		return nil
	}
	var out []identity.Agency
	for _, ag := range all {
		switch ag.Kind {
		case identity.KindCourt, identity.KindProcuratorate, identity.KindPolice, identity.KindJustice:
			if ag.ID != a.AgencyID && ag.Active {
				out = append(out, ag)
			}
		}
	}
	return out
}

// act takes one step on a request with the version the page was rendered
// from, so a step on a stale page is refused rather than applied blindly.
func (p *pages) act(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	in := casework.ActInput{
		Action: casework.Action(c.FormValue("action")),
		Body:   strings.TrimSpace(c.FormValue("body")),
		Reason: strings.TrimSpace(c.FormValue("reason")),
	}
	if v, err := strconv.Atoi(c.FormValue("version")); err == nil {
		in.Version = &v
	}
	if t, err := strconv.ParseInt(c.FormValue("target_agency_id"), 10, 64); err == nil {
		in.TargetAgencyID = t
	}
	if _, err := p.Casework.Act(c.Request().Context(), actorOf(c), id, in); err != nil {
		status, msg, ok := problem(err)
		if !ok {
			return err
		}
		return p.renderRequest(c, id, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, base(c)+"/requests/"+strconv.FormatInt(id, 10))
}

// message posts a reply, or for the agency an internal note.
func (p *pages) message(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	internal := c.FormValue("internal") == "1" && base(c) == "/work"
	if _, err := p.Casework.PostMessage(c.Request().Context(), actorOf(c), id, strings.TrimSpace(c.FormValue("body")), internal); err != nil {
		status, msg, ok := problem(err)
		if !ok {
			return err
		}
		return p.renderRequest(c, id, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, base(c)+"/requests/"+strconv.FormatInt(id, 10))
}
