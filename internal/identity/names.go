package identity

import (
	"context"

	"github.com/uptrace/bun"
)

// EnterpriseNames maps enterprise ids to names, for lists whose rows the
// caller has already been allowed to see (an officer's queue shows whose
// request each row is). It checks no access itself: pass only ids taken
// from rows the actor may read.
func (s *Service) EnterpriseNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := s.db.NewRaw("SELECT id, name FROM enterprises WHERE id IN (?)", bun.List(ids)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
