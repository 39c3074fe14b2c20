package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
)

// verify is the public page a scanned QR code opens: valid or not, who
// comes, for what and on which legal basis.
func (p *pages) verify(c echo.Context) error {
	v, err := p.Inspection.Verify(c.Request().Context(), c.Param("code"))
	if err != nil {
		return p.fail(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return p.render(c, http.StatusOK, "verify.html", map[string]any{
		"Title": "检查码核验 Verify", "V": v, "Code": inspection.NormalizeCode(c.Param("code"))})
}

var ruleZh = map[string]string{
	"repeat_visit_day": "同日重复检查", "repeat_visit_week": "一周内重复检查", "repeat_visit_month": "一月内重复检查",
	"multi_agency": "多部门分别检查", "cap_exceeded": "超过年度检查上限", "cap_override": "越过检查上限签发",
	"low_yield_override": "越过低效检查提示签发", "no_disturb_violation": "打扰“无事不扰”企业", "no_code_scan": "未扫码检查",
	"confirm_refused": "企业拒绝确认检查码", "unlisted_item": "清单外检查", "special_without_plan": "专项检查无计划",
	"cross_jurisdiction": "跨辖区检查", "poor_evaluation": "企业差评", "heavy_penalty": "大额处罚",
	"sla_breach": "诉求办理超期", "sla_breach_unresolved": "超期仍未办结", "repeated_reopen": "诉求反复重开",
	"excessive_pausing": "频繁暂停计时", "decline_ping_pong": "诉求反复退回", "low_satisfaction": "企业满意度低",
}

var alertStatusZh = map[string]string{"open": "待处理", "acknowledged": "已确认", "resolved": "已解决", "dismissed": "已忽略"}

var severityZh = map[string]string{"high": "高", "medium": "中", "low": "低"}

// alerts is the oversight office's list of situations to look at.
func (p *pages) alerts(c echo.Context) error {
	return p.renderAlerts(c, http.StatusOK, "")
}

func (p *pages) renderAlerts(c echo.Context, status int, errMsg string) error {
	f := oversight.AlertFilter{Status: c.QueryParam("status"), Limit: 100}
	list, _, err := p.Oversight.Alerts(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, status, "oversight.html", map[string]any{
		"Title": "监督预警 Alerts", "Alerts": list, "Rules": ruleZh, "Severity": severityZh, "States": alertStatusZh,
		"AgencyNames": p.agencyNames(c.Request().Context(), actorOf(c)), "Error": errMsg, "Status": f.Status})
}

// handleAlert acknowledges, resolves or dismisses an alert.
func (p *pages) handleAlert(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return p.fail(c, err)
	}
	if _, err := p.Oversight.HandleAlert(c.Request().Context(), actorOf(c), id, c.FormValue("action"), strings.TrimSpace(c.FormValue("reason"))); err != nil {
		status, msg, ok := problem(err)
		if !ok {
			return err
		}
		return p.renderAlerts(c, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, "/oversight")
}

// inspections lists the agency's inspections with their QR codes.
func (p *pages) inspections(c echo.Context) error {
	list, _, err := p.Inspection.List(c.Request().Context(), actorOf(c), inspection.Filter{Limit: 50})
	if err != nil {
		return p.fail(c, err)
	}
	return p.render(c, http.StatusOK, "inspect.html", map[string]any{"Title": "检查码 Inspections", "List": list})
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
