package oversight_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/workcal"
	"greenchannel/internal/sla"
	"greenchannel/internal/testkit"
)

var (
	ctx   = context.Background()
	quiet = testkit.Quiet
)

var cst = testkit.CST

type world struct {
	*testkit.World
	t    *testing.T
	db   *bun.DB
	insp *inspection.Service
	ov   *oversight.Service
	uscc []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := testkit.New(t, cst("2026-03-02 08:00"))
	slaSvc := sla.NewService(k.DB, k.Clock, quiet)
	working := func(ctx context.Context) (*workcal.Calendar, error) { return slaSvc.CalendarByCode(ctx, "working") }
	w := &world{World: k, t: t, db: k.DB,
		insp: inspection.NewService(k.DB, k.Clock, quiet, [][]byte{[]byte("key-0123456789abcdef0123456789ab")}, "https://gc.example", working),
		ov:   oversight.NewService(k.DB, k.Clock, quiet, working)}
	_ = k.DB.NewRaw("SELECT uscc FROM enterprises ORDER BY id").Scan(ctx, &w.uscc)
	if _, err := k.DB.ExecContext(ctx, "UPDATE enterprises SET grade = 'B'"); err != nil {
		t.Fatal(err)
	}
	return w
}

var teams = map[string][3]string{
	"market": {"inspector.market1", "inspector.market2", "MKT-001"}, "emergency": {"inspector.emg1", "inspector.emg2", "EMG-002"},
	"environment": {"inspector.env1", "inspector.env2", "ENV-001"},
}

// visit issues and analyses an inspection the way the worker would.
func (w *world) visit(team string, ent int, day string, change func(*inspection.IssueInput)) inspection.Inspection {
	w.t.Helper()
	tm := teams[team]
	a := w.As(tm[0])
	from := cst(day + " 09:00")
	in := inspection.IssueInput{USCC: w.uscc[ent], Items: []string{tm[2]}, Mode: "onsite", Kind: "routine",
		From: from, To: from.Add(8 * time.Hour), Inspectors: []int64{a.UserID, w.As(tm[1]).UserID}}
	if change != nil {
		change(&in)
	}
	i, err := w.insp.Issue(ctx, a, in)
	if err != nil {
		w.t.Fatalf("issue %s %s: %v", team, day, err)
	}
	w.analyze(i.ID)
	return i
}

func (w *world) analyze(id int64) {
	w.t.Helper()
	if err := w.ov.AnalyzeInspection(ctx, inspection.AnalyzePayload{InspectionID: id}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) alerts(rule string) []oversight.Alert {
	w.t.Helper()
	out, _, err := w.ov.Alerts(ctx, w.As("oversight1"), oversight.AlertFilter{Rule: rule, Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func TestRepeatVisitsFireAtTheirThresholdAndDeduplicate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.visit("market", 20, "2026-03-09", nil)
	w.visit("emergency", 20, "2026-03-11", nil)
	if n := len(w.alerts("repeat_visit_week")); n != 0 {
		t.Fatalf("2 visits in 7 days raised %d alerts", n)
	}
	w.visit("environment", 20, "2026-03-12", nil)
	week := w.alerts("repeat_visit_week")
	if len(week) != 1 || len(week[0].InspectionIDs) != 3 || week[0].Status != "open" {
		t.Fatalf("3rd visit in a week: %+v", week)
	}
	w.visit("market", 20, "2026-03-12", func(in *inspection.IssueInput) { in.Items = []string{"MKT-006"} })
	week = w.alerts("repeat_visit_week")
	if len(week) != 1 || len(week[0].InspectionIDs) != 4 || week[0].Occurrences < 2 {
		t.Fatalf("the same week must update the same alert: %+v", week)
	}
	if day := w.alerts("repeat_visit_day"); len(day) != 1 {
		t.Fatalf("2 visits on 3/12: %d day alerts", len(day))
	}
	if month := w.alerts("repeat_visit_month"); len(month) != 1 || len(month[0].InspectionIDs) != 4 {
		t.Fatalf("4 visits in March: %+v", month)
	}
	if multi := w.alerts("multi_agency"); len(multi) != 1 {
		t.Fatalf("three agencies without a joint inspection: %d alerts", len(multi))
	}
}

func TestJointInspectionsAreNotMultiAgency(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var emg int64
	_ = w.db.NewRaw("SELECT id FROM agencies WHERE code = 'emergency'").Scan(ctx, &emg)
	w.visit("emergency", 21, "2026-03-03", nil)
	w.visit("market", 21, "2026-03-03", func(in *inspection.IssueInput) {
		in.JointAgencies = []int64{emg}
		in.Inspectors = append(in.Inspectors, w.As("inspector.emg1").UserID)
	})
	if n := len(w.alerts("multi_agency")); n != 0 {
		t.Fatalf("a joint inspection raised %d multi-agency alerts", n)
	}
}

func TestCapOverrideAndCapExceeded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.visit("market", 22, "2026-03-02", nil)
	w.visit("market", 22, "2026-05-04", nil)
	if n := len(w.alerts("cap_exceeded")); n != 0 {
		t.Fatalf("at the cap (2 of 2): %d alerts", n)
	}
	w.visit("market", 22, "2026-08-03", func(in *inspection.IssueInput) { in.OverrideReason = "领导批示" })
	if len(w.alerts("cap_exceeded")) != 1 || len(w.alerts("cap_override")) != 1 {
		t.Fatalf("over the cap with an override: %d exceeded, %d override", len(w.alerts("cap_exceeded")), len(w.alerts("cap_override")))
	}
}

func TestCodeUseEvaluationsAndPenalties(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Recorded without a scan.
	a := w.visit("market", 0, "2026-03-03", nil)
	w.Clock.Set(cst("2026-03-03 11:00"))
	if _, err := w.insp.Record(ctx, w.As("inspector.market1"), a.ID, inspection.RecordInput{Start: cst("2026-03-03 09:30"), End: cst("2026-03-03 10:30"), Outcome: "no_issue"}); err != nil {
		t.Fatal(err)
	}
	w.analyze(a.ID)
	if n := len(w.alerts("no_code_scan")); n != 1 {
		t.Fatalf("no code scan: %d", n)
	}
	// Scanned and confirmed first: no alert. Another enterprise tried to confirm: alert.
	b := w.visit("emergency", 0, "2026-03-04", nil)
	w.Clock.Set(cst("2026-03-04 09:10"))
	if _, err := w.insp.Confirm(ctx, w.As("ent2"), b.Code); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("cross confirm: %v", err)
	}
	if _, err := w.insp.Confirm(ctx, w.As("ent1"), b.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := w.insp.Record(ctx, w.As("inspector.emg1"), b.ID, inspection.RecordInput{Start: cst("2026-03-04 09:10"), End: cst("2026-03-04 10:00"), Outcome: "no_issue"}); err != nil {
		t.Fatal(err)
	}
	w.analyze(b.ID)
	if n := len(w.alerts("no_code_scan")); n != 1 {
		t.Fatalf("a scanned visit raised a no-code-scan alert (%d)", n)
	}
	if n := len(w.alerts("confirm_refused")); n != 1 {
		t.Fatalf("confirm refused: %d", n)
	}
	// Ratings: 3 without bad tags is fine; 2 is poor; a 4 that says 推销服务 is poor too.
	for _, c := range []struct {
		i      inspection.Inspection
		rating int
		tags   []string
	}{{a, 3, nil}, {b, 4, []string{"推销服务"}}} {
		if _, err := w.insp.Evaluate(ctx, w.As("ent1"), c.i.ID, c.rating, c.tags, "", false); err != nil {
			t.Fatal(err)
		}
		w.analyze(c.i.ID)
	}
	poor := w.alerts("poor_evaluation")
	if len(poor) != 1 || poor[0].InspectionIDs[0] != b.ID {
		t.Fatalf("poor evaluations: %+v", poor)
	}
	// A penalty where every finding was minor and the item says 首违不罚.
	c := w.visit("market", 1, "2026-03-05", func(in *inspection.IssueInput) { in.Items = []string{"MKT-006"} })
	w.Clock.Set(cst("2026-03-05 12:00"))
	if _, err := w.insp.Record(ctx, w.As("inspector.market1"), c.ID, inspection.RecordInput{Start: cst("2026-03-05 09:30"), End: cst("2026-03-05 10:30"),
		Outcome: "penalty", PenaltyAmount: 5000, Findings: []map[string]any{{"item": "MKT-006", "result": "minor"}}}); err != nil {
		t.Fatal(err)
	}
	w.analyze(c.ID)
	if n := len(w.alerts("heavy_penalty")); n != 1 {
		t.Fatalf("heavy penalty: %d", n)
	}
}

func TestAlertHandling(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.visit("market", 23, "2026-03-02", nil)
	w.visit("market", 23, "2026-03-02", func(in *inspection.IssueInput) { in.Items = []string{"MKT-006"} })
	al := w.alerts("repeat_visit_day")
	if len(al) != 1 {
		t.Fatalf("fixture: %d alerts", len(al))
	}
	if _, err := w.ov.HandleAlert(ctx, w.As("oversight1"), al[0].ID, "dismiss", ""); !fault.Is(err, fault.Invalid) {
		t.Fatalf("dismiss without a reason: %v", err)
	}
	got, err := w.ov.HandleAlert(ctx, w.As("oversight1"), al[0].ID, "ack", "")
	if err != nil || got.Status != "acknowledged" {
		t.Fatalf("ack: %v %s", err, got.Status)
	}
	if _, err := w.ov.HandleAlert(ctx, w.As("oversight1"), al[0].ID, "ack", ""); !fault.Is(err, fault.Conflict) {
		t.Fatalf("ack twice: %v", err)
	}
	if _, err := w.ov.HandleAlert(ctx, w.As("lead.court"), al[0].ID, "resolve", ""); err == nil {
		t.Fatal("only the oversight office handles alerts")
	}
}

func TestSupervisionOrderLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var court int64
	_ = w.db.NewRaw("SELECT id FROM agencies WHERE code = 'court'").Scan(ctx, &court)
	w.visit("market", 24, "2026-03-02", nil)
	w.visit("market", 24, "2026-03-02", func(in *inspection.IssueInput) { in.Items = []string{"MKT-006"} })
	al := w.alerts("repeat_visit_day")
	w.Clock.Set(cst("2026-03-06 16:00")) // Friday
	o, err := w.ov.IssueOrder(ctx, w.As("oversight1"), oversight.OrderInput{AgencyID: court, AlertID: al[0].ID,
		Instruction: "请说明重复检查原因并整改", DueInWorkingDays: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.DueAt.In(clock.Shanghai).Format("2006-01-02 15:04"); got != "2026-03-10 17:30" {
		t.Fatalf("due %s, want the close of the 2nd working day (Tue 3/10)", got)
	}
	if _, err := w.ov.OrderStep(ctx, w.As("court1"), o.ID, "respond", "已整改"); err == nil {
		t.Fatal("an officer does not answer orders")
	}
	if _, err := w.ov.OrderStep(ctx, w.As("lead.court"), o.ID, "respond", "已说明原因"); err != nil {
		t.Fatal(err)
	}
	if o, err = w.ov.OrderStep(ctx, w.As("oversight1"), o.ID, "return", "说明不充分"); err != nil || o.Status != "returned" {
		t.Fatalf("return: %v %s", err, o.Status)
	}
	// Nobody answers again in time: overdue, once, like an SLA breach.
	w.Clock.Set(cst("2026-03-11 09:00"))
	if n, err := w.ov.OverdueOrders(ctx); err != nil || n != 1 {
		t.Fatalf("overdue: %d %v", n, err)
	}
	if n, _ := w.ov.OverdueOrders(ctx); n != 0 {
		t.Fatal("escalated twice")
	}
	var told int
	_ = w.db.NewRaw("SELECT count(*) FROM notifications WHERE kind = 'order.overdue' AND user_id IN (?, ?)", w.As("lead.court").UserID, w.As("oversight1").UserID).Scan(ctx, &told)
	if told != 2 {
		t.Fatalf("overdue notices: %d", told)
	}
	if _, err := w.ov.OrderStep(ctx, w.As("lead.court"), o.ID, "respond", "补充说明"); err != nil {
		t.Fatal(err)
	}
	if o, err = w.ov.OrderStep(ctx, w.As("oversight1"), o.ID, "accept", ""); err != nil || o.Status != "accepted" {
		t.Fatalf("accept: %v %s", err, o.Status)
	}
	events, _ := w.ov.OrderEvents(ctx, w.As("oversight1"), o.ID)
	if len(events) != 6 {
		t.Fatalf("order timeline: %d events", len(events))
	}
}

func TestReportsAndBurden(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.visit("market", 25, "2026-03-02", nil)
	w.visit("emergency", 25, "2026-03-03", func(in *inspection.IssueInput) { in.Mode = "offsite"; in.Inspectors = in.Inspectors[:1] })
	rows, err := w.ov.InspectionReport(ctx, w.As("oversight1"), cst("2026-03-01 00:00"), cst("2026-04-01 00:00"), "agency")
	if err != nil || len(rows) != 2 {
		t.Fatalf("report: %v %+v", err, rows)
	}
	total, onsite := 0, 0
	for _, r := range rows {
		total += r.Inspections
		onsite += r.Onsite
	}
	if total != 2 || onsite != 1 {
		t.Fatalf("totals: %d inspections, %d on-site", total, onsite)
	}
	b, err := w.ov.EnterpriseBurden(ctx, w.As("oversight1"), identity.USCC(w.uscc[25]))
	if err != nil || len(b.Timeline) != 2 || len(b.Visits) != 2 || b.Visits[0].Cap == nil {
		t.Fatalf("burden: %v %+v", err, b)
	}
	if _, err := w.ov.EnterpriseBurden(ctx, w.As("lead.court"), identity.USCC(w.uscc[25])); err == nil {
		t.Fatal("the burden view is for the oversight office")
	}
}

func TestRequestRulesFireFromTheTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Write the facts the rules read: a breached clock, reopens, moves, a poor rating.
	var ent, police, user int64
	_ = w.db.NewRaw("SELECT enterprise_id, id FROM users WHERE username = 'ent1'").Scan(ctx, &ent, &user)
	_ = w.db.NewRaw("SELECT id FROM agencies WHERE code = 'police'").Scan(ctx, &police)
	var id int64
	if err := w.db.NewRaw(`INSERT INTO requests (ticket_no, enterprise_id, created_by, category, title, description, priority, status, agency_id,
		reopen_count, created_at, updated_at) VALUES ('GC-2026-900001', ?, ?, 'security_protection', '测试', '', 'normal', 'in_progress', ?, 2, now(), now())
		RETURNING id`, ent, user, police).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"transfer", "decline", "decline"} {
		if _, err := w.db.ExecContext(ctx, "INSERT INTO request_events (request_id, at, kind) VALUES (?, now(), ?)", id, kind); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.ov.ScanRequests(ctx); err != nil || n != 1 {
		t.Fatalf("scan: %d %v", n, err)
	}
	for _, rule := range []string{"repeated_reopen", "decline_ping_pong"} {
		if got := w.alerts(rule); len(got) != 1 || got[0].RequestIDs[0] != id {
			t.Fatalf("%s: %+v", rule, got)
		}
	}
	if n := len(w.alerts("low_satisfaction")); n != 0 {
		t.Fatal("no rating yet")
	}
	if _, err := w.db.ExecContext(ctx, "INSERT INTO request_feedback (request_id, author_id, rating, created_at) VALUES (?, ?, 1, now())", id, user); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.ExecContext(ctx, "INSERT INTO request_events (request_id, at, kind) VALUES (?, now(), 'feedback')", id); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ov.ScanRequests(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.alerts("low_satisfaction")); n != 1 {
		t.Fatalf("low satisfaction: %d", n)
	}
	// Scanning again changes nothing: the cursor moved on.
	if n, _ := w.ov.ScanRequests(ctx); n != 0 {
		t.Fatalf("rescanned %d requests", n)
	}
	if got := w.alerts("repeated_reopen"); got[0].Occurrences != 2 {
		t.Fatalf("the reopen alert was raised once per scan with news: %d", got[0].Occurrences)
	}
}

// The rules that re-check, after the fact, what the pre-checks enforce at
// issue time: each fires when the facts change, and stays quiet otherwise.
func TestAfterTheFactRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	i := w.visit("market", 26, "2026-03-03", nil)
	for _, rule := range []string{"unlisted_item", "special_without_plan", "cross_jurisdiction", "no_disturb_violation"} {
		if n := len(w.alerts(rule)); n != 0 {
			t.Fatalf("%s fired on a clean inspection", rule)
		}
	}
	// The item is suspended afterwards, the agency limited to one town, and
	// the enterprise put on the no-disturb list: each is now a finding.
	for _, stmt := range []string{
		"UPDATE inspection_items SET status = 'suspended' WHERE code = 'MKT-001'",
		"UPDATE agencies SET towns = '{baodun}' WHERE code = 'market'",
		"UPDATE enterprises SET town_code = 'wujin', no_disturb = true, no_disturb_basis = '信用A级' WHERE uscc = '" + w.uscc[26] + "'",
	} {
		if _, err := w.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	w.analyze(i.ID)
	for _, rule := range []string{"unlisted_item", "cross_jurisdiction", "no_disturb_violation"} {
		if n := len(w.alerts(rule)); n != 1 {
			t.Fatalf("%s: %d alerts", rule, n)
		}
	}
	// A special inspection whose plan loses its filing.
	var plan int64
	_ = w.db.NewRaw("SELECT id FROM inspection_plans WHERE kind = 'special' AND filed_at IS NOT NULL").Scan(ctx, &plan)
	if _, err := w.db.ExecContext(ctx, "UPDATE agencies SET towns = '{}' WHERE code = 'market'"); err != nil {
		t.Fatal(err)
	}
	s := w.visit("market", 27, "2026-04-10", func(in *inspection.IssueInput) { in.Kind, in.PlanID, in.Items = "special", plan, []string{"MKT-002"} })
	if n := len(w.alerts("special_without_plan")); n != 0 {
		t.Fatal("a filed plan raised an alert")
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE inspection_plans SET filed_at = NULL WHERE id = ?", plan); err != nil {
		t.Fatal(err)
	}
	w.analyze(s.ID)
	if n := len(w.alerts("special_without_plan")); n != 1 {
		t.Fatalf("special without a filed plan: %d", n)
	}
}

func TestSLABreachesAndPausesBecomeAlerts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var ent, user, police int64
	_ = w.db.NewRaw("SELECT enterprise_id, id FROM users WHERE username = 'ent1'").Scan(ctx, &ent, &user)
	_ = w.db.NewRaw("SELECT id FROM agencies WHERE code = 'police'").Scan(ctx, &police)
	var id, policy, cal int64
	if err := w.db.NewRaw(`INSERT INTO requests (ticket_no, enterprise_id, created_by, category, title, description, priority, status, agency_id, created_at, updated_at)
		VALUES ('GC-2026-900002', ?, ?, 'security_protection', '测试', '', 'normal', 'in_progress', ?, now(), now()) RETURNING id`, ent, user, police).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	_ = w.db.NewRaw("SELECT id, calendar_id FROM sla_policies WHERE code = 'general'").Scan(ctx, &policy, &cal)
	var clockID int64
	if err := w.db.NewRaw(`INSERT INTO sla_clocks (request_id, kind, policy_id, calendar_id, target_minutes, warn_percent, state, over_pause_cap, created_at, updated_at)
		VALUES (?, 'resolution', ?, ?, 2940, 75, 'paused', false, now(), now()) RETURNING id`, id, policy, cal).Scan(ctx, &clockID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.ExecContext(ctx, "INSERT INTO request_events (request_id, at, kind) VALUES (?, now(), 'request_info')", id); err != nil {
		t.Fatal(err)
	}
	_, _ = w.ov.ScanRequests(ctx)
	for _, rule := range []string{"sla_breach", "sla_breach_unresolved", "excessive_pausing"} {
		if n := len(w.alerts(rule)); n != 0 {
			t.Fatalf("%s fired before its facts", rule)
		}
	}
	for _, stmt := range []string{
		"UPDATE sla_clocks SET over_pause_cap = true WHERE id = " + fmt.Sprint(clockID),
		fmt.Sprintf("INSERT INTO sla_breaches (clock_id, request_id, agency_id, clock_kind, level, at) VALUES (%d, %d, %d, 'resolution', 1, now())", clockID, id, police),
		fmt.Sprintf("INSERT INTO request_events (request_id, at, kind) VALUES (%d, now(), 'sla_breached')", id),
	} {
		if _, err := w.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = w.ov.ScanRequests(ctx)
	if len(w.alerts("sla_breach")) != 1 || len(w.alerts("excessive_pausing")) != 1 || len(w.alerts("sla_breach_unresolved")) != 0 {
		t.Fatal("breach and pausing alerts")
	}
	for _, stmt := range []string{
		fmt.Sprintf("INSERT INTO sla_breaches (clock_id, request_id, agency_id, clock_kind, level, at) VALUES (%d, %d, %d, 'resolution', 2, now())", clockID, id, police),
		fmt.Sprintf("INSERT INTO request_events (request_id, at, kind) VALUES (%d, now(), 'sla_escalated')", id),
	} {
		if _, err := w.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = w.ov.ScanRequests(ctx)
	if got := w.alerts("sla_breach_unresolved"); len(got) != 1 || got[0].AgencyIDs[0] != police {
		t.Fatalf("escalated breach: %+v", got)
	}
}

// The inspection report reads stored day rows for refreshed days and counts
// the rest live; either way the figures must be the same, and a change to a
// refreshed day must show at once.
func TestInspectionReportDaysMatchTheInspections(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	oversight1 := w.As("oversight1")
	a := w.visit("market", 0, "2026-03-03", nil)
	w.visit("market", 30, "2026-03-03", nil)
	w.visit("emergency", 30, "2026-03-04", func(in *inspection.IssueInput) { in.Mode = "offsite"; in.Inspectors = in.Inspectors[:1] })
	w.visit("environment", 30, "2026-03-05", nil) // the 3rd in 7 days: repeat visits
	b := w.visit("market", 31, "2026-03-05", func(in *inspection.IssueInput) { in.Items = []string{"MKT-001", "MKT-006"} })
	w.visit("market", 32, "2026-03-20", nil)
	w.Clock.Set(cst("2026-03-03 09:10"))
	if _, err := w.insp.Confirm(ctx, w.As("ent1"), a.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := w.insp.Evaluate(ctx, w.As("ent1"), a.ID, 2, nil, "", false); err != nil {
		t.Fatal(err)
	}

	// Whole days, a range that starts and ends mid-day, and one shorter than a day.
	periods := [][2]time.Time{
		{cst("2026-03-01 00:00"), cst("2026-04-01 00:00")},
		{cst("2026-03-03 12:00"), cst("2026-03-20 08:00")},
		{cst("2026-03-05 08:00"), cst("2026-03-05 20:00")},
	}
	report := func() map[string][]oversight.InspectionRow {
		t.Helper()
		out := map[string][]oversight.InspectionRow{}
		for i, p := range periods {
			for _, g := range []string{"agency", "item", "town"} {
				rows, err := w.ov.InspectionReport(ctx, oversight1, p[0], p[1], g)
				if err != nil {
					t.Fatalf("%s report: %v", g, err)
				}
				out[fmt.Sprint(i, g)] = rows
			}
		}
		return out
	}
	refresh := func() int {
		t.Helper()
		n, err := w.ov.RefreshReportDays(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	same := func(stage string, want map[string][]oversight.InspectionRow) {
		t.Helper()
		if got := report(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s:\n got %v\nwant %v", stage, got, want)
		}
	}

	live := report()
	month := live["0agency"]
	if len(month) != 3 || month[0].Inspections != 4 || month[0].Rated != 1 || month[0].AvgRating != 2 {
		t.Fatalf("March by agency: %+v", month)
	}
	if repeats := month[0].RepeatVisits + month[1].RepeatVisits + month[2].RepeatVisits; repeats != 3 {
		t.Fatalf("March repeat visits: %d, want 3", repeats)
	}
	if items := live["0item"]; len(items) != 4 {
		t.Fatalf("March by item (MKT-001, MKT-006, EMG-002, ENV-001): %+v", items)
	}
	if n := refresh(); n != 4 {
		t.Fatalf("refreshed %d days, want the 4 with visits", n)
	}
	same("after the refresh", live)
	if n := refresh(); n != 0 {
		t.Fatalf("nothing changed, yet %d days were recomputed", n)
	}

	// The stored rows are what the report reads for a refreshed day.
	if _, err := w.db.ExecContext(ctx, "UPDATE inspection_report_days SET inspections = inspections + 100 WHERE day = '2026-03-20'"); err != nil {
		t.Fatal(err)
	}
	if rows, _ := w.ov.InspectionReport(ctx, oversight1, periods[0][0], periods[0][1], "agency"); rows[0].Inspections != 104 {
		t.Fatalf("the stored day rows were not read: %+v", rows)
	}
	refresh() // the manual edit marked nothing: the day stays as edited until it changes
	if _, err := w.db.ExecContext(ctx, "UPDATE inspection_report_days SET inspections = inspections - 100 WHERE day = '2026-03-20'"); err != nil {
		t.Fatal(err)
	}

	// Changes to refreshed days show at once, then again after a refresh.
	w.Clock.Set(cst("2026-03-05 12:00"))
	if _, err := w.insp.Cancel(ctx, w.As("inspector.market1"), b.ID, "企业停产"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE enterprises SET town_code = 'puxing' WHERE uscc = ?", w.uscc[32]); err != nil {
		t.Fatal(err)
	}
	changed := report()
	if fmt.Sprint(changed) == fmt.Sprint(live) {
		t.Fatal("a cancelled visit and a town move changed nothing")
	}
	if got := changed["0agency"]; got[0].Inspections != 3 {
		t.Fatalf("market after the cancellation: %+v", got)
	}
	if n := refresh(); n != 2 {
		t.Fatalf("refreshed %d days, want 3/5 and 3/20", n)
	}
	same("after the second refresh", changed)
}
