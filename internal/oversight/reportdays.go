package oversight

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg"
)

// The inspection report over a year reads a million inspections or more;
// their figures are therefore also kept per day (inspection_report_days,
// migration 0020). Database triggers mark a day out of date whenever
// something the report counts changes; RefreshReportDays recomputes the
// marked days. The report reads stored rows for the days that are not
// marked and counts the rest live, with the same SQL (visits, daySums), so the
// figures are exact at every moment, only faster once refreshed.

// reportColumns are the columns of a day row that the report sums.
const reportColumns = `d.agency_id, d.town_code, d.item_code, d.inspections, d.onsite, d.joint,
	d.repeat_visits, d.cap_overrides, d.no_code_scan, d.rated, d.rating_sum`

// span is a time range [from, to).
type span struct{ from, to time.Time }

// visits is a CTE named visits: the inspections that started within the
// given ranges, one row each with what the report counts about it.
//
// The ranges are written into the SQL as literal bounds (they are times,
// formatted here, never user text) rather than joined from a list: with
// literals the planner sees how few inspections a day holds and reads
// ratings by index instead of scanning the table. The enterprise's town is
// looked up per inspection for the same reason (a join would hash all
// 200,000 enterprises for a day's few thousand visits).
//
// A visit counts as a repeat visit when a repeat-visit alert names it. The
// inspection row is read for its pre-check results only when it has an
// override reason; everything else comes from the covering window index.
func visits(ranges []span) string {
	var where []string
	for _, r := range ranges {
		if r.from.Before(r.to) {
			where = append(where, fmt.Sprintf("(i.window_from >= '%s' AND i.window_from < '%s')",
				r.from.UTC().Format(time.RFC3339Nano), r.to.UTC().Format(time.RFC3339Nano)))
		}
	}
	if len(where) == 0 {
		where = []string{"false"}
	}
	return `visits AS (
	  SELECT (i.window_from AT TIME ZONE 'Asia/Shanghai')::date AS day, i.agency_id,
	    coalesce((SELECT e.town_code FROM enterprises e WHERE e.id = i.enterprise_id), '') AS town_code,
	    i.item_codes,
	    i.mode = 'onsite' AS onsite,
	    cardinality(i.joint_agency_ids) > 0 AS joint,
	    EXISTS (SELECT 1 FROM alerts r WHERE r.inspection_ids @> ARRAY[i.id] AND r.rule LIKE 'repeat_visit_%') AS repeat_visit,
	    i.override_reason IS NOT NULL
	      AND EXISTS (SELECT 1 FROM inspections c WHERE c.id = i.id AND c.checks @> '[{"rule":"cap_reached","overridden":true}]') AS cap_override,
	    i.status = 'recorded' AND i.confirmed_at IS NULL AS no_code_scan,
	    ev.rating
	  FROM inspections i
	  LEFT JOIN inspection_evaluations ev ON ev.inspection_id = i.id
	  WHERE i.status <> 'cancelled' AND (` + strings.Join(where, " OR ") + `))`
}

// daySums sums the visits CTE per day, agency, town and item: with items,
// one row per item an inspection covers; without, one per inspection under
// the empty item code.
func daySums(items bool) string {
	item, from := "''", "visits v"
	if items {
		item, from = "x.code", "visits v CROSS JOIN LATERAL unnest(v.item_codes) AS x (code)"
	}
	return `SELECT v.day, v.agency_id, v.town_code, ` + item + ` AS item_code,
	  count(*) AS inspections,
	  count(*) FILTER (WHERE v.onsite) AS onsite,
	  count(*) FILTER (WHERE v.joint) AS joint,
	  count(*) FILTER (WHERE v.repeat_visit) AS repeat_visits,
	  count(*) FILTER (WHERE v.cap_override) AS cap_overrides,
	  count(*) FILTER (WHERE v.no_code_scan) AS no_code_scan,
	  count(v.rating) AS rated,
	  coalesce(sum(v.rating), 0) AS rating_sum
	FROM ` + from + `
	GROUP BY 1, 2, 3, 4`
}

// dayRanges turns days into time ranges, neighbouring days merged.
func dayRanges(days []time.Time) []span {
	var out []span
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1].to.Equal(d) {
			out[n-1].to = d.AddDate(0, 0, 1)
			continue
		}
		out = append(out, span{d, d.AddDate(0, 0, 1)})
	}
	return out
}

// dateOf is t's date in Shanghai, as SQL reads a date.
func dateOf(t time.Time) string { return t.In(clock.Shanghai).Format(time.DateOnly) }

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
	err := pg.RunInSnapshot(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		days = nil // a retried attempt starts over
		var locked bool
		if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", refreshLock).Scan(ctx, &locked); err != nil || !locked {
			return err
		}
		var stale []time.Time
		if err := tx.NewRaw(`SELECT day::timestamp AT TIME ZONE 'Asia/Shanghai' FROM inspection_report_stale
			GROUP BY day ORDER BY day LIMIT ?`, refreshBatch).Scan(ctx, &stale); err != nil {
			return err
		}
		if len(stale) == 0 {
			return nil
		}
		days = make([]string, len(stale))
		for i, d := range stale {
			days[i] = dateOf(d)
		}
		arr := pgdialect.Array(days)
		if _, err := tx.NewRaw(`DELETE FROM inspection_report_days WHERE day = ANY (?::date[])`, arr).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`
			INSERT INTO inspection_report_days (day, agency_id, town_code, item_code, inspections, onsite, joint,
			  repeat_visits, cap_overrides, no_code_scan, rated, rating_sum)
			WITH ` + visits(dayRanges(stale)) + `
			` + daySums(false) + ` UNION ALL ` + daySums(true)).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw(`DELETE FROM inspection_report_stale WHERE day = ANY (?::date[])`, arr).Exec(ctx)
		return err
	})
	return len(days), err
}
