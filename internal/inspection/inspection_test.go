package inspection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg/pgtest"
	"greenchannel/internal/platform/workcal"
	"greenchannel/internal/sla"
	"greenchannel/internal/testkit"
)

var (
	ctx   = context.Background()
	quiet = testkit.Quiet
	key   = []byte("test-key-0123456789abcdef0123456789")
)

var cst = testkit.CST

type world struct {
	*testkit.World
	t    *testing.T
	db   *bun.DB
	svc  *inspection.Service
	uscc []string // demo enterprises' codes, in seed order
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := testkit.New(t, cst("2026-03-02 08:00"))
	slaSvc := sla.NewService(k.DB, k.Clock, quiet)
	w := &world{World: k, t: t, db: k.DB,
		svc: inspection.NewService(k.DB, k.Clock, quiet, [][]byte{key}, "https://gc.example", func(ctx context.Context) (*workcal.Calendar, error) {
			return slaSvc.CalendarByCode(ctx, "working")
		})}
	if err := k.DB.NewRaw("SELECT uscc FROM enterprises ORDER BY id").Scan(ctx, &w.uscc); err != nil {
		t.Fatal(err)
	}
	return w
}

var teams = map[string][2]string{
	"market": {"inspector.market1", "inspector.market2"}, "fire": {"inspector.fire1", "inspector.fire2"},
	"emergency": {"inspector.emg1", "inspector.emg2"}, "environment": {"inspector.env1", "inspector.env2"},
}

var itemOf = map[string]string{"market": "MKT-001", "fire": "FIRE-001", "emergency": "EMG-002", "environment": "ENV-001"}

// in builds a routine on-site request by a two-person team on a day.
func (w *world) in(team string, ent int, day string) (identity.Actor, inspection.IssueInput) {
	a := w.As(teams[team][0])
	from := cst(day + " 09:00")
	return a, inspection.IssueInput{USCC: w.uscc[ent], Items: []string{itemOf[team]}, Mode: "onsite", Kind: "routine",
		From: from, To: from.Add(8 * time.Hour), Inspectors: []int64{a.UserID, w.As(teams[team][1]).UserID}}
}

func (w *world) issue(a identity.Actor, in inspection.IssueInput) (inspection.Inspection, []inspection.Check, error) {
	i, err := w.svc.Issue(ctx, a, in)
	if err != nil {
		if f, ok := fault.As(err); ok {
			checks, _ := f.Extra["checks"].([]inspection.Check)
			return i, checks, err
		}
		return i, nil, err
	}
	return i, i.Checks, nil
}

func rules(checks []inspection.Check, severity string) []string {
	var out []string
	for _, c := range checks {
		if c.Severity == severity && !c.Overridden {
			out = append(out, c.Rule)
		}
	}
	return out
}

func (w *world) mustIssue(team string, ent int, day string) inspection.Inspection {
	w.t.Helper()
	a, in := w.in(team, ent, day)
	i, checks, err := w.issue(a, in)
	if err != nil {
		w.t.Fatalf("%s %d %s: %v %+v", team, ent, day, err, checks)
	}
	return i
}

func TestRepeatVisitWarningsAtTheirThresholds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// fire has its second inspector's certificate expired in 2026-06; use March.
	w.mustIssue("market", 5, "2026-03-09")
	a, in := w.in("environment", 5, "2026-03-11")
	_, checks, err := w.issue(a, in) // the 2nd visit within 7 days: fine
	if err != nil || slices.Contains(rules(checks, "warn"), inspection.RuleRepeatWeek) {
		t.Fatalf("2nd visit in a week: %v %v", err, rules(checks, "warn"))
	}
	a, in = w.in("emergency", 5, "2026-03-12")
	_, checks, err = w.issue(a, in) // the 3rd: warned
	if err != nil || !slices.Contains(rules(checks, "warn"), inspection.RuleRepeatWeek) {
		t.Fatalf("3rd visit in a week: %v %v", err, rules(checks, "warn"))
	}
	if slices.Contains(rules(checks, "warn"), inspection.RuleRepeatMonth) {
		t.Fatal("the 3rd visit of the month is not over the monthly limit")
	}
	// The same day as an existing one: >1 that day.
	a, in = w.in("fire", 5, "2026-03-12")
	_, checks, _ = w.issue(a, in)
	if !slices.Contains(rules(checks, "warn"), inspection.RuleRepeatDay) || !slices.Contains(rules(checks, "warn"), inspection.RuleRepeatMonth) {
		t.Fatalf("4th visit, same day: %v", rules(checks, "warn"))
	}
	if !slices.Contains(rules(checks, "warn"), inspection.RuleMultiAgency) {
		t.Fatalf("other agencies nearby must propose a joint inspection: %v", rules(checks, "warn"))
	}
}

func TestYearlyCapBlocksUnlessOverriddenOrTriggered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.db.ExecContext(ctx, "UPDATE enterprises SET grade = 'B' WHERE uscc = ?", w.uscc[6]); err != nil {
		t.Fatal(err)
	}
	w.mustIssue("market", 6, "2026-03-02")
	w.mustIssue("market", 6, "2026-05-02") // the agency's 2nd this year: at the cap of 2, allowed
	a, in := w.in("market", 6, "2026-08-03")
	_, checks, err := w.issue(a, in)
	if !fault.Is(err, fault.Invalid) || !slices.Contains(rules(checks, "block"), inspection.RuleCapReached) {
		t.Fatalf("3rd routine visit: %v %v", err, rules(checks, "block"))
	}
	in.OverrideReason = "群众反映强烈，经分管领导批准"
	i, _, err := w.issue(a, in)
	if err != nil || len(i.Checks) == 0 || !i.Checks[slices.IndexFunc(i.Checks, func(c inspection.Check) bool { return c.Rule == inspection.RuleCapReached })].Overridden {
		t.Fatalf("override: %v %+v", err, i.Checks)
	}
	a, in = w.in("market", 6, "2026-09-01")
	in.Kind, in.Trigger, in.TriggerRef = "triggered", "hotline_12345", "12345-0001"
	if _, checks, err := w.issue(a, in); err != nil {
		t.Fatalf("a triggered inspection is exempt from caps: %v %v", err, rules(checks, "block"))
	}
}

// Codes asked for at the same moment are checked one after the other: of
// forty requests with room for one under the cap, exactly one is issued.
// Forty is more than the pool's connections: the requests queued on the
// enterprise's row hold all of them, and every request still finishes.
func TestConcurrentRequestsCannotShareTheLastPlaceUnderACap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.db.ExecContext(ctx, "UPDATE enterprises SET grade = 'B' WHERE uscc = ?", w.uscc[7]); err != nil {
		t.Fatal(err)
	}
	w.mustIssue("market", 7, "2026-03-02") // one of the agency's two this year
	// Connections open first, so that the requests below run side by side
	// rather than one while the others wait to connect.
	var warm sync.WaitGroup
	for range 8 {
		warm.Go(func() { _, _ = w.db.ExecContext(ctx, "SELECT pg_sleep(0.05)") })
	}
	warm.Wait()
	const n = 40
	errs := make(chan error, n)
	for k := range n {
		a, in := w.in("market", 7, cst("2026-04-01 09:00").AddDate(0, 0, 5*k).Format(time.DateOnly))
		go func() {
			_, checks, err := w.issue(a, in)
			if err != nil && !slices.Contains(rules(checks, "block"), inspection.RuleCapReached) {
				err = fmt.Errorf("%w (not the cap: %v)", err, rules(checks, "block"))
			}
			errs <- err
		}()
	}
	issued := 0
	for range n {
		select {
		case err := <-errs:
			if err == nil {
				issued++
			} else if !fault.Is(err, fault.Invalid) || strings.Contains(err.Error(), "not the cap") {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("code requests stuck: waiting for connections none can give back?")
		}
	}
	if issued != 1 {
		t.Fatalf("%d codes issued with room for one under the cap", issued)
	}
}

func TestLowYieldBlocksTheFourthNoIssueVisit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	record := func(i inspection.Inspection) {
		t.Helper()
		if _, err := w.svc.Record(ctx, w.As("inspector.env1"), i.ID, inspection.RecordInput{Start: i.WindowFrom, End: i.WindowFrom.Add(time.Hour), Outcome: "no_issue"}); err != nil {
			t.Fatal(err)
		}
	}
	trig := func(day string) (identity.Actor, inspection.IssueInput) {
		a, in := w.in("environment", 7, day)
		in.Kind, in.Trigger, in.TriggerRef = "triggered", "referral", "移送-"+day // past the cap, exempt
		return a, in
	}
	for _, day := range []string{"2026-03-02", "2026-04-02"} {
		a, in := trig(day)
		i, _, err := w.issue(a, in)
		if err != nil {
			t.Fatal(err)
		}
		record(i)
	}
	a, in := trig("2026-05-04")
	i, checks, err := w.issue(a, in) // two no-issue visits so far: the third is allowed
	if err != nil || slices.Contains(rules(checks, "block"), inspection.RuleLowYield) {
		t.Fatalf("3rd visit: %v %v", err, rules(checks, "block"))
	}
	record(i)
	a, in = trig("2026-06-01")
	_, checks, err = w.issue(a, in)
	if !fault.Is(err, fault.Invalid) || !slices.Contains(rules(checks, "block"), inspection.RuleLowYield) {
		t.Fatalf("4th after three no-issue visits: %v %v", err, rules(checks, "block"))
	}
}

func TestAuthorityItemsCertificatesPlansAndNoDisturb(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, in := w.in("market", 8, "2026-03-03")
	in.Items = []string{"FIRE-001", "NOPE-999", "MKT-001"}
	_, checks, _ := w.issue(a, in)
	blocks := rules(checks, "block")
	if !slices.Contains(blocks, inspection.RuleUnauthorizedItem) || !slices.Contains(blocks, inspection.RuleUnlistedItem) {
		t.Fatalf("items: %v", blocks)
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE inspection_items SET status = 'suspended' WHERE code = 'MKT-003'"); err != nil {
		t.Fatal(err)
	}
	in.Items = []string{"MKT-003"}
	if _, checks, _ := w.issue(a, in); !slices.Contains(rules(checks, "block"), inspection.RuleUnpublishedItem) {
		t.Fatal("suspended item must block")
	}
	// inspector.fire2's certificate ran out on 2026-06-30.
	fa, fin := w.in("fire", 8, "2026-07-06")
	if _, checks, _ := w.issue(fa, fin); !slices.Contains(rules(checks, "block"), inspection.RuleUncertified) ||
		!slices.Contains(rules(checks, "block"), inspection.RuleTooFewInspectors) {
		t.Fatalf("expired certificate: %v", rules(checks, "block"))
	}
	fin.Mode = "offsite" // off-site needs no second inspector, but the expired one still may not be named
	fin.Inspectors = fin.Inspectors[:1]
	if _, checks, err := w.issue(fa, fin); err != nil {
		t.Fatalf("one certified inspector off-site: %v %v", err, rules(checks, "block"))
	}
	// Special inspections need an approved, filed plan.
	var marketPlan, firePlan int64
	_ = w.db.NewRaw("SELECT id FROM inspection_plans WHERE kind = 'special' AND filed_at IS NOT NULL").Scan(ctx, &marketPlan)
	_ = w.db.NewRaw("SELECT id FROM inspection_plans WHERE kind = 'special' AND filed_at IS NULL").Scan(ctx, &firePlan)
	a, in = w.in("market", 9, "2026-04-10")
	in.Kind, in.PlanID = "special", marketPlan
	if _, checks, err := w.issue(a, in); err != nil {
		t.Fatalf("special with its filed plan: %v %v", err, rules(checks, "block"))
	}
	fa, fin = w.in("fire", 9, "2026-04-10")
	fin.Kind, fin.PlanID = "special", firePlan
	if _, checks, _ := w.issue(fa, fin); !slices.Contains(rules(checks, "block"), inspection.RuleSpecialNoPlan) {
		t.Fatalf("unfiled plan: %v", rules(checks, "block"))
	}
	// No-disturb list: routine blocked, triggered allowed.
	if _, err := w.db.ExecContext(ctx, "UPDATE enterprises SET no_disturb = true, no_disturb_basis = 'A级纳税人' WHERE uscc = ?", w.uscc[10]); err != nil {
		t.Fatal(err)
	}
	a, in = w.in("market", 10, "2026-03-05")
	if _, checks, _ := w.issue(a, in); !slices.Contains(rules(checks, "block"), inspection.RuleNoDisturb) {
		t.Fatalf("no-disturb: %v", rules(checks, "block"))
	}
	in.Kind, in.Trigger, in.TriggerRef = "triggered", "media_exposure", "成都日报 2026-03-04"
	if _, checks, err := w.issue(a, in); err != nil {
		t.Fatalf("triggered on the no-disturb list: %v %v", err, rules(checks, "block"))
	}
}

func TestSplitAndOffsiteWarnings(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustIssue("market", 11, "2026-03-02")
	a, in := w.in("market", 11, "2026-03-05")
	in.Items = []string{"MKT-004"} // off-site capable, asked on-site
	_, checks, err := w.issue(a, in)
	warns := rules(checks, "warn")
	if err != nil || !slices.Contains(warns, inspection.RuleSplitItems) || !slices.Contains(warns, inspection.RuleOffsiteCapable) {
		t.Fatalf("warnings: %v %v", err, warns)
	}
}

func TestTheCodeLoop(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// ent1's enterprise is the first demo enterprise.
	i := w.mustIssue("market", 0, "2026-03-03")
	if len(i.Code) != 12 || len(i.Inspectors) != 2 {
		t.Fatalf("issued: %+v", i)
	}
	w.Clock.Set(cst("2026-03-03 09:30"))
	v, err := w.svc.Verify(ctx, i.Code)
	if err != nil || !v.Valid || len(v.Items) != 1 || v.Items[0].LegalBasis == "" || v.Inspectors[0].Name != "吴*亮" || v.Inspectors[0].Certificate == "" {
		t.Fatalf("verify: %v %+v", err, v)
	}
	altered := []byte(i.Code)
	altered[3] ^= 1
	for _, bad := range []string{string(altered), "AAAAAAAAAAAA", "x"} {
		if v, _ := w.svc.Verify(ctx, bad); v.Valid || v.Reason == "" {
			t.Fatalf("%q verified", bad)
		}
	}
	// Another enterprise cannot confirm it: refused, and the oversight office hears of it.
	if _, err := w.svc.Confirm(ctx, w.As("ent2"), i.Code); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("cross-enterprise confirm: %v", err)
	}
	var refused int
	_ = w.db.NewRaw("SELECT count(*) FROM inspection_events WHERE inspection_id = ? AND kind = 'confirm_refused'", i.ID).Scan(ctx, &refused)
	var analyze int
	_ = w.db.NewRaw("SELECT count(*) FROM outbox WHERE task_type = ? AND payload->>'event' LIKE 'confirm_refused%'", inspection.TaskAnalyze).Scan(ctx, &analyze)
	if refused != 1 || analyze != 1 {
		t.Fatalf("refusal recorded %d, analysis queued %d", refused, analyze)
	}
	if _, err := w.svc.Confirm(ctx, w.As("ent1"), i.Code); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	got, err := w.svc.Record(ctx, w.As("inspector.market1"), i.ID, inspection.RecordInput{
		Start: cst("2026-03-03 09:30"), End: cst("2026-03-03 11:00"), Outcome: "rectify", RectifyDays: 5,
		Findings: []map[string]any{{"item": "MKT-001", "result": "minor", "note": "健康证过期"}}})
	if err != nil || got.Status != inspection.Recorded || got.RectifyDue == nil || got.RectifyDue.Format("2006-01-02") != "2026-03-10" {
		t.Fatalf("record: %v %+v", err, got.RectifyDue)
	}
	if _, err := w.svc.Evaluate(ctx, w.As("ent1"), i.ID, 2, []string{"变相检查"}, "要求购买指定产品", true); err != nil {
		t.Fatal(err)
	}
	// The rating is for oversight, never for the inspecting agency.
	if _, err := w.svc.Evaluation(ctx, w.As("inspector.market1"), i.ID); !fault.Is(err, fault.NotFound) {
		t.Fatalf("inspector reads the rating: %v", err)
	}
	if ev, err := w.svc.Evaluation(ctx, w.As("oversight1"), i.ID); err != nil || ev.Rating != 2 {
		t.Fatalf("oversight reads the rating: %v", err)
	}
	// Expired and cancelled codes say so.
	w.Clock.Set(cst("2026-03-05 09:00"))
	if v, _ := w.svc.Verify(ctx, i.Code); v.Valid {
		t.Fatal("an expired code verified")
	}
	j := w.mustIssue("market", 1, "2026-03-06")
	if _, err := w.svc.Cancel(ctx, w.As("inspector.market2"), j.ID, "企业停产"); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.svc.Verify(ctx, j.Code); v.Valid {
		t.Fatal("a cancelled code verified")
	}
}

// A new code that repeats an old one is drawn again, and the attempt that
// lost the code leaves nothing behind.
func TestATakenCodeIsDrawnAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.svc.DrawCodesFrom(7, 7, 8)
	first := w.mustIssue("market", 0, "2026-03-03")
	second := w.mustIssue("fire", 1, "2026-03-04")
	if first.Code != inspection.SignCode(key, 7) || second.Code != inspection.SignCode(key, 8) {
		t.Fatalf("codes %s and %s, want those of 7 and 8", first.Code, second.Code)
	}
	var n struct{ Inspections, Inspectors, Events int }
	err := w.db.NewRaw(`SELECT (SELECT count(*) FROM inspections), (SELECT count(*) FROM inspection_inspectors x JOIN inspections i ON i.id = x.inspection_id WHERE i.code = ?),
		(SELECT count(*) FROM inspection_events e JOIN inspections i ON i.id = e.inspection_id WHERE i.code = ? AND e.kind = 'code_issued')`,
		second.Code, second.Code).Scan(ctx, &n.Inspections, &n.Inspectors, &n.Events)
	if err != nil || n.Inspections != 2 || n.Inspectors != 2 || n.Events != 1 || len(second.Inspectors) != 2 {
		t.Fatalf("after a redraw: %+v %v (inspectors read back %d)", n, err, len(second.Inspectors))
	}
}

func TestRecordWithoutScanIsAllowedButReported(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	i := w.mustIssue("market", 2, "2026-03-03")
	got, err := w.svc.Record(ctx, w.As("inspector.market1"), i.ID, inspection.RecordInput{Start: cst("2026-03-03 10:00"), End: cst("2026-03-03 11:00"), Outcome: "no_issue"})
	if err != nil || got.Record["no_code_scan"] != true {
		t.Fatalf("record without scan: %v %+v", err, got.Record)
	}
}

// The verify page is kept while the database's change notices arrive, and
// every change shows at the next scans: a cancellation through the
// service, a rename by another process (plain SQL), a status change after
// the listening connection was lost and came back.
func TestVerifyCacheShowsEveryChange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	run := func() (stop func()) {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = w.svc.RunVerifyCache(runCtx, w.URL) }()
		return func() { cancel(); <-done }
	}
	stop := run()
	defer func() { stop() }()
	pgtest.Eventually(t, "the cache listens", w.svc.VerifyCacheListening)

	i := w.mustIssue("market", 3, "2026-03-02")
	if v, err := w.svc.Verify(ctx, i.Code); err != nil || !v.Valid || !w.svc.VerifyCached(i.Code) {
		t.Fatalf("first scan: %v %+v, kept %v", err, v, w.svc.VerifyCached(i.Code))
	}
	inspector := w.As(teams["market"][0]).UserID
	if _, err := w.db.ExecContext(ctx, "UPDATE users SET display_name = '欧阳修' WHERE id = ?", inspector); err != nil {
		t.Fatal(err)
	}
	pgtest.Eventually(t, "the renamed inspector shows", func() bool {
		v, err := w.svc.Verify(ctx, i.Code)
		return err == nil && slices.ContainsFunc(v.Inspectors, func(p struct{ Name, Certificate string }) bool { return p.Name == "欧*修" })
	})
	if _, err := w.svc.Cancel(ctx, w.As(teams["market"][0]), i.ID, "企业停产"); err != nil {
		t.Fatal(err)
	}
	pgtest.Eventually(t, "the cancellation shows", func() bool {
		v, err := w.svc.Verify(ctx, i.Code)
		return err == nil && !v.Valid && strings.Contains(v.Reason, "取消")
	})

	// Without the listener nothing is kept; when it is back, changes made
	// meanwhile show.
	j := w.mustIssue("market", 4, "2026-03-02")
	if v, _ := w.svc.Verify(ctx, j.Code); !v.Valid || !w.svc.VerifyCached(j.Code) {
		t.Fatal("second code not kept")
	}
	stop()
	if w.svc.VerifyCacheListening() || w.svc.VerifyCached(j.Code) {
		t.Fatal("pages kept with nobody listening for changes")
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE inspections SET status = 'cancelled', cancel_reason = '撤回' WHERE id = ?", j.ID); err != nil {
		t.Fatal(err)
	}
	stop = run()
	pgtest.Eventually(t, "the cache listens again", w.svc.VerifyCacheListening)
	if v, _ := w.svc.Verify(ctx, j.Code); v.Valid {
		t.Fatal("a change made while nobody listened was missed")
	}
}

// The answer to a code request is built from what the transaction read
// and wrote, not read back: it must show what a later read shows.
func TestIssuedInspectionIsWhatAReadShows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, in := w.in("market", 3, "2026-03-05")
	in.From = in.From.Add(123456789 * time.Nanosecond) // finer than PostgreSQL keeps
	w.Clock.Advance(987654321 * time.Nanosecond)
	in.Kind, in.Trigger, in.TriggerRef = "triggered", "hotline_12345", "12345-0001"
	issued, _, err := w.issue(a, in)
	if err != nil {
		t.Fatal(err)
	}
	read, err := w.svc.Get(ctx, a, issued.ID)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Inspection            inspection.Inspection
		Agency                identity.Agency
		Enterprise            identity.Enterprise
		Inspectors            []identity.User
		WindowFrom, CreatedAt string
	}
	viewOf := func(i inspection.Inspection) string {
		v := view{Inspection: i, Agency: *i.Agency, Enterprise: *i.Enterprise, Inspectors: i.Inspectors,
			WindowFrom: i.WindowFrom.UTC().Format(time.RFC3339Nano), CreatedAt: i.CreatedAt.UTC().Format(time.RFC3339Nano)}
		v.Inspection.Agency, v.Inspection.Enterprise, v.Inspection.Inspectors = nil, nil, nil
		// Instants compared above; the zone a time carries is the reader's.
		v.Inspection.WindowFrom, v.Inspection.WindowTo = v.Inspection.WindowFrom.UTC(), v.Inspection.WindowTo.UTC()
		v.Inspection.CreatedAt, v.Inspection.UpdatedAt = v.Inspection.CreatedAt.UTC(), v.Inspection.UpdatedAt.UTC()
		for _, t := range []*time.Time{&v.Agency.CreatedAt, &v.Agency.UpdatedAt, &v.Enterprise.CreatedAt, &v.Enterprise.UpdatedAt} {
			*t = t.UTC()
		}
		for k := range v.Inspectors {
			u := &v.Inspectors[k]
			u.PasswordHash = "" // read back with the user; never shown
			u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := viewOf(issued), viewOf(read); got != want {
		t.Fatalf("issued:\n%s\nread back:\n%s", got, want)
	}
}
