package web

import (
	"context"
	"mime/multipart"
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
		"Title": "我的诉求", "Rows": rows, "Categories": cats,
		"Key": newKey(), "Form": form, "Error": errMsg,
	})
}

// fileRequest files a request from the portal form, with its attachments.
// The form's hidden idempotency key makes a double submit file once; the
// attachments of a replayed submit are not stored twice either.
func (p *pages) fileRequest(c echo.Context) error {
	ctx := c.Request().Context()
	form := map[string]string{}
	for _, k := range []string{"category", "title", "description", "contact_phone"} {
		form[k] = strings.TrimSpace(c.FormValue(k))
	}
	a := actorOf(c)
	r, replayed, err := p.Casework.Create(ctx, a, casework.NewRequest{
		Category: form["category"], Title: form["title"], Description: form["description"],
		ContactPhone: form["contact_phone"], IdempotencyKey: c.FormValue("idempotency_key"),
	})
	if err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderPortal(c, status, msg, form) })
	}
	to := "/portal/requests/" + strconv.FormatInt(r.ID, 10)
	if !replayed {
		if err := p.attachFiles(c, r.ID); err != nil {
			return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, r.ID, status, msg) })
		}
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// attachFiles stores every file of the form's "files" field.
func (p *pages) attachFiles(c echo.Context, id int64) error {
	mf, err := c.MultipartForm()
	if err != nil {
		return nil // a plain form: no files
	}
	for _, fh := range mf.File["files"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if err := p.attachOne(c, id, fh); err != nil {
			return err
		}
	}
	return nil
}

func (p *pages) attachOne(c echo.Context, id int64, fh *multipart.FileHeader) error {
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = p.Casework.Attach(c.Request().Context(), actorOf(c), id, fh.Filename, f)
	return err
}

// attach adds files to a request (an enterprise sending the materials
// asked for, or an officer adding a document).
func (p *pages) attach(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	if err := p.attachFiles(c, id); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, base(c)+"/requests/"+strconv.FormatInt(id, 10))
}

// queue is an officer's or lead's work, the nearest deadline first; the
// list refreshes itself so newly routed requests appear within seconds.
func (p *pages) queue(c echo.Context) error {
	data, err := p.queueData(c)
	if err != nil {
		return err
	}
	a := actorOf(c)
	staff, err := p.Identity.Colleagues(c.Request().Context(), a)
	if err != nil {
		return p.fail(c, err)
	}
	for _, s := range staff {
		if s.ID == a.UserID {
			data["OnDuty"] = s.OnDuty
		}
	}
	data["Title"] = "待办"
	return p.render(c, http.StatusOK, "work.html", data)
}

// queueRows is the queue's list alone, for the page's periodic refresh.
func (p *pages) queueRows(c echo.Context) error {
	data, err := p.queueData(c)
	if err != nil {
		return err
	}
	return p.render(c, http.StatusOK, "queue-rows", data)
}

func (p *pages) queueData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	a := actorOf(c)
	list, err := p.Casework.Queue(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := p.withEnterprises(ctx, list); err != nil {
		return nil, err
	}
	rows, blocks, err := p.rows(ctx, list)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	byID := map[int64]row{}
	for i, r := range rows {
		ids[i], byID[r.ID] = r.ID, r
	}
	sla.SortByUrgency(ids, blocks)
	var mine, pool, others []row
	for _, id := range ids {
		r := byID[id]
		switch {
		case r.AssigneeID == nil:
			pool = append(pool, r)
		case *r.AssigneeID == a.UserID:
			mine = append(mine, r)
		default:
			others = append(others, r)
		}
	}
	return map[string]any{"Rows": mine, "Pool": pool, "Others": others, "Lead": a.Role == identity.RoleLead}, nil
}

// withEnterprises fills in whose request each row is where the list left
// the enterprise out.
func (p *pages) withEnterprises(ctx context.Context, list []casework.Request) error {
	var ids []int64
	for _, r := range list {
		if r.Enterprise == nil {
			ids = append(ids, r.EnterpriseID)
		}
	}
	names, err := p.Identity.EnterpriseNames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range list {
		if list[i].Enterprise == nil {
			list[i].Enterprise = &identity.Enterprise{ID: list[i].EnterpriseID, Name: names[list[i].EnterpriseID]}
		}
	}
	return nil
}

// duty puts the officer on or off duty.
func (p *pages) duty(c echo.Context) error {
	if _, err := p.Identity.SetDuty(c.Request().Context(), actorOf(c), c.FormValue("on") == "1"); err != nil {
		return p.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/work")
}

// base is the section a request page belongs to: the officer's workspace,
// the oversight office's (read only) or the enterprise's portal.
func base(c echo.Context) string {
	for _, b := range []string{"/work", "/oversight"} {
		if strings.HasPrefix(c.Path(), b) {
			return b
		}
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
	files, err := p.Casework.Attachments(ctx, a, id)
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
	agency := a.Role == identity.RoleOfficer || a.Role == identity.RoleLead
	rated := false
	for _, e := range events {
		if e.Kind == "feedback" {
			rated = true
		}
	}
	data := map[string]any{
		"Title": r.TicketNo + " " + r.Title, "Req": r, "Events": events, "Files": files, "Allowed": allowed,
		"Clock": deadline(blocks[id]), "Base": base(c), "Error": errMsg, "Agency": agency,
		"Lead": a.Role == identity.RoleLead, "Office": a.Role == identity.RoleOversight,
		"Rate": a.Role == identity.RoleEnterprise && !rated && (r.Status == casework.Resolved || r.Status == casework.Closed),
		// Materials asked for: the last request_info while the enterprise owes an answer.
		"Asked": askedFor(events, r.Status),
	}
	if allowed[string(casework.ActTransfer)] {
		data["Agencies"] = p.transferTargets(ctx, a)
	}
	if allowed[string(casework.ActAssign)] {
		if staff, err := p.Identity.Colleagues(ctx, a); err == nil {
			data["Officers"] = staff
		}
	}
	return p.render(c, status, "request.html", data)
}

func askedFor(events []casework.Event, s casework.Status) string {
	if s != casework.WaitingEnterprise {
		return ""
	}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == string(casework.ActRequestInfo) {
			if b, ok := events[i].Data["body"].(string); ok {
				return b
			}
		}
	}
	return ""
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
	if t, err := strconv.ParseInt(c.FormValue("assignee_id"), 10, 64); err == nil {
		in.AssigneeID = t
	}
	if _, err := p.Casework.Act(c.Request().Context(), actorOf(c), id, in); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, base(c)+"/requests/"+strconv.FormatInt(id, 10))
}

// message posts a reply (with files), or for the agency an internal note.
func (p *pages) message(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	internal := c.FormValue("internal") == "1" && base(c) == "/work"
	if err := p.attachFiles(c, id); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, id, status, msg) })
	}
	if _, err := p.Casework.PostMessage(c.Request().Context(), actorOf(c), id, strings.TrimSpace(c.FormValue("body")), internal); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, base(c)+"/requests/"+strconv.FormatInt(id, 10))
}

// feedback is the enterprise's rating of a resolved request.
func (p *pages) feedback(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	rating, _ := strconv.Atoi(c.FormValue("rating"))
	if _, err := p.Casework.GiveFeedback(c.Request().Context(), actorOf(c), id, rating, strings.TrimSpace(c.FormValue("comment"))); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderRequest(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/portal/requests/"+strconv.FormatInt(id, 10))
}
