package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"greenchannel/internal/platform/clock"
)

// Periodic is a task the scheduler enqueues once per interval.
type Periodic struct {
	Name  string        // stable; part of each tick's task key
	Every time.Duration // ticks are aligned to multiples of Every since the Unix epoch
	Task  Task          // Key is filled in per tick
}

// schedulerLockID is the PostgreSQL advisory lock held by the one active
// scheduler. Other instances wait on standby and take over when it dies
// (the lock is tied to its session and goes with its connection).
const schedulerLockID = 7_432_001

// Scheduler enqueues periodic tasks through the outbox. Any number may run;
// only the holder of the advisory lock ticks, and each tick's key
// ("periodic:<name>:<slot>") dedupes even a brief overlap of two leaders.
type Scheduler struct {
	db      bun.IDB
	dbURL   string
	clock   clock.Clock
	log     *slog.Logger
	entries []Periodic
	last    map[string]int64

	lockConn *pgx.Conn
}

// NewScheduler returns a scheduler for entries.
func NewScheduler(db bun.IDB, dbURL string, clk clock.Clock, log *slog.Logger, entries []Periodic) *Scheduler {
	return &Scheduler{db: db, dbURL: dbURL, clock: clk, log: log, entries: entries, last: map[string]int64{}}
}

// Run ticks every second while leader and stands by otherwise, until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	defer s.Release()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	wasLeader := false
	for {
		leader, err := s.TryLead(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("scheduler: leadership check failed", "err", err)
		}
		if leader != wasLeader {
			s.log.Info("scheduler: leadership changed", "leader", leader)
			wasLeader = leader
		}
		if leader {
			if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("scheduler: tick failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// TryLead reports whether this instance holds the scheduler lock, taking it
// if free. The lock lives on a dedicated connection so pool churn never
// drops it by accident.
func (s *Scheduler) TryLead(ctx context.Context) (bool, error) {
	if s.lockConn != nil {
		if err := s.lockConn.Ping(ctx); err == nil {
			return true, nil
		}
		s.Release() // connection lost: so is the lock
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return false, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", schedulerLockID).Scan(&ok); err != nil || !ok {
		conn.Close(context.Background())
		return false, err
	}
	s.lockConn = conn
	return true, nil
}

// Release gives up leadership. The lock is released explicitly before the
// connection closes: a closed connection's backend lets go of it a moment
// later, and a standby asking in that moment would be refused.
func (s *Scheduler) Release() {
	if s.lockConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = s.lockConn.Exec(ctx, "SELECT pg_advisory_unlock($1)", schedulerLockID) // fails on a lost connection, whose lock is gone anyway
		cancel()
		s.lockConn.Close(context.Background())
		s.lockConn = nil
	}
}

// Tick enqueues every entry whose current slot has not been enqueued yet.
// It does not check leadership; Run does.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.clock.Now()
	for _, e := range s.entries {
		slot := now.Truncate(e.Every).Unix()
		if s.last[e.Name] == slot {
			continue
		}
		t := e.Task
		t.Key = "periodic:" + e.Name + ":" + strconv.FormatInt(slot, 10)
		if err := Enqueue(ctx, s.db, t); err != nil {
			return fmt.Errorf("periodic %s: %w", e.Name, err)
		}
		s.last[e.Name] = slot
	}
	return nil
}
