// Package routing decides who handles each request: rules (data) pick the
// agency, then the fairest eligible officer in it gets the offer. It runs
// as asynq jobs fed through the outbox, is safe with many workers at once,
// explains every decision on the request's timeline, re-offers requests
// nobody accepts, and drains agency pools as soon as capacity frees.
package routing

import (
	"strings"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
)

// Rule maps a category (and optionally a town) to an agency.
type Rule struct {
	bun.BaseModel `bun:"table:routing_rules"`
	ID            int64     `bun:"id,pk,autoincrement"`
	Priority      int       `bun:"priority"`
	Category      *string   `bun:"category"`
	TownCode      *string   `bun:"town_code"`
	AgencyID      int64     `bun:"agency_id"`
	RequiredSkill *string   `bun:"required_skill"`
	Active        bool      `bun:"active"`
	Note          string    `bun:"note"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero,default:now()"`
}

// CatchAll reports whether the rule matches every request.
func (r Rule) CatchAll() bool { return r.Category == nil && r.TownCode == nil }

// Task types handled by this package. Two are enqueued by the packages
// whose changes cause them, so the names are theirs.
const (
	// TaskAssign finds an owner for a request (enqueued by casework).
	TaskAssign = casework.TaskRoute
	// TaskOfferExpired fires when an offer's acknowledge window ends.
	TaskOfferExpired = "routing:offer_expired"
	// TaskDrain tries to place an agency's pooled requests.
	TaskDrain = "routing:drain"
	// TaskOfficerChanged reacts to an officer going off duty, being
	// disabled, or getting a new profile (enqueued by identity).
	TaskOfficerChanged = identity.TaskOfficerChanged
)

// Pool reasons.
const (
	PoolNoEligible  = "no_eligible_officer" // drains automatically
	PoolOfferMissed = "offer_missed"        // waits for the agency lead
)

// Payloads of the tasks.
type (
	// AssignPayload names a request to route.
	AssignPayload = casework.RoutePayload
	// OfferPayload names one offer: the request at the version it had when offered.
	OfferPayload struct {
		RequestID int64 `json:"request_id"`
		Version   int   `json:"version"`
	}
	// DrainPayload names an agency whose pool may now move.
	DrainPayload struct {
		AgencyID int64 `json:"agency_id"`
	}
	// OfficerPayload names an officer whose availability changed.
	OfficerPayload = identity.OfficerPayload
)

// Candidate is an officer the engine considered, as shown in the
// explanation on the timeline.
type Candidate struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Load        int    `json:"load"`
	Capacity    int    `json:"capacity"`
	// Skipped says why the officer was passed over; empty for the chosen one
	// and for eligible officers ranked behind it.
	Skipped string `json:"skipped,omitempty"`
	Chosen  bool   `json:"chosen,omitempty"`

	onDuty       bool
	skills       []string
	towns        []string
	recused      bool
	declined     bool
	busy         bool // locked by another transaction (batch routing)
	rank         int  // place among the eligible, -1 when skipped
	lastAssigned *time.Time
}

// Explanation is the why of one routing decision.
type Explanation struct {
	RuleID        int64       `json:"rule_id,omitempty"`
	Rule          string      `json:"rule"`
	AgencyID      int64       `json:"agency_id"`
	RequiredSkill string      `json:"required_skill"`
	Weight        int         `json:"weight"`
	Candidates    []Candidate `json:"candidates"`
	// Omitted counts by reason the officers of a large agency that are not
	// named one by one (see maxListed).
	Omitted map[string]int `json:"omitted,omitempty"`
	Outcome string         `json:"outcome"` // "assigned" or "pooled"
}

// maxListed is how many officers an explanation names one by one. A larger
// agency's list keeps the chosen officer and the nearest in rank and counts
// the others by reason: the why stays readable, and a timeline entry stays
// small when an agency has hundreds of officers.
const maxListed = 30

// list fills the explanation's candidates from a ranked candidate list.
func (ex *Explanation) list(cands []Candidate) {
	if len(cands) <= maxListed {
		ex.Candidates = cands
		return
	}
	ex.Candidates, ex.Omitted = nil, map[string]int{}
	for _, c := range cands {
		if c.Chosen || (c.rank >= 0 && c.rank < maxListed/3) {
			ex.Candidates = append(ex.Candidates, c)
			continue
		}
		reason := "ranked behind"
		if c.rank < 0 {
			reason, _, _ = strings.Cut(c.Skipped, " (")
		}
		ex.Omitted[reason]++
	}
}
