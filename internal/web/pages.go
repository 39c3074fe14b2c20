package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/sla"
)

// workdayMinutes is how many working minutes make one working day on the
// district calendar (09:00–12:00 and 13:30–17:30).
const workdayMinutes = 420

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

	ent := e.Group("/portal", p.only(identity.RoleEnterprise))
	ent.GET("", p.portal)
	ent.POST("/requests", p.fileRequest)
	ent.GET("/requests/:id", p.requestPage)
	ent.POST("/requests/:id/act", p.act)
	ent.POST("/requests/:id/messages", p.message)

	work := e.Group("/work", p.only(identity.RoleOfficer, identity.RoleLead))
	work.GET("", p.queue)
	work.GET("/requests/:id", p.requestPage)
	work.POST("/requests/:id/act", p.act)
	work.POST("/requests/:id/messages", p.message)

	ov := e.Group("/oversight", p.only(identity.RoleOversight))
	ov.GET("", p.alerts)
	ov.POST("/alerts/:id", p.handleAlert)

	e.GET("/inspect", p.inspections, p.only(identity.RoleInspector, identity.RoleLead))
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
				"Title": "无权访问 Forbidden", "Error": "您的角色不能打开此页面 / your role may not open this page", "Home": homeOf(a.Role)})
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

// fail renders a domain error as an error page (used for reads).
func (p *pages) fail(c echo.Context, err error) error {
	status, msg, ok := problem(err)
	if !ok {
		return err
	}
	return p.render(c, status, "error.html", map[string]any{"Title": "出错了 Error", "Error": msg, "Home": homeOf(actorOf(c).Role)})
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "没有这个编号 / no such id")
	}
	return id, nil
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clockView is one SLA clock as a page shows it.
type clockView struct {
	Label, Text, Class string
	DueAt              *time.Time
}

// deadline picks the clock that matters now (next response, then
// acknowledge, then resolution) and phrases it.
func deadline(b sla.Block) *clockView {
	pick := func(v *sla.View) bool {
		return v != nil && (v.State == sla.Running || v.State == sla.Paused || v.State == sla.Breached)
	}
	var v *sla.View
	label := ""
	switch {
	case pick(b.NextResponse):
		v, label = b.NextResponse, "答复期限"
	case pick(b.Acknowledge):
		v, label = b.Acknowledge, "受理期限"
	case pick(b.Resolution):
		v, label = b.Resolution, "办结期限"
	case b.Resolution != nil:
		v, label = b.Resolution, "办结期限"
	default:
		return nil
	}
	return &clockView{Label: label, Text: clockText(v), Class: clockClass(v), DueAt: v.DueAt}
}

func clockClass(v *sla.View) string {
	switch {
	case v.State == sla.Met || v.State == sla.Stopped:
		return "done"
	case v.State == sla.Breached || v.RemainingMinutes < 0:
		return "breached"
	case v.State == sla.Paused:
		return "paused"
	case v.TargetMinutes > 0 && v.RemainingMinutes*4 < v.TargetMinutes:
		return "risk"
	}
	return "ok"
}

func clockText(v *sla.View) string {
	switch {
	case v.State == sla.Met || v.State == sla.Stopped:
		return "已按时完成"
	case v.State == sla.Paused:
		return "已暂停（等待企业补充材料），" + workingSpan(v.RemainingMinutes, "剩余 ")
	case v.State == sla.Breached || v.RemainingMinutes < 0:
		return workingSpan(-v.RemainingMinutes, "已超时 ")
	}
	return workingSpan(v.RemainingMinutes, "剩余 ")
}

// workingSpan phrases working minutes as 工作日 and 工作小时.
func workingSpan(m int, prefix string) string {
	if m < 0 {
		m = 0
	}
	days, hours, mins := m/workdayMinutes, (m%workdayMinutes)/60, m%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%s%d 个工作日 %d 个工作小时", prefix, days, hours)
	case days > 0:
		return fmt.Sprintf("%s%d 个工作日", prefix, days)
	case hours > 0:
		return fmt.Sprintf("%s%d 个工作小时", prefix, hours)
	}
	return fmt.Sprintf("%s%d 分钟", prefix, mins)
}

var statusZh = map[casework.Status]string{
	casework.Submitted: "待分派", casework.Assigned: "已分派待受理", casework.InProgress: "办理中",
	casework.WaitingEnterprise: "待企业补充材料", casework.Resolved: "已办结待确认",
	casework.Closed: "已关闭", casework.Withdrawn: "已撤回",
}

var actionZh = map[string]string{
	"accept": "受理", "reply": "答复", "request_info": "要求补充材料", "resolve": "办结", "transfer": "移送",
	"decline": "退回", "withdraw": "撤回", "reopen": "重新打开", "confirm": "确认办结", "assign": "指派",
	"created": "提交诉求", "message": "留言", "note": "内部备注", "internal_note": "内部备注",
	"assigned": "自动分派", "pooled": "进入机关待分派池", "offer_expired": "超时未受理，改派",
	"unassigned": "取消分派", "attachment": "上传附件", "status_changed": "状态变更", "feedback": "评价",
	"auto_closed": "自动关闭", "sla_warned": "临近期限提醒", "sla_breached": "已超期", "sla_escalated": "超期上报",
}

var priorityZh = map[casework.Priority]string{casework.Low: "低", casework.Normal: "一般", casework.High: "高", casework.Urgent: "紧急"}

var funcs = template.FuncMap{
	"status": func(s casework.Status) string {
		if z, ok := statusZh[s]; ok {
			return z
		}
		return string(s)
	},
	"action": func(s any) string {
		k := fmt.Sprint(s)
		if z, ok := actionZh[k]; ok {
			return z
		}
		return k
	},
	"priority": func(p casework.Priority) string { return priorityZh[p] },
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.In(clock.Shanghai).Format("2006-01-02 15:04")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.In(clock.Shanghai).Format("2006-01-02 15:04")
		}
		return ""
	},
	"str": func(m map[string]any, k string) string {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	},
}
