package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"greenchannel/internal/platform/pg"
)

// Relay moves committed outbox rows to asynq. It wakes on the outbox NOTIFY
// (so a task reaches Redis milliseconds after its transaction commits) and
// also sweeps on a timer, which re-sends rows left behind while Redis was
// down or when a process died between commit and dispatch.
type Relay struct {
	db         bun.IDB
	dbURL      string
	client     *asynq.Client
	log        *slog.Logger
	sweepEvery time.Duration
	batch      int
}

// NewRelay builds a relay. dbURL is used for the LISTEN connection, which
// must not come from the shared pool.
func NewRelay(db bun.IDB, dbURL string, client *asynq.Client, log *slog.Logger) *Relay {
	return &Relay{db: db, dbURL: dbURL, client: client, log: log, sweepEvery: 5 * time.Second, batch: 200}
}

// Run dispatches until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	go r.listen(ctx, wake)
	tick := time.NewTicker(r.sweepEvery)
	defer tick.Stop()
	failing := false
	for {
		if _, err := r.Dispatch(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				r.log.Warn("outbox relay: dispatch failing; rows stay queued and are retried", "err", err)
			}
			failing = true
		} else if failing {
			r.log.Info("outbox relay: dispatch recovered")
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			// Under load every commit notifies; a moment's wait lets one
			// dispatch carry the rows of many commits instead of one each.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(gather):
			}
		case <-tick.C:
		}
	}
}

// gather is how long the relay waits after a notification before it
// dispatches. With 5 ms, 50 inspection codes a second still meant a
// dispatch (three round trips and a Redis script) per code, competing with
// the requests themselves: their p99 rose by 2-5 ms against 25 ms. A task
// that waits 25 ms more is still far inside any deadline it serves (a new
// request is to be assigned within 500 ms).
const gather = 25 * time.Millisecond

// listen turns each outbox notification into a non-blocking wake-up; rows
// committed while nobody listened are picked up when listening starts.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	pg.Listen(ctx, r.dbURL, "outbox", pg.Listener{
		Listening: func() { poke(wake) },
		Notified:  func(string) { poke(wake) },
		Lost:      func(err error) { r.log.Debug("outbox relay: listen connection lost", "err", err) },
	})
}

func poke(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// Dispatch sends every pending row to asynq and returns how many were sent.
// Several relays may run at once: rows are claimed with SKIP LOCKED.
func (r *Relay) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.dispatchBatch(ctx)
		total += n
		if err != nil || n < r.batch {
			return total, err
		}
	}
}

func (r *Relay) dispatchBatch(ctx context.Context) (int, error) {
	var sent int
	var sendErr error
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Claimed and marked sent in one statement: at a steady trickle
		// of tasks each dispatch carries one or two rows, and its round
		// trips are most of its cost. Rows that do not reach Redis are
		// unmarked before the commit.
		var rows []outboxRow
		if err := tx.NewRaw(claimSQL, r.batch).Scan(ctx, &rows); err != nil {
			return err
		}
		slices.SortFunc(rows, func(a, b outboxRow) int { return cmp.Compare(a.ID, b.ID) })
		done, failed, serr := r.sendAll(ctx, rows)
		sent = len(done)
		if serr == nil {
			return nil
		}
		// Redis is most likely down: the rest stay for the next sweep.
		sendErr = serr
		var unsent []int64
		for _, o := range rows {
			if !slices.Contains(done, o.ID) {
				unsent = append(unsent, o.ID)
			}
		}
		if _, err := tx.NewUpdate().Model((*outboxRow)(nil)).Set("dispatched_at = NULL").
			Where("id IN (?)", bun.List(unsent)).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*outboxRow)(nil)).Set("attempts = attempts + 1").Set("last_error = ?", serr.Error()).
			Where("id IN (?)", bun.List(failed)).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	if sendErr != nil {
		return sent, sendErr
	}
	return sent, nil
}

// claimSQL takes the oldest pending rows no other relay holds and marks
// them sent.
const claimSQL = `UPDATE outbox SET dispatched_at = now()
	WHERE id IN (SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
	RETURNING id, task_key, task_type, queue, payload, process_at, max_retry, timeout_seconds, created_at, dispatched_at, attempts, last_error`

// sendConcurrency is how many rows are on their way to Redis at once. Each
// send is a round trip: one at a time, a burst of 10,000 filings (an
// assign task each, then an offer task and a notice each) took the relay
// longer than the routing itself.
const sendConcurrency = 16

// sendAll sends rows, the first alone and then sendConcurrency at a time.
// It returns the ids sent and, after a failure, the ids that failed and the
// first error. Once one fails no more are started: the rest wait for the
// next sweep.
func (r *Relay) sendAll(ctx context.Context, rows []outboxRow) (done, failed []int64, err error) {
	errs := make([]error, len(rows))
	started := make([]bool, len(rows))
	var failing atomic.Bool
	var wg sync.WaitGroup
	slots := make(chan struct{}, sendConcurrency)
	for i := range rows {
		if i == 1 {
			// The first row goes alone: while Redis is down a sweep
			// costs one failed send, not sixteen (whose failed dials
			// would also keep the client from dialing for a while after
			// Redis is back).
			wg.Wait()
		}
		slots <- struct{}{}
		if failing.Load() {
			<-slots
			break
		}
		started[i] = true
		wg.Go(func() {
			defer func() { <-slots }()
			if errs[i] = r.send(ctx, &rows[i]); errs[i] != nil {
				failing.Store(true)
			}
		})
	}
	wg.Wait()
	for i := range rows {
		switch {
		case !started[i]:
		case errs[i] == nil:
			done = append(done, rows[i].ID)
		default:
			failed = append(failed, rows[i].ID)
			if err == nil {
				err = fmt.Errorf("dispatch %s: %w", rows[i].TaskKey, errs[i])
			}
		}
	}
	return done, failed, err
}

// send enqueues one row. A TaskID conflict means an earlier attempt already
// reached Redis (we died before marking the row), which is success.
func (r *Relay) send(ctx context.Context, row *outboxRow) error {
	opts := []asynq.Option{
		asynq.TaskID(row.TaskKey),
		asynq.Queue(row.Queue),
		asynq.MaxRetry(row.MaxRetry),
		asynq.Timeout(time.Duration(row.TimeoutSeconds) * time.Second),
	}
	if row.ProcessAt != nil {
		opts = append(opts, asynq.ProcessAt(*row.ProcessAt))
	}
	sendCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := r.client.EnqueueContext(sendCtx, asynq.NewTask(row.TaskType, row.Payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	return err
}
