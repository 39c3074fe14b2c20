package identity_test

import (
	"context"
	"testing"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/testkit"
)

func TestColleaguesAreTheCallersOwnAgency(t *testing.T) {
	t.Parallel()
	w := testkit.New(t, testkit.CST("2026-03-02 10:00"))
	ctx := context.Background()
	lead := w.As("lead.court")
	if _, err := w.Identity.SetDuty(ctx, w.As("court1"), true); err != nil {
		t.Fatal(err)
	}
	list, err := w.Identity.Colleagues(ctx, lead)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]identity.Colleague{}
	for _, c := range list {
		byName[c.DisplayName] = c
		if c.Role == identity.RoleEnterprise || c.Role == identity.RoleInspector {
			t.Fatalf("court colleagues include %+v", c)
		}
	}
	found := false
	for _, c := range list {
		if c.ID == w.As("court1").UserID {
			found = c.OnDuty
		}
	}
	if !found || len(list) < 3 {
		t.Fatalf("court1 on duty among the court's staff: %+v", list)
	}
	insp, err := w.Identity.Colleagues(ctx, w.As("inspector.market1"))
	if err != nil || len(insp) < 2 || insp[0].Certificate == "" {
		t.Fatalf("market inspectors with certificates: %+v %v", insp, err)
	}
	if _, err := w.Identity.Colleagues(ctx, w.As("ent1")); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("an enterprise has no colleagues: %v", err)
	}
}

func TestEnterpriseNamesOfGivenIDs(t *testing.T) {
	t.Parallel()
	w := testkit.New(t, testkit.CST("2026-03-02 10:00"))
	ent := w.As("ent1").EnterpriseID
	names, err := w.Identity.EnterpriseNames(context.Background(), []int64{ent})
	if err != nil || names[ent] != "成都新津天府智造科技有限公司" || len(names) != 1 {
		t.Fatalf("names: %v %v", names, err)
	}
	if names, err := w.Identity.EnterpriseNames(context.Background(), nil); err != nil || len(names) != 0 {
		t.Fatalf("no ids: %v %v", names, err)
	}
}
