package routing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/routing"
)

// One routing task places the whole backlog of fresh requests, each with
// its own explanation, offer task and notice, as fairly as one by one.
func TestRouteTakesTheBacklogInOneBatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var ids []int64
	for i := range 9 {
		cat := "security_protection"
		if i%3 == 0 {
			cat = "litigation_service"
		}
		ids = append(ids, w.file("ent1", cat).ID)
	}
	if err := w.engine.Route(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}
	loads := map[string]int{}
	for _, id := range ids {
		r, err := casework.Lookup(ctx, w.db, id, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != casework.Assigned || r.Assignee == nil || r.Agency == nil {
			t.Fatalf("request %d: %s, not assigned by the batch", id, r.Status)
		}
		wantKind := "police"
		if r.Category == "litigation_service" {
			wantKind = "court"
		}
		if string(r.Agency.Kind) != wantKind {
			t.Errorf("request %d (%s) went to %s", id, r.Category, r.Agency.Kind)
		}
		loads[r.Assignee.Username]++
		var explained, tasks, notices int
		_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'assigned' AND data ? 'explanation'", id, bun.Safe("?")).Scan(ctx, &explained)
		_ = w.db.NewRaw("SELECT count(*) FROM outbox WHERE task_key = ?", "offer:"+itoa(id)+":"+itoa(int64(r.Version))).Scan(ctx, &tasks)
		_ = w.db.NewRaw("SELECT count(*) FROM notifications WHERE request_id = ? AND user_id = ? AND kind = 'request.assigned'", id, r.Assignee.ID).Scan(ctx, &notices)
		if explained != 1 || tasks != 1 || notices != 1 {
			t.Errorf("request %d: %d explanations, %d offer tasks, %d notices; want one each", id, explained, tasks, notices)
		}
	}
	// Six police requests over the two police officers, three court ones over
	// the two judges: least loaded first means 3/3 and 2/1.
	if loads["police1"] != 3 || loads["police2"] != 3 || loads["court1"]+loads["court2"] != 3 ||
		max(loads["court1"], loads["court2"]) != 2 {
		t.Errorf("loads %v, want an even spread", loads)
	}
	// The other requests' own tasks come later and change nothing.
	for _, id := range ids {
		if err := w.engine.Route(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	var events int
	_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id IN (?) AND kind = 'assigned'", bun.List(ids)).Scan(ctx, &events)
	if events != len(ids) {
		t.Errorf("%d assigned events for %d requests", events, len(ids))
	}
}

// Officers another transaction is assigning right now are passed over as
// busy; a request whose eligible officers are all busy is left for its own
// task rather than pooled.
func TestRoutePassesOverBusyOfficers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	court := w.file("ent1", "litigation_service")
	police := w.file("ent1", "security_protection")

	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM officer_profiles p JOIN users u ON u.id = p.user_id
		JOIN agencies a ON a.id = u.agency_id WHERE a.kind = 'court' FOR UPDATE OF p`); err != nil {
		t.Fatal(err)
	}
	if err := w.engine.Route(ctx, police.ID); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback()

	p, _ := casework.Lookup(ctx, w.db, police.ID, false)
	c, _ := casework.Lookup(ctx, w.db, court.ID, false)
	var pool *string
	_ = w.db.NewRaw("SELECT pool_reason FROM requests WHERE id = ?", court.ID).Scan(ctx, &pool)
	if p.Status != casework.Assigned || c.Status != casework.Submitted || c.AgencyID != nil || pool != nil {
		t.Fatalf("police %s; court %s agency %v pool %v: want police assigned, court left waiting", p.Status, c.Status, c.AgencyID, pool)
	}
	if err := w.engine.Route(ctx, court.ID); err != nil {
		t.Fatal(err)
	}
	c, _ = casework.Lookup(ctx, w.db, court.ID, false)
	if c.Status != casework.Assigned || !slices.Contains([]string{"court1", "court2"}, w.assignee(*c)) {
		t.Fatalf("court request %s with %q once the judges were free", c.Status, w.assignee(*c))
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }

// A large agency's explanation names the chosen officer and those nearest
// in rank, and counts the rest by reason.
func TestLargeAgencyExplanationCountsTheRest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addPolice(40, "id % 4 <> 0") // every fourth off duty
	r := w.file("ent1", "security_protection")
	if err := w.engine.Route(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := w.db.NewRaw("SELECT data->'explanation' FROM request_events WHERE request_id = ? AND kind = 'assigned'", r.ID).Scan(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	var ex routing.Explanation
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	chosen, named := 0, len(ex.Candidates)
	for _, c := range ex.Candidates {
		if c.Chosen {
			chosen++
		}
	}
	omitted := 0
	for _, n := range ex.Omitted {
		omitted += n
	}
	if chosen != 1 || named > 11 || named+omitted != 42 || ex.Omitted["off duty"] == 0 || ex.Omitted["ranked behind"] == 0 {
		t.Fatalf("named %d (chosen %d), omitted %v: want the chosen one among at most 11 named and the other 42 counted", named, chosen, ex.Omitted)
	}
}

// The tasks of requests a batch already placed finish without a query; a
// request declined since is routed again from its new task.
func TestSettledTasksSkipTheDatabaseButNotANewerNeed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var ids []int64
	for range 3 {
		ids = append(ids, w.file("ent1", "security_protection").ID)
	}
	task := func(id int64) routing.AssignPayload {
		t.Helper()
		var raw []byte
		if err := w.db.NewRaw("SELECT payload FROM outbox WHERE task_type = ? AND (payload->>'request_id')::bigint = ? ORDER BY id DESC LIMIT 1",
			routing.TaskAssign, id).Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		var p routing.AssignPayload
		if err := json.Unmarshal(raw, &p); err != nil || p.Version == 0 {
			t.Fatalf("payload %s: %v", raw, err)
		}
		return p
	}
	if err := w.engine.HandleAssign(ctx, task(ids[0])); err != nil {
		t.Fatal(err)
	}
	// A cancelled context fails any query: these return nil only unread.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for _, id := range ids[1:] {
		if err := w.engine.HandleAssign(gone, task(id)); err != nil {
			t.Fatalf("request %d, placed by the batch: %v", id, err)
		}
	}
	r, err := casework.Lookup(ctx, w.db, ids[1], false)
	if err != nil || r.Status != casework.Assigned {
		t.Fatalf("request %d: %v %v", ids[1], r.Status, err)
	}
	first, v := r.Assignee.Username, r.Version
	if _, err := w.cases.Act(ctx, w.As(first), r.ID, casework.ActInput{Action: casework.ActDecline, Reason: "回避", Version: &v}); err != nil {
		t.Fatal(err)
	}
	again := task(r.ID)
	if err := w.engine.HandleAssign(gone, again); err == nil {
		t.Fatal("the task after a decline was taken as settled")
	}
	if err := w.engine.HandleAssign(ctx, again); err != nil {
		t.Fatal(err)
	}
	if r, _ = casework.Lookup(ctx, w.db, ids[1], false); r.Status != casework.Assigned || r.Assignee.Username == first {
		t.Fatalf("after the decline: %s %+v", r.Status, r.Assignee)
	}
}
