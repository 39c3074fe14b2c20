package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
)

// manageTabs are the administrator's lists, in menu order.
var manageTabs = []string{"users", "categories", "routing", "sla", "calendars", "items", "nodisturb"}

// manage shows one of the administrator's lists. Changes go through the
// API (linked from each tab), which validates them against the contract.
func (p *pages) manage(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	tab := c.Param("tab")
	data := map[string]any{"Title": "管理", "Tab": tab, "Tabs": manageTabs}
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
	case "items":
		data["Items"], err = p.Inspection.Items(ctx, a)
	case "nodisturb":
		on := true
		data["Enterprises"], _, err = p.Identity.ListEnterprises(ctx, a, identity.EnterpriseFilter{NoDisturb: &on, Page: identity.Page{Limit: 100}})
	default:
		return c.Redirect(http.StatusSeeOther, "/manage/users")
	}
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "manage.html", data)
}
