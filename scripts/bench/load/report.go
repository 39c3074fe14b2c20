package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// runRecord appends one figure (for values measured by other tools, e.g.
// pgbench's tps parsed by bench.sh).
func runRecord(args []string) error {
	fs := flag.NewFlagSet("record", flag.ExitOnError)
	key := fs.String("key", "", "figure key")
	value := fs.String("value", "", "value")
	unit := fs.String("unit", "", "unit")
	label := fs.String("label", "", "text label (value ignored)")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	if *key == "" {
		return errors.New("-key is required")
	}
	if *label != "" {
		return emitLabel(*results, *key, *label)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(*value), 64)
	if err != nil {
		return fmt.Errorf("%s: value %q: %w", *key, *value, err)
	}
	return emit(*results, record{Key: *key, Value: v, Unit: *unit})
}

type labelRecord struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

func emitLabel(path, key, label string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(labelRecord{Key: key, Label: label})
}

// runPgbenchLog reads pgbench per-transaction logs (-l) and records p50/p99.
func runPgbenchLog(args []string) error {
	fs := flag.NewFlagSet("pgbench-log", flag.ExitOnError)
	prefix := fs.String("prefix", "", "the --log-prefix given to pgbench")
	name := fs.String("name", "", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	files, err := filepath.Glob(*prefix + ".*")
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no pgbench logs at %s.*", *prefix)
	}
	var us []float64
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// client_id transaction_no time script_no time_epoch time_us
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			if v, err := strconv.ParseFloat(fields[2], 64); err == nil {
				us = append(us, v)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	if len(us) == 0 {
		return fmt.Errorf("pgbench logs at %s.* hold no transactions", *prefix)
	}
	slices.Sort(us)
	p := func(q float64) float64 {
		i := max(0, min(len(us)-1, int(math.Ceil(q/100*float64(len(us))))-1))
		return us[i] / 1000
	}
	fmt.Printf("  %s: pgbench per-transaction latency over %d transactions: p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
		*name, len(us), p(50), p(99), us[len(us)-1]/1000)
	return emit(*results, record{*name + ".p50", p(50), "ms"}, record{*name + ".p99", p(99), "ms"})
}

// results are the figures of one bench run, keyed, in order of appearance.
type results struct {
	vals   map[string][]float64
	labels map[string]string
	order  []string
}

func readResults(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &results{vals: map[string][]float64{}, labels: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var x struct {
			Key   string   `json:"key"`
			Value *float64 `json:"value"`
			Label string   `json:"label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if x.Label != "" {
			r.labels[x.Key] = x.Label
			continue
		}
		if x.Value == nil {
			continue
		}
		if _, seen := r.vals[x.Key]; !seen {
			r.order = append(r.order, x.Key)
		}
		r.vals[x.Key] = append(r.vals[x.Key], *x.Value)
	}
	return r, sc.Err()
}

func (r *results) median(key string) (float64, bool) {
	v := slices.Clone(r.vals[key])
	if len(v) == 0 {
		return math.NaN(), false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

func (r *results) max(key string) (float64, bool) {
	v := r.vals[key]
	if len(v) == 0 {
		return math.NaN(), false
	}
	return slices.Max(v), true
}

func (r *results) runs(key string) string {
	v := r.vals[key]
	if len(v) < 2 {
		return ""
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = num(x)
	}
	return strings.Join(s, ", ")
}

func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

func verdict(ok, known bool) string {
	switch {
	case !known:
		return "n/a"
	case ok:
		return "PASS"
	default:
		return "MISS"
	}
}

type table struct {
	title string
	rows  [][]string
}

var header = []string{"figure", "target", "measured", "baseline", "ratio", "result", "runs"}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// width is the display width: CJK characters take two columns.
func width(s string) int {
	w := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) || (r >= 0xFF00 && r <= 0xFFEF) {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func (t *table) print() {
	ws := make([]int, len(header))
	for i, h := range header {
		ws[i] = width(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			ws[i] = max(ws[i], width(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			b.WriteString("| ")
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", ws[i]-width(c)+1))
		}
		b.WriteString("|")
		fmt.Println(b.String())
	}
	fmt.Println()
	fmt.Println(t.title)
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", ws[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// ratio prints a/b for the report's ratio column.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return num(a/b) + "×"
}

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	r, err := readResults(*results)
	if err != nil {
		return err
	}
	med := r.median

	// ---- A ----
	a := &table{title: "Benchmark A — filing requests (issue 4)"}
	rps, okR := med("A.create.rps")
	tps, okT := med("A.pgb_create.tps")
	a.add("create: HTTP req/s, 32 clients (serve only)", "≥ 0.5 × pgbench", num(rps)+" req/s",
		"pgbench same SQL: "+num(tps)+" tps", ratio(rps, tps), verdict(rps/tps >= 0.5, okR && okT), r.runs("A.create.rps"))
	if ext, ok := med("A.pgb_create_ext.tps"); ok {
		a.add("create: HTTP req/s (context: pgbench planning each statement, as the server's are)", "—", num(rps)+" req/s",
			"pgbench -M extended same SQL: "+num(ext)+" tps", ratio(rps, ext), "", r.runs("A.pgb_create_ext.tps"))
	}
	p50, _ := med("A.create.p50")
	b50, _ := med("A.pgb_create.p50")
	a.add("create: p50", "—", num(p50)+" ms", "pgbench p50 "+num(b50)+" ms", ratio(p50, b50), "", r.runs("A.create.p50"))
	p99, okP := med("A.create.p99")
	b99, _ := med("A.pgb_create.p99")
	a.add("create: p99", "≤ 30 ms", num(p99)+" ms", "pgbench p99 "+num(b99)+" ms", ratio(p99, b99), verdict(p99 <= 30, okP), r.runs("A.create.p99"))
	rss, okS := r.max("A.create.rss_max")
	idle, _ := med("A.serve.rss_idle")
	a.add("serve RSS: max VmRSS during the create runs", "≤ 150 MB", num(rss)+" MB", "idle after start "+num(idle)+" MB",
		ratio(rss, idle), verdict(rss <= 150, okS), r.runs("A.create.rss_max"))
	hwm, okH := r.max("A.serve.hwm_end")
	if !okH {
		hwm, okH = r.max("A.create.hwm")
	}
	a.add("serve RSS: VmHWM at the end of A", "≤ 150 MB", num(hwm)+" MB", "idle after start "+num(idle)+" MB",
		ratio(hwm, idle), verdict(hwm <= 150, okH), "")

	// list/search rows, in the order they ran
	var prefixes []string
	for _, k := range r.order {
		if strings.HasPrefix(k, "A.list.") && strings.HasSuffix(k, ".p99") {
			prefixes = append(prefixes, strings.TrimSuffix(k, ".p99"))
		}
	}
	for _, p := range prefixes {
		label := r.labels[p+".label"]
		if label == "" {
			label = strings.TrimPrefix(p, "A.list.")
		}
		l50, _ := med(p + ".p50")
		l99, ok := med(p + ".p99")
		lrps, _ := med(p + ".rps")
		base := "—"
		rt := ""
		bp := strings.Replace(p, "A.list.", "A.pgb_list.", 1)
		if btps, ok := med(bp + ".tps"); ok {
			blat, _ := med(bp + ".lat_avg")
			base = fmt.Sprintf("pgbench SQL: %s ms avg, %s tps", num(blat), num(btps))
			rt = ratio(lrps, btps)
		}
		a.add("list "+label, "p99 ≤ 50 ms", fmt.Sprintf("p50 %s / p99 %s ms, %s req/s", num(l50), num(l99), num(lrps)),
			base, rt, verdict(l99 <= 50, ok), r.runs(p+".p99"))
	}
	a.print()

	// ---- B ----
	b := &table{title: "Benchmark B — routing burst (issue 5)"}
	noop, okN := med("B.noop.rate")
	b.add("asynq no-op: tasks/s (10,000 queued, then 1 server, concurrency 20)", "baseline", num(noop)+" tasks/s", "—", "", "", r.runs("B.noop.rate"))
	ins, _ := med("B.burst.insert_rate")
	b.add(fmt.Sprintf("burst filing: pgbench of the create SQL, 20 clients (%s requests)", num(nz(r.firstOr("B.burst.requests")))), "—",
		num(ins)+" req/s", "—", "", "", "")
	for _, w := range []string{"1", "2"} {
		k := "B.route" + w
		rate, ok := med(k + ".rate")
		note := ""
		if a, t := r.minOr(k+".assigned"), r.firstOr(k+".total"); a < t {
			note = fmt.Sprintf(" (window closed at %s of %s assigned)", num(a), num(t))
		}
		b.add("burst: assignments/s, "+w+" worker process(es)", "≥ 1000/s and ≥ 0.3 × no-op", num(rate)+" /s"+note,
			"asynq no-op "+num(noop)+" tasks/s", ratio(rate, noop), verdict(rate >= 1000 && rate/noop >= 0.3, ok && okN), r.runs(k+".rate"))
	}
	over, ok1 := r.max("B.route1.over_capacity")
	over2, ok2 := r.max("B.route2.over_capacity")
	twice, ok3 := r.max("B.route1.twice")
	twice2, ok4 := r.max("B.route2.twice")
	worst := func(x, y float64) float64 { return math.Max(nz(x), nz(y)) }
	b.add("burst checks: officers over capacity / requests assigned twice", "0 / 0",
		fmt.Sprintf("%s / %s", num(worst(over, over2)), num(worst(twice, twice2))), "—", "",
		verdict(worst(over, over2) == 0 && worst(twice, twice2) == 0, ok1 && ok2 && ok3 && ok4), "")
	for _, st := range []string{"B.steady", "B.steady_pg", "B.steady_low"} {
		rate, ok := med(st + ".rate")
		if !ok {
			continue
		}
		tag := fmt.Sprintf("steady %s/s over HTTP", num(rate))
		switch st {
		case "B.steady_pg":
			tag = fmt.Sprintf("steady %s/s filed by pgbench (worker only)", num(rate))
		case "B.steady_low":
			tag += " (context, below capacity)"
		}
		filed, _ := med(st + ".filed")
		kept := true
		if st != "B.steady_pg" {
			ach, _ := med(st + ".achieved_rate")
			errs, _ := med(st + ".errors")
			h99, _ := med(st + ".http_p99")
			kept = ach >= 0.9*rate
			b.add(tag+": filing rate achieved / HTTP p99", num(rate)+"/s", fmt.Sprintf("%s req/s (%s filed, %s failed) / %s ms",
				num(ach), num(filed), num(errs), num(h99)), "—", "", verdict(kept, true), "")
		}
		s50, _ := med(st + ".p50")
		n50, _ := med("B.noop_latency.p50")
		b.add(tag+": commit-to-assigned p50", "—", num(s50)+" ms", "asynq enqueue-to-run p50 "+num(n50)+" ms", ratio(s50, n50), "", "")
		s99w, okW := med(st + ".p99_window_median")
		s99, _ := med(st + ".p99")
		n99, _ := med("B.noop_latency.p99")
		note := ""
		if u, _ := med(st + ".unassigned"); u > 0 {
			note = fmt.Sprintf("; %s never assigned in the wait, counted as ≥ their wait", num(u))
		}
		if !kept {
			note += fmt.Sprintf("; only over the %s requests the server managed to file", num(filed))
		}
		b.add(tag+": commit-to-assigned p99 (median of 3 windows)", "≤ 500 ms", fmt.Sprintf("%s ms (whole run %s ms%s)", num(s99w), num(s99), note),
			"asynq enqueue-to-run p99 "+num(n99)+" ms", ratio(s99w, n99), verdict(kept && s99w <= 500, okW), "")
	}
	var rb []string
	for _, t := range []string{"set", "get", "lpush", "rpop"} {
		if v, ok := med("B.redis." + t); ok {
			rb = append(rb, strings.ToUpper(t)+" "+num(v))
		}
	}
	b.add("context: redis-benchmark on the bench Redis (req/s)", "—", strings.Join(rb, ", "), "—", "", "", "")
	b.print()
	return nil
}

// firstOr is the first value of a figure (NaN if none).
func (r *results) firstOr(key string) float64 {
	if v := r.vals[key]; len(v) > 0 {
		return v[0]
	}
	return math.NaN()
}

// minOr is the smallest value of a figure (NaN if none).
func (r *results) minOr(key string) float64 {
	if v := r.vals[key]; len(v) > 0 {
		return slices.Min(v)
	}
	return math.NaN()
}

func nz(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// runMedian prints the median of a figure (for bench.sh to act on).
func runMedian(args []string) error {
	fs := flag.NewFlagSet("median", flag.ExitOnError)
	key := fs.String("key", "", "figure key")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	r, err := readResults(*results)
	if err != nil {
		return err
	}
	v, ok := r.median(*key)
	if !ok {
		return fmt.Errorf("no figure %s", *key)
	}
	fmt.Println(strconv.FormatFloat(v, 'f', 3, 64))
	return nil
}
