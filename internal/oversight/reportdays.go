package oversight

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The inspection report over a year reads a million inspections or more;
// their figures are therefore also kept per day (inspection_report_days,
// migration 0020). Database triggers mark a day out of date whenever
// something the report counts changes; RefreshReportDays recomputes the
// marked days. The report reads stored rows for the days that are not
// marked and counts the rest live, with the same SQL (daySums), so the
// figures are exact at every moment, only faster once refreshed.

// reportColumns are the columns of a day row that the report sums.
const reportColumns = `d.agency_id, d.town_code, d.item_code, d.inspections, d.onsite, d.joint,
	d.repeat_visits, d.cap_overrides, d.no_code_scan, d.rated, d.rating_sum`

// daySums counts the inspections that started within the rows of a
// "ranges" (lo, hi) CTE the caller supplies, per day, agency, town and
// item: with items, one row per item an inspection covers; without, one
// per inspection under item code ”.
//
// Each range is read on its own from the window index (OFFSET 0 keeps the
// planner from folding the ranges into one join it would estimate as the
// whole table: it cannot know they are a few days wide).
//
// A visit counts as a repeat visit when a repeat-visit alert names it
// (looked up among its enterprise's alerts). The inspection row is read
// for its pre-check results only when it has an override reason; the rest
// comes from the covering window index.
func daySums(items bool) string {
	item, unnest := "''", ""
	if items {
		item, unnest = "x.code", "CROSS JOIN LATERAL unnest(i.item_codes) AS x (code)"
	}
	return `SELECT (i.window_from AT TIME ZONE 'Asia/Shanghai')::date AS day, i.agency_id,
	  coalesce(e.town_code, '') AS town_code, ` + item + ` AS item_code,
	  count(*) AS inspections,
	  count(*) FILTER (WHERE i.mode = 'onsite') AS onsite,
	  count(*) FILTER (WHERE cardinality(i.joint_agency_ids) > 0) AS joint,
	  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM alerts r
	    WHERE r.enterprise_id = i.enterprise_id AND r.rule LIKE 'repeat_visit_%' AND i.id = ANY (r.inspection_ids))) AS repeat_visits,
	  count(*) FILTER (WHERE i.override_reason IS NOT NULL
	    AND EXISTS (SELECT 1 FROM inspections c WHERE c.id = i.id AND c.checks @> '[{"rule":"cap_reached","overridden":true}]')) AS cap_overrides,
	  count(*) FILTER (WHERE i.status = 'recorded' AND i.confirmed_at IS NULL) AS no_code_scan,
	  count(ev.rating) AS rated,
	  coalesce(sum(ev.rating), 0) AS rating_sum
	FROM ranges g
	CROSS JOIN LATERAL (
	  SELECT i.id, i.enterprise_id, i.agency_id, i.window_from, i.mode, i.joint_agency_ids, i.override_reason,
	    i.status, i.confirmed_at, i.item_codes
	  FROM inspections i WHERE i.window_from >= g.lo AND i.window_from < g.hi AND i.status <> 'cancelled'
	  OFFSET 0) i
	JOIN enterprises e ON e.id = i.enterprise_id
	LEFT JOIN inspection_evaluations ev ON ev.inspection_id = i.id
	` + unnest + `
	GROUP BY 1, 2, 3, 4`
}

// refreshLock keeps two refreshes from working on the same days.
const refreshLock = 0x6f76727074 // "ovrpt"

// refreshBatch is how many days one refresh transaction recomputes: small
// enough to keep each transaction short.
const refreshBatch = 31

// RefreshReportDays recomputes the stored figures of the days marked out
// of date, a batch of days per transaction, until none is left or ctx
// ends, and returns how many days it recomputed.
func (s *Service) RefreshReportDays(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := s.refreshReportBatch(ctx)
		total += n
		if err != nil || n < refreshBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// refreshReportBatch recomputes up to refreshBatch marked days in one
// REPEATABLE READ transaction: the figures and the marks it deletes come
// from one snapshot, so a change committed after it leaves its mark behind
// for the next refresh.
func (s *Service) refreshReportBatch(ctx context.Context) (int, error) {
	var days []string
	err := s.db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(ctx context.Context, tx bun.Tx) error {
		var locked bool
		if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", refreshLock).Scan(ctx, &locked); err != nil || !locked {
			return err
		}
		if err := tx.NewRaw(`SELECT day::text FROM inspection_report_stale GROUP BY day ORDER BY day LIMIT ?`, refreshBatch).Scan(ctx, &days); err != nil {
			return err
		}
		if len(days) == 0 {
			return nil
		}
		arr := pgdialect.Array(days)
		if _, err := tx.NewRaw(`DELETE FROM inspection_report_days WHERE day = ANY (?::date[])`, arr).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`
			INSERT INTO inspection_report_days (day, agency_id, town_code, item_code, inspections, onsite, joint,
			  repeat_visits, cap_overrides, no_code_scan, rated, rating_sum)
			WITH ranges AS (
			  SELECT d::timestamp AT TIME ZONE 'Asia/Shanghai' AS lo, (d + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' AS hi
			  FROM unnest(?::date[]) AS d)
			`+daySums(false)+` UNION ALL `+daySums(true), arr).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw(`DELETE FROM inspection_report_stale WHERE day = ANY (?::date[])`, arr).Exec(ctx)
		return err
	})
	return len(days), err
}
