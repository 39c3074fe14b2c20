package inspection

import (
	"context"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
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
	var checks []Check
	err := pg.RunInBatchTx(ctx, s.db, func(ctx context.Context, tx *pg.BatchTx) error {
		var b pg.Batch
		p, err := queuePrechecks(&b, a.AgencyID, in, false)
		if err != nil {
			return err
		}
		if err := tx.Commit(ctx, &b); err != nil {
			return err
		}
		_, checks, err = p.run()
		return err
	})
	return checks, err
}
