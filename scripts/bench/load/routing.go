package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// routedCount counts requests above sinceID and those already placed
// (offered to an officer, or pooled with a reason).
func routedCount(ctx context.Context, pool *pgxpool.Pool, sinceID int64) (total, routed int, err error) {
	err = pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status <> 'submitted' OR pool_reason IS NOT NULL)
		FROM requests WHERE id > $1`, sinceID).Scan(&total, &routed)
	return total, routed, err
}

type checks struct {
	OverCapacity, Twice, Pooled int
	MinLoad, MaxLoad            int
}

// integrity: no officer who took part of the burst is over capacity
// (weighted open load, as routing counts it), no request of the burst has
// two `assigned` events.
func integrity(ctx context.Context, pool *pgxpool.Pool, sinceID int64) (checks, error) {
	var c checks
	err := pool.QueryRow(ctx, `
		WITH load AS (
		  SELECT p.user_id, p.capacity, coalesce(sum(c.weight), 0) AS load
		  FROM officer_profiles p
		  LEFT JOIN requests q ON q.assignee_id = p.user_id AND q.status IN ('assigned', 'in_progress', 'waiting_enterprise')
		  LEFT JOIN categories c ON c.code = q.category
		  WHERE p.user_id IN (SELECT assignee_id FROM requests WHERE id > $1 AND assignee_id IS NOT NULL)
		     OR p.user_id IN (SELECT id FROM users WHERE username LIKE 'bench.cop%')
		  GROUP BY 1, 2)
		SELECT (SELECT count(*) FROM load WHERE load > capacity),
		       (SELECT count(*) FROM (SELECT request_id FROM request_events WHERE kind = 'assigned' AND request_id > $1
		                              GROUP BY 1 HAVING count(*) > 1) x),
		       (SELECT count(*) FROM requests WHERE id > $1 AND status = 'submitted' AND pool_reason IS NOT NULL),
		       (SELECT coalesce(min(load), 0) FROM load l JOIN users u ON u.id = l.user_id WHERE u.username LIKE 'bench.cop%'),
		       (SELECT coalesce(max(load), 0) FROM load l JOIN users u ON u.id = l.user_id WHERE u.username LIKE 'bench.cop%')`,
		sinceID).Scan(&c.OverCapacity, &c.Twice, &c.Pooled, &c.MinLoad, &c.MaxLoad)
	return c, err
}

// runWaitRouted waits until every request above -since-id is routed, or
// the window after -start (when the workers were launched, after the burst
// had committed) has passed, then reports assignments per second from the
// launch to the last `assigned` event and checks capacity and double
// assignment. When the window closes first, the rate is that of the part
// routed so far, and the time for the whole burst is extrapolated.
func runWaitRouted(args []string) error {
	fs := flag.NewFlagSet("wait-routed", flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "requests with a larger id are the burst")
	startF := fs.Float64("start", 0, "unix time (s) the workers were launched")
	window := fs.Duration("window", 3*time.Minute, "stop waiting this long after -start")
	name := fs.String("name", "B.route", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	start := time.Unix(0, int64(*startF*1e9))
	deadline := start.Add(*window)
	var total, routed int
	for {
		if total, routed, err = routedCount(ctx, pool, *since); err != nil {
			return err
		}
		if total > 0 && routed == total || time.Now().After(deadline) {
			break
		}
		// The rate comes from the events' times, not from when this
		// loop notices: polling often only takes PostgreSQL's time from
		// the routers it measures (every 50 ms it was a seventh of a core).
		time.Sleep(500 * time.Millisecond)
	}
	// One statement, so the counts agree with each other while the workers
	// go on routing.
	var assigned int
	var firstAssigned, lastAssigned *time.Time
	err = pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE r.status <> 'submitted' OR r.pool_reason IS NOT NULL),
		       count(e.id), min(e.at), max(e.at)
		FROM requests r LEFT JOIN request_events e ON e.request_id = r.id AND e.kind = 'assigned' WHERE r.id > $1`, *since).
		Scan(&total, &routed, &assigned, &firstAssigned, &lastAssigned)
	if err != nil {
		return err
	}
	c, err := integrity(ctx, pool, *since)
	if err != nil {
		return err
	}
	recs := []record{{*name + ".over_capacity", float64(c.OverCapacity), ""}, {*name + ".twice", float64(c.Twice), ""},
		{*name + ".assigned", float64(assigned), ""}, {*name + ".total", float64(total), ""}}
	if assigned == 0 || lastAssigned == nil {
		fmt.Printf("  %s: no request assigned in %s\n", *name, *window)
		return emit(*results, append(recs, record{*name + ".rate", 0, "/s"})...)
	}
	wall := lastAssigned.Sub(start)
	rate := float64(assigned) / wall.Seconds()
	if routed == total {
		fmt.Printf("  %s: all %d routed (%d assigned, %d pooled); last assignment %.2fs after worker launch: %.0f assignments/s "+
			"(first-to-last assignment %.2fs)\n", *name, total, assigned, c.Pooled, wall.Seconds(), rate, lastAssigned.Sub(*firstAssigned).Seconds())
	} else {
		fmt.Printf("  %s: window of %s closed with %d of %d routed (%d assigned, %d pooled): %.0f assignments/s; "+
			"the whole burst would take about %.0fs\n", *name, *window, routed, total, assigned, c.Pooled, rate, float64(total)/rate)
	}
	fmt.Printf("  %s: checks: %d officers over capacity, %d requests with two `assigned` events; bench officers' load %d..%d\n",
		*name, c.OverCapacity, c.Twice, c.MinLoad, c.MaxLoad)
	return emit(*results, append(recs, record{*name + ".rate", rate, "/s"})...)
}

// runResetLoad retires the burst before the steady-load benchmark: its open
// requests are closed (the officers get their capacity back), the ones never
// routed are withdrawn, and outbox rows not yet relayed are marked sent, so
// no leftover work competes with the steady load.
func runResetLoad(args []string) error {
	_, err := execSince("reset-load", args,
		`UPDATE requests SET status = 'closed', closed_at = now(), updated_at = now()
		  WHERE id > $1 AND status IN ('assigned', 'in_progress', 'waiting_enterprise')`,
		`UPDATE requests SET status = 'withdrawn', updated_at = now() WHERE id > $1 AND status = 'submitted'`,
		`UPDATE outbox SET dispatched_at = now() WHERE dispatched_at IS NULL AND $1::bigint >= 0`)
	return err
}

// runDropFilings deletes the requests filed since an id, with everything
// that refers to them: the create figures' filings (HTTP and pgbench, one
// text repeated tens of thousands of times) would otherwise sit on top of
// the loaded corpus that the list and search figures read.
func runDropFilings(args []string) error {
	n, err := execSince("drop-filings", args,
		`DELETE FROM sla_breaches WHERE request_id > $1`,
		`DELETE FROM sla_clock_events e USING sla_clocks c WHERE c.id = e.clock_id AND c.request_id > $1`,
		`DELETE FROM sla_clocks WHERE request_id > $1`,
		`DELETE FROM request_events WHERE request_id > $1`,
		`DELETE FROM request_messages WHERE request_id > $1`,
		`DELETE FROM request_attachments WHERE request_id > $1`,
		`DELETE FROM request_feedback WHERE request_id > $1`,
		`DELETE FROM request_declines WHERE request_id > $1`,
		`DELETE FROM notifications WHERE request_id > $1`,
		`DELETE FROM supervision_orders WHERE request_id > $1`,
		`DELETE FROM requests WHERE id > $1`,
		`VACUUM (ANALYZE) requests`)
	if err == nil {
		fmt.Printf("  drop-filings: %d requests deleted\n", n)
	}
	return err
}

// execSince runs statements about the requests after -since-id ($1) in
// order, and returns the rows the last one that takes $1 touched.
func execSince(name string, args []string, statements ...string) (int64, error) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "requests with a larger id")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	var n int64
	for _, q := range statements {
		if !strings.Contains(q, "$1") {
			if _, err := pool.Exec(ctx, q); err != nil {
				return n, err
			}
			continue
		}
		tag, err := pool.Exec(ctx, q, *since)
		if err != nil {
			return n, err
		}
		n = tag.RowsAffected()
	}
	return n, nil
}

// runSteady files requests over HTTP at a fixed rate (open loop: a request
// is sent on schedule whether or not earlier ones have answered), then
// measures each request's commit-to-assigned time from the database:
// requests.created_at to the `at` of its `assigned` event, both stamped by
// the server processes on this host's clock.
func runSteady(args []string) error {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	db := dbFlag(fs)
	base := baseFlag(fs)
	rate := fs.Float64("rate", 200, "requests per second")
	dur := fs.Duration("d", 30*time.Second, "duration")
	windows := fs.Int("windows", 3, "report the median p99 of this many equal windows")
	users := fs.String("users", "ent1", "comma-separated usernames")
	password := fs.String("password", "demo12345", "password")
	category := fs.String("category", "security_protection", "category")
	timeout := fs.Duration("timeout", 60*time.Second, "wait this long for routing after the last request")
	drain := fs.Duration("drain", 15*time.Second, "abandon requests still unanswered this long after the last was sent")
	name := fs.String("name", "B.steady", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	us := splitList(*users)
	c := newClient(*base, *password, 64)
	for _, u := range us {
		if _, err := c.token(ctx, u); err != nil {
			return err
		}
	}
	pool, err := connect(context.Background(), *db, 2)
	if err != nil {
		return err
	}
	defer pool.Close()

	interval := time.Duration(float64(time.Second) / *rate)
	total := int(dur.Seconds() * *rate)
	var mu sync.Mutex
	var ids []int64
	var httpLat []time.Duration
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var gmu sync.Mutex
	g := newTextGen(uint64(time.Now().UnixNano()))
	// Requests still unanswered this long after the last was sent are
	// abandoned (counted as errors), so an overloaded server cannot hold the
	// benchmark for minutes.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		gmu.Lock()
		body := createBody(g, *category, int64(i))
		gmu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			code, raw, err := c.do(ctx, us[i%len(us)], http.MethodPost, "/api/v1/requests", body)
			d := time.Since(t0)
			var out struct {
				ID int64 `json:"id"`
			}
			if err == nil && code == http.StatusCreated {
				err = json.Unmarshal(raw, &out)
			}
			if err != nil || code != http.StatusCreated || out.ID == 0 {
				if errs.Add(1) == 1 {
					firstErr.Store(fmt.Sprintf("%d %v %.300s", code, err, raw))
				}
				return
			}
			mu.Lock()
			ids = append(ids, out.ID)
			httpLat = append(httpLat, d)
			mu.Unlock()
		}()
	}
	sendTook := time.Since(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(*drain):
		cancel()
		<-done
	}
	achieved := float64(len(ids)) / sendTook.Seconds()
	hs := summarize(httpLat)
	fmt.Printf("  %s: %d requests sent over %.1fs (target %.0f/s, achieved %.0f/s), %d errors; HTTP %s\n",
		*name, total, sendTook.Seconds(), *rate, achieved, errs.Load(), hs)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("  %s: first error: %s\n", *name, v)
	}
	if len(ids) == 0 {
		return errors.New("no request was filed")
	}

	recs, err := measureAssigned(pool, ids, *timeout, *windows, *name)
	if err != nil {
		return err
	}
	recs = append(recs, record{*name + ".achieved_rate", achieved, "req/s"}, record{*name + ".http_p99", ms(hs.P99), "ms"},
		record{*name + ".rate", *rate, "req/s"}, record{*name + ".errors", float64(errs.Load()), ""}, record{*name + ".filed", float64(len(ids)), ""})
	return emit(*results, recs...)
}

// measureAssigned waits up to timeout for the requests to be placed and
// reports their commit-to-assigned times: requests.created_at to the `at`
// of the `assigned` event, both stamped on this host's clock.
func measureAssigned(pool *pgxpool.Pool, ids []int64, timeout time.Duration, windows int, name string) ([]record, error) {
	deadline := time.Now().Add(timeout)
	var placed int
	for {
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM requests WHERE id = ANY($1) AND (status <> 'submitted' OR pool_reason IS NOT NULL)`,
			ids).Scan(&placed); err != nil {
			return nil, err
		}
		if placed == len(ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Requests still unassigned count with the time they have waited so far
	// (a lower bound), so a backlog shows in the percentiles.
	rows, err := pool.Query(context.Background(), `SELECT r.created_at, coalesce(e.at, now()), e.at IS NULL FROM requests r
		LEFT JOIN request_events e ON e.request_id = r.id AND e.kind = 'assigned' WHERE r.id = ANY($1) ORDER BY r.created_at`, ids)
	if err != nil {
		return nil, err
	}
	type pair struct{ created, at time.Time }
	var ps []pair
	waiting := 0
	for rows.Next() {
		var p pair
		var open bool
		if err := rows.Scan(&p.created, &p.at, &open); err != nil {
			return nil, err
		}
		if open {
			waiting++
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errors.New("no request found")
	}
	all := make([]time.Duration, len(ps))
	for i, p := range ps {
		all[i] = p.at.Sub(p.created)
	}
	overall := summarize(append([]time.Duration(nil), all...))
	// Windows by created_at.
	t0, t1 := ps[0].created, ps[len(ps)-1].created.Add(time.Nanosecond)
	span := t1.Sub(t0) / time.Duration(windows)
	var wp99 []float64
	var wdesc string
	for w := range windows {
		var ds []time.Duration
		for i, p := range ps {
			if !p.created.Before(t0.Add(span*time.Duration(w))) && p.created.Before(t0.Add(span*time.Duration(w+1))) {
				ds = append(ds, all[i])
			}
		}
		if len(ds) == 0 {
			wdesc += " (none)"
			continue
		}
		s := summarize(ds)
		wp99 = append(wp99, ms(s.P99))
		wdesc += fmt.Sprintf(" %s", fmtMs(s.P99))
	}
	slices.Sort(wp99)
	med := ms(overall.P99)
	if len(wp99) > 0 {
		med = wp99[len(wp99)/2]
	}
	fmt.Printf("  %s: commit-to-assigned over %d requests (%d still unassigned %s after the last was sent: counted with their wait so far): %s; p99 per %s window:%s\n",
		name, overall.N, waiting, timeout, overall, span.Round(time.Second), wdesc)
	return []record{{name + ".p50", ms(overall.P50), "ms"}, {name + ".p99", ms(overall.P99), "ms"},
		{name + ".p99_window_median", med, "ms"}, {name + ".unassigned", float64(waiting), ""}}, nil
}

// runAssigned measures commit-to-assigned for every request above
// -since-id, filed by someone else (pgbench at a fixed rate).
func runAssigned(args []string) error {
	fs := flag.NewFlagSet("assigned", flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "requests above this id")
	rate := fs.Float64("rate", 0, "the filing rate, for the report")
	timeout := fs.Duration("timeout", 15*time.Second, "wait this long for routing")
	windows := fs.Int("windows", 3, "report the median p99 of this many equal windows")
	name := fs.String("name", "B.steady_pg", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	pool, err := connect(context.Background(), *db, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	var ids []int64
	rows, err := pool.Query(context.Background(), `SELECT id FROM requests WHERE id > $1 ORDER BY id`, *since)
	if err != nil {
		return err
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("no request was filed")
	}
	recs, err := measureAssigned(pool, ids, *timeout, *windows, *name)
	if err != nil {
		return err
	}
	return emit(*results, append(recs, record{*name + ".rate", *rate, "req/s"}, record{*name + ".filed", float64(len(ids)), ""})...)
}
