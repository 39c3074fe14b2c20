package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/pg"
)

// outboxRow is one task waiting for, or past, dispatch to asynq.
type outboxRow struct {
	bun.BaseModel `bun:"table:outbox"`

	ID             int64           `bun:"id,pk,autoincrement"`
	TaskKey        string          `bun:"task_key"`
	TaskType       string          `bun:"task_type"`
	Queue          string          `bun:"queue"`
	Payload        json.RawMessage `bun:"payload,type:jsonb"`
	ProcessAt      *time.Time      `bun:"process_at"`
	MaxRetry       int             `bun:"max_retry"`
	TimeoutSeconds int             `bun:"timeout_seconds"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	DispatchedAt   *time.Time      `bun:"dispatched_at"`
	Attempts       int             `bun:"attempts"`
	LastError      *string         `bun:"last_error"`
}

// Enqueue writes t to the outbox inside the caller's transaction, so the task
// exists if and only if the transaction commits. A task whose key is already
// in the outbox is silently skipped: the key names the work, not the call.
func Enqueue(ctx context.Context, tx bun.IDB, t Task) error {
	return EnqueueMany(ctx, tx, []Task{t})
}

// EnqueueMany is Enqueue for a batch, in one statement. The rows are sent
// as one array per column: a VALUES list of a thousand rows (a sweep tick,
// a recompute batch) took PostgreSQL longer to parse and plan than to
// insert, and arrays cost about the same for one row as for thousands. The
// text is the same for any batch, so it is prepared once per connection.
func EnqueueMany(ctx context.Context, tx bun.IDB, tasks []Task) error {
	if len(tasks) == 0 {
		return nil
	}
	args, err := enqueueArgs(tasks)
	if err != nil {
		return err
	}
	if _, err := pg.ExecPrepared(ctx, tx, enqueueSQL, args...); err != nil {
		return fmt.Errorf("enqueue %s: %w", tasks[0].Key, err)
	}
	return nil
}

// EnqueueIn is Enqueue as one more statement of a batch the caller sends
// in its transaction, for a write that should cost one round trip.
func EnqueueIn(b *pg.Batch, tasks ...Task) error {
	args, err := enqueueArgs(tasks)
	if err != nil {
		return err
	}
	b.Exec(enqueueSQL, args...)
	return nil
}

// enqueueArgs are enqueueSQL's column arrays for tasks.
func enqueueArgs(tasks []Task) ([]any, error) {
	n := len(tasks)
	keys, types, queues, payloads := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	processAt := make([]*time.Time, n)
	retries, timeouts := make([]int, n), make([]int, n)
	for i, t := range tasks {
		if t.Type == "" || t.Key == "" {
			return nil, errors.New("enqueue: task type and key are required")
		}
		t = t.withDefaults()
		payload, err := json.Marshal(t.Payload)
		if err != nil {
			return nil, fmt.Errorf("enqueue %s: payload: %w", t.Key, err)
		}
		keys[i], types[i], queues[i], payloads[i] = t.Key, t.Type, t.Queue, string(payload)
		retries[i], timeouts[i] = t.MaxRetry, int(t.Timeout/time.Second)
		if !t.ProcessAt.IsZero() {
			at := t.ProcessAt.UTC()
			processAt[i] = &at
		}
	}
	return []any{keys, types, queues, payloads, processAt, retries, timeouts}, nil
}

const enqueueSQL = `INSERT INTO outbox (task_key, task_type, queue, payload, process_at, max_retry, timeout_seconds)
	SELECT k, t, q, p::jsonb, a, r, s
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::int[]) AS u(k, t, q, p, a, r, s)
	ON CONFLICT (task_key) DO NOTHING`

// Backlog reports how many rows wait for dispatch and the age of the oldest.
func Backlog(ctx context.Context, db bun.IDB) (count int, oldest time.Duration, err error) {
	var age float64
	err = db.NewRaw(`SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM outbox WHERE dispatched_at IS NULL`).Scan(ctx, &count, &age)
	return count, time.Duration(age * float64(time.Second)), err
}

// Prune deletes rows dispatched before the cutoff and returns how many.
func Prune(ctx context.Context, db bun.IDB, before time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*outboxRow)(nil)).
		Where("dispatched_at < ?", before).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
