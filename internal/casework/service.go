package casework

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/storage"
)

// Limits of the green channel. Administrators may change them per install.
type Limits struct {
	ReopenWindow      time.Duration // how long after resolving the enterprise may reopen
	AutoCloseAfter    time.Duration // resolved requests not confirmed close themselves after this
	MaxAttachments    int
	MaxAttachmentSize int64
}

// DefaultLimits are the shipped limits.
var DefaultLimits = Limits{
	ReopenWindow:      7 * 24 * time.Hour,
	AutoCloseAfter:    7 * 24 * time.Hour,
	MaxAttachments:    10,
	MaxAttachmentSize: 20 << 20,
}

// Change tells observers what just happened to a request, inside the
// transaction that did it.
type Change struct {
	Request *Request // after the change
	Action  string   // an Action, or "created", "message", "auto_close"
	From    Status
	// FromAgencyID and FromAssigneeID are who held the request before (0: nobody).
	FromAgencyID   int64
	FromAssigneeID int64
	At             time.Time
	ActorID        int64
	// Reason carries request_info's question or reopen's reason.
	Reason string
}

// Observer reacts to request changes in the same transaction (the SLA
// engine starts, pauses and stops its clocks this way). An error rolls the
// change back.
type Observer interface {
	RequestChanged(ctx context.Context, tx bun.Tx, c Change) error
}

// Service is the casework domain.
type Service struct {
	db        *bun.DB
	clock     clock.Clock
	log       *slog.Logger
	files     storage.Store
	limits    Limits
	observers []Observer
}

// NewService returns the casework service.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger, files storage.Store, limits Limits) *Service {
	return &Service{db: db, clock: clk, log: log, files: files, limits: limits}
}

// Observe adds an observer. Call it while wiring, before serving.
func (s *Service) Observe(o Observer) { s.observers = append(s.observers, o) }

func (s *Service) notify(ctx context.Context, tx bun.Tx, c Change) error {
	for _, o := range s.observers {
		if err := o.RequestChanged(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}
