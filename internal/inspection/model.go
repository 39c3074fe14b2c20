// Package inspection runs 一码检查: every administrative inspection of an
// enterprise gets a signed code, issued only after pre-checks (authority,
// published items, certified inspectors, plans, the no-disturb list, yearly
// caps, repeat and low-yield visits). The enterprise scans the code to see
// who comes and why, confirms their arrival, and rates the visit; the rating
// is read by the oversight office and never by the inspecting agency.
package inspection

import (
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
)

// Item is a published inspection item (清单之外无检查).
type Item struct {
	bun.BaseModel      `bun:"table:inspection_items"`
	Code               string    `bun:"code,pk" yaml:"code"`
	Name               string    `bun:"name" yaml:"name"`
	LegalBasis         string    `bun:"legal_basis" yaml:"legal_basis"`
	Sector             string    `bun:"sector" yaml:"sector"`
	ListClass          string    `bun:"list_class" yaml:"list_class"`
	OffsiteCapable     bool      `bun:"offsite_capable" yaml:"offsite_capable"`
	Status             string    `bun:"status" yaml:"status"`
	FirstOffenceExempt bool      `bun:"first_offence_exempt" yaml:"first_offence_exempt"`
	UpdatedAt          time.Time `bun:"updated_at,nullzero,default:now()" yaml:"-"`
}

// Inspection is one inspection and its code.
type Inspection struct {
	bun.BaseModel  `bun:"table:inspections"`
	ID             int64          `bun:"id,pk,autoincrement"`
	Code           string         `bun:"code"`
	EnterpriseID   int64          `bun:"enterprise_id"`
	AgencyID       int64          `bun:"agency_id"`
	CreatedBy      int64          `bun:"created_by"`
	ItemCodes      []string       `bun:"item_codes,array"`
	Mode           string         `bun:"mode"`
	Kind           string         `bun:"kind"`
	TriggerType    *string        `bun:"trigger_type"`
	TriggerRef     string         `bun:"trigger_ref"`
	PlanID         *int64         `bun:"plan_id"`
	WindowFrom     time.Time      `bun:"window_from"`
	WindowTo       time.Time      `bun:"window_to"`
	JointAgencyIDs []int64        `bun:"joint_agency_ids,array"`
	OverrideReason *string        `bun:"override_reason"`
	Checks         []Check        `bun:"checks,type:jsonb"`
	Status         string         `bun:"status"`
	ConfirmedAt    *time.Time     `bun:"confirmed_at"`
	StartedAt      *time.Time     `bun:"started_at"`
	EndedAt        *time.Time     `bun:"ended_at"`
	Outcome        *string        `bun:"outcome"`
	RectifyDue     *time.Time     `bun:"rectify_due,type:date"`
	PenaltyAmount  *float64       `bun:"penalty_amount"`
	Record         map[string]any `bun:"record,type:jsonb"`
	CancelReason   *string        `bun:"cancel_reason"`
	CreatedAt      time.Time      `bun:"created_at"`
	UpdatedAt      time.Time      `bun:"updated_at"`

	Agency     *identity.Agency     `bun:"rel:belongs-to,join:agency_id=id"`
	Enterprise *identity.Enterprise `bun:"rel:belongs-to,join:enterprise_id=id"`
	Inspectors []identity.User      `bun:"m2m:inspection_inspectors,join:Inspection=User"`
}

// InspectionInspector links inspections and their inspectors.
type InspectionInspector struct {
	bun.BaseModel `bun:"table:inspection_inspectors"`
	InspectionID  int64          `bun:"inspection_id,pk"`
	Inspection    *Inspection    `bun:"rel:belongs-to,join:inspection_id=id"`
	UserID        int64          `bun:"user_id,pk"`
	User          *identity.User `bun:"rel:belongs-to,join:user_id=id"`
}

// Resource describes the inspection to the access policy.
func (i *Inspection) Resource() identity.Resource {
	return identity.Resource{Kind: identity.ResInspection, EnterpriseID: i.EnterpriseID, AgencyID: i.AgencyID, OtherAgencies: i.JointAgencyIDs}
}

// Statuses of an inspection.
const (
	CodeIssued = "code_issued"
	Confirmed  = "confirmed"
	Recorded   = "recorded"
	Cancelled  = "cancelled"
)

// Check is one pre-check finding.
type Check struct {
	Rule       string         `json:"rule"`
	Severity   string         `json:"severity"` // block or warn
	MessageZh  string         `json:"message_zh"`
	MessageEn  string         `json:"message_en"`
	Overridden bool           `json:"overridden,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
}

// Evaluation is the enterprise's rating of a visit.
type Evaluation struct {
	bun.BaseModel `bun:"table:inspection_evaluations"`
	InspectionID  int64     `bun:"inspection_id,pk"`
	EnterpriseID  int64     `bun:"enterprise_id"`
	AuthorID      int64     `bun:"author_id"`
	Rating        int       `bun:"rating"`
	Tags          []string  `bun:"tags,array"`
	Comment       string    `bun:"comment"`
	Complaint     bool      `bun:"complaint"`
	CreatedAt     time.Time `bun:"created_at"`
}

// TaskAnalyze asks the oversight engine to evaluate its alert rules for
// an inspection event; the oversight package handles it.
const TaskAnalyze = "inspection:analyze"

// AnalyzePayload names the inspection and what just happened to it.
type AnalyzePayload struct {
	InspectionID int64  `json:"inspection_id"`
	Event        string `json:"event"` // issued, confirm_refused, recorded, evaluated
}
