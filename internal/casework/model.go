// Package casework owns green-channel requests (诉求): filing, the state
// machine from submitted to closed, messages and internal notes,
// attachments, the timeline, feedback, idempotent creation and search.
// Routing and SLA clocks build on it; it knows nothing about them beyond
// enqueueing the routing task when a request needs an owner.
package casework

import (
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
)

// Status is where a request is in its lifecycle.
type Status string

// The statuses.
const (
	Submitted         Status = "submitted"          // waiting for routing (or in an agency pool)
	Assigned          Status = "assigned"           // offered to an officer, not yet accepted
	InProgress        Status = "in_progress"        // an officer works on it
	WaitingEnterprise Status = "waiting_enterprise" // the agency asked for materials; the SLA clock pauses
	Resolved          Status = "resolved"           // answered; the enterprise confirms, reopens, or it closes itself
	Closed            Status = "closed"
	Withdrawn         Status = "withdrawn"
)

// Open reports whether the request still needs the agency.
func (s Status) Open() bool {
	return s == Submitted || s == Assigned || s == InProgress || s == WaitingEnterprise
}

// Priority orders work.
type Priority string

// The priorities.
const (
	Low    Priority = "low"
	Normal Priority = "normal"
	High   Priority = "high"
	Urgent Priority = "urgent"
)

// Category is a kind of request and the organ that handles it.
type Category struct {
	bun.BaseModel   `bun:"table:categories"`
	Code            string              `bun:"code,pk" yaml:"code"`
	NameZh          string              `bun:"name_zh" yaml:"name_zh"`
	NameEn          string              `bun:"name_en" yaml:"name_en"`
	DescriptionZh   string              `bun:"description_zh" yaml:"description_zh"`
	AgencyKind      identity.AgencyKind `bun:"agency_kind" yaml:"agency_kind"`
	DefaultPriority Priority            `bun:"default_priority" yaml:"default_priority"`
	SLAKind         string              `bun:"sla_kind" yaml:"sla_kind"`
	Weight          int                 `bun:"weight" yaml:"weight"`
	Active          bool                `bun:"active" yaml:"-"`
	Sort            int                 `bun:"sort" yaml:"-"`
}

// Request is one enterprise legal request.
type Request struct {
	bun.BaseModel `bun:"table:requests"`
	ID            int64      `bun:"id,pk,autoincrement"`
	TicketNo      string     `bun:"ticket_no"`
	EnterpriseID  int64      `bun:"enterprise_id"`
	CreatedBy     int64      `bun:"created_by"`
	Category      string     `bun:"category"`
	Title         string     `bun:"title"`
	Description   string     `bun:"description"`
	Priority      Priority   `bun:"priority"`
	ContactName   string     `bun:"contact_name"`
	ContactPhone  string     `bun:"contact_phone"`
	Status        Status     `bun:"status"`
	AgencyID      *int64     `bun:"agency_id"`
	AssigneeID    *int64     `bun:"assignee_id"`
	Version       int        `bun:"version"`
	Resolution    *string    `bun:"resolution"`
	AcceptedAt    *time.Time `bun:"accepted_at"`
	ResolvedAt    *time.Time `bun:"resolved_at"`
	ClosedAt      *time.Time `bun:"closed_at"`
	ReopenCount   int        `bun:"reopen_count"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`

	Agency     *identity.Agency     `bun:"rel:belongs-to,join:agency_id=id"`
	Assignee   *identity.User       `bun:"rel:belongs-to,join:assignee_id=id"`
	Enterprise *identity.Enterprise `bun:"rel:belongs-to,join:enterprise_id=id"`
}

// Resource describes the request to the access policy.
func (r *Request) Resource() identity.Resource {
	res := identity.Resource{Kind: identity.ResRequest, EnterpriseID: r.EnterpriseID}
	if r.AgencyID != nil {
		res.AgencyID = *r.AgencyID
	}
	if r.AssigneeID != nil {
		res.AssigneeID = *r.AssigneeID
	}
	return res
}

// Message is a reply or an internal note on a request.
type Message struct {
	bun.BaseModel `bun:"table:request_messages"`
	ID            int64     `bun:"id,pk,autoincrement"`
	RequestID     int64     `bun:"request_id"`
	AuthorID      int64     `bun:"author_id"`
	Body          string    `bun:"body"`
	Internal      bool      `bun:"internal"`
	CreatedAt     time.Time `bun:"created_at"`

	Author *identity.User `bun:"rel:belongs-to,join:author_id=id"`
}

// Attachment is a file on a request.
type Attachment struct {
	bun.BaseModel `bun:"table:request_attachments"`
	ID            int64     `bun:"id,pk,autoincrement"`
	RequestID     int64     `bun:"request_id"`
	UploaderID    int64     `bun:"uploader_id"`
	Filename      string    `bun:"filename"`
	ContentType   string    `bun:"content_type"`
	Size          int64     `bun:"size"`
	SHA256        string    `bun:"sha256"`
	StorageKey    string    `bun:"storage_key"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Event is one line of a request's timeline.
type Event struct {
	bun.BaseModel `bun:"table:request_events"`
	ID            int64          `bun:"id,pk,autoincrement"`
	RequestID     int64          `bun:"request_id"`
	At            time.Time      `bun:"at"`
	ActorID       *int64         `bun:"actor_id"`
	Kind          string         `bun:"kind"`
	Internal      bool           `bun:"internal"`
	Data          map[string]any `bun:"data,type:jsonb"`

	Actor *identity.User `bun:"rel:belongs-to,join:actor_id=id"`
}

// Feedback is the enterprise's rating of how its request was handled.
type Feedback struct {
	bun.BaseModel `bun:"table:request_feedback"`
	RequestID     int64     `bun:"request_id,pk"`
	AuthorID      int64     `bun:"author_id"`
	Rating        int       `bun:"rating"`
	Comment       string    `bun:"comment"`
	CreatedAt     time.Time `bun:"created_at"`
}
