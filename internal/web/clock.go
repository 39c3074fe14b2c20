package web

import (
	"fmt"
	"time"

	"greenchannel/internal/sla"
)

// workdayMinutes is how many working minutes make one working day on the
// district calendar (09:00–12:00 and 13:30–17:30).
const workdayMinutes = 420

// clockView is one SLA clock as a page shows it, phrased in both
// languages (the template picks one).
type clockView struct {
	Label, Text, TextEn, Class string
	DueAt                      *time.Time
	// Ticking is true while the clock runs: the browser then counts the
	// wall-clock time to DueAt down every second.
	Ticking bool
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
	class := clockClass(v)
	return &clockView{Label: label, Text: clockText(v), TextEn: clockTextEn(v), Class: class, DueAt: v.DueAt,
		Ticking: v.DueAt != nil && (class == "ok" || class == "risk")}
}

// clockClass is the colour of a clock: on track, at risk (less than a
// quarter of the target left), breached, paused or done.
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

func clockTextEn(v *sla.View) string {
	switch {
	case v.State == sla.Met || v.State == sla.Stopped:
		return "done in time"
	case v.State == sla.Paused:
		return "paused (waiting for the enterprise), " + workingSpanEn(v.RemainingMinutes) + " left"
	case v.State == sla.Breached || v.RemainingMinutes < 0:
		return "overdue by " + workingSpanEn(-v.RemainingMinutes)
	}
	return workingSpanEn(v.RemainingMinutes) + " left"
}

// workingSpan phrases working minutes as 工作日 and 工作小时.
func workingSpan(m int, prefix string) string {
	days, hours, mins := split(m)
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

func workingSpanEn(m int) string {
	days, hours, mins := split(m)
	plural := func(n int, unit string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case days > 0 && hours > 0:
		return plural(days, "working day") + " " + plural(hours, "working hour")
	case days > 0:
		return plural(days, "working day")
	case hours > 0:
		return plural(hours, "working hour")
	}
	return plural(mins, "minute")
}

func split(m int) (days, hours, mins int) {
	if m < 0 {
		m = 0
	}
	return m / workdayMinutes, (m % workdayMinutes) / 60, m % 60
}
