package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
)

// runOversightBench times the product's oversight functions on the bench
// database: alert evaluation of newly issued inspections
// (oversight.Service.AnalyzeInspection), the yearly inspection report and
// the enterprise burden view; the SQL of one call each is written as a
// pgbench script for the baseline.
func runOversightBench(args []string) error {
	fs := flag.NewFlagSet("oversight", flag.ExitOnError)
	db := dbFlag(fs)
	n := fs.Int("analyze", 40, "new inspections to evaluate")
	reports := fs.Int("reports", 5, "runs of each report")
	burdens := fs.Int("burdens", 30, "enterprises whose burden view is built")
	year := fs.Int("year", time.Now().Year()-1, "calendar year of the report")
	dir := fs.String("dir", ".", "where to write the captured pgbench scripts")
	what := fs.String("what", "analyze,report,burden", "which parts to run")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	p, err := openProduct(ctx, *db)
	if err != nil {
		return err
	}
	defer p.db.Close()
	parts := splitList(*what)
	office, err := p.office(ctx)
	if err != nil {
		return err
	}

	if slices.Contains(parts, "analyze") {
		// The newest codes, as the analysis job sees them right after issue,
		// one per enterprise and none of the enterprises D's pgbench baseline
		// piled thousands of codes on (it replays one captured issue).
		var ids []int64
		if err := p.db.NewRaw(`SELECT id FROM (
			  SELECT DISTINCT ON (enterprise_id) id, count(*) OVER (PARTITION BY enterprise_id) AS codes FROM inspections
			  WHERE status = 'code_issued' AND id > (SELECT max(id) - 100000 FROM inspections) ORDER BY enterprise_id, id DESC) x
			WHERE codes < 100 ORDER BY id DESC LIMIT ?`, *n).Scan(ctx, &ids); err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("no issued inspections")
		}
		sqls, err := p.capture.record(func() error {
			return p.oversight.AnalyzeInspection(ctx, inspection.AnalyzePayload{InspectionID: ids[0], Event: "issued"})
		})
		if err != nil {
			return err
		}
		if err := pgbenchScript(filepath.Join(*dir, "analyze.sql"), sqls, !hasBegin(sqls)); err != nil {
			return err
		}
		d, err := timeRuns(len(ids), func(i int) error {
			return p.oversight.AnalyzeInspection(ctx, inspection.AnalyzePayload{InspectionID: ids[i], Event: "issued"})
		})
		if err != nil {
			return err
		}
		s := summarize(d)
		fmt.Printf("  E.analyze: AnalyzeInspection of %d newly issued inspections (%d statements each): %s\n", len(ids), len(sqls), s)
		if err := emit(*results, record{"E.analyze.p50", ms(s.P50), "ms"}, record{"E.analyze.p99", ms(s.P99), "ms"},
			record{"E.analyze.statements", float64(len(sqls)), ""}); err != nil {
			return err
		}
	}

	if slices.Contains(parts, "report") {
		// The scheduler refreshes the report's day rows every minute; after
		// a bulk load every day is marked, so refresh them all first (the
		// report would be exact without it, only slower).
		start := time.Now()
		days, err := p.oversight.RefreshReportDays(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("  E.report_days: refreshed the stored figures of %d days in %s\n", days, time.Since(start).Round(time.Millisecond))
		from := time.Date(*year, 1, 1, 0, 0, 0, 0, shanghai())
		to := from.AddDate(1, 0, 0)
		for _, group := range []string{"agency", "item", "town"} {
			var total int
			sqls, err := p.capture.record(func() error {
				rows, err := p.oversight.InspectionReport(ctx, office, from, to, group)
				for _, r := range rows {
					total += r.Inspections
				}
				return err
			})
			if err != nil {
				return err
			}
			if err := pgbenchScript(filepath.Join(*dir, "inspection-report-"+group+".sql"), sqls, false); err != nil {
				return err
			}
			d, err := timeRuns(*reports, func(int) error { _, err := p.oversight.InspectionReport(ctx, office, from, to, group); return err })
			if err != nil {
				return err
			}
			fmt.Printf("  E.report.%s: InspectionReport %d by %s (%d inspection rows): median %s (runs: %s)\n",
				group, *year, group, total, fmtMs(median(d)), durs(d))
			if err := emitRuns(*results, "E.report."+group, d); err != nil {
				return err
			}
		}
	}

	if slices.Contains(parts, "burden") {
		// Random enterprises of the loaded set, and the one most inspected
		// and the one with the most requests (the worst cases).
		var usccs []string
		if err := p.db.NewRaw(`SELECT uscc FROM enterprises TABLESAMPLE BERNOULLI (5) WHERE id > 1000 LIMIT ?`, *burdens).Scan(ctx, &usccs); err != nil {
			return err
		}
		var most, busiest string
		if err := p.db.NewRaw(`SELECT e.uscc FROM enterprises e JOIN (SELECT enterprise_id, count(*) n FROM inspections GROUP BY 1 ORDER BY 2 DESC LIMIT 1) x
			ON x.enterprise_id = e.id`).Scan(ctx, &most); err != nil {
			return err
		}
		if err := p.db.NewRaw(`SELECT e.uscc FROM enterprises e JOIN (SELECT enterprise_id, count(*) n FROM requests GROUP BY 1 ORDER BY 2 DESC LIMIT 1) x
			ON x.enterprise_id = e.id`).Scan(ctx, &busiest); err != nil {
			return err
		}
		burden := func(u string) error {
			_, err := p.oversight.EnterpriseBurden(ctx, office, identity.USCC(strings.TrimSpace(u)))
			return err
		}
		for _, u := range usccs[:min(3, len(usccs))] { // warm the caches a sample would find warm
			if err := burden(u); err != nil {
				return err
			}
		}
		sqls, err := p.capture.record(func() error { return burden(usccs[0]) })
		if err != nil {
			return err
		}
		if err := pgbenchScript(filepath.Join(*dir, "burden.sql"), sqls, false); err != nil {
			return err
		}
		d, err := timeRuns(len(usccs), func(i int) error { return burden(usccs[i]) })
		if err != nil {
			return err
		}
		s := summarize(d)
		fmt.Printf("  E.burden: EnterpriseBurden of %d random enterprises: %s\n", len(usccs), s)
		if err := emit(*results, record{"E.burden.p50", ms(s.P50), "ms"}, record{"E.burden.p99", ms(s.P99), "ms"}); err != nil {
			return err
		}
		for _, w := range []struct{ key, uscc, what string }{{"most_inspected", most, "the most inspected enterprise"},
			{"most_requests", busiest, "the enterprise with the most requests"}} {
			sqls, err := p.capture.record(func() error { return burden(w.uscc) })
			if err != nil {
				return err
			}
			if err := pgbenchScript(filepath.Join(*dir, "burden-"+w.key+".sql"), sqls, false); err != nil {
				return err
			}
			d, err := timeRuns(*reports, func(int) error { return burden(w.uscc) })
			if err != nil {
				return err
			}
			fmt.Printf("  E.burden.%s: EnterpriseBurden of %s: median %s (runs: %s)\n", w.key, w.what, fmtMs(median(d)), durs(d))
			if err := emitRuns(*results, "E.burden."+w.key, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasBegin(sqls []string) bool {
	return slices.ContainsFunc(sqls, func(q string) bool { return strings.EqualFold(strings.TrimSpace(q), "BEGIN") })
}

func shanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
