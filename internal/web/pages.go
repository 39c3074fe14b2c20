package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
)

// homeOf is each role's home screen.
func homeOf(r identity.Role) string {
	switch r {
	case identity.RoleEnterprise:
		return "/portal"
	case identity.RoleOfficer, identity.RoleLead:
		return "/work"
	case identity.RoleInspector:
		return "/inspect"
	case identity.RoleOversight:
		return "/oversight"
	}
	return "/"
}

func (p *pages) routes(e *echo.Echo) {
	e.GET("/v/:code", p.verify)
	e.POST("/v/:code/confirm", p.confirmCode, p.only(identity.RoleEnterprise))

	ent := e.Group("/portal", compress, p.only(identity.RoleEnterprise))
	ent.GET("", p.portal)
	ent.POST("/requests", p.fileRequest)
	ent.GET("/requests/:id", p.requestPage)
	ent.POST("/requests/:id/act", p.act)
	ent.POST("/requests/:id/messages", p.message)
	ent.POST("/requests/:id/attachments", p.attach)
	ent.POST("/requests/:id/feedback", p.feedback)
	ent.GET("/inspections", p.myInspections)
	ent.GET("/inspections/:id", p.myInspection)
	ent.POST("/inspections/:id/evaluate", p.evaluate)

	work := e.Group("/work", compress, p.only(identity.RoleOfficer, identity.RoleLead))
	work.GET("", p.queue)
	work.GET("/rows", p.queueRows)
	work.POST("/duty", p.duty)
	work.GET("/requests/:id", p.requestPage)
	work.POST("/requests/:id/act", p.act)
	work.POST("/requests/:id/messages", p.message)
	work.POST("/requests/:id/attachments", p.attach)
	work.GET("/orders", p.leadOrders, p.only(identity.RoleLead))
	work.POST("/orders/:id", p.orderStep, p.only(identity.RoleLead))

	insp := e.Group("/inspect", compress, p.only(identity.RoleInspector, identity.RoleLead))
	insp.GET("", p.inspections)
	insp.GET("/new", p.newInspection, p.only(identity.RoleInspector))
	insp.GET("/enterprises", p.findEnterprises, p.only(identity.RoleInspector))
	insp.POST("/precheck", p.precheck, p.only(identity.RoleInspector))
	insp.POST("", p.issue, p.only(identity.RoleInspector))
	insp.GET("/:id", p.inspectionPage)
	insp.GET("/:id/qr", p.qrPage)
	insp.POST("/:id/record", p.record, p.only(identity.RoleInspector))

	ov := e.Group("/oversight", compress, p.only(identity.RoleOversight))
	ov.GET("", p.dashboard)
	ov.GET("/alerts", p.alerts)
	ov.POST("/alerts/:id", p.handleAlert)
	ov.GET("/orders", p.orders)
	ov.POST("/orders", p.issueOrder)
	ov.POST("/orders/:id", p.orderStep)
	ov.GET("/burden", p.burden)
	ov.GET("/requests/:id", p.requestPage)

	adm := e.Group("/manage", compress, p.only(identity.RoleAdmin))
	adm.GET("/:tab", p.manage)
	adm.POST("/:tab/:id", p.manageSave)
}

// only lets the given roles in: anyone not signed in goes to the login
// page, anyone else gets a plain 403 page with a link home.
func (p *pages) only(roles ...identity.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, ok := identity.ActorFrom(c.Request().Context())
			if !ok {
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			for _, r := range roles {
				if a.Role == r {
					return next(c)
				}
			}
			return p.render(c, http.StatusForbidden, "error.html", map[string]any{
				"Title": "无权访问", "Error": bilingual(langOf(c), "您的角色不能打开此页面 / your role may not open this page"), "Home": homeOf(a.Role)})
		}
	}
}

func actorOf(c echo.Context) identity.Actor {
	a, _ := identity.ActorFrom(c.Request().Context())
	return a
}

// problem turns a domain error into the status and message to show on the
// page; unexpected errors go to the server's error handler.
func problem(err error) (int, string, bool) {
	f, ok := fault.As(err)
	if !ok {
		return 0, "", false
	}
	status := map[fault.Kind]int{
		fault.Invalid: http.StatusUnprocessableEntity, fault.NotFound: http.StatusNotFound,
		fault.Forbidden: http.StatusForbidden, fault.Conflict: http.StatusConflict,
		fault.Unauthenticated: http.StatusUnauthorized, fault.RateLimited: http.StatusTooManyRequests,
		fault.PreconditionFailed: http.StatusPreconditionFailed, fault.PreconditionRequired: http.StatusPreconditionRequired,
	}[f.Kind]
	if status == 0 {
		status = http.StatusBadRequest
	}
	msg := f.Msg
	for _, fl := range f.Fields {
		msg += "；" + fl.Message
	}
	return status, msg, true
}

// refuse re-renders a form page with the domain's reason in the reader's
// language; errors that are not the domain's go to the error handler.
func refuse(c echo.Context, err error, again func(status int, msg string) error) error {
	status, msg, ok := problem(err)
	if !ok {
		return err
	}
	return again(status, plain(langOf(c), msg))
}

// plain keeps the reader's side of each "中文 / English" part of a message.
func plain(lang, msg string) string {
	parts := strings.Split(msg, "；")
	for i, part := range parts {
		parts[i] = bilingual(lang, part)
	}
	return strings.Join(parts, "；")
}

// fail renders a domain error as an error page (used for reads).
func (p *pages) fail(c echo.Context, err error) error {
	status, msg, ok := problem(err)
	if !ok {
		return err
	}
	return p.render(c, status, "error.html", map[string]any{"Title": "出错了", "Error": plain(langOf(c), msg), "Home": homeOf(actorOf(c).Role)})
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "没有这个编号 / no such number")
	}
	return id, nil
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
