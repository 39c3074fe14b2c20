package sla_test

import (
	"fmt"
	"testing"

	"greenchannel/internal/casework"
)

// A policy that reassigns on escalation takes the request from the officer
// who let it lapse a working day past the deadline and hands it back to
// routing within the agency, with that officer excluded; a policy without
// the flag leaves it where it is.
func TestEscalationReassignsWhenThePolicySaysSo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	kept := w.file("2026-03-02 09:00", "legal_aid", "justice1")
	moved := w.file("2026-03-02 09:00", "security_protection", "police1")
	var movedPolicy, keptPolicy int64
	_ = w.db.NewRaw("SELECT policy_id FROM sla_clocks WHERE request_id = ? LIMIT 1", moved.ID).Scan(ctx, &movedPolicy)
	_ = w.db.NewRaw("SELECT policy_id FROM sla_clocks WHERE request_id = ? LIMIT 1", kept.ID).Scan(ctx, &keptPolicy)
	if movedPolicy == keptPolicy {
		t.Fatal("the two requests share a policy; the test needs one with the flag and one without")
	}
	if _, err := w.db.ExecContext(ctx, "UPDATE sla_policies SET reassign_on_escalation = (id = ?)", movedPolicy); err != nil {
		t.Fatal(err)
	}

	w.Clock.Set(cst("2026-03-02 18:00")) // both acknowledge deadlines pass
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	w.Clock.Set(cst("2026-03-04 09:00")) // a working day later
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}

	m, _ := casework.Lookup(ctx, w.db, moved.ID, false)
	k, _ := casework.Lookup(ctx, w.db, kept.ID, false)
	if m.Status != casework.Submitted || m.AssigneeID != nil || m.AgencyID == nil || *m.AgencyID != w.As("police1").AgencyID {
		t.Fatalf("flagged policy: %s, assignee %v, agency %v; want back with the police, unassigned", m.Status, m.AssigneeID, m.AgencyID)
	}
	if k.Status != casework.Assigned || k.AssigneeID == nil || *k.AssigneeID != w.As("justice1").UserID {
		t.Fatalf("policy without the flag: %s, assignee %v; want it left with justice1", k.Status, k.AssigneeID)
	}
	var declined, unassigned, routeTasks int
	_ = w.db.NewRaw("SELECT count(*) FROM request_declines WHERE request_id = ? AND user_id = ?", moved.ID, w.As("police1").UserID).Scan(ctx, &declined)
	_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'unassigned'", moved.ID).Scan(ctx, &unassigned)
	_ = w.db.NewRaw("SELECT count(*) FROM outbox WHERE task_key = ?", "route:"+itoa(m.ID)+":"+itoa(int64(m.Version))).Scan(ctx, &routeTasks)
	if declined != 1 || unassigned != 1 || routeTasks != 1 {
		t.Fatalf("declines %d, unassigned events %d, routing tasks %d; want one each", declined, unassigned, routeTasks)
	}
	// The sweep runs again: the escalation is done once.
	if _, err := w.sweep(); err != nil {
		t.Fatal(err)
	}
	_ = w.db.NewRaw("SELECT count(*) FROM request_events WHERE request_id = ? AND kind = 'unassigned'", moved.ID).Scan(ctx, &unassigned)
	if unassigned != 1 {
		t.Fatalf("%d unassigned events after a second sweep", unassigned)
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
