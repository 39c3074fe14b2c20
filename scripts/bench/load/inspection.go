package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/clock"
)

// benchInspectorPrefix names the inspectors the bench adds (password of
// the demo inspectors, demo12345).
const benchInspectorPrefix = "bench.insp."

// runInspload COPYs the inspection data set of issues 7 and 8: n
// enterprises with valid credit codes (grades, towns, some on the
// no-disturb list) and a user each, inspectors with certificates for every
// inspecting agency, and the inspections of the last three years (and the
// next weeks' codes) with their inspectors, visit records and the
// enterprises' ratings; codes are signed with the bench server's key so
// the verify page accepts them. Alerts follow from the loaded visits by
// the rules' own definitions (repeat visits in a day or month, several
// agencies in a month, a cap exceeded). A set already loaded is kept.
func runInspload(args []string) error {
	fs := flag.NewFlagSet("inspload", flag.ExitOnError)
	db := dbFlag(fs)
	n := fs.Int("n", 5_000_000, "inspections")
	nEnt := fs.Int("enterprises", 200_000, "enterprises")
	perAgency := fs.Int("inspectors", 30, "inspectors per inspecting agency")
	streams := fs.Int("streams", 2, "parallel COPY streams")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, int32(*streams+1))
	if err != nil {
		return err
	}
	defer pool.Close()
	var have int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM inspections`).Scan(&have); err != nil {
		return err
	}
	if have >= int64(*n)*9/10 {
		fmt.Printf("  inspload: %d inspections already loaded; kept\n", have)
		return nil
	}
	key, err := signingKey()
	if err != nil {
		return err
	}
	t0 := time.Now()
	g := rand.New(rand.NewPCG(17, 19))

	// ---- enterprises and their users ----
	var towns []string
	if err := scanAll(ctx, pool, `SELECT code FROM towns ORDER BY code`, func(r pgx.Rows) error {
		var c string
		err := r.Scan(&c)
		towns = append(towns, c)
		return err
	}); err != nil {
		return err
	}
	var entBase int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM enterprises`).Scan(&entBase); err != nil {
		return err
	}
	entIdx, err := dropIndexes(ctx, pool, "enterprises")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	ents := make([]benchEnterprise, *nEnt)
	var entRows [][]any
	for i := range *nEnt {
		id := entBase + 1 + int64(i)
		e := benchEnterprise{id: id, grade: pickGrade(g)}
		// A heavy tail: most enterprises see an inspector now and then, a
		// few (restaurants, workshops, grade C/D) all the time.
		e.weight = map[string]float64{"A": 0.4, "B": 1, "C": 2, "D": 4}[e.grade] * math.Min(40, 1/math.Pow(1-g.Float64(), 0.6))
		body := fmt.Sprintf("MA%s", base31(int64(i)+31*31*31*31, 7))
		uscc := "91510132" + body
		uscc += string(identity.CheckCharacter(uscc))
		var ndFrom, ndTo any
		nd := g.IntN(100) < 5
		basis := ""
		if nd {
			ndFrom = time.Date(now.Year()-2, 1, 1, 0, 0, 0, 0, time.UTC)
			ndTo = time.Date(now.Year()+1, 12, 31, 0, 0, 0, 0, time.UTC)
			basis = "守法诚信企业“无事不扰”白名单"
		}
		e.noDisturb = nd
		ents[i] = e
		entRows = append(entRows, []any{id, uscc, companyName(g, i), towns[g.IntN(len(towns))], inspIndustries[g.IntN(len(inspIndustries))],
			"新津区" + fmt.Sprintf("%d号", 1+g.IntN(999)), "联系人", fmt.Sprintf("138%08d", g.IntN(1e8)), e.grade,
			nd, ndFrom, ndTo, basis, now.AddDate(-4, 0, 0), now.AddDate(-4, 0, 0)})
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		return err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"enterprises"}, []string{"id", "uscc", "name", "town_code", "industry", "address",
		"contact_name", "contact_phone", "grade", "no_disturb", "no_disturb_from", "no_disturb_to", "no_disturb_basis", "created_at", "updated_at"},
		pgx.CopyFromRows(entRows)); err != nil {
		return fmt.Errorf("copy enterprises: %w", err)
	}
	entRows = nil
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('enterprises', 'id'), (SELECT max(id) FROM enterprises))`); err != nil {
		return err
	}
	if err := rebuildIndexes(ctx, conn, entIdx); err != nil {
		return err
	}
	// One user per enterprise (the author of its ratings).
	if _, err := conn.Exec(ctx, `INSERT INTO users (username, display_name, role, password_hash, enterprise_id)
		SELECT 'bench.e' || e.id, '企业用户' || e.id, 'enterprise', 'x', e.id FROM enterprises e WHERE e.id > $1 ORDER BY e.id`, entBase); err != nil {
		return fmt.Errorf("enterprise users: %w", err)
	}
	entUser := map[int64]int64{}
	if err := scanAll(ctx, pool, `SELECT enterprise_id, id FROM users WHERE username LIKE 'bench.e%' AND enterprise_id > `+fmt.Sprint(entBase),
		func(r pgx.Rows) error {
			var e, u int64
			err := r.Scan(&e, &u)
			entUser[e] = u
			return err
		}); err != nil {
		return err
	}
	fmt.Printf("  inspload: %d enterprises and their users in %.1fs\n", *nEnt, time.Since(t0).Seconds())

	// ---- inspectors ----
	if _, err := conn.Exec(ctx, `
		WITH u AS (
		  INSERT INTO users (username, display_name, role, password_hash, agency_id)
		  SELECT '`+benchInspectorPrefix+`' || a.code || '.' || g, a.name || '执法' || g, 'inspector',
		         (SELECT password_hash FROM users WHERE role = 'inspector' ORDER BY id LIMIT 1), a.id
		  FROM agencies a, generate_series(1, $1::int) g WHERE a.kind = 'inspection'
		  RETURNING id)
		INSERT INTO inspector_certificates (user_id, number, valid_from, valid_to)
		SELECT id, '川执 B' || lpad(id::text, 8, '0'), DATE '2020-01-01', DATE '2031-12-31' FROM u`, *perAgency); err != nil {
		return fmt.Errorf("inspectors: %w", err)
	}
	ag, err := loadInspAgencies(ctx, pool)
	if err != nil {
		return err
	}
	var triggers []string
	if err := scanAll(ctx, pool, `SELECT code FROM inspection_triggers ORDER BY code`, func(r pgx.Rows) error {
		var c string
		err := r.Scan(&c)
		triggers = append(triggers, c)
		return err
	}); err != nil {
		return err
	}

	// ---- inspections, inspectors, evaluations ----
	cum := make([]float64, len(ents))
	total := 0.0
	for i, e := range ents {
		total += e.weight
		cum[i] = total
	}
	var inspBase int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM inspections`).Scan(&inspBase); err != nil {
		return err
	}
	var idx []indexDef
	for _, t := range []string{"inspections", "inspection_inspectors", "inspection_evaluations"} {
		x, err := dropIndexes(ctx, pool, t)
		if err != nil {
			return err
		}
		idx = append(idx, x...)
	}
	// Codes are 32 random bits and their MAC: the loaded ones take
	// id × an odd constant (a bijection of uint32, so never the same twice)
	// and step around the few codes already there.
	taken := map[string]bool{}
	if err := scanAll(ctx, pool, `SELECT code FROM inspections`, func(r pgx.Rows) error {
		var c string
		err := r.Scan(&c)
		taken[c] = true
		return err
	}); err != nil {
		return err
	}
	from := now.AddDate(-3, 0, 0)
	to := now.AddDate(0, 0, 21) // codes issued for the next three weeks
	step := to.Sub(from) / time.Duration(*n)
	t1 := time.Now()
	type chunk struct{ from, to int }
	const chunkSize = 50_000
	work := make(chan chunk)
	go func() {
		for i := 0; i < *n; i += chunkSize {
			work <- chunk{i, min(i+chunkSize, *n)}
		}
		close(work)
	}()
	inspCols := []string{"id", "code", "enterprise_id", "agency_id", "created_by", "item_codes", "mode", "kind", "trigger_type", "trigger_ref",
		"window_from", "window_to", "joint_agency_ids", "override_reason", "checks", "status", "confirmed_at", "started_at", "ended_at",
		"outcome", "rectify_due", "penalty_amount", "record", "cancel_reason", "created_at", "updated_at"}
	var mu sync.Mutex
	counts := map[string]int{}
	errc := make(chan error, *streams)
	for s := range *streams {
		go func() {
			errc <- func() error {
				c, err := pool.Acquire(ctx)
				if err != nil {
					return err
				}
				defer c.Release()
				if _, err := c.Exec(ctx, `SET session_replication_role = replica`); err != nil {
					return err
				}
				g := rand.New(rand.NewPCG(uint64(100+s), 3))
				local := map[string]int{}
				for ch := range work {
					var insp, links, evals [][]any
					for i := ch.from; i < ch.to; i++ {
						id := inspBase + 1 + int64(i)
						start := from.Add(step*time.Duration(i) + time.Duration(g.Int64N(int64(step)+1)))
						e := &ents[sort.SearchFloat64s(cum, g.Float64()*total)]
						random := uint32(id) * 2654435761
						if taken[inspection.SignCode(key, random)] {
							random ^= 0x80000000
						}
						row, people, ev := inspectionRow(g, key, id, random, e, entUser[e.id], ag, triggers, start, now)
						insp = append(insp, row)
						for _, u := range people {
							links = append(links, []any{id, u})
						}
						if ev != nil {
							evals = append(evals, ev)
						}
						local[row[15].(string)]++
					}
					for _, t := range []struct {
						table string
						cols  []string
						rows  [][]any
					}{
						{"inspections", inspCols, insp},
						{"inspection_inspectors", []string{"inspection_id", "user_id"}, links},
						{"inspection_evaluations", []string{"inspection_id", "enterprise_id", "author_id", "rating", "tags", "comment", "complaint", "created_at"}, evals},
					} {
						if _, err := c.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
							return fmt.Errorf("copy %s: %w", t.table, err)
						}
					}
				}
				mu.Lock()
				for k, v := range local {
					counts[k] += v
				}
				mu.Unlock()
				_, err = c.Exec(ctx, `RESET session_replication_role`)
				return err
			}()
		}()
	}
	for range *streams {
		if e := <-errc; e != nil {
			err = errors.Join(err, e)
		}
	}
	if err != nil {
		return err
	}
	copied := time.Since(t1)
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('inspections', 'id'), (SELECT max(id) FROM inspections))`); err != nil {
		return err
	}
	t2 := time.Now()
	if err := rebuildIndexes(ctx, conn, idx); err != nil {
		return err
	}
	indexed := time.Since(t2)
	t3 := time.Now()
	alerts, err := deriveAlerts(ctx, conn, now)
	if err != nil {
		return err
	}
	alerted := time.Since(t3)
	if _, err := conn.Exec(ctx, `RESET session_replication_role`); err != nil {
		return err
	}
	// The copies ran without triggers: mark every day for the report's
	// refresh, as the migration does for inspections already stored.
	if _, err := conn.Exec(ctx, `INSERT INTO inspection_report_stale (day)
		SELECT DISTINCT (window_from AT TIME ZONE 'Asia/Shanghai')::date FROM inspections`); err != nil {
		return err
	}
	for _, t := range []string{"enterprises", "users", "inspections", "inspection_inspectors", "inspection_evaluations", "alerts"} {
		if _, err := conn.Exec(ctx, `VACUUM ANALYZE `+t); err != nil {
			return err
		}
	}
	var size string
	if err := conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('inspections') + pg_total_relation_size('inspection_inspectors'))`).Scan(&size); err != nil {
		return err
	}
	var st []string
	for _, k := range []string{"recorded", "code_issued", "confirmed", "cancelled"} {
		st = append(st, fmt.Sprintf("%s %d", k, counts[k]))
	}
	fmt.Printf("  inspload: %d inspections (%s) copied in %.1fs, %d indexes rebuilt in %.1fs, %d alerts derived in %.1fs; %s; total %.1fs\n",
		*n, strings.Join(st, ", "), copied.Seconds(), len(idx), indexed.Seconds(), alerts, alerted.Seconds(), size, time.Since(t0).Seconds())
	return nil
}

type benchEnterprise struct {
	id        int64
	grade     string
	weight    float64
	noDisturb bool
}

var inspIndustries = []string{"餐饮", "食品生产", "批发零售", "机械制造", "建筑施工", "危险化学品", "物流仓储", "医疗器械", "汽车维修", "印刷包装", "电子制造", "住宿"}

func pickGrade(g *rand.Rand) string {
	switch n := g.IntN(100); {
	case n < 15:
		return "A"
	case n < 60:
		return "B"
	case n < 90:
		return "C"
	default:
		return "D"
	}
}

var nameWords = []string{"天府", "新津", "蜀锦", "岷江", "金马", "花源", "永商", "兴义", "宝墩", "安西", "普兴", "五津", "华润", "鼎盛", "恒通", "瑞丰", "宏达", "嘉禾", "长青", "金诚"}

func companyName(g *rand.Rand, i int) string {
	return fmt.Sprintf("成都%s%s%s有限公司%d", nameWords[g.IntN(len(nameWords))], nameWords[g.IntN(len(nameWords))],
		inspIndustries[g.IntN(len(inspIndustries))], i)
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

func base31(v int64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = usccChars[v%31]
		v /= 31
	}
	return string(b)
}

type inspAgency struct {
	id         int64
	name       string
	items      []string
	offsite    map[string]bool
	inspectors []int64
}

type inspAgencies struct {
	list []*inspAgency
	cum  []float64
}

// loadInspAgencies returns the inspecting agencies with their published
// items and bench inspectors; market and fire inspect most often.
func loadInspAgencies(ctx context.Context, pool *pgxpool.Pool) (*inspAgencies, error) {
	out := &inspAgencies{}
	byID := map[int64]*inspAgency{}
	if err := scanAll(ctx, pool, `SELECT a.id, a.name, i.code, i.offsite_capable FROM agencies a
		JOIN agency_items x ON x.agency_id = a.id JOIN inspection_items i ON i.code = x.item_code
		WHERE a.kind = 'inspection' AND i.status = 'published' ORDER BY a.id, i.code`, func(r pgx.Rows) error {
		var id int64
		var name, code string
		var off bool
		if err := r.Scan(&id, &name, &code, &off); err != nil {
			return err
		}
		a := byID[id]
		if a == nil {
			a = &inspAgency{id: id, name: name, offsite: map[string]bool{}}
			byID[id] = a
			out.list = append(out.list, a)
		}
		a.items = append(a.items, code)
		a.offsite[code] = off
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(ctx, pool, `SELECT agency_id, id FROM users WHERE username LIKE '`+benchInspectorPrefix+`%' ORDER BY id`, func(r pgx.Rows) error {
		var a, u int64
		if err := r.Scan(&a, &u); err != nil {
			return err
		}
		if x := byID[a]; x != nil {
			x.inspectors = append(x.inspectors, u)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out.list = slices.DeleteFunc(out.list, func(a *inspAgency) bool { return len(a.inspectors) < 2 })
	if len(out.list) == 0 {
		return nil, errors.New("no inspecting agency with published items and bench inspectors")
	}
	total := 0.0
	for i := range out.list {
		w := 1.0
		if i < 2 {
			w = 3
		}
		total += w
		out.cum = append(out.cum, total)
	}
	return out, nil
}

func (a *inspAgencies) pick(g *rand.Rand) *inspAgency {
	return a.list[sort.SearchFloat64s(a.cum, g.Float64()*a.cum[len(a.cum)-1])]
}

func pickN[T any](g *rand.Rand, from []T, n int) []T {
	n = min(n, len(from))
	idx := g.Perm(len(from))[:n]
	slices.Sort(idx)
	out := make([]T, n)
	for i, k := range idx {
		out[i] = from[k]
	}
	return out
}

// inspectionRow is one loaded inspection in the state its dates imply.
func inspectionRow(g *rand.Rand, key []byte, id int64, random uint32, e *benchEnterprise, author int64, ag *inspAgencies,
	triggers []string, start, now time.Time) (row []any, inspectors []int64, eval []any) {
	a := ag.pick(g)
	items := pickN(g, a.items, 1+g.IntN(2))
	mode := "onsite"
	if a.offsite[items[0]] && g.IntN(100) < 50 {
		mode = "offsite"
	}
	kind := "routine"
	var trigger any
	ref := ""
	if g.IntN(100) < 40 || e.noDisturb {
		kind = "triggered"
		trigger = triggers[g.IntN(len(triggers))]
		ref = fmt.Sprintf("XJ%d-%06d", start.Year(), g.IntN(1e6))
	}
	nInsp := 2
	if mode == "offsite" {
		nInsp = 1 + g.IntN(2)
	}
	inspectors = pickN(g, a.inspectors, nInsp)
	// Windows open at 09:00 Shanghai on the visit day and last 1–7 days.
	d := start.In(clock.Shanghai)
	wFrom := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, clock.Shanghai).UTC()
	wTo := wFrom.Add(time.Duration(1+g.IntN(7))*24*time.Hour - 30*time.Minute)
	created := wFrom.Add(-time.Duration(1+g.IntN(5*24)) * time.Hour)
	joint := []int64{}
	if g.IntN(100) < 5 {
		if o := ag.pick(g); o.id != a.id {
			joint = append(joint, o.id)
		}
	}
	checks := "[]"
	var override any
	switch n := g.IntN(1000); {
	case n < 5 && kind == "routine":
		checks = `[{"rule":"cap_reached","severity":"block","message_zh":"本机关对该企业的检查已达上限","message_en":"yearly cap reached","overridden":true}]`
		override = "群众反映问题较多，需年内再次核查"
	case n < 120:
		checks = `[{"rule":"repeat_visit_month","severity":"warn","message_zh":"该企业本月将被检查多次","message_en":"repeat visits this month"}]`
	}
	status := "code_issued"
	var confirmed, started, ended, outcome, rectify, penalty, record, cancel any
	switch {
	case wTo.Before(now):
		switch n := g.IntN(100); {
		case n < 4:
			status, cancel = "cancelled", "企业停业，检查取消"
		case n < 8:
			status = "code_issued" // issued, never used
		default:
			status = "recorded"
			s := wFrom.Add(time.Duration(g.IntN(6*60)) * time.Minute)
			if g.IntN(100) < 96 {
				confirmed = s
			}
			started, ended = s, s.Add(time.Duration(30+g.IntN(180))*time.Minute)
			res := "ok"
			switch n := g.IntN(100); {
			case n < 62:
				outcome = "no_issue"
			case n < 90:
				outcome, res = "rectify", "minor"
				rectify = wFrom.AddDate(0, 0, 15+g.IntN(30))
			case n < 95:
				outcome, res = "case_opened", "major"
			default:
				outcome, res = "penalty", "minor"
				penalty = float64(500 * (1 + g.IntN(40)))
			}
			record = fmt.Sprintf(`{"findings":[{"item":%q,"result":%q,"note":""}],"documents":[]}`, items[0], res)
			if confirmed != nil && g.IntN(100) < 25 {
				r := rating(g)
				tags := []string{}
				if r <= 2 && g.IntN(3) == 0 {
					tags = []string{"重复检查"}
				}
				eval = []any{id, e.id, author, r, tags, "", r == 1 && g.IntN(5) == 0, ended.(time.Time).Add(time.Duration(1+g.IntN(72)) * time.Hour)}
			}
		}
	case !wFrom.After(now) && g.IntN(2) == 0:
		status, confirmed = "confirmed", wFrom.Add(time.Duration(g.IntN(120))*time.Minute)
	}
	updated := created
	for _, t := range []any{confirmed, ended} {
		if t, ok := t.(time.Time); ok && t.After(updated) {
			updated = t
		}
	}
	row = []any{id, inspection.SignCode(key, random), e.id, a.id, inspectors[0], items, mode, kind, trigger, ref, wFrom, wTo, joint,
		override, checks, status, confirmed, started, ended, outcome, rectify, penalty, record, cancel, created, updated}
	return row, inspectors, eval
}

// deriveAlerts writes the alerts the rules would have raised over the
// loaded visits, keyed as the product keys them; those older than three
// months are handled.
func deriveAlerts(ctx context.Context, conn *pgxpool.Conn, now time.Time) (int64, error) {
	var total int64
	if _, err := conn.Exec(ctx, `SET work_mem = '256MB'`); err != nil {
		return 0, err
	}
	for _, q := range []string{
		// repeat_visit_day: more than 1 visit a day
		`INSERT INTO alerts (rule, severity, status, dedup_key, enterprise_id, agency_ids, inspection_ids, detail, occurrences, first_seen, last_seen)
		 SELECT 'repeat_visit_day', 'medium', CASE WHEN max(created_at) < $1::timestamptz - interval '90 days' THEN 'resolved' ELSE 'open' END,
		   'repeat_visit_day:' || enterprise_id || ':' || to_char(d, 'YYYY-MM-DD'), enterprise_id, array_agg(DISTINCT agency_id), array_agg(id ORDER BY id),
		   jsonb_build_object('visits', count(*), 'max', 1, 'period', to_char(d, 'YYYY-MM-DD')), count(*) - 1, min(created_at), max(created_at)
		 FROM (SELECT *, (window_from AT TIME ZONE 'Asia/Shanghai')::date d FROM inspections WHERE status <> 'cancelled') i
		 GROUP BY enterprise_id, d HAVING count(*) > 1`,
		// repeat_visit_month: more than 3 visits in a calendar month
		`INSERT INTO alerts (rule, severity, status, dedup_key, enterprise_id, agency_ids, inspection_ids, detail, occurrences, first_seen, last_seen)
		 SELECT 'repeat_visit_month', 'medium', CASE WHEN max(created_at) < $1::timestamptz - interval '90 days' THEN 'resolved' ELSE 'open' END,
		   'repeat_visit_month:' || enterprise_id || ':' || to_char(m, 'YYYY-MM'), enterprise_id, array_agg(DISTINCT agency_id), array_agg(id ORDER BY id),
		   jsonb_build_object('visits', count(*), 'max', 3, 'period', to_char(m, 'YYYY-MM')), count(*) - 3, min(created_at), max(created_at)
		 FROM (SELECT *, date_trunc('month', window_from AT TIME ZONE 'Asia/Shanghai') m FROM inspections WHERE status <> 'cancelled') i
		 GROUP BY enterprise_id, m HAVING count(*) > 3`,
		// multi_agency: several agencies in a month, not jointly
		`INSERT INTO alerts (rule, severity, status, dedup_key, enterprise_id, agency_ids, inspection_ids, detail, occurrences, first_seen, last_seen)
		 SELECT 'multi_agency', 'low', CASE WHEN max(created_at) < $1::timestamptz - interval '90 days' THEN 'dismissed' ELSE 'open' END,
		   'multi_agency:' || enterprise_id || ':' || to_char(m, 'YYYY-MM'), enterprise_id, array_agg(DISTINCT agency_id), array_agg(id ORDER BY id),
		   jsonb_build_object('agencies', count(DISTINCT agency_id), 'days', 30), count(*) - 1, min(created_at), max(created_at)
		 FROM (SELECT *, date_trunc('month', window_from AT TIME ZONE 'Asia/Shanghai') m FROM inspections
		       WHERE status <> 'cancelled' AND cardinality(joint_agency_ids) = 0) i
		 GROUP BY enterprise_id, m HAVING count(DISTINCT agency_id) > 1`,
		// cap_exceeded: an agency's routine visits in a year over its cap
		`INSERT INTO alerts (rule, severity, status, dedup_key, enterprise_id, agency_ids, inspection_ids, detail, occurrences, first_seen, last_seen)
		 SELECT 'cap_exceeded', 'high', CASE WHEN max(i.created_at) < $1::timestamptz - interval '90 days' THEN 'resolved' ELSE 'open' END,
		   'cap_exceeded:' || i.enterprise_id || ':' || i.agency_id || ':' || y, i.enterprise_id, ARRAY[i.agency_id], array_agg(i.id ORDER BY i.id),
		   jsonb_build_object('visits', count(*), 'max', CASE e.grade WHEN 'A' THEN 1 ELSE 2 END, 'year', y), 1, min(i.created_at), max(i.created_at)
		 FROM (SELECT *, extract(year FROM window_from AT TIME ZONE 'Asia/Shanghai')::int y FROM inspections
		       WHERE status <> 'cancelled' AND kind <> 'triggered') i JOIN enterprises e ON e.id = i.enterprise_id
		 GROUP BY i.enterprise_id, i.agency_id, y, e.grade HAVING count(*) > CASE e.grade WHEN 'A' THEN 1 ELSE 2 END`,
	} {
		tag, err := conn.Exec(ctx, q, now)
		if err != nil {
			return total, fmt.Errorf("derive alerts: %w", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

type indexDef struct{ name, def string }

// dropIndexes drops a table's secondary indexes (not the primary key or
// unique ones) and returns their definitions for rebuildIndexes.
func dropIndexes(ctx context.Context, pool *pgxpool.Pool, table string) ([]indexDef, error) {
	var idx []indexDef
	if err := scanAll(ctx, pool, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid
		WHERE i.tablename = '`+table+`' AND NOT x.indisprimary AND NOT x.indisunique`, func(r pgx.Rows) error {
		var d indexDef
		err := r.Scan(&d.name, &d.def)
		idx = append(idx, d)
		return err
	}); err != nil {
		return nil, err
	}
	for _, x := range idx {
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{x.name}.Sanitize()); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

func rebuildIndexes(ctx context.Context, conn *pgxpool.Conn, idx []indexDef) error {
	for _, q := range []string{`SET maintenance_work_mem = '512MB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	for _, x := range idx {
		if _, err := conn.Exec(ctx, x.def); err != nil {
			return fmt.Errorf("rebuild %s: %w", x.name, err)
		}
	}
	return nil
}

func scanAll(ctx context.Context, pool *pgxpool.Pool, q string, fn func(pgx.Rows) error) error {
	rows, err := pool.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
