package sla

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/fault"
)

// Policy maps requests to clock targets.
type Policy struct {
	bun.BaseModel        `bun:"table:sla_policies"`
	ID                   int64     `bun:"id,pk,autoincrement"`
	Code                 string    `bun:"code"`
	Name                 string    `bun:"name"`
	Precedence           int       `bun:"precedence"`
	Category             *string   `bun:"category"`
	Priority             *string   `bun:"priority"`
	SLAKind              *string   `bun:"sla_kind"`
	CalendarID           int64     `bun:"calendar_id"`
	AcknowledgeMinutes   int       `bun:"acknowledge_minutes"`
	ResolutionMinutes    int       `bun:"resolution_minutes"`
	NextResponseMinutes  *int      `bun:"next_response_minutes"`
	WarnPercent          int       `bun:"warn_percent"`
	MaxPauses            *int      `bun:"max_pauses"`
	MaxPauseMinutes      *int      `bun:"max_pause_minutes"`
	ReassignOnEscalation bool      `bun:"reassign_on_escalation"`
	Active               bool      `bun:"active"`
	Version              int       `bun:"version"`
	UpdatedAt            time.Time `bun:"updated_at"`
}

// ErrNoPolicy means no active policy matches a request: the policy table
// lacks a catch-all.
var ErrNoPolicy = errors.New("sla: no policy matches; add a catch-all policy (no category, priority or kind)")

// target returns the policy's target for a clock kind (0: no such clock).
func (p *Policy) target(kind string) int {
	switch kind {
	case Acknowledge:
		return p.AcknowledgeMinutes
	case Resolution:
		return p.ResolutionMinutes
	case NextResponse:
		if p.NextResponseMinutes != nil {
			return *p.NextResponseMinutes
		}
	}
	return 0
}

// Policies lists the policies in the order they are tried.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	var out []Policy
	err := s.db.NewSelect().Model(&out).OrderExpr("active DESC, precedence, id").Scan(ctx)
	return out, err
}

func invalid(field, msg string) error { return fault.InvalidField(field, msg) }
