package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/clock"
)

// The pages are written in Chinese. With the cookie lang=en every Chinese
// phrase passed through tr is looked up in the English table (english in
// messages.go); a phrase missing there stays Chinese rather than failing.
const (
	langZh = "zh"
	langEn = "en"
)

func langOf(c echo.Context) string {
	if ck, err := c.Cookie("lang"); err == nil && ck.Value == langEn {
		return langEn
	}
	return langZh
}

// setLang switches the language and goes back to the page it came from.
func setLang(c echo.Context) error {
	to := langZh
	if c.QueryParam("to") == langEn {
		to = langEn
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: to, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	back := c.QueryParam("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.HasPrefix(back, "/\\") {
		back = "/"
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// translate returns the phrase in lang.
func translate(lang, zh string) string {
	if lang == langEn {
		if en, ok := english[zh]; ok {
			return en
		}
	}
	return zh
}

// bilingual picks one side of a domain message written "中文 / English".
func bilingual(lang, msg string) string {
	zh, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	if lang == langEn {
		return strings.TrimSpace(en)
	}
	return strings.TrimSpace(zh)
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
	"auto_closed": "自动关闭", "sla_warned": "临近期限提醒", "sla_warning": "临近期限提醒", "sla_breached": "已超期", "sla_escalated": "超期上报",
}

var priorityZh = map[casework.Priority]string{casework.Low: "低", casework.Normal: "一般", casework.High: "高", casework.Urgent: "紧急"}

var ruleZh = map[string]string{
	"repeat_visit_day": "同日重复检查", "repeat_visit_week": "一周内重复检查", "repeat_visit_month": "一月内重复检查",
	"multi_agency": "多部门分别检查", "cap_exceeded": "超过年度检查上限", "cap_override": "越过检查上限签发",
	"low_yield_override": "越过低效检查提示签发", "no_disturb_violation": "打扰“无事不扰”企业", "no_code_scan": "未扫码检查",
	"confirm_refused": "企业拒绝确认检查码", "unlisted_item": "清单外检查", "special_without_plan": "专项检查无计划",
	"cross_jurisdiction": "跨辖区检查", "poor_evaluation": "企业差评", "heavy_penalty": "大额处罚",
	"sla_breach": "诉求办理超期", "sla_breach_unresolved": "超期仍未办结", "repeated_reopen": "诉求反复重开",
	"excessive_pausing": "频繁暂停计时", "decline_ping_pong": "诉求反复退回", "low_satisfaction": "企业满意度低",
}

// words are the other codes pages show: alert and order states,
// severities, inspection states, modes, kinds and outcomes, roles.
var words = map[string]string{
	"open": "待处理", "acknowledged": "已确认", "resolved": "已解决", "dismissed": "已忽略",
	"high": "高", "medium": "中", "low": "低",
	"issued": "待答复", "answered": "已答复待审核", "accepted": "已采纳", "returned": "已退回重办", "overdue": "已逾期",
	"code_issued": "已签发", "confirmed": "企业已确认", "recorded": "已记录", "cancelled": "已取消",
	"onsite": "现场", "offsite": "非现场", "routine": "日常检查", "triggered": "触发式检查", "special": "专项检查",
	"no_issue": "未发现问题", "rectify": "责令整改", "case_opened": "立案调查", "penalty": "行政处罚",
	"block": "阻止", "warn": "提示",
	"enterprise": "企业", "officer": "办案人员", "agency_lead": "机关负责人", "inspector": "执法人员",
	"oversight": "执法监督", "admin": "系统管理员",
	"inspection": "检查", "request": "诉求",
}

type navLink struct {
	Href, Text string
	Here       bool
}

func funcsFor(lang string) template.FuncMap {
	tr := func(zh string) string { return translate(lang, zh) }
	lookup := func(m map[string]string, k string) string {
		if z, ok := m[k]; ok {
			return tr(z)
		}
		return k
	}
	return template.FuncMap{
		"tr":  tr,
		"say": func(msg string) string { return bilingual(lang, msg) },
		"status": func(s casework.Status) string {
			if z, ok := statusZh[s]; ok {
				return tr(z)
			}
			return string(s)
		},
		"statusof": func(s string) casework.Status { return casework.Status(s) },
		"action":   func(s any) string { return lookup(actionZh, fmt.Sprint(s)) },
		"priority": func(p casework.Priority) string { return tr(priorityZh[p]) },
		"rule":     func(r string) string { return lookup(ruleZh, r) },
		"word": func(w any) string {
			if p, ok := w.(*string); ok {
				if p == nil {
					return ""
				}
				w = *p
			}
			return lookup(words, fmt.Sprint(w))
		},
		"clocktext": func(v *clockView) string {
			if lang == langEn {
				return v.TextEn
			}
			return v.Text
		},
		"en": func() bool { return lang == langEn },
		// Chinese text takes full-width punctuation, English the narrow one.
		"colon": func() string { return map[bool]string{true: ": ", false: "："}[lang == langEn] },
		"comma": func() string { return map[bool]string{true: ", ", false: "，"}[lang == langEn] },
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.In(clock.Shanghai).Format("2006-01-02 15:04")
			case *time.Time:
				if v != nil {
					return v.In(clock.Shanghai).Format("2006-01-02 15:04")
				}
			}
			return ""
		},
		"ms": func(t *time.Time) int64 {
			if t == nil {
				return 0
			}
			return t.UnixMilli()
		},
		"str": func(m map[string]any, k string) string {
			if v, ok := m[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		},
		"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"list": func(xs ...any) []any { return xs },
		// link is a navigation entry, marked when it is the page shown.
		"link": func(path, href, text string) navLink {
			here, _, _ := strings.Cut(path, "?")
			return navLink{Href: href, Text: text, Here: here == href}
		},
		"tags": func() []string { return evaluationTags },
		"tabnames": func() map[string]string {
			return map[string]string{"users": "用户", "categories": "诉求类别", "routing": "分派规则", "sla": "时限策略",
				"calendars": "工作日历", "items": "检查事项", "caps": "检查上限", "nodisturb": "无事不扰名单"}
		},
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
	}
}
