package casework

import (
	"slices"

	"greenchannel/internal/identity"
)

// Action is a step a person takes on a request.
type Action string

// The actions.
const (
	ActAccept      Action = "accept"
	ActReply       Action = "reply"
	ActRequestInfo Action = "request_info"
	ActResolve     Action = "resolve"
	ActTransfer    Action = "transfer"
	ActDecline     Action = "decline"
	ActWithdraw    Action = "withdraw"
	ActReopen      Action = "reopen"
	ActConfirm     Action = "confirm"
	ActAssign      Action = "assign" // a lead hands the request to an officer
)

// side says which party may take an action.
type side int

const (
	agencySide     side = iota + 1 // the assigned officer or an agency lead
	assigneeOnly                   // only the officer it is assigned to
	enterpriseSide                 // the enterprise that filed it
	leadOnly                       // an agency lead of the agency holding it
)

// transition is one row of the state machine.
type transition struct {
	from []Status
	to   Status // "" keeps the status
	by   side
	// What the action must carry.
	needBody, needReason, needTarget, needAssignee bool
}

// transitions is the whole state machine. Anything not listed is refused
// with 409 and the list of actions that are allowed now.
var transitions = map[Action]transition{
	ActAccept:      {from: []Status{Assigned}, to: InProgress, by: assigneeOnly},
	ActReply:       {from: []Status{Assigned, InProgress, WaitingEnterprise}, by: agencySide, needBody: true},
	ActRequestInfo: {from: []Status{InProgress}, to: WaitingEnterprise, by: agencySide, needBody: true},
	ActResolve:     {from: []Status{InProgress, WaitingEnterprise}, to: Resolved, by: agencySide, needBody: true},
	ActTransfer:    {from: []Status{Submitted, Assigned, InProgress, WaitingEnterprise}, to: Submitted, by: agencySide, needReason: true, needTarget: true},
	ActDecline:     {from: []Status{Assigned}, to: Submitted, by: assigneeOnly, needReason: true},
	ActWithdraw:    {from: []Status{Submitted, Assigned, InProgress, WaitingEnterprise}, to: Withdrawn, by: enterpriseSide},
	ActReopen:      {from: []Status{Resolved}, to: InProgress, by: enterpriseSide, needReason: true},
	ActConfirm:     {from: []Status{Resolved}, to: Closed, by: enterpriseSide},
	ActAssign:      {from: []Status{Submitted, Assigned, InProgress, WaitingEnterprise}, to: Assigned, by: leadOnly, needAssignee: true},
}

// actionOrder fixes the order allowed actions are listed in.
var actionOrder = []Action{ActAccept, ActReply, ActRequestInfo, ActResolve, ActTransfer, ActDecline, ActAssign, ActWithdraw, ActReopen, ActConfirm}

// mayTake reports whether a, who may see r, is the party for t.
func mayTake(a identity.Actor, r *Request, t transition) bool {
	switch t.by {
	case enterpriseSide:
		return a.Role == identity.RoleEnterprise && a.EnterpriseID == r.EnterpriseID
	case assigneeOnly:
		return (a.Role == identity.RoleOfficer || a.Role == identity.RoleLead) && r.AssigneeID != nil && *r.AssigneeID == a.UserID
	case leadOnly:
		return a.Role == identity.RoleLead && identity.Can(a, identity.Lead, r.Resource())
	case agencySide:
		return identity.Can(a, identity.Work, r.Resource()) && (a.Role == identity.RoleOfficer || a.Role == identity.RoleLead)
	}
	return false
}

// AllowedActions lists what a may do to r now.
func AllowedActions(a identity.Actor, r *Request) []Action {
	var out []Action
	for _, act := range actionOrder {
		t := transitions[act]
		if slices.Contains(t.from, r.Status) && mayTake(a, r, t) {
			out = append(out, act)
		}
	}
	return out
}
