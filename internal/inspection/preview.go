package inspection

import (
	"context"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
)

// Precheck runs the same pre-checks Issue runs and returns every finding
// without issuing anything, so the inspector sees the warnings (and what
// would block) before asking for the code.
func (s *Service) Precheck(ctx context.Context, a identity.Actor, in IssueInput) ([]Check, error) {
	if a.Role != identity.RoleInspector {
		return nil, fault.New(fault.Forbidden, "只有执法人员可以申请检查码 / only inspectors request codes")
	}
	if err := s.validate(in); err != nil {
		return nil, err
	}
	ent, err := findEnterprise(ctx, s.db, in.USCC, false)
	if err != nil {
		return nil, err
	}
	checks, err := precheck(ctx, s.db, request{agencyID: a.AgencyID, enterprise: ent, items: in.Items, mode: in.Mode,
		kind: in.Kind, planID: in.PlanID, from: in.From, to: in.To, inspectors: in.Inspectors, joint: in.JointAgencies})
	if checks == nil {
		checks = []Check{}
	}
	return checks, err
}
