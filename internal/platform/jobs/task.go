// Package jobs carries background work from a committed transaction to the
// asynq workers without losing or doubling it: a transactional outbox, a relay
// that moves committed rows to Redis, a registry of handlers, the worker
// server and a single-instance scheduler of periodic tasks.
//
// Domain code calls Enqueue inside its own transaction and never talks to
// asynq directly; the relay delivers at least once and uses the task's
// business key as the asynq TaskID, so handlers that re-read state and act
// through guarded updates have exactly one effect.
package jobs

import (
	"time"
)

// Queue names, most urgent first. The worker serves them weighted 6:3:1.
const (
	QueueCritical = "critical" // assignment, SLA deadlines
	QueueDefault  = "default"  // notifications
	QueueLow      = "low"      // analysis, reports, housekeeping
)

// Task is one unit of background work as written to the outbox.
type Task struct {
	// Type names the handler, "domain:verb" (e.g. "routing:assign").
	Type string
	// Key is the business key and becomes the asynq TaskID, e.g.
	// "assign:42:1". Enqueueing an existing key again is a no-op.
	Key string
	// Payload is marshalled to JSON; keep it to IDs, handlers re-read rows.
	Payload any
	// Queue defaults to QueueDefault.
	Queue string
	// ProcessAt delays the task; zero means now.
	ProcessAt time.Time
	// MaxRetry defaults to 10; Timeout to 20 s, which stays below the
	// worker's shutdown grace (GC_SHUTDOWN_TIMEOUT, 30 s) so SIGTERM lets a
	// running task finish.
	MaxRetry int
	Timeout  time.Duration
}

func (t Task) withDefaults() Task {
	if t.Queue == "" {
		t.Queue = QueueDefault
	}
	if t.MaxRetry == 0 {
		t.MaxRetry = 10
	}
	if t.Timeout == 0 {
		t.Timeout = 20 * time.Second
	}
	return t
}
