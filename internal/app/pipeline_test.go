package app

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"greenchannel/internal/casework"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/jobs/jobstest"
	"greenchannel/internal/platform/pg/pgtest"
)

// waitFor polls cond until it holds or the deadline passes. It waits for
// background work to finish, never for a deadline of the product's own.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countRequests(t *testing.T, d *deps, where string) int {
	t.Helper()
	var n int
	if err := d.db.NewRaw("SELECT count(*) FROM requests WHERE "+where).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// addOfficers gives the police enough hands that a burst is not all pooled.
func addOfficers(t *testing.T, d *deps, n, capacity int) {
	t.Helper()
	if _, err := d.db.ExecContext(context.Background(), `
		WITH u AS (
		  INSERT INTO users (username, display_name, role, password_hash, agency_id)
		  SELECT 'cop' || g, '警官' || g, 'officer', 'x', (SELECT id FROM agencies WHERE code = 'police') FROM generate_series(1, ?) g
		  RETURNING id)
		INSERT INTO officer_profiles (user_id, skills, capacity, on_duty) SELECT id, '{security_protection}', ?, true FROM u`, n, capacity); err != nil {
		t.Fatal(err)
	}
}

func fileMany(t *testing.T, w *world, n int) {
	t.Helper()
	a, err := w.d.identity.Authenticate(context.Background(), w.tokens["ent1"])
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := w.d.casework.Create(context.Background(), a, casework.NewRequest{
			Category: "security_protection", Title: "厂区周边治安", Description: "夜间有人翻墙"}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

// Redis is down while enterprises file: nothing is lost, and every request
// is routed once Redis is back.
func TestRequestsFiledWhileRedisIsDownAreRoutedAfterwards(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	redis := jobstest.StartServer(t)
	d := testDeps(t, dbURL, redis.URL())
	if err := seed(context.Background(), d, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, d: d, tokens: map[string]string{}, ids: map[string]int64{}}
	tok, _, err := d.identity.Login(context.Background(), "ent1", demoPassword, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	w.tokens["ent1"] = tok.AccessToken
	addOfficers(t, d, 5, 20)

	redis.Stop()
	fileMany(t, w, 20)
	relay := jobs.NewRelay(d.db, dbURL, d.asynq, quiet)
	if _, err := relay.Dispatch(context.Background()); err == nil {
		t.Fatal("dispatch should fail while Redis is down")
	}
	if got := countRequests(t, d, "status = 'submitted' AND category = 'security_protection'"); got != 20 {
		t.Fatalf("%d of 20 requests saved", got)
	}

	redis.Start()
	srv := jobs.NewServer(d.rdb, quiet, 8, 5*time.Second)
	if err := srv.Start(newRegistry(d).Mux()); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if _, err := relay.Dispatch(context.Background()); err != nil { // the periodic sweep
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "all 20 requests assigned", func() bool {
		return countRequests(t, d, "status = 'assigned' AND category = 'security_protection'") == 20
	})
}

// A worker killed with SIGKILL in the middle of a burst loses nothing: the
// tasks it held are recovered by asynq when their lease runs out, and each
// request is still assigned exactly once.
func TestWorkerKilledMidBurstLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for asynq's lease recovery (up to ~90 s)")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "greenchannel")
	build := exec.Command("go", "build", "-o", bin, "greenchannel/cmd/greenchannel")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	_, dbURL := pgtest.NewWithURL(t)
	_, redisURL := jobstest.Redis(t)
	d := testDeps(t, dbURL, redisURL)
	if err := seed(context.Background(), d, true, io.Discard); err != nil {
		t.Fatal(err)
	}
	addOfficers(t, d, 10, 100)
	w := &world{t: t, d: d, tokens: map[string]string{}, ids: map[string]int64{}}
	tok, _, _ := d.identity.Login(context.Background(), "ent1", demoPassword, "127.0.0.1")
	w.tokens["ent1"] = tok.AccessToken

	startWorker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker")
		cmd.Env = append(os.Environ(), "GC_DATABASE_URL="+dbURL, "GC_REDIS_URL="+redisURL,
			"GC_DATA_DIR="+t.TempDir(), "GC_LOG_LEVEL=error")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// The burst is queued before the worker starts, so it picks up a full
	// batch at once and is killed with tasks in flight.
	fileMany(t, w, 300)
	relay := jobs.NewRelay(d.db, dbURL, d.asynq, quiet)
	if _, err := relay.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	worker := startWorker()
	waitFor(t, 30*time.Second, "the worker to get going", func() bool {
		return countRequests(t, d, "status = 'assigned'") >= 1
	})
	_ = worker.Process.Signal(syscall.SIGKILL)
	_ = worker.Wait()
	killedAt := countRequests(t, d, "status = 'assigned'")

	worker = startWorker()
	defer func() { _ = worker.Process.Signal(syscall.SIGTERM); _ = worker.Wait() }()
	waitFor(t, 150*time.Second, "every request routed after the restart", func() bool {
		return countRequests(t, d, "status = 'submitted' AND pool_reason IS NULL") == 0
	})
	var twice, over int
	_ = d.db.NewRaw(`SELECT count(*) FROM (SELECT request_id FROM request_events WHERE kind = 'assigned' GROUP BY 1 HAVING count(*) > 1) x`).Scan(context.Background(), &twice)
	_ = d.db.NewRaw(`SELECT count(*) FROM (SELECT q.assignee_id, count(*) load, p.capacity FROM requests q
		JOIN officer_profiles p ON p.user_id = q.assignee_id WHERE q.status = 'assigned' GROUP BY 1, 3) x WHERE load > capacity`).Scan(context.Background(), &over)
	if twice != 0 || over != 0 {
		t.Fatalf("after the kill (at %d assigned): %d requests assigned twice, %d officers over capacity", killedAt, twice, over)
	}
	t.Logf("killed with %d of 300 assigned; all routed after restart", killedAt)
}
