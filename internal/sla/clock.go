// Package sla holds every agency to "有事必应": each request runs clocks
// (acknowledge, resolution, and a next-response cycle per enterprise
// message) on a working calendar with holidays and make-up days. A clock
// is an append-only event log; its deadline is derived from the log, the
// policy target and the calendar, stored only for indexing, and recomputed
// whenever any of them changes. Deadlines are enforced by asynq tasks
// scheduled through the outbox, with a sweep every minute as a backstop.
package sla

import (
	"math"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/workcal"
)

// Clock kinds.
const (
	Acknowledge  = "acknowledge"
	Resolution   = "resolution"
	NextResponse = "next_response"
)

// Clock states and outcomes.
const (
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
	Met      = "met"
	Breached = "breached"
)

// Clock is one SLA clock of a request.
type Clock struct {
	bun.BaseModel  `bun:"table:sla_clocks"`
	ID             int64      `bun:"id,pk,autoincrement"`
	RequestID      int64      `bun:"request_id"`
	Kind           string     `bun:"kind"`
	Cycle          int        `bun:"cycle"`
	PolicyID       int64      `bun:"policy_id"`
	CalendarID     int64      `bun:"calendar_id"`
	TargetMinutes  int        `bun:"target_minutes"`
	WarnPercent    int        `bun:"warn_percent"`
	State          string     `bun:"state"`
	Outcome        *string    `bun:"outcome"`
	ElapsedMinutes int        `bun:"elapsed_minutes"`
	PausedMinutes  int        `bun:"paused_minutes"`
	PauseCount     int        `bun:"pause_count"`
	OverPauseCap   bool       `bun:"over_pause_cap"`
	DueAt          *time.Time `bun:"due_at"`
	WarnAt         *time.Time `bun:"warn_at"`
	Provisional    bool       `bun:"provisional"`
	WarnedAt       *time.Time `bun:"warned_at"`
	BreachedAt     *time.Time `bun:"breached_at"`
	EscalatedAt    *time.Time `bun:"escalated_at"`
	StoppedAt      *time.Time `bun:"stopped_at"`
	Version        int        `bun:"version"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// Event is one line of a clock's log.
type Event struct {
	bun.BaseModel `bun:"table:sla_clock_events"`
	ID            int64     `bun:"id,pk,autoincrement"`
	ClockID       int64     `bun:"clock_id" json:"-"`
	At            time.Time `bun:"at" json:"at"`
	Kind          string    `bun:"kind" json:"kind"` // start, pause, resume, stop, reset
	Reason        string    `bun:"reason" json:"reason"`
	ActorID       *int64    `bun:"actor_id" json:"-"`
}

// Pause is one pause of a clock, for the API.
type Pause struct {
	From   time.Time  `json:"from"`
	To     *time.Time `json:"to"`
	Reason string     `json:"reason"`
}

// derived is what a clock's log says at a moment.
type derived struct {
	state       string
	elapsed     int // working minutes run up to now
	paused      int // working minutes spent paused
	pauses      []Pause
	due, warn   *time.Time
	provisional bool
	stoppedAt   *time.Time
}

type span struct{ from, to time.Time } // to is zero while running

// derive replays events against the calendar. It is pure: the same log,
// target and calendar always give the same deadline, which is why the
// stored deadline can be recomputed at any time without drift.
func derive(cal *workcal.Calendar, target, warnPercent int, events []Event, now time.Time) derived {
	var d derived
	var spans []span
	var pausedSince *time.Time
	for _, e := range events {
		open := len(spans) > 0 && spans[len(spans)-1].to.IsZero()
		switch e.Kind {
		case "start":
			spans = []span{{from: e.At}}
			d.state = Running
		case "reset":
			spans = []span{{from: e.At}}
			d.state, pausedSince = Running, nil
		case "pause":
			if open {
				spans[len(spans)-1].to = e.At
				at := e.At
				pausedSince = &at
				d.pauses = append(d.pauses, Pause{From: e.At, Reason: e.Reason})
				d.state = Paused
			}
		case "resume":
			if !open {
				if pausedSince != nil {
					m, _ := cal.Between(*pausedSince, e.At)
					d.paused += m
					to := e.At
					d.pauses[len(d.pauses)-1].To = &to
					pausedSince = nil
				}
				spans = append(spans, span{from: e.At})
				d.state, d.stoppedAt = Running, nil
			}
		case "stop":
			if open {
				spans[len(spans)-1].to = e.At
			}
			if pausedSince != nil {
				m, _ := cal.Between(*pausedSince, e.At)
				d.paused += m
				to := e.At
				d.pauses[len(d.pauses)-1].To = &to
				pausedSince = nil
			}
			at := e.At
			d.state, d.stoppedAt = Stopped, &at
		}
	}
	for _, s := range spans {
		to := s.to
		if to.IsZero() {
			to = now
		}
		m, prov := cal.Between(s.from, to)
		d.elapsed += m
		d.provisional = d.provisional || prov
	}
	if pausedSince != nil {
		m, _ := cal.Between(*pausedSince, now)
		d.paused += m
	}
	d.due, d.provisional = reach(cal, spans, target, d.provisional)
	warnTarget := int(math.Ceil(float64(target) * float64(warnPercent) / 100))
	d.warn, _ = reach(cal, spans, warnTarget, false)
	return d
}

// reach finds the instant the running spans add up to minutes: inside a
// past span if the clock already ran that long, else along the span still
// running. Nil when the clock is paused or stopped short of it.
func reach(cal *workcal.Calendar, spans []span, minutes int, provisional bool) (*time.Time, bool) {
	left := minutes
	for _, s := range spans {
		if s.to.IsZero() {
			t, prov := cal.Add(s.from, left)
			return &t, provisional || prov
		}
		m, prov := cal.Between(s.from, s.to)
		provisional = provisional || prov
		if m >= left {
			t, _ := cal.Add(s.from, left)
			return &t, provisional
		}
		left -= m
	}
	return nil, provisional
}
