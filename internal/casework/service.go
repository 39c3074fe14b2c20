package casework

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/notify"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/storage"
)

// Limits of the green channel. Administrators may change them per install.
type Limits struct {
	ReopenWindow      time.Duration // how long after resolving the enterprise may reopen
	AutoCloseAfter    time.Duration // resolved requests not confirmed close themselves after this
	MaxAttachments    int
	MaxAttachmentSize int64
	// Quiet governs notices to enterprises (无事不扰).
	Quiet notify.Quiet
	// SearchWindow is how many request ids one step of a search covers.
	SearchWindow int64
}

// DefaultLimits are the shipped limits.
var DefaultLimits = Limits{
	ReopenWindow:      7 * 24 * time.Hour,
	AutoCloseAfter:    7 * 24 * time.Hour,
	MaxAttachments:    10,
	MaxAttachmentSize: 20 << 20,
	Quiet:             notify.DefaultQuiet(clock.Shanghai),
	SearchWindow:      100_000,
}

// Change tells observers what just happened to a request, inside the
// transaction that did it.
type Change struct {
	Request *Request // after the change
	Action  string   // an Action, or "message", "auto_close" (filings go to Filers)
	From    Status
	// FromAgencyID and FromAssigneeID are who held the request before (0: nobody).
	FromAgencyID   int64
	FromAssigneeID int64
	At             time.Time
	ActorID        int64
	// Reason carries request_info's question or reopen's reason.
	Reason string
	// ByEnterprise marks a message written by the enterprise (it resumes a
	// paused clock and opens a next-response cycle).
	ByEnterprise bool
}

// Observer reacts to request changes in the same transaction (the SLA
// engine pauses, resumes and stops its clocks this way). An error rolls the
// change back.
type Observer interface {
	RequestChanged(ctx context.Context, tx bun.Tx, c Change) error
}

// A Filer adds rows of its own to every new request, inside the filing's
// transaction and its two round trips (the SLA engine opens the request's
// clocks this way; observers are not told of filings). QueueFiling adds
// its reads to the filing's first batch; the function it returns adds its
// writes to the second, which commits, once the request is known. An error
// rolls the filing back.
type Filer interface {
	QueueFiling(reads *pg.Batch, category string, priority Priority) FilingWrites
}

// FilingWrites queues a Filer's writes for the new request r. tx is the
// filing's transaction, for a read the Filer's cache cannot answer.
type FilingWrites func(ctx context.Context, tx bun.IDB, writes *pg.Batch, r *Request) error

// Service is the casework domain.
type Service struct {
	db        *bun.DB
	clock     clock.Clock
	log       *slog.Logger
	files     storage.Store
	limits    Limits
	observers []Observer
	filers    []Filer
}

// NewService returns the casework service.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger, files storage.Store, limits Limits) *Service {
	return &Service{db: db, clock: clk, log: log, files: files, limits: limits}
}

// Observe adds an observer. Call it while wiring, before serving.
func (s *Service) Observe(o Observer) { s.observers = append(s.observers, o) }

// AddFiler adds a Filer. Call it while wiring, before serving.
func (s *Service) AddFiler(f Filer) { s.filers = append(s.filers, f) }

func (s *Service) notify(ctx context.Context, tx bun.Tx, c Change) error {
	for _, o := range s.observers {
		if err := o.RequestChanged(ctx, tx, c); err != nil {
			return err
		}
	}
	return s.tellEnterprise(ctx, tx, c)
}

// enterpriseNotices are the changes an enterprise is told about: those that
// need it to act, and those that move its request to another state.
// Everything else it can read on the timeline when it chooses (无事不扰).
var enterpriseNotices = map[string]string{
	string(ActAccept):      "您的诉求已受理 / your request was accepted",
	string(ActRequestInfo): "请补充材料 / materials are needed from you",
	string(ActResolve):     "您的诉求已办结，请确认或评价 / your request is answered: confirm or rate it",
	string(ActTransfer):    "您的诉求已移交其他机关 / your request moved to another agency",
	"auto_close":           "您的诉求已自动关闭 / your request was closed",
}

func (s *Service) tellEnterprise(ctx context.Context, tx bun.Tx, c Change) error {
	title, ok := enterpriseNotices[c.Action]
	if !ok {
		return nil
	}
	var users []int64
	if err := tx.NewSelect().Table("users").Column("id").
		Where("enterprise_id = ? AND disabled_at IS NULL", c.Request.EnterpriseID).Scan(ctx, &users); err != nil {
		return err
	}
	return notify.ToEnterprise(ctx, tx, s.limits.Quiet, c.At, users,
		notify.Notice{Kind: "request." + c.Action, Title: title + " " + c.Request.TicketNo, Body: c.Request.Title, RequestID: c.Request.ID},
		c.Request.Priority == Urgent)
}
