package routing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/storage"
	"greenchannel/internal/routing"
	"greenchannel/internal/testkit"
)

var (
	ctx   = context.Background()
	quiet = testkit.Quiet
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
)

type world struct {
	*testkit.World
	t      *testing.T
	db     *bun.DB
	cases  *casework.Service
	ids    *identity.Service
	engine *routing.Engine
}

func newWorld(t *testing.T) *world {
	t.Helper()
	k := testkit.New(t, t0)
	files, _ := storage.NewLocal(t.TempDir())
	w := &world{World: k, t: t, db: k.DB, ids: k.Identity, cases: casework.NewService(k.DB, k.Clock, quiet, files, casework.DefaultLimits)}
	w.engine = routing.NewEngine(k.DB, k.Clock, quiet, w.cases, nil)
	w.cases.Observe(w.engine)
	return w
}

func (w *world) file(ent, category string) casework.Request {
	w.t.Helper()
	r, _, err := w.cases.Create(ctx, w.As(ent), casework.NewRequest{Category: category, Title: "诉求 " + category, Description: "请协助"})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) route(r casework.Request) (*routing.Explanation, casework.Request) {
	w.t.Helper()
	ex, err := w.engine.Assign(ctx, r.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	got, err := casework.Lookup(ctx, w.db, r.ID, false)
	if err != nil {
		w.t.Fatal(err)
	}
	return ex, *got
}

// addPolice adds n police officers cop1…copN with the skill
// security_protection and capacity 10; onDuty is SQL over their user id.
func (w *world) addPolice(n int, onDuty string) {
	w.t.Helper()
	if _, err := w.db.ExecContext(ctx, `
		WITH u AS (
		  INSERT INTO users (username, display_name, role, password_hash, agency_id)
		  SELECT 'cop' || g, '警官' || g, 'officer', 'x', (SELECT id FROM agencies WHERE code = 'police') FROM generate_series(1, ?) g
		  RETURNING id)
		INSERT INTO officer_profiles (user_id, skills, capacity, on_duty) SELECT id, '{security_protection}', 10, `+onDuty+` FROM u`, n); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) assignee(r casework.Request) string {
	if r.Assignee == nil {
		return ""
	}
	return r.Assignee.Username
}

func TestRulesPickTheRightOrgan(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for cat, want := range map[string]string{
		"economic_crime_report": "police", "litigation_service": "court", "legal_aid": "justice",
		"procuratorial_supervision": "procuratorate",
	} {
		_, r := w.route(w.file("ent1", cat))
		if r.Agency == nil || r.Agency.Code != want {
			t.Errorf("%s went to %+v, want %s", cat, r.Agency, want)
		}
	}
	// A category with no rule of its own falls to the catch-all.
	if _, err := w.db.ExecContext(ctx, `INSERT INTO categories (code, name_zh, name_en, agency_kind) VALUES ('other', '其他', 'Other', 'justice')`); err != nil {
		t.Fatal(err)
	}
	ex, r := w.route(w.file("ent1", "other"))
	if r.Agency == nil || r.Agency.Code != "justice" || ex.RequiredSkill != "legal_aid" || r.Assignee == nil {
		t.Fatalf("catch-all: agency %+v skill %s assignee %v", r.Agency, ex.RequiredSkill, r.Assignee)
	}
}

func TestFairnessLeastLoadedThenLeastRecent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var got []string
	for range 4 {
		_, r := w.route(w.file("ent1", "litigation_service"))
		got = append(got, w.assignee(r))
	}
	// Equal loads alternate; nobody gets two in a row while the other is idler.
	if got[0] == got[1] || got[2] == got[3] || got[0] != got[2] {
		t.Fatalf("assignments %v are not balanced", got)
	}
}

func TestExplanationNamesEveryCandidate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// court2 is off duty; court1 is recused for ent1.
	if _, err := w.ids.SetDuty(ctx, w.As("court2"), false); err != nil {
		t.Fatal(err)
	}
	if err := w.engine.Recuse(ctx, w.As("admin"), w.As("court1").UserID, w.As("ent1").EnterpriseID, "亲属任职"); err != nil {
		t.Fatal(err)
	}
	ex, r := w.route(w.file("ent1", "ip_protection"))
	if r.Status != casework.Submitted || ex.Outcome != "pooled" {
		t.Fatalf("want pooled, got %s %+v", r.Status, ex)
	}
	why := map[string]string{}
	for _, c := range ex.Candidates {
		why[c.Username] = c.Skipped
	}
	if why["court1"] != "recused for this enterprise" || why["court2"] != "off duty" {
		t.Fatalf("explanation: %+v", why)
	}
	// The agency lead and oversight read it on the timeline; the enterprise does not.
	for who, want := range map[string]bool{"lead.court": true, "oversight1": true, "ent1": false} {
		events, err := w.cases.Timeline(ctx, w.As(who), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		has := false
		for _, e := range events {
			_, ok := e.Data["explanation"]
			has = has || ok
		}
		if has != want {
			t.Errorf("%s sees the explanation: %v", who, has)
		}
	}
}

func TestPoolDrainsWhenAnOfficerComesOnDuty(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, u := range []string{"court1", "court2"} {
		if _, err := w.ids.SetDuty(ctx, w.As(u), false); err != nil {
			t.Fatal(err)
		}
	}
	_, r := w.route(w.file("ent1", "litigation_service"))
	if r.Status != casework.Submitted || r.Agency == nil || r.Agency.Code != "court" {
		t.Fatalf("want it in the court pool: %s %+v", r.Status, r.Agency)
	}
	var notices int
	_ = w.db.NewRaw("SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'request.pooled'", w.As("lead.court").UserID).Scan(ctx, &notices)
	if notices != 1 {
		t.Fatalf("lead notified %d times", notices)
	}
	if _, err := w.ids.SetDuty(ctx, w.As("court2"), true); err != nil {
		t.Fatal(err)
	}
	// What the officer_changed task does:
	if err := w.engine.OfficerChanged(ctx, w.As("court2").UserID); err != nil {
		t.Fatal(err)
	}
	got, _ := casework.Lookup(ctx, w.db, r.ID, false)
	if got.Status != casework.Assigned || w.assignee(*got) != "court2" {
		t.Fatalf("after court2 came on duty: %s %s", got.Status, w.assignee(*got))
	}
}

func TestMissedOffersGoToTheNextThenToTheLead(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, r := w.route(w.file("ent1", "litigation_service"))
	first := w.assignee(r)
	if err := w.engine.OfferExpired(ctx, routing.OfferPayload{RequestID: r.ID, Version: r.Version}); err != nil {
		t.Fatal(err)
	}
	got, _ := casework.Lookup(ctx, w.db, r.ID, false)
	if got.Status != casework.Assigned || w.assignee(*got) == first {
		t.Fatalf("after one miss: %s %s (first %s)", got.Status, w.assignee(*got), first)
	}
	// A stale expiry for the first offer does nothing now.
	if err := w.engine.OfferExpired(ctx, routing.OfferPayload{RequestID: r.ID, Version: r.Version}); err != nil {
		t.Fatal(err)
	}
	again, _ := casework.Lookup(ctx, w.db, r.ID, false)
	if again.Version != got.Version {
		t.Fatal("a stale expiry changed the request")
	}
	if err := w.engine.OfferExpired(ctx, routing.OfferPayload{RequestID: r.ID, Version: got.Version}); err != nil {
		t.Fatal(err)
	}
	pooled, _ := casework.Lookup(ctx, w.db, r.ID, false)
	var reason string
	_ = w.db.NewRaw("SELECT coalesce(pool_reason, '') FROM requests WHERE id = ?", r.ID).Scan(ctx, &reason)
	if pooled.Status != casework.Submitted || pooled.AssigneeID != nil || reason != routing.PoolOfferMissed {
		t.Fatalf("after two misses: %s %v %q", pooled.Status, pooled.AssigneeID, reason)
	}
	// The pool for missed offers waits for the lead: draining does not touch it.
	if n, _ := w.engine.Drain(ctx, *pooled.AgencyID); n != 0 {
		t.Fatalf("drain placed %d requests the lead should place", n)
	}
	// The lead assigns by hand; a late routing task then has no effect.
	v := pooled.Version
	if _, err := w.cases.Act(ctx, w.As("lead.court"), r.ID, casework.ActInput{Action: casework.ActAssign, AssigneeID: w.As("court1").UserID, Version: &v}); err != nil {
		t.Fatal(err)
	}
	if ex, err := w.engine.Assign(ctx, r.ID); err != nil || ex != nil {
		t.Fatalf("engine after manual assignment: %+v %v", ex, err)
	}
}

func TestOffDutyReroutesOnlyUnacceptedWork(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, a := w.route(w.file("ent1", "security_protection"))
	_, b := w.route(w.file("ent2", "security_protection"))
	if w.assignee(a) == w.assignee(b) {
		t.Fatalf("fixture: both went to %s", w.assignee(a))
	}
	// The officer of b accepts it; then the officer of a and b goes off duty in turn.
	v := b.Version
	if _, err := w.cases.Act(ctx, w.As(w.assignee(b)), b.ID, casework.ActInput{Action: casework.ActAccept, Version: &v}); err != nil {
		t.Fatal(err)
	}
	off := w.assignee(a)
	if _, err := w.ids.SetDuty(ctx, w.As(off), false); err != nil {
		t.Fatal(err)
	}
	if err := w.engine.OfficerChanged(ctx, w.As(off).UserID); err != nil {
		t.Fatal(err)
	}
	got, _ := casework.Lookup(ctx, w.db, a.ID, false)
	if got.Status != casework.Assigned || w.assignee(*got) == off {
		t.Fatalf("unaccepted request stayed with the off-duty officer: %s %s", got.Status, w.assignee(*got))
	}
	offB := w.assignee(b)
	if _, err := w.ids.SetDuty(ctx, w.As(offB), false); err != nil {
		t.Fatal(err)
	}
	_ = w.engine.OfficerChanged(ctx, w.As(offB).UserID)
	kept, _ := casework.Lookup(ctx, w.db, b.ID, false)
	if kept.Status != casework.InProgress || w.assignee(*kept) != offB {
		t.Fatalf("accepted request moved: %s %s", kept.Status, w.assignee(*kept))
	}
}

func TestDeclineGoesToSomeoneElse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, r := w.route(w.file("ent1", "litigation_service"))
	first := w.assignee(r)
	v := r.Version
	if _, err := w.cases.Act(ctx, w.As(first), r.ID, casework.ActInput{Action: casework.ActDecline, Reason: "回避", Version: &v}); err != nil {
		t.Fatal(err)
	}
	_, got := w.route(r)
	if got.Status != casework.Assigned || w.assignee(got) == first || w.assignee(got) == "" {
		t.Fatalf("after decline: %s %s", got.Status, w.assignee(got))
	}
}

func TestTwiceRunTaskHasOneEffect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("ent1", "legal_aid")
	w.route(r)
	if ex, err := w.engine.Assign(ctx, r.ID); err != nil || ex != nil {
		t.Fatalf("second run: %+v %v", ex, err)
	}
	var n int
	_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'assigned'", r.ID).Scan(ctx, &n)
	if n != 1 {
		t.Fatalf("%d assigned events", n)
	}
}

// Many workers route a burst at once, half of them in batches: nobody ends
// over capacity and no request is assigned twice.
func TestConcurrentWorkersRespectCapacity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Twenty police officers with capacity 10 each: 200 slots for 400 requests of weight 1.
	w.addPolice(20, "true")
	for _, u := range []string{"police1", "police2"} {
		_, _ = w.ids.SetDuty(ctx, w.As(u), false)
	}
	const n = 400
	ids := make(chan int64, n)
	for range n {
		ids <- w.file("ent1", "security_protection").ID
	}
	close(ids)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				var err error
				if i%2 == 0 {
					err = w.engine.Route(ctx, id)
				} else {
					_, err = w.engine.Assign(ctx, id)
				}
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var over, twice, assigned int
	_ = w.db.NewRaw(`SELECT count(*) FROM (SELECT q.assignee_id, count(*) load, p.capacity FROM requests q
		JOIN officer_profiles p ON p.user_id = q.assignee_id WHERE q.status = 'assigned' GROUP BY 1, 3) x WHERE load > capacity`).Scan(ctx, &over)
	_ = w.db.NewRaw(`SELECT count(*) FROM (SELECT request_id FROM request_events WHERE kind = 'assigned' GROUP BY 1 HAVING count(*) > 1) x`).Scan(ctx, &twice)
	_ = w.db.NewRaw(`SELECT count(*) FROM requests WHERE status = 'assigned'`).Scan(ctx, &assigned)
	if over != 0 || twice != 0 || assigned != 200 {
		t.Fatalf("over capacity: %d officers, assigned twice: %d requests, assigned: %d (want 200)", over, twice, assigned)
	}
}

func TestCatchAllCannotBeRemoved(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rules, err := w.engine.Rules(ctx, w.As("admin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.CatchAll() {
			off := false
			if _, err := w.engine.SaveRule(ctx, w.As("admin"), r.ID, routing.RuleInput{Active: &off}); err == nil {
				t.Fatal("switching off the only catch-all must be refused")
			}
			return
		}
	}
	t.Fatal("seeds have no catch-all")
}

var _ = fmt.Sprint
