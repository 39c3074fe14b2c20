package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/routing"
	"greenchannel/internal/sla"
)

// manageTabs are the administrator's lists, in menu order.
var manageTabs = []string{"users", "categories", "routing", "sla", "calendars", "items", "caps", "nodisturb"}

// manage shows one of the administrator's lists, with forms for the
// everyday changes; everything else goes through the API (linked from
// each tab), which validates it against the contract.
func (p *pages) manage(c echo.Context) error {
	return p.renderManage(c, http.StatusOK, "")
}

func (p *pages) renderManage(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	tab := c.Param("tab")
	data := map[string]any{"Title": "管理", "Tab": tab, "Tabs": manageTabs, "Error": errMsg}
	var err error
	switch tab {
	case "users":
		data["Users"], _, err = p.Identity.ListUsers(ctx, a, identity.UserFilter{Page: identity.Page{Limit: 100}})
	case "categories":
		data["Categories"], err = p.Casework.Categories(ctx)
	case "routing":
		if p.Routing != nil {
			data["Rules"], err = p.Routing.Rules(ctx, a)
		}
		data["AgencyNames"] = p.agencyNames(ctx, a)
	case "sla":
		data["Policies"], err = p.SLA.Policies(ctx)
	case "calendars":
		data["Calendars"], data["Years"], err = p.SLA.Calendars(ctx)
		data["NextYear"] = p.Now().In(clock.Shanghai).Year() + 1
	case "items":
		data["Items"], err = p.Inspection.Items(ctx, a)
	case "caps":
		data["Caps"], err = p.Inspection.Caps(ctx, a)
	case "nodisturb":
		on := true
		data["Enterprises"], _, err = p.Identity.ListEnterprises(ctx, a, identity.EnterpriseFilter{NoDisturb: &on, Page: identity.Page{Limit: 100}})
	default:
		return c.Redirect(http.StatusSeeOther, "/manage/users")
	}
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, status, "manage.html", data)
}

// manageSave applies one change from a tab's form and shows the tab again.
func (p *pages) manageSave(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	tab := c.Param("tab")
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	num := func(k string) *int {
		n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(k)))
		if err != nil {
			return nil
		}
		return &n
	}
	var err error
	switch tab {
	case "users":
		capacity := 0
		if n := num("capacity"); n != nil {
			capacity = *n
		}
		_, err = p.Identity.SetOfficerProfile(ctx, a, id, identity.OfficerInput{Skills: fields(c.FormValue("skills")),
			Towns: fields(c.FormValue("towns")), Capacity: capacity, OnDuty: c.FormValue("on_duty") == "1"})
	case "routing":
		active := c.FormValue("active") == "1"
		if p.Routing != nil {
			_, err = p.Routing.SaveRule(ctx, a, id, routing.RuleInput{Active: &active})
		}
	case "sla":
		_, err = p.SLA.UpdatePolicy(ctx, a, id, sla.PolicyInput{AcknowledgeMinutes: num("acknowledge_minutes"),
			ResolutionMinutes: num("resolution_minutes"), WarnPercent: num("warn_percent")})
	case "calendars":
		year := 0
		if n := num("year"); n != nil {
			year = *n
		}
		calendar, _ := strconv.ParseInt(c.FormValue("calendar"), 10, 64)
		err = p.SLA.LoadCalendarYear(ctx, a, calendar, year, days(c.FormValue("holidays")), days(c.FormValue("makeup")), nil)
	case "nodisturb":
		err = p.setNoDisturb(c, id)
	default:
		return c.Redirect(http.StatusSeeOther, "/manage/users")
	}
	if err != nil {
		return refuse(c, err, func(status int, msg string) error { return p.renderManage(c, status, msg) })
	}
	return c.Redirect(http.StatusSeeOther, "/manage/"+tab)
}

// setNoDisturb takes an enterprise off the list (id given) or puts one on
// it by credit code.
func (p *pages) setNoDisturb(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	if id != 0 {
		_, err := p.Identity.SetNoDisturb(ctx, a, id, identity.NoDisturbInput{On: false})
		return err
	}
	code, err := identity.ParseUSCC("uscc", c.FormValue("uscc"))
	if err != nil {
		return err
	}
	list, _, err := p.Identity.ListEnterprises(ctx, a, identity.EnterpriseFilter{Q: string(code), Page: identity.Page{Limit: 1}})
	if err != nil {
		return err
	}
	if len(list) == 0 || list[0].USCC != code {
		return fault.InvalidField("uscc", "未找到该统一社会信用代码的企业 / no enterprise with this credit code")
	}
	in := identity.NoDisturbInput{On: true, Basis: strings.TrimSpace(c.FormValue("basis"))}
	if t, err := time.ParseInLocation("2006-01-02", c.FormValue("from"), clock.Shanghai); err == nil {
		in.From = &t
	}
	if t, err := time.ParseInLocation("2006-01-02", c.FormValue("to"), clock.Shanghai); err == nil {
		in.To = &t
	}
	_, err = p.Identity.SetNoDisturb(ctx, a, list[0].ID, in)
	return err
}

// fields splits a comma- or space-separated list.
func fields(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ' ' || r == '\n' || r == '\r' })
	if out == nil {
		return []string{}
	}
	return out
}

// days reads one day a line: "2027-01-01 元旦".
func days(s string) []sla.Day {
	var out []sla.Day
	for _, line := range strings.Split(s, "\n") {
		date, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		if date != "" {
			out = append(out, sla.Day{Date: date, Name: strings.TrimSpace(name)})
		}
	}
	return out
}
