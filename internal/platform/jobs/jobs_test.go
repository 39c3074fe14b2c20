package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/jobs/jobstest"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/pg/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func pending(t *testing.T, db bun.IDB) int {
	t.Helper()
	n, _, err := jobs.Backlog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func queueLen(t *testing.T, rdb redis.UniversalClient, queue string) int {
	t.Helper()
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(queue)
	if err != nil {
		return 0 // queue not created yet
	}
	return info.Pending + info.Scheduled
}

func TestRollbackEnqueuesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	boom := errors.New("boom")
	err := pg.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := jobs.Enqueue(ctx, tx, jobs.Task{Type: "test:noop", Key: "k1"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	if n := pending(t, db); n != 0 {
		t.Fatalf("rolled-back enqueue left %d outbox rows", n)
	}
}

func TestEnqueueSameKeyTwiceIsOneTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	for range 2 {
		if err := jobs.Enqueue(ctx, db, jobs.Task{Type: "test:noop", Key: "same"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(t, db); n != 1 {
		t.Fatalf("want 1 row, got %d", n)
	}
}

// A batch goes in as column arrays: payloads with quotes, backslashes and
// non-ASCII text, times and keys repeated within the batch come out as sent.
func TestEnqueueManyKeepsEveryField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	at := time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)
	tasks := []jobs.Task{
		{Type: "test:a", Key: "a", Payload: map[string]string{"body": `引号 "quoted" \ back\slash, {braces}`}, ProcessAt: at},
		{Type: "test:b", Key: "b", Queue: jobs.QueueCritical, MaxRetry: 3, Timeout: time.Minute},
		{Type: "test:a", Key: "a"}, // the same key again: one task
	}
	if err := jobs.EnqueueMany(ctx, db, tasks); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Key       string     `bun:"task_key"`
		Queue     string     `bun:"queue"`
		Payload   string     `bun:"payload"`
		ProcessAt *time.Time `bun:"process_at"`
		MaxRetry  int        `bun:"max_retry"`
		Timeout   int        `bun:"timeout_seconds"`
	}
	if err := db.NewRaw(`SELECT task_key, queue, payload->>'body' AS payload, process_at, max_retry, timeout_seconds FROM outbox ORDER BY id`).
		Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("want 2 rows, got %+v", rows)
	}
	if a := rows[0]; a.Key != "a" || a.Payload != `引号 "quoted" \ back\slash, {braces}` || a.ProcessAt == nil || !a.ProcessAt.Equal(at) {
		t.Fatalf("first row: %+v", a)
	}
	if b := rows[1]; b.Key != "b" || b.Queue != jobs.QueueCritical || b.ProcessAt != nil || b.MaxRetry != 3 || b.Timeout != 60 {
		t.Fatalf("second row: %+v", b)
	}
}

func TestDeliveryWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dbURL := pgtest.NewWithURL(t)
	srv := jobstest.StartServer(t)
	rdb, err := jobs.ParseRedisURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	relay := jobs.NewRelay(db, dbURL, asynq.NewClientFromRedisClient(rdb), quiet)

	srv.Stop()
	if err := jobs.Enqueue(ctx, db, jobs.Task{Type: "test:noop", Key: "while-down", Queue: jobs.QueueCritical}); err != nil {
		t.Fatalf("a commit must not need Redis: %v", err)
	}
	if _, err := relay.Dispatch(ctx); err == nil {
		t.Fatal("dispatch with Redis down should report an error")
	}
	if n := pending(t, db); n != 1 {
		t.Fatalf("row must stay queued while Redis is down, pending=%d", n)
	}
	var attempts int
	if err := db.NewRaw("SELECT attempts FROM outbox WHERE task_key = 'while-down'").Scan(ctx, &attempts); err != nil || attempts != 1 {
		t.Fatalf("attempts=%d err=%v, want 1 recorded attempt", attempts, err)
	}

	srv.Start()
	n, err := relay.Dispatch(ctx) // what the periodic sweep does
	if err != nil || n != 1 {
		t.Fatalf("after Redis returns: sent=%d err=%v", n, err)
	}
	if n := pending(t, db); n != 0 {
		t.Fatalf("pending=%d after successful dispatch", n)
	}
	if got := queueLen(t, rdb, jobs.QueueCritical); got != 1 {
		t.Fatalf("critical queue holds %d tasks, want 1", got)
	}
}

func TestRelayRunDeliversRightAfterCommit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, dbURL := pgtest.NewWithURL(t)
	rdb, _ := jobstest.Redis(t)
	relay := jobs.NewRelay(db, dbURL, asynq.NewClientFromRedisClient(rdb), quiet)
	go func() { _ = relay.Run(ctx) }()

	if err := jobs.Enqueue(ctx, db, jobs.Task{Type: "test:noop", Key: "fast"}); err != nil {
		t.Fatal(err)
	}
	// The NOTIFY wakes the relay; the 5 s sweep would be far slower than this.
	deadline := time.Now().Add(3 * time.Second)
	for queueLen(t, rdb, jobs.QueueDefault) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("task not in Redis within 3 s of commit")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A task delivered twice (the relay died after Redis accepted it but before
// the row was marked) is one task in Redis, and a handler that acts through
// a guarded update has one effect even when it does run twice.
func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dbURL := pgtest.NewWithURL(t)
	rdb, _ := jobstest.Redis(t)
	relay := jobs.NewRelay(db, dbURL, asynq.NewClientFromRedisClient(rdb), quiet)

	if _, err := db.ExecContext(ctx, `CREATE TABLE thing (id int PRIMARY KEY, status text, bumps int DEFAULT 0);
		INSERT INTO thing (id, status) VALUES (1, 'new')`); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Enqueue(ctx, db, jobs.Task{Type: "test:bump", Key: "bump:1", Payload: map[string]int{"id": 1}}); err != nil {
		t.Fatal(err)
	}
	redeliver := func() {
		if _, err := db.ExecContext(ctx, "UPDATE outbox SET dispatched_at = NULL"); err != nil {
			t.Fatal(err)
		}
		if _, err := relay.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	redeliver()
	redeliver()
	if got := queueLen(t, rdb, jobs.QueueDefault); got != 1 {
		t.Fatalf("two deliveries of one key made %d tasks", got)
	}

	var runs atomic.Int32
	reg := jobs.NewRegistry(quiet, nil)
	jobs.Handle(reg, "test:bump", func(ctx context.Context, p struct{ ID int }) error {
		runs.Add(1)
		_, err := db.ExecContext(ctx, "UPDATE thing SET status = 'done', bumps = bumps + 1 WHERE id = ? AND status = 'new'", p.ID)
		return err
	})
	srv := jobs.NewServer(rdb, quiet, 2, 5*time.Second)
	if err := srv.Start(reg.Mux()); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	waitRuns := func(n int32) {
		deadline := time.Now().Add(5 * time.Second)
		for runs.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("handler ran %d times, want %d", runs.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRuns(1)
	// The handler has run; asynq deletes the task just after it returns.
	// Until then a redelivery is a duplicate of a live task and is dropped.
	insp := asynq.NewInspectorFromRedisClient(rdb)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := insp.GetTaskInfo(jobs.QueueDefault, "bump:1"); errors.Is(err, asynq.ErrTaskNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the finished task is still in Redis")
		}
	}
	redeliver() // the task is done and gone from Redis: it runs again
	waitRuns(2)
	var bumps int
	if err := db.NewRaw("SELECT bumps FROM thing WHERE id = 1").Scan(ctx, &bumps); err != nil {
		t.Fatal(err)
	}
	if bumps != 1 {
		t.Fatalf("two runs had %d effects, want 1", bumps)
	}
}

func TestSchedulerRunsInOneInstanceOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dbURL := pgtest.NewWithURL(t)
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	entries := []jobs.Periodic{{Name: "sweep", Every: time.Minute, Task: jobs.Task{Type: "test:sweep"}}}
	a := jobs.NewScheduler(db, dbURL, clk, quiet, entries)
	b := jobs.NewScheduler(db, dbURL, clk, quiet, entries)
	defer a.Release()
	defer b.Release()

	leadA, err := a.TryLead(ctx)
	if err != nil || !leadA {
		t.Fatalf("first scheduler should lead: %v %v", leadA, err)
	}
	if leadB, err := b.TryLead(ctx); err != nil || leadB {
		t.Fatalf("second scheduler must stand by while the first leads: %v %v", leadB, err)
	}

	// Even if both ticked the same minute, the slot key makes it one task.
	for _, s := range []*jobs.Scheduler{a, b, a} {
		if err := s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(t, db); n != 1 {
		t.Fatalf("one minute produced %d periodic tasks, want 1", n)
	}

	a.Release() // the leader dies
	if leadB, err := b.TryLead(ctx); err != nil || !leadB {
		t.Fatalf("standby should take over: %v %v", leadB, err)
	}
	clk.Advance(time.Minute)
	if err := b.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, db); n != 2 {
		t.Fatalf("next minute: %d tasks, want 2", n)
	}
}
