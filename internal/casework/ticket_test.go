package casework_test

import (
	"testing"

	"greenchannel/internal/platform/fault"
)

func TestRequestsFoundByTicketNumber(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.file("court1")
	got, err := w.svc.ByTicket(ctx, w.As("oversight1"), " "+r.TicketNo+" ")
	if err != nil || got.ID != r.ID {
		t.Fatalf("oversight finds %s: %+v %v", r.TicketNo, got.ID, err)
	}
	if _, err := w.svc.ByTicket(ctx, w.As("ent2"), r.TicketNo); !fault.Is(err, fault.NotFound) {
		t.Fatalf("another enterprise finds it: %v", err)
	}
	if _, err := w.svc.ByTicket(ctx, w.As("oversight1"), "GC-1999-000001"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown ticket: %v", err)
	}
}

// Ticket numbers have at least six digits and keep every digit past them:
// the millionth filing of a year does not repeat an earlier number.
func TestTicketNumbersPastTheMillionth(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	first := w.file("court1") // creates the year's sequence
	if _, err := w.db.ExecContext(ctx, "SELECT setval('ticket_seq_2026', 999999)"); err != nil {
		t.Fatal(err)
	}
	if r := w.file("court1"); r.TicketNo != "GC-2026-1000000" || first.TicketNo != "GC-2026-000001" {
		t.Fatalf("tickets %q then %q", first.TicketNo, r.TicketNo)
	}
}
