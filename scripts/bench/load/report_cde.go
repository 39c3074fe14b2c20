package main

import (
	"flag"
	"fmt"
	"math"
)

// runReportCDE prints the tables of sections C, D and E (issues 6–8).
func runReportCDE(args []string) error {
	fs := flag.NewFlagSet("report-cde", flag.ExitOnError)
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	r, err := readResults(*results)
	if err != nil {
		return err
	}
	med := r.median
	pgb := func(key string) (string, float64) {
		v, ok := med(key + ".p50")
		if !ok {
			return "—", math.NaN()
		}
		return "pgbench same SQL: " + num(v) + " ms", v
	}

	// ---- C ----
	c := &table{title: "Benchmark C — SLA engine (issue 6); Go-level timings of the product's sla.Service on the bench database"}
	total, _ := med("C.clocks.total")
	open, _ := med("C.clocks.open")
	c.add("clocks loaded (open)", "—", fmt.Sprintf("%s (%s open)", num(nz(total)), num(nz(open))), "—", "", "", "")
	if v, ok := med("C.sweep.ms"); ok {
		h, _ := med("C.sweep.handled")
		base, b := pgb("C.pgb_sweep_tick")
		c.add(fmt.Sprintf("sweep tick with ~1,000 clocks due (%s queued)", num(h)), "≤ 50 ms", num(v)+" ms",
			base, ratio(v, b), verdict(v <= 50, true), r.runs("C.sweep.ms"))
		if t50, ok := med("C.sweep.task_p50"); ok {
			t99, _ := med("C.sweep.task_p99")
			c.add("  context: a worker's time per queued task (product's handlers)", "—", fmt.Sprintf("p50 %s / p99 %s ms", num(t50), num(t99)), "—", "", "", "")
		}
	}
	if v, ok := med("C.recompute.s"); ok {
		n, _ := med("C.recompute.clocks")
		rate, _ := med("C.recompute.rate")
		base, b := "—", math.NaN()
		if bb, ok := med("C.pgb_recompute_batch.p50"); ok {
			batches := math.Ceil(n / 2000)
			b = bb * batches / 1000
			base = fmt.Sprintf("pgbench of a batch's SQL × %s batches: %s s", num(batches), num(b))
		}
		c.add(fmt.Sprintf("recompute all %s open clocks after a calendar edit", num(n)), "≤ 60 s", num(v)+" s ("+num(rate)+" clocks/s)",
			base, ratio(v, b), verdict(v <= 60, true), r.runs("C.recompute.s"))
		if n < 900_000 { // a small data set (--rows): what the scale would take
			c.add("  the same rate for 1,000,000 open clocks (projection)", "≤ 60 s", num(1e6/rate)+" s", "—", "", verdict(1e6/rate <= 60, rate > 0)+" (projected)", "")
		}
	}
	for _, g := range []string{"agency", "category", "officer"} {
		v, ok := med("C.report." + g)
		if !ok {
			continue
		}
		n, _ := med("C.report." + g + ".requests")
		base, b := pgb("C.pgb_report." + g)
		c.add(fmt.Sprintf("SLA report, a year (%s requests) by %s", num(n), g), "≤ 500 ms", num(v)+" ms", base, ratio(v, b),
			verdict(v <= 500, true), r.runs("C.report."+g))
	}
	c.print()

	// ---- D ----
	d := &table{title: "Benchmark D — inspections (issue 7)"}
	if v, ok := med("D.issue.p99"); ok {
		p50, _ := med("D.issue.p50")
		rps, _ := med("D.issue.rps")
		bl, _ := med("D.issue.blocked_share")
		b99, okB := med("D.pgb_issue.p99")
		base := "—"
		if okB {
			b50, _ := med("D.pgb_issue.p50")
			base = fmt.Sprintf("pgbench same SQL at the same rate: p50 %s / p99 %s ms", num(b50), num(b99))
		}
		d.add(fmt.Sprintf("issue a code, 50 inspectors at work (%s req/s, %s%% refused by a pre-check)", num(rps), num(100*bl)),
			"p99 ≤ 10 ms", fmt.Sprintf("p50 %s / p99 %s ms", num(p50), num(v)), base, ratio(v, b99), verdict(v <= 10, true), r.runs("D.issue.p99"))
	}
	if v, ok := med("D.issue_sat.rps"); ok {
		p99, _ := med("D.issue_sat.p99")
		btps, okB := med("D.pgb_issue_sat.tps")
		base := "—"
		if okB {
			b99, _ := med("D.pgb_issue_sat.p99")
			base = fmt.Sprintf("pgbench same SQL, 50 clients: %s tps, p99 %s ms", num(btps), num(b99))
		}
		d.add("issue a code, 50 clients back to back (context: capacity)", "—", fmt.Sprintf("%s req/s, p99 %s ms", num(v), num(p99)),
			base, ratio(v, btps), "", r.runs("D.issue_sat.rps"))
	}
	for _, f := range []struct{ key, what string }{
		{"D.verify_today", "public verify, the codes of today's inspections (each scanned once before, then a few times), req/s"},
		{"D.verify", "public verify, any of 5M codes at random (each scanned about once: the database's pace), req/s"},
	} {
		if v, ok := med(f.key + ".rps"); ok {
			p99, _ := med(f.key + ".p99")
			h, _ := med("D.healthz.rps")
			base := "same server's /healthz, same load: " + num(h) + " req/s"
			if b, ok := med("D.pgb_verify.tps"); ok && f.key == "D.verify" {
				base += fmt.Sprintf("; pgbench of its SQL alone (serve stopped, 8 clients): %s tps", num(b))
			}
			d.add(f.what, "≥ 5000 req/s", fmt.Sprintf("%s req/s (p99 %s ms)", num(v), num(p99)),
				base, ratio(v, h), verdict(v >= 5000, true), r.runs(f.key+".rps"))
		}
	}
	d.print()

	// ---- E ----
	e := &table{title: "Benchmark E — oversight (issue 8); Go-level timings of the product's oversight.Service on the bench database"}
	if v, ok := med("E.analyze.p50"); ok {
		p99, _ := med("E.analyze.p99")
		base, b := pgb("E.pgb_analyze")
		e.add("alert evaluation of one new inspection (AnalyzeInspection)", "≤ 20 ms", fmt.Sprintf("p50 %s / p99 %s ms", num(v), num(p99)),
			base, ratio(v, b), verdict(v <= 20, true), r.runs("E.analyze.p50"))
	}
	for _, g := range []string{"agency", "item", "town"} {
		v, ok := med("E.report." + g)
		if !ok {
			continue
		}
		base, b := pgb("E.pgb_report." + g)
		e.add("yearly inspection report by "+g, "≤ 1000 ms", num(v)+" ms", base, ratio(v, b), verdict(v <= 1000, true), r.runs("E.report."+g))
	}
	if v, ok := med("E.burden.p99"); ok {
		p50, _ := med("E.burden.p50")
		base, b := pgb("E.pgb_burden")
		e.add("enterprise burden view, random enterprises", "≤ 100 ms", fmt.Sprintf("p50 %s / p99 %s ms", num(p50), num(v)),
			base, ratio(p50, b), verdict(v <= 100, true), "")
	}
	for _, w := range []struct{ key, what string }{{"most_inspected", "the most inspected enterprise"}, {"most_requests", "the enterprise with the most requests"}} {
		v, ok := med("E.burden." + w.key)
		if !ok {
			continue
		}
		base, b := pgb("E.pgb_burden." + w.key)
		e.add("enterprise burden view, "+w.what, "≤ 100 ms", num(v)+" ms", base, ratio(v, b), verdict(v <= 100, true), r.runs("E.burden."+w.key))
	}
	e.print()
	return nil
}
