package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

func appendN(t *testing.T, db *bun.DB, n int) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	for i := range n {
		err := pg.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
			return audit.Append(ctx, tx, at.Add(time.Duration(i)*time.Minute), audit.Entry{
				Actor: "user:1", Action: "user.update", TargetType: "user", TargetID: "7",
				Detail: map[string]any{"before": map[string]any{"role": "officer"}, "after": map[string]any{"role": "agency_lead"}, "备注": "晋升"},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestIntactChainVerifies(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	appendN(t, db, 5)
	res, err := audit.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 5 || res.BrokenAt != 0 {
		t.Fatalf("intact chain: %+v", res)
	}
}

func TestTableRefusesUpdateAndDelete(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	appendN(t, db, 1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "UPDATE audit_log SET actor = 'x'"); err == nil {
		t.Fatal("UPDATE on audit_log must fail")
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM audit_log"); err == nil {
		t.Fatal("DELETE on audit_log must fail")
	}
}

// Someone with superuser rights switches the trigger off and edits a row:
// the chain still gives them away, at the exact entry.
func TestTamperedEntryIsFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql, reason string
		brokenAt          int64
	}{
		{"edited", "UPDATE audit_log SET detail = '{\"after\":\"admin\"}' WHERE id = 3", "edited", 3},
		{"deleted", "DELETE FROM audit_log WHERE id = 2", "removed", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			appendN(t, db, 5)
			if _, err := db.ExecContext(ctx, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; "+tc.sql); err != nil {
				t.Fatal(err)
			}
			res, err := audit.Verify(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if res.BrokenAt != tc.brokenAt || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("want first broken link at %d, got %+v", tc.brokenAt, res)
			}
		})
	}
}
