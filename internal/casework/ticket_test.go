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
