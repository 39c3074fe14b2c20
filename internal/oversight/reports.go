package oversight

import (
	"context"
	"fmt"
	"time"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/sla"
)

// InspectionRow is one group of the inspections report.
type InspectionRow struct {
	Key          string  `bun:"key"`
	Name         string  `bun:"name"`
	Inspections  int     `bun:"inspections"`
	Onsite       int     `bun:"onsite"`
	Joint        int     `bun:"joint"`
	RepeatVisits int     `bun:"repeat_visits"`
	CapOverrides int     `bun:"cap_overrides"`
	NoCodeScan   int     `bun:"no_code_scan"`
	Rated        int     `bun:"rated"`
	AvgRating    float64 `bun:"avg_rating"`
}

// Shares returns the on-site and joint-inspection shares.
func (r InspectionRow) Shares() (onsite, joint float64) {
	if r.Inspections == 0 {
		return 0, 0
	}
	return float64(r.Onsite) / float64(r.Inspections), float64(r.Joint) / float64(r.Inspections)
}

var inspectionGroups = map[string][2]string{
	"agency": {"i.agency_id::text", "a.name"},
	"item":   {"it.code", "it.name"},
	"town":   {"coalesce(e.town_code, '')", "coalesce(t.name, '未登记')"},
}

// InspectionReport counts the inspections that started in [from, to).
//
// A year is over a million inspections, so the report reads them from a
// covering index on window_from (no table rows), and everything it joins is
// bounded first: ratings by the period's id range, repeat-visit alerts by
// that range and by when they were last seen (an alert naming an inspection
// was last seen no earlier than that inspection was created).
func (s *Service) InspectionReport(ctx context.Context, a identity.Actor, from, to time.Time, groupBy string) ([]InspectionRow, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return nil, err
	}
	g, ok := inspectionGroups[groupBy]
	if !ok {
		return nil, fault.InvalidField("group_by", "agency, item or town")
	}
	var span struct {
		Lo    int64      `bun:"lo"`
		Hi    int64      `bun:"hi"`
		Since *time.Time `bun:"since"`
	}
	if err := s.db.NewRaw(`SELECT coalesce(min(i.id + 0), 0) AS lo, coalesce(max(i.id + 0), -1) AS hi, min(i.created_at) AS since
		FROM inspections i WHERE i.window_from >= ? AND i.window_from < ? AND i.status <> 'cancelled'`, from, to).Scan(ctx, &span); err != nil {
		return nil, err
	}
	if span.Since == nil {
		return []InspectionRow{}, nil
	}
	joins := ""
	switch groupBy {
	case "item":
		joins = "JOIN inspection_items it ON it.code = ANY(i.item_codes)"
	case "town":
		joins = "JOIN enterprises e ON e.id = i.enterprise_id LEFT JOIN towns t ON t.code = e.town_code"
	}
	q := fmt.Sprintf(`
		WITH rv AS (
		  SELECT DISTINCT x.id FROM alerts r, unnest(r.inspection_ids) AS x(id)
		  WHERE r.rule LIKE 'repeat_visit_%%' AND r.last_seen >= ? AND x.id BETWEEN %[4]d AND %[5]d)
		SELECT %[1]s AS key, %[2]s AS name,
		  count(*) AS inspections,
		  count(*) FILTER (WHERE i.mode = 'onsite') AS onsite,
		  count(*) FILTER (WHERE cardinality(i.joint_agency_ids) > 0) AS joint,
		  count(rv.id) AS repeat_visits,
		  count(*) FILTER (WHERE i.override_reason IS NOT NULL
		    AND EXISTS (SELECT 1 FROM inspections c WHERE c.id = i.id AND c.checks @> '[{"rule":"cap_reached","overridden":true}]')) AS cap_overrides,
		  count(*) FILTER (WHERE i.status = 'recorded' AND i.confirmed_at IS NULL) AS no_code_scan,
		  count(ev.rating) AS rated,
		  coalesce(avg(ev.rating), 0) AS avg_rating
		FROM inspections i
		JOIN agencies a ON a.id = i.agency_id
		LEFT JOIN inspection_evaluations ev ON ev.inspection_id = i.id AND ev.inspection_id BETWEEN %[4]d AND %[5]d
		LEFT JOIN rv ON rv.id = i.id
		%[3]s
		WHERE i.window_from >= ? AND i.window_from < ? AND i.status <> 'cancelled'
		GROUP BY 1, 2 ORDER BY inspections DESC, name`, g[0], g[1], joins, span.Lo, span.Hi)
	var rows []InspectionRow
	err := s.db.NewRaw(q, *span.Since, from, to).Scan(ctx, &rows)
	return rows, err
}

// RequestReport is the SLA report (三率) for the office: the same figures an
// agency lead sees for its own agency, across all agencies.
func (s *Service) RequestReport(ctx context.Context, a identity.Actor, slaSvc *sla.Service, from, to time.Time, groupBy string) ([]sla.ReportRow, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return nil, err
	}
	return slaSvc.Report(ctx, a, from, to, groupBy)
}

// Burden is everything one enterprise went through: its inspections and
// requests on one timeline, visits per agency per year against the caps,
// and its open alerts.
type Burden struct {
	Enterprise identity.Enterprise
	Timeline   []BurdenEvent
	Visits     []AgencyYear
	Alerts     []Alert
}

// BurdenEvent is one line of the enterprise timeline.
type BurdenEvent struct {
	At     time.Time `bun:"at"`
	Kind   string    `bun:"kind"` // inspection or request
	ID     int64     `bun:"id"`
	Agency string    `bun:"agency"`
	Title  string    `bun:"title"`
	Status string    `bun:"status"`
}

// AgencyYear is one agency's visits to the enterprise in a year.
type AgencyYear struct {
	Year     int    `bun:"year"`
	AgencyID int64  `bun:"agency_id"`
	Agency   string `bun:"agency"`
	Visits   int    `bun:"visits"`
	Routine  int    `bun:"routine"`
	Cap      *int   `bun:"cap"`
}

// EnterpriseBurden builds the burden view (oversight only).
func (s *Service) EnterpriseBurden(ctx context.Context, a identity.Actor, uscc identity.USCC) (Burden, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return Burden{}, err
	}
	var b Burden
	if err := s.db.NewSelect().Model(&b.Enterprise).Where("uscc = ?", uscc).Scan(ctx); err != nil {
		return Burden{}, fault.New(fault.NotFound, "no enterprise with this credit code")
	}
	id := b.Enterprise.ID
	// Each side takes its newest 500 first, from its index, so an enterprise
	// with thousands of requests or visits costs no more than one with few.
	// Requests go by id, which is handed out in filing order.
	if err := s.db.NewRaw(`
		SELECT * FROM (
		  (SELECT i.window_from AS at, 'inspection' AS kind, i.id, a.name AS agency, array_to_string(i.item_codes, ', ') AS title, i.status
		   FROM inspections i JOIN agencies a ON a.id = i.agency_id WHERE i.enterprise_id = ? ORDER BY i.window_from DESC LIMIT 500)
		  UNION ALL
		  (SELECT r.created_at, 'request', r.id, coalesce(a.name, ''), r.ticket_no || ' ' || r.title, r.status
		   FROM requests r LEFT JOIN agencies a ON a.id = r.agency_id WHERE r.enterprise_id = ? ORDER BY r.id DESC LIMIT 500)
		) x ORDER BY at DESC LIMIT 500`, id, id).Scan(ctx, &b.Timeline); err != nil {
		return Burden{}, err
	}
	if err := s.db.NewRaw(`
		SELECT y.year, y.agency_id, a.name AS agency, y.visits, y.routine,
		  (SELECT min(c.max_per_year) FROM inspection_caps c WHERE c.active AND c.scope = 'agency' AND c.item_code IS NULL
		     AND (c.agency_id IS NULL OR c.agency_id = y.agency_id) AND (c.grade IS NULL OR c.grade = ?)) AS cap
		FROM (SELECT extract(year FROM i.window_from AT TIME ZONE 'Asia/Shanghai')::int AS year, i.agency_id,
		        count(*) AS visits, count(*) FILTER (WHERE i.kind <> 'triggered') AS routine
		      FROM inspections i WHERE i.enterprise_id = ? AND i.status <> 'cancelled' GROUP BY 1, 2) y
		JOIN agencies a ON a.id = y.agency_id ORDER BY y.year DESC, y.visits DESC`, b.Enterprise.Grade, id).Scan(ctx, &b.Visits); err != nil {
		return Burden{}, err
	}
	if err := s.db.NewSelect().Model(&b.Alerts).Where("enterprise_id = ? AND status IN ('open', 'acknowledged')", id).
		OrderExpr("id DESC").Limit(200).Scan(ctx); err != nil {
		return Burden{}, err
	}
	return b, nil
}
