package identity

import (
	"context"
	"slices"

	"greenchannel/internal/platform/fault"
)

// Action is what an actor wants to do to a resource.
type Action string

// The actions the policy knows.
const (
	// Read: see it.
	Read Action = "read"
	// Work: move it along its workflow (accept, reply, record, confirm...).
	// The domain's state machine decides which step; the policy decides who.
	Work Action = "work"
	// Lead: agency-lead powers over it (reassign, answer supervision orders).
	Lead Action = "lead"
	// Manage: create and edit reference data and users.
	Manage Action = "manage"
	// Oversee: oversight-office writes (alerts, supervision orders).
	Oversee Action = "oversee"
)

// ResourceKind names the kinds of thing the policy rules over.
type ResourceKind string

// The resource kinds.
const (
	ResReference  ResourceKind = "reference"  // agencies, users, enterprises, categories, rules, calendars, items, caps
	ResRequest    ResourceKind = "request"    // a green-channel request
	ResInspection ResourceKind = "inspection" // an inspection and its code
	ResEvaluation ResourceKind = "evaluation" // an enterprise's rating of an inspection
	ResOversight  ResourceKind = "oversight"  // alerts, reports, supervision orders
	ResOrder      ResourceKind = "order"      // one supervision order addressed to an agency
)

// Resource describes a thing by who owns and holds it, so the policy can
// rule on it without knowing the domain types.
type Resource struct {
	Kind          ResourceKind
	EnterpriseID  int64   // the enterprise it belongs to, if any
	AgencyID      int64   // the agency holding it, if any
	AssigneeID    int64   // the officer it is assigned to, if any
	OtherAgencies []int64 // agencies that take part too (joint inspections), if any
}

// Authorize is the one answer to "may this actor do this to that". It
// returns nil, a fault.NotFound when the actor may not even know the
// resource exists, or a fault.Forbidden when it may see but not do this.
func Authorize(a Actor, act Action, r Resource) error {
	see, do := rule(a, act, r)
	switch {
	case !see:
		return fault.New(fault.NotFound, "not found")
	case !do:
		return fault.New(fault.Forbidden, "your role may not do this")
	}
	return nil
}

// Can is Authorize as a boolean, for filtering and for showing buttons.
func Can(a Actor, act Action, r Resource) bool { return Authorize(a, act, r) == nil }

// rule returns whether a may see r, and whether it may do act to it.
func rule(a Actor, act Action, r Resource) (see, do bool) {
	if a.UserID == 0 {
		return false, false
	}
	ownAgency := a.AgencyID != 0 && (r.AgencyID == a.AgencyID || slices.Contains(r.OtherAgencies, a.AgencyID))
	switch r.Kind {
	case ResReference:
		// Everyone signed in may read reference data (categories, towns);
		// only the administrator changes it.
		return true, act == Read || (act == Manage && a.Role == RoleAdmin)

	case ResRequest:
		switch a.Role {
		case RoleEnterprise:
			see = r.EnterpriseID == a.EnterpriseID
			return see, see && (act == Read || act == Work)
		case RoleOfficer:
			see = ownAgency
			return see, see && (act == Read || (act == Work && r.AssigneeID == a.UserID))
		case RoleLead:
			see = ownAgency
			return see, see && (act == Read || act == Work || act == Lead)
		case RoleOversight:
			return true, act == Read
		}
		return false, false

	case ResInspection:
		switch a.Role {
		case RoleEnterprise:
			see = r.EnterpriseID == a.EnterpriseID
			return see, see && (act == Read || act == Work)
		case RoleInspector, RoleLead:
			see = ownAgency
			return see, see && (act == Read || act == Work)
		case RoleOversight:
			return true, act == Read
		}
		return false, false

	case ResEvaluation:
		// Never visible to the inspecting agency, whatever its role.
		switch a.Role {
		case RoleEnterprise:
			see = r.EnterpriseID == a.EnterpriseID
			return see, see && (act == Read || act == Work)
		case RoleOversight:
			return true, act == Read
		}
		return false, false

	case ResOversight:
		if a.Role == RoleOversight {
			return true, act == Read || act == Oversee
		}
		if a.Role == RoleAdmin {
			return true, act == Read || act == Manage // alert rule configuration
		}
		return false, false

	case ResOrder:
		switch a.Role {
		case RoleOversight:
			return true, act == Read || act == Oversee
		case RoleLead:
			see = ownAgency
			return see, see && (act == Read || act == Lead)
		}
		return false, false
	}
	return false, false
}

type actorKey struct{}

// WithActor returns ctx carrying the signed-in actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; ok is false when nobody is signed in.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.UserID != 0
}
