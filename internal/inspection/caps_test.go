package inspection_test

import (
	"testing"

	"greenchannel/internal/platform/fault"
)

func TestCapsListedForTheAdministrator(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	caps, err := w.svc.Caps(ctx, w.As("admin"))
	if err != nil || len(caps) == 0 || caps[0].MaxPerYear <= 0 {
		t.Fatalf("caps: %+v %v", caps, err)
	}
	if _, err := w.svc.Caps(ctx, w.As("inspector.market1")); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("an inspector lists caps: %v", err)
	}
}
