package oversight

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
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

// inspectionGroups names each grouping's key and name over the summed day
// rows s, and the join that supplies the name.
var inspectionGroups = map[string][3]string{
	"agency": {"s.agency_id::text", "a.name", "JOIN agencies a ON a.id = s.agency_id"},
	"item":   {"s.item_code", "it.name", "JOIN inspection_items it ON it.code = s.item_code"},
	"town":   {"s.town_code", "coalesce(t.name, '未登记')", "LEFT JOIN towns t ON t.code = s.town_code"},
}

// InspectionReport counts the inspections that started in [from, to).
//
// Whole days come from the stored day rows (reportdays.go); the partial
// days at either end and the days marked out of date are counted from the
// inspections themselves. Both are read in one REPEATABLE READ snapshot,
// so every day is counted from exactly one of them.
func (s *Service) InspectionReport(ctx context.Context, a identity.Actor, from, to time.Time, groupBy string) ([]InspectionRow, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return nil, err
	}
	g, ok := inspectionGroups[groupBy]
	if !ok {
		return nil, fault.InvalidField("group_by", "agency, item or town")
	}
	if !to.After(from) {
		return nil, fault.InvalidField("to", "to must be after from")
	}
	// Whole days [first, last): from the first day that starts at or
	// after from up to the day to falls in.
	first, last := day(from), day(to)
	if first.Before(from) {
		first = first.AddDate(0, 0, 1)
	}
	live := []span{{from, to}}
	if first.Before(last) {
		live = []span{{from, first}, {last, to}}
	} else {
		first, last = to, to // no whole day
	}
	rows := []InspectionRow{}
	err := pg.RunInSnapshot(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var stale []time.Time
		if err := tx.NewRaw(`SELECT DISTINCT day::timestamp AT TIME ZONE 'Asia/Shanghai' FROM inspection_report_stale
			WHERE day >= ?::date AND day < ?::date`, dateOf(first), dateOf(last)).Scan(ctx, &stale); err != nil {
			return err
		}
		ranges := slices.Clone(live)
		staleDays := make([]string, len(stale))
		for i, d := range stale {
			staleDays[i] = dateOf(d)
			ranges = append(ranges, span{d, d.AddDate(0, 0, 1)})
		}
		items := groupBy == "item"
		q := fmt.Sprintf(`
			WITH %[5]s,
			sums AS (
			  SELECT %[4]s FROM inspection_report_days d
			  WHERE d.day >= ?::date AND d.day < ?::date AND (d.item_code <> '') = ? AND d.day <> ALL (?::date[])
			  UNION ALL
			  SELECT %[4]s FROM (%[6]s) d)
			SELECT %[1]s AS key, %[2]s AS name,
			  sum(s.inspections) AS inspections, sum(s.onsite) AS onsite, sum(s.joint) AS joint,
			  sum(s.repeat_visits) AS repeat_visits, sum(s.cap_overrides) AS cap_overrides, sum(s.no_code_scan) AS no_code_scan,
			  sum(s.rated) AS rated, coalesce(sum(s.rating_sum)::float8 / nullif(sum(s.rated), 0), 0) AS avg_rating
			FROM sums s %[3]s
			GROUP BY 1, 2 ORDER BY inspections DESC, name`, g[0], g[1], g[2], reportColumns, visits(ranges), daySums(items))
		return tx.NewRaw(q, dateOf(first), dateOf(last), items, pgdialect.Array(staleDays)).Scan(ctx, &rows)
	})
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
