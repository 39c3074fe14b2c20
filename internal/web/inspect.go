package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
)

// verify is the public page a scanned QR code opens: valid or not, who
// comes, for what and on which legal basis. The enterprise, when signed
// in, confirms the inspectors' arrival here.
func (p *pages) verify(c echo.Context) error {
	v, err := p.Inspection.Verify(c.Request().Context(), c.Param("code"))
	if err != nil {
		return p.fail(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	a := actorOf(c)
	mine := v.Valid && v.Inspection != nil && a.Role == identity.RoleEnterprise && a.EnterpriseID == v.Inspection.EnterpriseID
	return p.render(c, http.StatusOK, "verify.html", map[string]any{
		"Title": "检查码核验", "V": v, "Code": inspection.NormalizeCode(c.Param("code")), "Reason": bilingual(langOf(c), v.Reason),
		"Confirm": mine && v.Inspection.Status == inspection.CodeIssued})
}

// confirmCode is the enterprise confirming that the inspectors arrived.
func (p *pages) confirmCode(c echo.Context) error {
	i, err := p.Inspection.Confirm(c.Request().Context(), actorOf(c), c.Param("code"))
	if err != nil {
		return p.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/portal/inspections/"+strconv.FormatInt(i.ID, 10))
}

// myInspections lists the enterprise's inspections.
func (p *pages) myInspections(c echo.Context) error {
	list, _, err := p.Inspection.List(c.Request().Context(), actorOf(c), inspection.Filter{Limit: 50})
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "my-inspections.html", map[string]any{"Title": "我的检查", "List": list})
}

// myInspection shows one inspection to the enterprise with its evaluation
// form (the inspecting agency never sees the answer).
func (p *pages) myInspection(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	return p.renderMyInspection(c, id, http.StatusOK, "")
}

func (p *pages) renderMyInspection(c echo.Context, id int64, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	i, err := p.Inspection.Get(ctx, a, id)
	if err != nil {
		return p.fail(c, err)
	}
	data := map[string]any{"Title": "检查详情", "I": i, "Error": errMsg,
		"CanRate": i.Status == inspection.Recorded || i.Status == inspection.Confirmed}
	if ev, err := p.Inspection.Evaluation(ctx, a, id); err == nil {
		data["Eval"] = ev
	} else if !fault.Is(err, fault.NotFound) {
		return p.fail(c, err)
	}
	return p.render(c, status, "my-inspection.html", data)
}

// evaluationTags are the quick answers an enterprise can tick.
var evaluationTags = []string{"出示证件", "依清单检查", "文明执法", "耗时过长", "重复检查", "索要材料过多"}

func (p *pages) evaluate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	rating, _ := strconv.Atoi(c.FormValue("rating"))
	form, _ := c.FormParams()
	_, err = p.Inspection.Evaluate(c.Request().Context(), actorOf(c), id, rating, form["tags"],
		strings.TrimSpace(c.FormValue("comment")), c.FormValue("complaint") == "1")
	if err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderMyInspection(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/portal/inspections/"+strconv.FormatInt(id, 10))
}

// inspections lists the agency's inspections with their QR codes.
func (p *pages) inspections(c echo.Context) error {
	list, _, err := p.Inspection.List(c.Request().Context(), actorOf(c), inspection.Filter{Limit: 50})
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "inspect.html", map[string]any{"Title": "本机关检查", "List": list,
		"Inspector": actorOf(c).Role == identity.RoleInspector})
}

// issueForm is the code request as the form sends it.
type issueForm struct {
	USCC, Enterprise, Mode, Kind, Trigger, TriggerRef, From, To, Override string
	Items                                                                 []string
	Inspectors                                                            []int64
}

func readIssueForm(c echo.Context) (issueForm, inspection.IssueInput) {
	vals, _ := c.FormParams()
	f := issueForm{USCC: strings.TrimSpace(vals.Get("uscc")), Enterprise: vals.Get("enterprise"), Mode: vals.Get("mode"),
		Kind: vals.Get("kind"), Trigger: vals.Get("trigger"), TriggerRef: strings.TrimSpace(vals.Get("trigger_ref")),
		From: vals.Get("from"), To: vals.Get("to"), Override: strings.TrimSpace(vals.Get("override_reason")), Items: vals["items"]}
	for _, s := range vals["inspectors"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.Inspectors = append(f.Inspectors, id)
		}
	}
	in := inspection.IssueInput{USCC: f.USCC, Items: f.Items, Mode: f.Mode, Kind: f.Kind, Trigger: f.Trigger,
		TriggerRef: f.TriggerRef, Inspectors: f.Inspectors, OverrideReason: f.Override}
	in.From, _ = time.ParseInLocation("2006-01-02T15:04", f.From, clock.Shanghai)
	in.To, _ = time.ParseInLocation("2006-01-02T15:04", f.To, clock.Shanghai)
	return f, in
}

// newInspection is the code request form, filled with sensible defaults:
// today's working hours, the inspector themself, routine on-site.
func (p *pages) newInspection(c echo.Context) error {
	a := actorOf(c)
	day := p.Now().In(clock.Shanghai).Format("2006-01-02")
	f := issueForm{Mode: "onsite", Kind: "routine", From: day + "T09:00", To: day + "T17:00", Inspectors: []int64{a.UserID}}
	return p.renderIssue(c, http.StatusOK, f, nil, "")
}

func (p *pages) renderIssue(c echo.Context, status int, f issueForm, checks []inspection.Check, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	items, err := p.Inspection.Items(ctx, a)
	if err != nil {
		return p.fail(c, err)
	}
	staff, err := p.Identity.Colleagues(ctx, a)
	if err != nil {
		return p.fail(c, err)
	}
	var inspectors []identity.Colleague
	for _, s := range staff {
		if s.Role == identity.RoleInspector {
			inspectors = append(inspectors, s)
		}
	}
	chosen := map[int64]bool{}
	for _, id := range f.Inspectors {
		chosen[id] = true
	}
	return p.render(c, status, "inspect-new.html", map[string]any{"Title": "申请检查码", "F": f, "Items": items,
		"Inspectors": inspectors, "Chosen": chosen, "Checks": checks, "Error": errMsg})
}

// findEnterprises answers the enterprise search box (name or credit code).
func (p *pages) findEnterprises(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("enterprise"))
	var list []identity.Enterprise
	if len([]rune(q)) >= 2 {
		var err error
		list, _, err = p.Identity.ListEnterprises(c.Request().Context(), actorOf(c), identity.EnterpriseFilter{Q: q, Page: identity.Page{Limit: 8}})
		if err != nil {
			return p.fail(c, err)
		}
	}
	return p.render(c, http.StatusOK, "enterprise-options", map[string]any{"List": list, "Q": q})
}

// precheck shows the pre-check findings for the form as it stands.
func (p *pages) precheck(c echo.Context) error {
	f, in := readIssueForm(c)
	checks, err := p.Inspection.Precheck(c.Request().Context(), actorOf(c), in)
	if err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderIssue(c, status, f, nil, msg) })
	}
	return p.renderIssue(c, http.StatusOK, f, checks, "")
}

// issue asks for the code; a block comes back with every finding listed.
// Warnings are shown before the code is issued: a form whose findings the
// inspector has not seen yet comes back with them first.
func (p *pages) issue(c echo.Context) error {
	f, in := readIssueForm(c)
	if c.FormValue("seen") != "1" {
		checks, err := p.Inspection.Precheck(c.Request().Context(), actorOf(c), in)
		if err != nil {
			return refuse(c, err, func(status int, msg string) error { return p.renderIssue(c, status, f, nil, msg) })
		}
		if len(checks) > 0 {
			return p.renderIssue(c, http.StatusOK, f, checks, "")
		}
	}
	i, err := p.Inspection.Issue(c.Request().Context(), actorOf(c), in)
	if err != nil {
		var checks []inspection.Check
		if fe, ok := fault.As(err); ok {
			checks, _ = fe.Extra["checks"].([]inspection.Check)
		}
		return refuse(c, err, func(status int, msg string) error { return p.renderIssue(c, status, f, checks, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/inspect/"+strconv.FormatInt(i.ID, 10))
}

// inspectionPage is one inspection for the agency: code, QR, findings, and
// the visit record form.
func (p *pages) inspectionPage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	return p.renderInspection(c, id, http.StatusOK, "")
}

func (p *pages) renderInspection(c echo.Context, id int64, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	i, err := p.Inspection.Get(ctx, a, id)
	if err != nil {
		return p.fail(c, err)
	}
	items, err := p.Inspection.Items(ctx, a)
	if err != nil && !fault.Is(err, fault.Forbidden) {
		return err
	}
	names := map[string]string{}
	for _, it := range items {
		names[it.Code] = it.Name
	}
	now := p.Now().In(clock.Shanghai)
	return p.render(c, status, "inspection.html", map[string]any{"Title": "检查 " + i.Code, "I": i, "Error": errMsg,
		"ItemNames": names, "VerifyURL": p.Inspection.VerifyURL(i.Code),
		"CanRecord": a.Role == identity.RoleInspector && (i.Status == inspection.CodeIssued || i.Status == inspection.Confirmed),
		"Start":     now.Add(-2 * time.Hour).Format("2006-01-02T15:04"), "End": now.Format("2006-01-02T15:04")})
}

// qrPage shows the code's QR as large as the phone allows, for the
// enterprise to scan.
func (p *pages) qrPage(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	i, err := p.Inspection.Get(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "qr.html", map[string]any{"Title": "出示检查码", "I": i})
}

// record writes the visit record: per item a result, and the outcome.
func (p *pages) record(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	vals, _ := c.FormParams()
	in := inspection.RecordInput{Outcome: vals.Get("outcome")}
	in.Start, _ = time.ParseInLocation("2006-01-02T15:04", vals.Get("start"), clock.Shanghai)
	in.End, _ = time.ParseInLocation("2006-01-02T15:04", vals.Get("end"), clock.Shanghai)
	in.RectifyDays, _ = strconv.Atoi(vals.Get("rectify_days"))
	in.PenaltyAmount, _ = strconv.ParseFloat(vals.Get("penalty_amount"), 64)
	for _, item := range vals["item"] {
		in.Findings = append(in.Findings, map[string]any{"item": item, "result": vals.Get("result_" + item), "note": vals.Get("note_" + item)})
	}
	if _, err := p.Inspection.Record(c.Request().Context(), actorOf(c), id, in); err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderInspection(c, id, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/inspect/"+strconv.FormatInt(id, 10))
}
