package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/storage"
)

// runBurst files n requests through the product's own service path,
// casework.Service.Create (the transaction the HTTP handler runs: category,
// ticket number, request, timeline event, outbox row, then the re-read),
// from c goroutines, without HTTP in front and with no worker running.
func runBurst(args []string) error {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	db := dbFlag(fs)
	n := fs.Int("n", 10_000, "requests to file")
	conc := fs.Int("c", 32, "concurrent callers")
	nusers := fs.Int("users", 16, "bench enterprise users to file as")
	category := fs.String("category", "security_protection", "category")
	name := fs.String("name", "B.burst", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()

	pcfg, err := pgx.ParseConfig(*db)
	if err != nil {
		return err
	}
	if err := benchOnly(pcfg.Database); err != nil {
		return err
	}
	bdb, err := pg.Open(ctx, *db) // the product's pool settings
	if err != nil {
		return err
	}
	defer bdb.Close()
	dir, err := os.MkdirTemp("", "bench-files-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files, err := storage.NewLocal(dir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := casework.NewService(bdb, clock.System{}, log, files, casework.DefaultLimits)

	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	names, ids, ents, err := benchUsers(ctx, pool, *nusers)
	pool.Close()
	if err != nil {
		return err
	}
	actors := make([]identity.Actor, len(ids))
	for i := range ids {
		actors[i] = identity.Actor{UserID: ids[i], Username: names[i], Role: identity.RoleEnterprise, EnterpriseID: ents[i]}
	}

	var next, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newTextGen(uint64(7000 + w))
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				_, _, err := svc.Create(ctx, actors[int(i)%len(actors)], casework.NewRequest{
					Category: *category, Title: g.title(*category) + " #" + strconv.FormatInt(i, 10), Description: g.description(*category)})
				if err != nil {
					if failed.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("  %s: %d requests filed through casework.Service.Create in %.2fs by %d callers (%.0f/s), %d failed\n",
		*name, *n-int(failed.Load()), took.Seconds(), *conc, float64(*n)/took.Seconds(), failed.Load())
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("first failure: %v", v)
	}
	return emit(*results, record{*name + ".insert_rate", float64(*n) / took.Seconds(), "req/s"})
}

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

// runWaitRouted waits until every request above -since-id is routed, then
// reports assignments per second from -start (when the workers were
// launched, after the burst had committed) to the last `assigned` event,
// and checks capacity and double assignment.
func runWaitRouted(args []string) error {
	fs := flag.NewFlagSet("wait-routed", flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "requests with a larger id are the burst")
	startF := fs.Float64("start", 0, "unix time (s) the workers were launched")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after")
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
	deadline := time.Now().Add(*timeout)
	var total, routed int
	for {
		if total, routed, err = routedCount(ctx, pool, *since); err != nil {
			return err
		}
		if total > 0 && routed == total {
			break
		}
		if time.Now().After(deadline) {
			fmt.Printf("  %s: TIMEOUT: %d of %d routed after %s\n", *name, routed, total, *timeout)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var assigned int
	var firstCommit, firstAssigned, lastAssigned time.Time
	err = pool.QueryRow(ctx, `SELECT count(*), min(r.created_at), min(e.at), max(e.at)
		FROM requests r JOIN request_events e ON e.request_id = r.id AND e.kind = 'assigned' WHERE r.id > $1`, *since).
		Scan(&assigned, &firstCommit, &firstAssigned, &lastAssigned)
	if err != nil {
		return fmt.Errorf("no assigned events: %w", err)
	}
	c, err := integrity(ctx, pool, *since)
	if err != nil {
		return err
	}
	wall := lastAssigned.Sub(start)
	active := lastAssigned.Sub(firstAssigned)
	rate := float64(assigned) / wall.Seconds()
	fmt.Printf("  %s: %d of %d assigned (%d pooled) in %.2fs from worker launch to last assignment: %.0f assignments/s "+
		"(first-to-last assignment %.2fs: %.0f/s)\n", *name, assigned, total, c.Pooled, wall.Seconds(), rate,
		active.Seconds(), float64(assigned)/active.Seconds())
	fmt.Printf("  %s: checks: %d officers over capacity, %d requests with two `assigned` events; bench officers' load %d..%d\n",
		*name, c.OverCapacity, c.Twice, c.MinLoad, c.MaxLoad)
	recs := []record{{*name + ".rate", rate, "/s"}, {*name + ".over_capacity", float64(c.OverCapacity), ""},
		{*name + ".twice", float64(c.Twice), ""}, {*name + ".unrouted", float64(total - routed), ""}}
	if routed < total {
		return errors.Join(emit(*results, recs...), fmt.Errorf("%d requests not routed", total-routed))
	}
	return emit(*results, recs...)
}

// runResetLoad closes the burst's open requests so the officers have
// their capacity back for the next benchmark.
func runResetLoad(args []string) error {
	fs := flag.NewFlagSet("reset-load", flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "only requests with a larger id")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, `UPDATE requests SET status = 'closed', closed_at = now(), updated_at = now()
		WHERE id > $1 AND status IN ('assigned', 'in_progress', 'waiting_enterprise')`, *since)
	return err
}

// runResetBurst puts the burst back to the state Create left it in
// (submitted, unrouted, its routing task undispatched in the outbox), so
// the next routing run replays the same 10,000 requests without filing
// them again. Run it with no worker running; bench.sh flushes Redis after.
func runResetBurst(args []string) error {
	fs := flag.NewFlagSet("reset-burst", flag.ExitOnError)
	db := dbFlag(fs)
	since := fs.Int64("since-id", 0, "the burst's requests have a larger id")
	_ = fs.Parse(args)
	ctx := context.Background()
	pool, err := connect(ctx, *db, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	for _, q := range []string{
		`DELETE FROM notifications WHERE request_id > $1`,
		`DELETE FROM request_events WHERE request_id > $1 AND kind <> 'created'`,
		`DELETE FROM request_declines WHERE request_id > $1`,
		`DELETE FROM outbox WHERE task_type <> 'routing:assign' AND (payload->>'request_id')::bigint > $1`,
		`UPDATE outbox SET dispatched_at = NULL, attempts = 0, last_error = NULL
		  WHERE task_type = 'routing:assign' AND (payload->>'request_id')::bigint > $1`,
		`UPDATE requests SET status = 'submitted', agency_id = NULL, assignee_id = NULL, offered_at = NULL,
		  pool_reason = NULL, offer_misses = 0, version = 1, updated_at = created_at WHERE id > $1`,
		`UPDATE officer_profiles SET last_assigned_at = NULL WHERE last_assigned_at IS NOT NULL AND $1::bigint >= 0`,
	} {
		if _, err := tx.Exec(ctx, q, *since); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	for _, t := range []string{"requests", "request_events", "outbox", "notifications", "officer_profiles"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return err
		}
	}
	return nil
}

// runSteady files requests over HTTP at a fixed rate (open loop: a request
// is sent on schedule whether or not earlier ones have answered), then
// measures each request's commit-to-assigned time from the database:
// requests.created_at to the `at` of its `assigned` event, both stamped by
// the server processes on this host's clock.
func runSteady(args []string) error {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	db := dbFlag(fs)
	base := fs.String("base", "http://127.0.0.1:18080", "server base URL")
	rate := fs.Float64("rate", 200, "requests per second")
	dur := fs.Duration("d", 30*time.Second, "duration")
	windows := fs.Int("windows", 3, "report the median p99 of this many equal windows")
	users := fs.String("users", "ent1", "comma-separated usernames")
	password := fs.String("password", "demo12345", "password")
	category := fs.String("category", "security_protection", "category")
	timeout := fs.Duration("timeout", 60*time.Second, "wait this long for routing after the last request")
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
	pool, err := connect(ctx, *db, 2)
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
	wg.Wait()
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

	deadline := time.Now().Add(*timeout)
	var placed int
	for {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM requests WHERE id = ANY($1) AND (status <> 'submitted' OR pool_reason IS NOT NULL)`,
			ids).Scan(&placed); err != nil {
			return err
		}
		if placed == len(ids) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows, err := pool.Query(ctx, `SELECT r.created_at, e.at FROM requests r
		JOIN request_events e ON e.request_id = r.id AND e.kind = 'assigned' WHERE r.id = ANY($1) ORDER BY r.created_at`, ids)
	if err != nil {
		return err
	}
	type pair struct{ created, at time.Time }
	var ps []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.created, &p.at); err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return errors.New("no request was assigned")
	}
	all := make([]time.Duration, len(ps))
	for i, p := range ps {
		all[i] = p.at.Sub(p.created)
	}
	overall := summarize(append([]time.Duration(nil), all...))
	// Windows by created_at.
	t0, t1 := ps[0].created, ps[len(ps)-1].created.Add(time.Nanosecond)
	span := t1.Sub(t0) / time.Duration(*windows)
	var wp99 []float64
	var wdesc string
	for w := range *windows {
		var ds []time.Duration
		for i, p := range ps {
			if !p.created.Before(t0.Add(span*time.Duration(w))) && p.created.Before(t0.Add(span*time.Duration(w+1))) {
				ds = append(ds, all[i])
			}
		}
		s := summarize(ds)
		wp99 = append(wp99, ms(s.P99))
		wdesc += fmt.Sprintf(" %s", fmtMs(s.P99))
	}
	slices.Sort(wp99)
	med := wp99[len(wp99)/2]
	fmt.Printf("  %s: commit-to-assigned over %d requests (%d not placed in %s, %d pooled): %s; p99 per %s window:%s\n",
		*name, overall.N, len(ids)-placed, *timeout, placed-overall.N, overall, span.Round(time.Second), wdesc)
	recs := []record{{*name + ".p50", ms(overall.P50), "ms"}, {*name + ".p99", ms(overall.P99), "ms"},
		{*name + ".p99_window_median", med, "ms"}, {*name + ".achieved_rate", achieved, "req/s"},
		{*name + ".http_p99", ms(hs.P99), "ms"}, {*name + ".unassigned", float64(len(ids) - overall.N), ""}}
	return emit(*results, recs...)
}
