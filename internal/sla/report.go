package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// ReportRow is one group of the SLA report (三率).
type ReportRow struct {
	Key                int64   `bun:"key"`
	Name               string  `bun:"name"`
	Requests           int     `bun:"requests"`
	Dispatched         int     `bun:"dispatched"`
	AcknowledgedOnTime int     `bun:"acknowledged_on_time"`
	Evaluated          int     `bun:"evaluated"`
	ConfirmedResolved  int     `bun:"confirmed_resolved"`
	Satisfied          int     `bun:"satisfied"`
	Breaches           int     `bun:"breaches"`
	AckP50             float64 `bun:"ack_p50"`
	AckP90             float64 `bun:"ack_p90"`
}

// Rates returns the three rates (三率) as fractions; a rate with an empty
// denominator is 0.
func (r ReportRow) Rates() (response, resolution, satisfaction float64) {
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return div(r.AcknowledgedOnTime, r.Dispatched), div(r.ConfirmedResolved, r.Evaluated), div(r.Satisfied, r.Evaluated)
}

// groupings of the report: the key expression and the name expression.
var groupings = map[string][2]string{
	"agency":   {"r.agency_id", "coalesce((SELECT name FROM agencies WHERE id = g.key), '未分配')"},
	"category": {"0", "g.gname"},
	"officer":  {"r.assignee_id", "coalesce((SELECT display_name FROM users WHERE id = g.key), '未分配')"},
}

// Report computes the SLA figures of requests filed in [from, to). An
// agency lead sees its own agency; the oversight office sees all.
func (s *Service) Report(ctx context.Context, a identity.Actor, from, to time.Time, groupBy string) ([]ReportRow, error) {
	g, ok := groupings[groupBy]
	if !ok {
		return nil, fault.InvalidField("group_by", "group_by is agency, category or officer")
	}
	if !to.After(from) {
		return nil, fault.InvalidField("to", "to must be after from")
	}
	scope := ""
	args := []any{from, to}
	switch a.Role {
	case identity.RoleOversight:
	case identity.RoleLead:
		scope = " AND r.agency_id = ?"
		args = append(args, a.AgencyID)
	default:
		return nil, fault.New(fault.Forbidden, "只有机关负责人和政法委可以查看时效统计 / only agency leads and the oversight office read SLA figures")
	}
	key, name := g[0], g[1]
	if groupBy == "category" {
		key = "0"
	}
	// Request ids grow with created_at, so the requests filed in [from, to)
	// span a narrow id range. Bounding the requests and every joined table
	// by that range (it drops no match: each joined row belongs to a
	// request in the range) lets the planner read only that slice of each
	// covering index, all in request id order, instead of the whole table,
	// and visit no table rows at all.
	var rows []ReportRow
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		rows, err = report(ctx, tx, key, name, groupBy, scope, args)
		return err
	})
	return rows, err
}

func report(ctx context.Context, tx bun.Tx, key, name, groupBy, scope string, args []any) ([]ReportRow, error) {
	// Each joined side comes from its index in request id order: merge
	// joins stream them without building hash tables, and in one process
	// (parallel workers cost more than they save on a few cores). The
	// hash aggregation below stays in memory.
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'; SET LOCAL enable_hashjoin = off; SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
		return nil, err
	}
	var span struct {
		Lo int64 `bun:"lo"`
		Hi int64 `bun:"hi"`
	}
	if err := tx.NewRaw(`SELECT coalesce(min(r.id + 0), 0) AS lo, coalesce(max(r.id + 0), -1) AS hi
		FROM requests r WHERE r.created_at >= ? AND r.created_at < ?`+scope, args...).Scan(ctx, &span); err != nil {
		return nil, err
	}
	// The rows of the period are counted in one hash aggregation by group
	// and acknowledge time, never sorted: a percentile_cont over the
	// requests made the planner sort all of them (a year is 230,000) by
	// group and then each group by time, most of the report's time. Every
	// count adds up across the times of a group, and the percentiles are
	// read off the group's few hundred distinct times with their counts,
	// exactly as percentile_cont computes them: with the n times in order,
	// position p·(n−1) (from 0), the times at its floor and ceiling
	// interpolated. A summary table kept beside the requests would be
	// faster still, but it would have to follow every status, clock and
	// rating change, and a rollup by day cannot give exact percentiles.
	// Grouped first, named after: the name lookups run once per group.
	q := fmt.Sprintf(`
		WITH h AS (
		  SELECT %[1]s AS key, %[4]s AS gname,
		    CASE WHEN ack.state = 'stopped' THEN ack.elapsed_minutes END AS ack_minutes,
		    count(*) AS requests,
		    count(*) FILTER (WHERE r.agency_id IS NOT NULL) AS dispatched,
		    count(*) FILTER (WHERE ack.outcome = 'met') AS acknowledged_on_time,
		    count(fb.request_id) AS evaluated,
		    count(fb.request_id) FILTER (WHERE r.status = 'closed') AS confirmed_resolved,
		    count(fb.request_id) FILTER (WHERE fb.rating >= 4) AS satisfied,
		    coalesce(sum(b.n), 0) AS breaches
		  FROM requests r
		  LEFT JOIN sla_clocks ack ON ack.request_id = r.id AND ack.kind = 'acknowledge' AND ack.request_id BETWEEN %[5]d AND %[6]d
		  LEFT JOIN request_feedback fb ON fb.request_id = r.id AND fb.request_id BETWEEN %[5]d AND %[6]d
		  LEFT JOIN (SELECT x.request_id, count(*) AS n FROM sla_breaches x
		             WHERE x.level = 1 AND x.request_id BETWEEN %[5]d AND %[6]d GROUP BY 1) b ON b.request_id = r.id
		  WHERE r.id BETWEEN %[5]d AND %[6]d AND r.created_at >= ? AND r.created_at < ? AND r.status <> 'withdrawn'%[3]s
		  GROUP BY 1, 2, 3),
		g AS (
		  SELECT key, gname, sum(requests) AS requests, sum(dispatched) AS dispatched,
		    sum(acknowledged_on_time) AS acknowledged_on_time, sum(evaluated) AS evaluated,
		    sum(confirmed_resolved) AS confirmed_resolved, sum(satisfied) AS satisfied, sum(breaches) AS breaches
		  FROM h GROUP BY key, gname),
		-- Each stopped acknowledge time: how many of its group's are at or
		-- below it (upto), and the group's last position (n − 1). Float8, as
		-- percentile_cont computes the positions.
		c AS (
		  SELECT key, gname, ack_minutes::float8 AS m,
		    sum(requests) OVER (PARTITION BY key, gname ORDER BY ack_minutes)::float8 AS upto,
		    sum(requests) OVER (PARTITION BY key, gname)::float8 - 1 AS last
		  FROM h WHERE ack_minutes IS NOT NULL),
		-- The time at position i is the first whose upto exceeds i.
		p AS (
		  SELECT key, gname,
		    min(m) FILTER (WHERE upto > floor(0.5 * last)) AS p50_lo, min(m) FILTER (WHERE upto > ceil(0.5 * last)) AS p50_hi,
		    0.5 * last - floor(0.5 * last) AS p50_frac,
		    min(m) FILTER (WHERE upto > floor(0.9 * last)) AS p90_lo, min(m) FILTER (WHERE upto > ceil(0.9 * last)) AS p90_hi,
		    0.9 * last - floor(0.9 * last) AS p90_frac
		  FROM c GROUP BY key, gname, last)
		SELECT g.key, %[2]s AS name, g.requests, g.dispatched, g.acknowledged_on_time, g.evaluated, g.confirmed_resolved,
		  g.satisfied, g.breaches,
		  coalesce(p.p50_lo + p.p50_frac * (p.p50_hi - p.p50_lo), 0) AS ack_p50,
		  coalesce(p.p90_lo + p.p90_frac * (p.p90_hi - p.p90_lo), 0) AS ack_p90
		FROM g LEFT JOIN p ON p.key IS NOT DISTINCT FROM g.key AND p.gname IS NOT DISTINCT FROM g.gname -- 未分配 has a NULL key
		ORDER BY g.requests DESC, name`, key, name, scope, groupName[groupBy], span.Lo, span.Hi)
	var rows []ReportRow
	err := tx.NewRaw(q, args...).Scan(ctx, &rows)
	return rows, err
}

// groupName is what a group's name is computed from inside the grouping
// (the category itself; the agency and officer names come from their ids).
var groupName = map[string]string{"agency": "NULL::text", "category": "r.category", "officer": "NULL::text"}
