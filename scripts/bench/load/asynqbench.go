package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// The product's worker settings (internal/platform/jobs/server.go and
// internal/app/run.go): concurrency 20, queues critical/default/low weighted
// 6:3:1, TaskCheckInterval 50 ms. The baseline uses the same.
const productConcurrency = 20

func asynqServer(rdb redis.UniversalClient, conc int) *asynq.Server {
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:       conc,
		Queues:            map[string]int{"critical": 6, "default": 3, "low": 1},
		TaskCheckInterval: 50 * time.Millisecond,
		ShutdownTimeout:   5 * time.Second,
		LogLevel:          asynq.WarnLevel,
	})
}

func redisFlags(fs *flag.FlagSet) *string {
	return fs.String("redis", os.Getenv("GC_REDIS_URL"), "bench Redis URL (its database is flushed)")
}

func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	if url == "" {
		return nil, errors.New("no Redis URL (-redis or GC_REDIS_URL)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if opt.DB == 0 {
		return nil, errors.New("refusing to flush Redis database 0 (the dev database); give the bench one, e.g. redis://…/15")
	}
	rdb := redis.NewClient(opt)
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		rdb.Close()
		return nil, err
	}
	return rdb, nil
}

// The same task options the outbox relay uses.
func relayOpts(id string) []asynq.Option {
	return []asynq.Option{asynq.TaskID(id), asynq.Queue("critical"), asynq.MaxRetry(10), asynq.Timeout(20 * time.Second)}
}

// runAsynqNoop enqueues n no-op tasks into the freshly flushed database,
// then starts a server and times it until all of them have run: the same
// shape as the routing burst (everything queued, then the worker starts).
func runAsynqNoop(args []string) error {
	fs := flag.NewFlagSet("asynq-noop", flag.ExitOnError)
	rurl := redisFlags(fs)
	n := fs.Int("n", 10_000, "tasks")
	conc := fs.Int("c", productConcurrency, "server concurrency")
	name := fs.String("name", "B.noop", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	rdb, err := openRedis(ctx, *rurl)
	if err != nil {
		return err
	}
	defer rdb.Close()

	cl := asynq.NewClientFromRedisClient(rdb)
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var enqErr atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				id := "noop:" + strconv.FormatInt(i, 10)
				if _, err := cl.EnqueueContext(ctx, asynq.NewTask("bench:noop", []byte(`{"request_id":1}`)), relayOpts(id)...); err != nil {
					enqErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := enqErr.Load(); e != nil {
		return e.(error)
	}
	enq := time.Since(t0)

	var done atomic.Int64
	finished := make(chan time.Time, 1)
	srv := asynqServer(rdb, *conc)
	start := time.Now()
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(*n) {
			finished <- time.Now()
		}
		return nil
	})); err != nil {
		return err
	}
	var end time.Time
	select {
	case end = <-finished:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("only %d of %d tasks ran in 5 minutes", done.Load(), *n)
	}
	srv.Shutdown()
	took := end.Sub(start)
	rate := float64(*n) / took.Seconds()
	fmt.Printf("  %s: %d tasks enqueued in %.2fs (%.0f/s, 16 clients); processed in %.2fs by 1 server of concurrency %d: %.0f tasks/s\n",
		*name, *n, enq.Seconds(), float64(*n)/enq.Seconds(), took.Seconds(), *conc, rate)
	return emit(*results, record{*name + ".rate", rate, "tasks/s"}, record{*name + ".enqueue_rate", float64(*n) / enq.Seconds(), "tasks/s"})
}

// runAsynqLatency enqueues no-op tasks at a fixed rate (open loop) while a
// server runs, and measures enqueue-to-handler latency: the floor under the
// product's commit-to-assigned latency.
func runAsynqLatency(args []string) error {
	fs := flag.NewFlagSet("asynq-latency", flag.ExitOnError)
	rurl := redisFlags(fs)
	rate := fs.Float64("rate", 200, "tasks per second")
	dur := fs.Duration("d", 10*time.Second, "duration")
	conc := fs.Int("c", productConcurrency, "server concurrency")
	name := fs.String("name", "B.noop_latency", "figure key prefix")
	results := resultsFlag(fs)
	_ = fs.Parse(args)
	ctx := context.Background()
	rdb, err := openRedis(ctx, *rurl)
	if err != nil {
		return err
	}
	defer rdb.Close()

	var mu sync.Mutex
	var lat []time.Duration
	srv := asynqServer(rdb, *conc)
	if err := srv.Start(asynq.HandlerFunc(func(_ context.Context, t *asynq.Task) error {
		sent, err := strconv.ParseInt(string(t.Payload()), 10, 64)
		if err != nil {
			return err
		}
		d := time.Since(time.Unix(0, sent))
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		return nil
	})); err != nil {
		return err
	}
	defer srv.Shutdown()
	time.Sleep(300 * time.Millisecond) // let the server register and poll

	cl := asynq.NewClientFromRedisClient(rdb)
	interval := time.Duration(float64(time.Second) / *rate)
	total := int(dur.Seconds() * *rate)
	start := time.Now()
	var wg sync.WaitGroup
	var enqErrs atomic.Int64
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := time.Now().UnixNano()
			if _, err := cl.EnqueueContext(ctx, asynq.NewTask("bench:noop", []byte(strconv.FormatInt(now, 10))),
				relayOpts("lat:"+strconv.Itoa(i))...); err != nil {
				enqErrs.Add(1)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(lat)
		mu.Unlock()
		if got >= total-int(enqErrs.Load()) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	s := summarize(append([]time.Duration(nil), lat...))
	mu.Unlock()
	fmt.Printf("  %s: %d tasks at %.0f/s for %s (%d enqueue errors): enqueue-to-run %s\n", *name, s.N, *rate, *dur, enqErrs.Load(), s)
	return emit(*results, record{*name + ".p50", ms(s.P50), "ms"}, record{*name + ".p99", ms(s.P99), "ms"})
}
