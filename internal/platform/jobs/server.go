package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// NewServer returns the asynq worker server. shutdown is how long in-flight
// tasks get to finish on SIGTERM; it must exceed the longest task timeout or
// those tasks are abandoned (asynq re-queues them after the lease expires).
func NewServer(rdb redis.UniversalClient, log *slog.Logger, concurrency int, shutdown time.Duration) *asynq.Server {
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: concurrency,
		Queues:      map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1},
		// Idle pickup latency: the default 1 s would dominate commit-to-assigned.
		TaskCheckInterval: 50 * time.Millisecond,
		ShutdownTimeout:   shutdown,
		Logger:            slogAdapter{log.With("component", "asynq")},
		LogLevel:          asynq.InfoLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			log.Warn("job failed", "type", t.Type(), "task_id", id, "retry", retried, "max_retry", maxRetry, "err", err)
		}),
	})
}

// ParseRedisURL builds a go-redis client from a redis:// URL. One client is
// shared by the asynq client, server, inspector and health checks.
func ParseRedisURL(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	opt.DialTimeout = 2 * time.Second
	return redis.NewClient(opt), nil
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Fatal is called by asynq on unrecoverable start-up errors; asynq exits after.
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

var _ asynq.Logger = slogAdapter{}
