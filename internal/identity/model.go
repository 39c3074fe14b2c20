// Package identity owns who is who: towns, agencies, enterprises (by their
// Unified Social Credit Code), users and their roles, sign-in (passwords,
// tokens, web sessions, throttling) and the one authorization policy that
// answers "may this actor do this to that".
package identity

import (
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Role is what a user is in the system. Each user has exactly one.
type Role string

// The roles.
const (
	RoleEnterprise Role = "enterprise"
	RoleOfficer    Role = "officer"
	RoleLead       Role = "agency_lead"
	RoleInspector  Role = "inspector"
	RoleOversight  Role = "oversight"
	RoleAdmin      Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleEnterprise, RoleOfficer, RoleLead, RoleInspector, RoleOversight, RoleAdmin}

// AgencyKind is the kind of organ an agency is.
type AgencyKind string

// The agency kinds.
const (
	KindCourt         AgencyKind = "court"
	KindProcuratorate AgencyKind = "procuratorate"
	KindPolice        AgencyKind = "police"
	KindJustice       AgencyKind = "justice"
	KindOversight     AgencyKind = "oversight"
	KindInspection    AgencyKind = "inspection"
)

// Town is a town or sub-district of the district.
type Town struct {
	bun.BaseModel `bun:"table:towns"`
	Code          string `bun:"code,pk"`
	Name          string `bun:"name"`
}

// Agency is a court, procuratorate, police bureau, justice bureau, the
// oversight office or an administrative inspection body.
type Agency struct {
	bun.BaseModel `bun:"table:agencies"`
	ID            int64      `bun:"id,pk,autoincrement"`
	Code          string     `bun:"code"`
	Name          string     `bun:"name"`
	Kind          AgencyKind `bun:"kind"`
	Towns         []string   `bun:"towns,array"`
	Active        bool       `bun:"active"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt     time.Time  `bun:"updated_at,nullzero,default:now()"`
}

// Enterprise is a registered business, identified by its USCC.
type Enterprise struct {
	bun.BaseModel     `bun:"table:enterprises"`
	ID                int64      `bun:"id,pk,autoincrement"`
	USCC              USCC       `bun:"uscc"`
	Name              string     `bun:"name"`
	TownCode          *string    `bun:"town_code"`
	Industry          string     `bun:"industry"`
	Address           string     `bun:"address"`
	ContactName       string     `bun:"contact_name"`
	ContactPhone      string     `bun:"contact_phone"`
	Grade             string     `bun:"grade"`
	USCCCheckOverride *string    `bun:"uscc_check_override"`
	NoDisturb         bool       `bun:"no_disturb"`
	NoDisturbFrom     *time.Time `bun:"no_disturb_from,type:date"`
	NoDisturbTo       *time.Time `bun:"no_disturb_to,type:date"`
	NoDisturbBasis    string     `bun:"no_disturb_basis"`
	CreatedAt         time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt         time.Time  `bun:"updated_at,nullzero,default:now()"`
}

// NoDisturbOn reports whether the enterprise is on the no-disturb list on day.
func (e *Enterprise) NoDisturbOn(day time.Time) bool {
	if !e.NoDisturb {
		return false
	}
	d := day.Format(time.DateOnly)
	if e.NoDisturbFrom != nil && d < e.NoDisturbFrom.Format(time.DateOnly) {
		return false
	}
	if e.NoDisturbTo != nil && d > e.NoDisturbTo.Format(time.DateOnly) {
		return false
	}
	return true
}

// User is a person who signs in.
type User struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64      `bun:"id,pk,autoincrement"`
	Username      string     `bun:"username"`
	DisplayName   string     `bun:"display_name"`
	Role          Role       `bun:"role"`
	PasswordHash  string     `bun:"password_hash"`
	AgencyID      *int64     `bun:"agency_id"`
	EnterpriseID  *int64     `bun:"enterprise_id"`
	Phone         string     `bun:"phone"`
	DisabledAt    *time.Time `bun:"disabled_at"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt     time.Time  `bun:"updated_at,nullzero,default:now()"`

	Agency     *Agency         `bun:"rel:belongs-to,join:agency_id=id"`
	Enterprise *Enterprise     `bun:"rel:belongs-to,join:enterprise_id=id"`
	Officer    *OfficerProfile `bun:"rel:has-one,join:id=user_id"`
}

// OfficerProfile is what routing needs to know about an officer or lead.
type OfficerProfile struct {
	bun.BaseModel `bun:"table:officer_profiles"`
	UserID        int64     `bun:"user_id,pk"`
	Skills        []string  `bun:"skills,array"`
	Capacity      int       `bun:"capacity"`
	OnDuty        bool      `bun:"on_duty"`
	Towns         []string  `bun:"towns,array"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero,default:now()"`
	// LastAssignedAt is kept by routing for fair tie-breaks.
	LastAssignedAt *time.Time `bun:"last_assigned_at,scanonly"`
}

// Actor is the signed-in user as the rest of the system sees it.
type Actor struct {
	UserID       int64
	Username     string
	Role         Role
	AgencyID     int64 // 0 when not bound to an agency
	AgencyKind   AgencyKind
	EnterpriseID int64 // 0 unless Role is enterprise
}

// String is the actor as written in audit entries and logs.
func (a Actor) String() string { return "user:" + strconv.FormatInt(a.UserID, 10) }

func actorOf(u *User) Actor {
	a := Actor{UserID: u.ID, Username: u.Username, Role: u.Role}
	if u.AgencyID != nil {
		a.AgencyID = *u.AgencyID
		if u.Agency != nil {
			a.AgencyKind = u.Agency.Kind
		}
	}
	if u.EnterpriseID != nil {
		a.EnterpriseID = *u.EnterpriseID
	}
	return a
}
