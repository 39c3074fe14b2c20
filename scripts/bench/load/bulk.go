package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// runBulkload COPYs n requests spread over the demo enterprises,
// categories, statuses, agencies and officers, created between
// 2023-01-01 and yesterday (ids ascend with created_at, like production).
// With -open the rows are open requests (assigned, in progress, waiting for
// the enterprise) filed over the last 30 days instead: the SLA engine's
// scale target is a million of them running clocks at once, which the
// lifecycle mix of the main load (about 16,000 open) never reaches. They
// are held by off-duty officers of their own (slaOfficers).
// Secondary indexes are dropped for the load and rebuilt from their own
// definitions after it, then the table is analyzed.
func runBulkload(args []string) error {
	fs := flag.NewFlagSet("bulkload", flag.ExitOnError)
	db := dbFlag(fs)
	n := fs.Int("n", 1_000_000, "rows to load")
	queries := fs.String("count", "合同,商标,劳动仲裁", "report how many loaded rows each of these searches matches")
	streams := fs.Int("streams", 2, "parallel COPY streams")
	open := fs.Bool("open", false, "load open requests filed over the last 30 days, held by off-duty officers of their own")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, int32(*streams+1))
	if err != nil {
		return err
	}
	defer pool.Close()

	ref, err := loadRef(ctx, pool)
	if err != nil {
		return err
	}
	from := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Now().UTC().Add(-24 * time.Hour)
	if *open {
		ref.open = true
		to = time.Now().UTC().Add(-3 * time.Hour) // accepted within two hours of filing: before now
		from = to.Add(-30 * 24 * time.Hour)
		if ref.officers, err = slaOfficers(ctx, pool); err != nil {
			return err
		}
	}
	step := to.Sub(from) / time.Duration(*n)

	// Ticket numbers: reserve a block of each year's sequence, so numbers
	// never collide with what next_ticket_seq hands out later.
	perYear := map[int]int64{}
	for i := range *n {
		perYear[shanghaiYear(from.Add(step*time.Duration(i)))]++
	}
	next := map[int]int64{}
	for y, cnt := range perYear {
		var first int64
		if err := pool.QueryRow(ctx, `SELECT next_ticket_seq($1)`, y).Scan(&first); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, fmt.Sprintf(`SELECT setval('ticket_seq_%d', $1)`, y), first+cnt); err != nil {
			return err
		}
		next[y] = first
	}

	t0 := time.Now()
	var idx []struct{ name, def string }
	rows, err := pool.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname
		JOIN pg_index x ON x.indexrelid = c.oid
		WHERE i.tablename = 'requests' AND NOT x.indisprimary AND NOT x.indisunique`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		idx = append(idx, struct{ name, def string }{name, def})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range idx {
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{x.name}.Sanitize()); err != nil {
			return err
		}
	}

	// Rows are generated in id order and handed out in chunks, so with
	// several streams ids still roughly follow created_at.
	type chunk struct{ from, to int }
	const chunkSize = 20_000
	work := make(chan chunk)
	go func() {
		for i := 0; i < *n; i += chunkSize {
			work <- chunk{i, min(i+chunkSize, *n)}
		}
		close(work)
	}()
	// Ticket numbers are assigned per row index in advance (sequential per year).
	tickets := make([]string, *n)
	for i := range *n {
		y := shanghaiYear(from.Add(step * time.Duration(i)))
		tickets[i] = fmt.Sprintf("GC-%d-%06d", y, next[y])
		next[y]++
	}

	cols := []string{"ticket_no", "enterprise_id", "created_by", "category", "title", "description", "priority",
		"contact_name", "contact_phone", "status", "agency_id", "assignee_id", "version", "accepted_at",
		"resolved_at", "closed_at", "search_terms", "created_at", "updated_at", "offered_at", "pool_reason"}
	qs := splitList(*queries)
	var qterms [][]string
	for _, q := range qs {
		qterms = append(qterms, queryTerms(q))
	}
	matches := make([]atomic.Int64, len(qs))
	errc := make(chan error, *streams)
	for s := range *streams {
		go func() {
			errc <- func() error {
				conn, err := pool.Acquire(ctx)
				if err != nil {
					return err
				}
				defer conn.Release()
				// The rows are valid by construction: skip the per-row FK triggers.
				if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
					return err
				}
				g := newTextGen(uint64(1000 + s))
				for c := range work {
					i := c.from
					_, err := conn.CopyFrom(ctx, pgx.Identifier{"requests"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
						if i >= c.to {
							return nil, nil
						}
						created := from.Add(step*time.Duration(i) + time.Duration(g.r.Int64N(int64(step))))
						row := ref.row(g, tickets[i], created, to)
						i++
						terms := row[16].([]string)
						for k, qt := range qterms {
							if containsAll(terms, qt) {
								matches[k].Add(1)
							}
						}
						return row, nil
					}))
					if err != nil {
						return err
					}
				}
				_, err = conn.Exec(ctx, `RESET session_replication_role`)
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
	loaded := time.Since(t0)

	t1 := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
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
	indexed := time.Since(t1)
	t2 := time.Now()
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE requests`); err != nil {
		return err
	}
	var total int64
	var size string
	if err := conn.QueryRow(ctx, `SELECT count(*), pg_size_pretty(pg_total_relation_size('requests')) FROM requests`).Scan(&total, &size); err != nil {
		return err
	}
	fmt.Printf("  bulkload: %d rows copied in %.1fs, %d indexes rebuilt in %.1fs, vacuum analyze %.1fs; requests now %d rows, %s\n",
		*n, loaded.Seconds(), len(idx), indexed.Seconds(), time.Since(t2).Seconds(), total, size)
	var ms []string
	for k, q := range qs {
		ms = append(ms, fmt.Sprintf("%s %d (%.1f%%)", q, matches[k].Load(), 100*float64(matches[k].Load())/float64(*n)))
	}
	if len(ms) > 0 {
		fmt.Printf("  bulkload: loaded rows matching: %s\n", strings.Join(ms, ", "))
	}
	return nil
}

type refData struct {
	enterprises []int64
	entUser     map[int64]int64 // enterprise -> a user of it
	catAgency   map[string]int64
	catPrio     map[string]string
	officers    map[int64][]int64 // agency -> officers

	// Open requests never exceed an officer's capacity, as in production
	// (routing guarantees it): free counts what each officer can still take.
	mu   sync.Mutex
	free map[int64]int

	open bool // only open requests, each officer taking any number
}

func loadRef(ctx context.Context, pool *pgxpool.Pool) (*refData, error) {
	r := &refData{entUser: map[int64]int64{}, catAgency: map[string]int64{}, catPrio: map[string]string{},
		officers: map[int64][]int64{}, free: map[int64]int{}}
	rows, err := pool.Query(ctx, `SELECT e.id, min(u.id) FROM enterprises e JOIN users u ON u.enterprise_id = e.id GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e, u int64
		if err := rows.Scan(&e, &u); err != nil {
			return nil, err
		}
		r.enterprises = append(r.enterprises, e)
		r.entUser[e] = u
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(r.enterprises) == 0 {
		return nil, errors.New("no enterprise has a user (run `load setup -users` first)")
	}
	rows, err = pool.Query(ctx, `SELECT c.code, a.id, c.default_priority FROM categories c JOIN agencies a ON a.code = c.agency_kind`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code, prio string
		var a int64
		if err := rows.Scan(&code, &a, &prio); err != nil {
			return nil, err
		}
		r.catAgency[code], r.catPrio[code] = a, prio
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `SELECT u.agency_id, u.id, p.capacity FROM users u JOIN officer_profiles p ON p.user_id = u.id
		WHERE u.role = 'officer' ORDER BY u.id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var a, u int64
		var capacity int
		if err := rows.Scan(&a, &u, &capacity); err != nil {
			return nil, err
		}
		r.officers[a] = append(r.officers[a], u)
		r.free[u] = capacity * 9 / 10 // leave some room, as a busy but not saturated agency would
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for code := range categoryTopics {
		if _, ok := r.catAgency[code]; !ok {
			return nil, fmt.Errorf("category %s: no agency with code = agency_kind", code)
		}
	}
	return r, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// statusFor draws a status: requests older than 60 days are finished;
// recent ones are spread over the whole lifecycle.
func statusFor(g *textGen, age time.Duration) string {
	n := g.r.IntN(100)
	type w struct {
		s string
		p int
	}
	table := []w{{"closed", 90}, {"withdrawn", 10}}
	if age < 60*24*time.Hour {
		table = []w{{"submitted", 2}, {"assigned", 5}, {"in_progress", 25}, {"waiting_enterprise", 5},
			{"resolved", 15}, {"closed", 40}, {"withdrawn", 8}}
	}
	for _, x := range table {
		if n < x.p {
			return x.s
		}
		n -= x.p
	}
	return "closed"
}

// slaOfficers adds (once) the officers who hold the open set: 50 per
// agency, off duty, so routing never considers them and the officers A and
// B route to keep their capacity however many open requests C loads.
func slaOfficers(ctx context.Context, pool *pgxpool.Pool) (map[int64][]int64, error) {
	if _, err := pool.Exec(ctx, `
		WITH u AS (
		  INSERT INTO users (username, display_name, role, password_hash, agency_id)
		  SELECT 'bench.sla.' || a.code || '.' || g, a.name || '办案组' || g, 'officer', 'x', a.id
		  FROM agencies a, generate_series(1, 50) g
		  WHERE a.code IN ('court', 'procuratorate', 'police', 'justice')
		  ON CONFLICT DO NOTHING
		  RETURNING id, agency_id)
		INSERT INTO officer_profiles (user_id, skills, capacity, on_duty)
		SELECT u.id, (SELECT array_agg(c.code ORDER BY c.code) FROM categories c JOIN agencies a ON a.kind = c.agency_kind WHERE a.id = u.agency_id),
		       100, false
		FROM u`); err != nil {
		return nil, fmt.Errorf("sla officers: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT agency_id, id FROM users WHERE username LIKE 'bench.sla.%' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out := map[int64][]int64{}
	for rows.Next() {
		var a, u int64
		if err := rows.Scan(&a, &u); err != nil {
			return nil, err
		}
		out[a] = append(out[a], u)
	}
	return out, rows.Err()
}

// openStatusFor draws the status of an open request: mostly in progress,
// some offered and not yet accepted, some waiting for the enterprise (its
// resolution clock paused).
func openStatusFor(g *textGen) string {
	switch n := g.r.IntN(100); {
	case n < 10:
		return "assigned"
	case n < 85:
		return "in_progress"
	default:
		return "waiting_enterprise"
	}
}

var openStatus = map[string]bool{"assigned": true, "in_progress": true, "waiting_enterprise": true}

// take picks an officer of the agency for a request; an open one only if
// that officer has capacity left (ok false: nobody has).
func (r *refData) take(g *textGen, agency int64, open bool) (int64, bool) {
	offs := r.officers[agency]
	if len(offs) == 0 {
		return 0, false
	}
	if !open {
		return offs[g.r.IntN(len(offs))], true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for range 8 {
		o := offs[g.r.IntN(len(offs))]
		if r.free[o] > 0 {
			r.free[o]--
			return o, true
		}
	}
	return 0, false
}

func (r *refData) row(g *textGen, ticket string, created, now time.Time) []any {
	ent := r.enterprises[g.r.IntN(len(r.enterprises))]
	cat := g.category()
	title := g.title(cat)
	descr := g.description(cat)
	prio := r.catPrio[cat]
	if prio == "normal" {
		switch n := g.r.IntN(10); {
		case n == 0:
			prio = "low"
		case n == 1:
			prio = "high"
		}
	}
	status := statusFor(g, now.Sub(created))
	if r.open {
		status = openStatusFor(g)
	}
	if status == "assigned" && now.Sub(created) > 3*24*time.Hour {
		status = "in_progress" // offers do not stay unanswered for days
	}
	var agency, assignee any
	var accepted, resolved, closed, offered, pool any
	updated := created
	// A live system routes a request within a second of filing, so the
	// submitted ones of the past sit in an agency pool; none waits for
	// routing (the burst measures only its own).
	{
		a := r.catAgency[cat]
		agency = a
		if status != "submitted" && status != "withdrawn" {
			o, ok := r.take(g, a, openStatus[status] && !r.open)
			if !ok { // every officer of the agency is full: it was finished
				status = "closed"
				o, _ = r.take(g, a, false)
			}
			if o != 0 {
				assignee = o
				offered = created.Add(time.Duration(1+g.r.IntN(600)) * time.Second)
				updated = offered.(time.Time)
			}
		}
		if status == "submitted" {
			pool = "no_eligible_officer"
		}
	}
	if slices.Contains([]string{"in_progress", "waiting_enterprise", "resolved", "closed"}, status) && assignee != nil {
		t := created.Add(time.Duration(10+g.r.IntN(7200)) * time.Second)
		accepted, updated = t, t
	}
	if status == "resolved" || status == "closed" {
		t := created.Add(time.Duration(1+g.r.IntN(20*24)) * time.Hour)
		resolved, updated = t, t
		if status == "closed" {
			t = t.Add(time.Duration(1+g.r.IntN(7*24)) * time.Hour)
			closed, updated = t, t
		}
	}
	if status == "withdrawn" {
		updated = created.Add(time.Duration(1+g.r.IntN(72)) * time.Hour)
	}
	return []any{ticket, ent, r.entUser[ent], cat, title, descr, prio, "", "", status, agency, assignee,
		1 + g.r.IntN(4), accepted, resolved, closed, searchTerms(title, descr), created, updated, offered, pool}
}
