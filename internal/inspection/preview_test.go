package inspection_test

import (
	"slices"
	"testing"

	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/fault"
)

// The preview shows what Issue would find, and issues nothing.
func TestPrecheckPreviewsWithoutIssuing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustIssue("market", 5, "2026-03-09")
	w.mustIssue("environment", 5, "2026-03-11")
	a, in := w.in("emergency", 5, "2026-03-12")
	checks, err := w.svc.Precheck(ctx, a, in)
	if err != nil || !slices.Contains(rules(checks, "warn"), inspection.RuleRepeatWeek) {
		t.Fatalf("preview of a 3rd visit in a week: %v %+v", err, checks)
	}
	var n int
	if err := w.db.NewRaw("SELECT count(*) FROM inspections").Scan(ctx, &n); err != nil || n != 2 {
		t.Fatalf("the preview issued something: %d %v", n, err)
	}
	if _, err := w.svc.Precheck(ctx, w.As("ent1"), in); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("an enterprise previews: %v", err)
	}
	in.USCC = "91510118MA6827NEN1"
	if _, err := w.svc.Precheck(ctx, a, in); !fault.Is(err, fault.Invalid) {
		t.Fatalf("a wrong credit code: %v", err)
	}
}
