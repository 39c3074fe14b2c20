package sla_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/storage"
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
	t     *testing.T
	db    *bun.DB
	cases *casework.Service
	sla   *sla.Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := testkit.New(t, cst("2025-09-01 09:00"))
	files, _ := storage.NewLocal(t.TempDir())
	w := &world{World: k, t: t, db: k.DB, cases: casework.NewService(k.DB, k.Clock, quiet, files, casework.DefaultLimits),
		sla: sla.NewService(k.DB, k.Clock, quiet)}
	w.cases.Observe(w.sla)
	w.cases.AddFiler(w.sla)
	return w
}

// file files a request at the given time and hands it to officer directly.
func (w *world) file(at, category, officer string) casework.Request {
	w.t.Helper()
	w.Clock.Set(cst(at))
	r, _, err := w.cases.Create(ctx, w.As("ent1"), casework.NewRequest{Category: category, Title: "测试", Description: "测试"})
	if err != nil {
		w.t.Fatal(err)
	}
	o := w.As(officer)
	if _, err := w.db.ExecContext(ctx, "UPDATE requests SET status = 'assigned', agency_id = ?, assignee_id = ?, version = version + 1 WHERE id = ?",
		o.AgencyID, o.UserID, r.ID); err != nil {
		w.t.Fatal(err)
	}
	got, _ := w.cases.Get(ctx, w.As("ent1"), r.ID)
	return got
}

func (w *world) act(at, who string, r *casework.Request, in casework.ActInput) {
	w.t.Helper()
	w.Clock.Set(cst(at))
	v := r.Version
	in.Version = &v
	got, err := w.cases.Act(ctx, w.As(who), r.ID, in)
	if err != nil {
		w.t.Fatalf("%s %s: %v", who, in.Action, err)
	}
	*r = got
}

func (w *world) block(r casework.Request) sla.Block {
	w.t.Helper()
	b, err := w.sla.Blocks(ctx, []int64{r.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	return b[r.ID]
}

func wantDue(t *testing.T, what string, v *sla.View, want string) {
	t.Helper()
	if v == nil || v.DueAt == nil {
		t.Fatalf("%s: no deadline (%+v)", what, v)
	}
	if got := v.DueAt.In(clock.Shanghai).Format("2006-01-02 15:04"); got != want {
		t.Fatalf("%s due %s, want %s", what, got, want)
	}
}

func TestNationalDay2025(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2025-09-30 16:00", "security_protection", "police1") // general: 1 and 7 working days
	b := w.block(r)
	wantDue(t, "acknowledge", b.Acknowledge, "2025-10-09 16:00") // 90 min on 9/30, holidays to 10/8
	wantDue(t, "resolution", b.Resolution, "2025-10-16 16:00")   // the make-up Saturday 10/11 counts
	// A request filed the Friday after the holiday meets the make-up Saturday.
	r2 := w.file("2025-10-10 16:00", "security_protection", "police1")
	wantDue(t, "acknowledge", w.block(r2).Acknowledge, "2025-10-11 16:00")
}

func TestSpringFestival2026(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-02-13 16:00", "legal_aid", "justice1") // consultation: 1 and 3 working days
	b := w.block(r)
	wantDue(t, "acknowledge", b.Acknowledge, "2026-02-14 16:00") // Saturday 2/14 is a make-up working day
	wantDue(t, "resolution", b.Resolution, "2026-02-25 16:00")   // 2/15–2/23 are holidays
	if b.Resolution.Provisional {
		t.Fatal("2026 is loaded: not provisional")
	}
}

func TestPauseAcrossTheHolidayAndResume(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2025-09-30 16:00", "security_protection", "police1")
	w.act("2025-09-30 16:30", "police1", &r, casework.ActInput{Action: casework.ActAccept})
	w.act("2025-09-30 17:00", "police1", &r, casework.ActInput{Action: casework.ActRequestInfo, Body: "请提供监控录像"})
	b := w.block(r)
	if b.Resolution.State != sla.Paused || b.Resolution.DueAt != nil || b.Acknowledge.State != sla.Met {
		t.Fatalf("after request_info: resolution %+v, acknowledge %s", b.Resolution, b.Acknowledge.State)
	}
	w.Clock.Set(cst("2025-10-09 10:00"))
	r, err := w.cases.PostMessage(ctx, w.As("ent1"), r.ID, "已上传录像", false)
	if err != nil {
		t.Fatal(err)
	}
	b = w.block(r)
	if b.Resolution.State != sla.Running || b.Resolution.PausedMinutes != 90 || len(b.Resolution.Pauses) != 1 || b.Resolution.Pauses[0].Reason != "请提供监控录像" {
		t.Fatalf("after the answer: %+v", b.Resolution)
	}
	// 60 minutes ran before the pause; 2,880 remain from 10/9 10:00.
	wantDue(t, "resolution", b.Resolution, "2025-10-16 17:30")
	// The enterprise's message opened a next-response cycle.
	if b.NextResponse == nil || b.NextResponse.State != sla.Running {
		t.Fatalf("next response: %+v", b.NextResponse)
	}
	w.act("2025-10-09 11:00", "police1", &r, casework.ActInput{Action: casework.ActReply, Body: "收到"})
	if nr := w.block(r).NextResponse; nr.State != sla.Met {
		t.Fatalf("next response after the reply: %s", nr.State)
	}
}

func TestTransferKeepsTheClockAndReopenResumesIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-03-02 09:00", "litigation_service", "court1") // consultation
	before := w.block(r).Resolution.DueAt
	w.act("2026-03-02 10:00", "court1", &r, casework.ActInput{Action: casework.ActTransfer, Reason: "应由司法局调解",
		TargetAgencyID: w.As("justice1").AgencyID})
	if after := w.block(r).Resolution.DueAt; !after.Equal(*before) {
		t.Fatalf("transfer moved the deadline: %s → %s", before, after)
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE requests SET status = 'assigned', assignee_id = ? WHERE id = ?", w.As("justice1").UserID, r.ID); err != nil {
		t.Fatal(err)
	}
	r, _ = w.cases.Get(ctx, w.As("ent1"), r.ID)
	w.act("2026-03-02 11:00", "justice1", &r, casework.ActInput{Action: casework.ActAccept})
	w.act("2026-03-03 11:00", "justice1", &r, casework.ActInput{Action: casework.ActResolve, Body: "已调解"})
	if res := w.block(r).Resolution; res.State != sla.Met {
		t.Fatalf("resolved in time: %s", res.State)
	}
	w.act("2026-03-04 09:00", "ent1", &r, casework.ActInput{Action: casework.ActReopen, Reason: "对方未履行"})
	res := w.block(r).Resolution
	// It ran 420 + 120 minutes before resolve; 720 of 1,260 remain from 3/4 09:00.
	if res.State != sla.Running || res.RemainingMinutes != 720 {
		t.Fatalf("after reopen: %s, %d remaining", res.State, res.RemainingMinutes)
	}
	wantDue(t, "resolution", res, "2026-03-05 15:30")
}

// A running clock waits on one task at a time: its warning, and once the
// warning is handled, its due instant.
func TestAClockWaitsOnOneDeadlineTaskAtATime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-03-02 09:00", "security_protection", "police1")
	tasks := func() map[string]time.Time {
		t.Helper()
		var rows []struct {
			Key string    `bun:"task_key"`
			At  time.Time `bun:"process_at"`
		}
		if err := w.db.NewRaw(`SELECT o.task_key, o.process_at FROM outbox o JOIN sla_clocks c ON o.task_key LIKE 'sla:' || c.id || ':%'
			WHERE c.request_id = ?`, r.ID).Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Time{}
		for _, x := range rows {
			out[x.Key] = x.At
		}
		return out
	}
	clock := func(kind string) sla.Clock {
		t.Helper()
		var c sla.Clock
		if err := w.db.NewSelect().Model(&c).Where("request_id = ? AND kind = ?", r.ID, kind).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	ack, res := clock("acknowledge"), clock("resolution")
	warnKey := fmt.Sprintf("sla:%d:warn:%d", ack.ID, ack.Version)
	dueKey := fmt.Sprintf("sla:%d:due:%d", ack.ID, ack.Version)
	got := tasks()
	if len(got) != 2 || !got[warnKey].Equal(*ack.WarnAt) || got[fmt.Sprintf("sla:%d:warn:%d", res.ID, res.Version)].IsZero() {
		t.Fatalf("after filing: %v", got)
	}
	w.Clock.Set(*ack.WarnAt)
	if err := w.sla.Deadline(ctx, sla.DeadlinePayload{ClockID: ack.ID, Version: ack.Version, What: "warn"}); err != nil {
		t.Fatal(err)
	}
	if got := tasks(); len(got) != 3 || !got[dueKey].Equal(*ack.DueAt) {
		t.Fatalf("after the warning: %v", got)
	}
	w.Clock.Set(*ack.DueAt)
	if err := w.sla.Deadline(ctx, sla.DeadlinePayload{ClockID: ack.ID, Version: ack.Version, What: "due"}); err != nil {
		t.Fatal(err)
	}
	if b := w.block(r).Acknowledge; b.State != sla.Breached {
		t.Fatalf("after the due task: %s", b.State)
	}
}

func TestDeadlineTasksAreIdempotentAndStaleOnesDoNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-03-02 09:00", "security_protection", "police1")
	var c sla.Clock
	if err := w.db.NewSelect().Model(&c).Where("request_id = ? AND kind = 'acknowledge'", r.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	w.Clock.Set(cst("2026-03-03 09:00")) // past the acknowledge deadline of 3/2 17:30
	for range 2 {                        // delivered twice
		if err := w.sla.Deadline(ctx, sla.DeadlinePayload{ClockID: c.ID, Version: c.Version, What: "due"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.sla.Deadline(ctx, sla.DeadlinePayload{ClockID: c.ID, Version: c.Version - 1, What: "due"}); err != nil {
		t.Fatal(err)
	}
	var breaches, events int
	_ = w.db.NewRaw("SELECT count(*) FROM sla_breaches WHERE clock_id = ?", c.ID).Scan(ctx, &breaches)
	_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'sla_breached'", r.ID).Scan(ctx, &events)
	if breaches != 1 || events != 1 {
		t.Fatalf("%d breaches, %d timeline events", breaches, events)
	}
	// A stale task of a clock that moved on: accepting stops the clock.
	r2 := w.file("2026-03-02 09:00", "security_protection", "police1")
	var c2 sla.Clock
	_ = w.db.NewSelect().Model(&c2).Where("request_id = ? AND kind = 'acknowledge'", r2.ID).Scan(ctx)
	w.act("2026-03-02 10:00", "police1", &r2, casework.ActInput{Action: casework.ActAccept})
	w.Clock.Set(cst("2026-03-05 09:00"))
	if err := w.sla.Deadline(ctx, sla.DeadlinePayload{ClockID: c2.ID, Version: c2.Version, What: "due"}); err != nil {
		t.Fatal(err)
	}
	if b := w.block(r2).Acknowledge; b.State != sla.Met {
		t.Fatalf("a stale task breached a met clock: %s", b.State)
	}
}

// Redis was down when the deadline came: no task ran. The sweep finds the
// clock by its due_at and breaches it, then escalates a working day later.
func TestSweepCatchesMissedDeadlinesAndEscalates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-03-02 09:00", "security_protection", "police1")
	w.Clock.Set(cst("2026-03-02 15:50"))
	if n, _ := w.sweep(); n != 1 { // 75% of the acknowledge day (315 min) is 15:45: a warning
		t.Fatalf("sweep at the warning handled %d clocks", n)
	}
	w.Clock.Set(cst("2026-03-02 18:00"))
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	if b := w.block(r).Acknowledge; b.State != sla.Breached {
		t.Fatalf("after the sweep: %s", b.State)
	}
	var warned, leadNotices int
	_ = w.db.NewRaw("SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'sla.warn'", w.As("police1").UserID).Scan(ctx, &warned)
	if warned != 1 {
		t.Fatalf("officer warned %d times", warned)
	}
	_ = leadNotices
	// A working day after the breach (3/2 17:30 → 3/3 17:30), still unanswered: escalate to oversight.
	w.Clock.Set(cst("2026-03-03 17:00"))
	_, _ = w.sweep()
	var level2 int
	_ = w.db.NewRaw("SELECT count(*) FROM sla_breaches WHERE request_id = ? AND level = 2", r.ID).Scan(ctx, &level2)
	if level2 != 0 {
		t.Fatal("escalated before a working day had passed")
	}
	w.Clock.Set(cst("2026-03-04 09:00"))
	_, _ = w.sweep()
	var oversight int
	_ = w.db.NewRaw("SELECT count(*) FROM sla_breaches WHERE request_id = ? AND level = 2", r.ID).Scan(ctx, &level2)
	_ = w.db.NewRaw("SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'sla.escalate'", w.As("oversight1").UserID).Scan(ctx, &oversight)
	if level2 < 1 || oversight < 1 {
		t.Fatalf("escalation: %d level-2 breaches, %d oversight notices", level2, oversight)
	}
}

func TestEmergencyBreachesAtNight(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-02-17 21:00", "emergency_assistance", "police1") // Spring Festival, evening
	wantDue(t, "acknowledge", w.block(r).Acknowledge, "2026-02-17 23:00")
	w.Clock.Set(cst("2026-02-17 23:01"))
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	if b := w.block(r).Acknowledge; b.State != sla.Breached {
		t.Fatalf("24x7 clock at 23:01: %s", b.State)
	}
}

func TestPolicyEditMovesOpenClocksOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	open := w.file("2026-03-02 09:00", "security_protection", "police1")
	done := w.file("2026-03-02 09:00", "security_protection", "police1")
	w.act("2026-03-02 10:00", "police1", &done, casework.ActInput{Action: casework.ActAccept})
	w.act("2026-03-02 11:00", "police1", &done, casework.ActInput{Action: casework.ActResolve, Body: "已处置"})
	var policyID int64
	_ = w.db.NewRaw("SELECT id FROM sla_policies WHERE code = 'general'").Scan(ctx, &policyID)
	if _, err := w.db.ExecContext(ctx, "UPDATE sla_policies SET resolution_minutes = 840 WHERE id = ?", policyID); err != nil {
		t.Fatal(err)
	}
	w.Clock.Set(cst("2026-03-02 12:00"))
	if _, err := w.sla.Recompute(ctx, sla.RecomputePayload{PolicyID: policyID}); err != nil {
		t.Fatal(err)
	}
	wantDue(t, "open request", w.block(open).Resolution, "2026-03-03 17:30") // two working days now
	if b := w.block(done).Resolution; b.State != sla.Met || b.TargetMinutes != 2940 {
		t.Fatalf("a met clock was rewritten: %s target %d", b.State, b.TargetMinutes)
	}
}

// A calendar edit moves only the deadlines after the edited day: the other
// open clocks keep their version (no new deadline tasks), and a breach
// stays a breach even when the edit would have put its deadline later.
func TestCalendarEditMovesOnlyLaterDeadlines(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	late := w.file("2026-02-02 09:00", "security_protection", "police1")
	w.Clock.Set(cst("2026-03-02 09:00"))
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	r := w.file("2026-03-02 09:00", "security_protection", "police1")
	due := *w.block(r).Resolution.DueAt
	type clockRow struct {
		Version    int        `bun:"version"`
		Outcome    *string    `bun:"outcome"`
		BreachedAt *time.Time `bun:"breached_at"`
	}
	read := func(req casework.Request) clockRow {
		t.Helper()
		var c clockRow
		if err := w.db.NewRaw("SELECT version, outcome, breached_at FROM sla_clocks WHERE request_id = ? AND kind = 'resolution'", req.ID).
			Scan(ctx, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var calID int64
	_ = w.db.NewRaw("SELECT id FROM calendars WHERE code = 'working'").Scan(ctx, &calID)
	closeDay := func(day string) {
		t.Helper()
		if _, err := w.db.ExecContext(ctx, "INSERT INTO calendar_days (calendar_id, day, kind, name, windows) VALUES (?, ?, 'closure', '停电', '[[0, 1440]]')",
			calID, day); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.ExecContext(ctx, "UPDATE calendars SET version = version + 1 WHERE id = ?", calID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.sla.Recompute(ctx, sla.RecomputePayload{CalendarID: calID}); err != nil {
			t.Fatal(err)
		}
	}
	before, breach := read(r), read(late)
	if breach.Outcome == nil || *breach.Outcome != sla.Breached {
		t.Fatalf("the old request's clock should have breached: %+v", breach)
	}

	closeDay("2026-04-15") // after every deadline: nothing moves
	if got := read(r); got.Version != before.Version {
		t.Fatalf("a deadline before the closure got a new version: %d → %d", before.Version, got.Version)
	}
	if got := *w.block(r).Resolution.DueAt; !got.Equal(due) {
		t.Fatalf("due moved from %s to %s", due, got)
	}

	closeDay("2026-03-03") // before the open deadline and after the breached one's start
	if got := read(r); got.Version != before.Version+1 {
		t.Fatalf("the moved deadline's version: %d, want %d", got.Version, before.Version+1)
	}
	if got := *w.block(r).Resolution.DueAt; !got.After(due) {
		t.Fatalf("due %s did not move past %s", got, due)
	}
	if got := read(late); got.Outcome == nil || *got.Outcome != sla.Breached || !got.BreachedAt.Equal(*breach.BreachedAt) {
		t.Fatalf("the breach was rewritten: %+v, was %+v", got, breach)
	}
}

func TestDeadlinesBeyondTheLoadedYearsAreProvisional(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("2026-12-28 09:00", "judgment_enforcement", "court1") // complex: three months
	if res := w.block(r).Resolution; !res.Provisional {
		t.Fatalf("a 2027 deadline must be provisional: %+v", res)
	}
	// The official 2027 calendar arrives: deadlines stop being provisional.
	var calID int64
	_ = w.db.NewRaw("SELECT id FROM calendars WHERE code = 'working'").Scan(ctx, &calID)
	if err := sla.LoadYear(ctx, w.db, calID, 2027, []struct{ Date, Name string }{{"2027-01-01", "元旦"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sla.Recompute(ctx, sla.RecomputePayload{CalendarID: calID}); err != nil {
		t.Fatal(err)
	}
	if res := w.block(r).Resolution; res.Provisional {
		t.Fatal("still provisional after 2027 was loaded")
	}
}

func TestReportThreeRates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.file("2026-03-02 09:00", "litigation_service", "court1")
	b := w.file("2026-03-02 09:00", "litigation_service", "court1")
	c := w.file("2026-03-02 09:00", "security_protection", "police1")
	w.act("2026-03-02 10:00", "court1", &a, casework.ActInput{Action: casework.ActAccept}) // on time: 60 min
	w.act("2026-03-02 11:00", "court1", &a, casework.ActInput{Action: casework.ActResolve, Body: "已答复"})
	w.Clock.Set(cst("2026-03-02 11:30"))
	if _, err := w.cases.GiveFeedback(ctx, w.As("ent1"), a.ID, 5, "满意"); err != nil {
		t.Fatal(err)
	}
	w.act("2026-03-02 11:40", "ent1", &a, casework.ActInput{Action: casework.ActConfirm})
	w.act("2026-03-04 10:00", "court1", &b, casework.ActInput{Action: casework.ActAccept}) // late: past 3/2 17:30
	w.Clock.Set(cst("2026-03-04 10:01"))
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	_ = c
	rows, err := w.sla.Report(ctx, w.As("oversight1"), cst("2026-03-01 00:00"), cst("2026-03-31 00:00"), "agency")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sla.ReportRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	court := byName["成都市新津区人民法院"]
	resp, resol, sat := court.Rates()
	if court.Requests != 2 || court.Dispatched != 2 || court.AcknowledgedOnTime != 1 || resp != 0.5 || resol != 1 || sat != 1 || court.Breaches != 1 || court.AckP50 == 0 {
		t.Fatalf("court row: %+v (rates %.2f %.2f %.2f)", court, resp, resol, sat)
	}
	if _, ok := byName["成都市公安局新津区分局"]; !ok {
		t.Fatal("oversight sees every agency")
	}
	own, err := w.sla.Report(ctx, w.As("lead.court"), cst("2026-03-01 00:00"), cst("2026-03-31 00:00"), "officer")
	if err != nil || len(own) != 1 || own[0].Name != "李法官" {
		t.Fatalf("a lead sees only its agency: %+v %v", own, err)
	}
	if _, err := w.sla.Report(ctx, w.As("court1"), cst("2026-03-01 00:00"), cst("2026-03-31 00:00"), "agency"); err == nil {
		t.Fatal("officers do not read the report")
	}
}

// The report reads its percentiles off counts per acknowledge time; they
// must be percentile_cont's, interpolation included.
func TestReportPercentilesArePercentileCont(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i, minutes := range []int{5, 5, 17, 30, 30, 30, 42, 95, 240} {
		r := w.file("2026-03-03 09:00", "litigation_service", "court1")
		w.act(cst("2026-03-03 09:00").Add(time.Duration(minutes)*time.Minute).Format("2006-01-02 15:04"), "court1", &r,
			casework.ActInput{Action: casework.ActAccept})
		if i%3 == 0 { // another group too
			o := w.file("2026-03-03 09:00", "security_protection", "police1")
			w.act(cst("2026-03-03 09:00").Add(time.Duration(minutes*2)*time.Minute).Format("2006-01-02 15:04"), "police1", &o,
				casework.ActInput{Action: casework.ActAccept})
		}
	}
	w.file("2026-03-03 09:00", "litigation_service", "court1") // not acknowledged: no time
	// The other group's requests have since lost their agency and officer
	// (the 未分配 group of the agency and officer reports, a NULL key).
	if _, err := w.db.ExecContext(ctx, "UPDATE requests SET agency_id = NULL, assignee_id = NULL WHERE category = 'security_protection'"); err != nil {
		t.Fatal(err)
	}
	for _, group := range []string{"agency", "category", "officer"} {
		rows, err := w.sla.Report(ctx, w.As("oversight1"), cst("2026-03-01 00:00"), cst("2026-03-31 00:00"), group)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("%s: want 2 groups, got %+v", group, rows)
		}
		for _, row := range rows {
			category := "litigation_service"
			if row.Requests == 3 {
				category = "security_protection"
			}
			var want struct {
				P50 float64 `bun:"p50"`
				P90 float64 `bun:"p90"`
			}
			if err := w.db.NewRaw(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c.elapsed_minutes) AS p50,
				  percentile_cont(0.9) WITHIN GROUP (ORDER BY c.elapsed_minutes) AS p90
				FROM sla_clocks c JOIN requests r ON r.id = c.request_id
				WHERE c.kind = 'acknowledge' AND c.state = 'stopped' AND r.category = ?`, category).Scan(ctx, &want); err != nil {
				t.Fatal(err)
			}
			if row.AckP50 != want.P50 || row.AckP90 != want.P90 || want.P90 == 0 {
				t.Fatalf("%s %s: p50 %v p90 %v, percentile_cont says %v %v", group, row.Name, row.AckP50, row.AckP90, want.P50, want.P90)
			}
		}
	}
}

// sweep runs a sweep tick and then, as a worker would, the tasks it queued.
func (w *world) sweep() (int, error) {
	w.t.Helper()
	n, err := w.sla.Sweep(ctx)
	if err != nil {
		return n, err
	}
	var rows []struct {
		ID      int64           `bun:"id"`
		Type    string          `bun:"task_type"`
		Payload json.RawMessage `bun:"payload"`
	}
	if err := w.db.NewRaw(`SELECT id, task_type, payload FROM outbox WHERE dispatched_at IS NULL AND task_key LIKE 'sla:%:sweep:%' ORDER BY id`).
		Scan(ctx, &rows); err != nil {
		return n, err
	}
	for _, r := range rows {
		switch r.Type {
		case sla.TaskDeadline:
			var p sla.DeadlinePayload
			if err := json.Unmarshal(r.Payload, &p); err != nil {
				return n, err
			}
			err = w.sla.Deadline(ctx, p)
		case sla.TaskEscalate:
			var p sla.ClockPayload
			if err := json.Unmarshal(r.Payload, &p); err != nil {
				return n, err
			}
			err = w.sla.Escalate(ctx, p)
		}
		if err != nil {
			return n, err
		}
		if _, err := w.db.NewRaw(`UPDATE outbox SET dispatched_at = now() WHERE id = ?`, r.ID).Exec(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}
