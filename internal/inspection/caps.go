package inspection

import (
	"context"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
)

// Cap is a yearly limit on inspections of one enterprise, as the
// administrator's list shows it.
type Cap struct {
	ID         int64   `bun:"id"`
	Agency     *string `bun:"agency"` // nil: every agency
	Scope      string  `bun:"scope"`  // agency: the agency's own visits; all: every agency's
	ItemCode   *string `bun:"item_code"`
	Grade      *string `bun:"grade"`
	MaxPerYear int     `bun:"max_per_year"`
	Active     bool    `bun:"active"`
}

// Caps lists the yearly inspection caps (administrator and oversight).
func (s *Service) Caps(ctx context.Context, a identity.Actor) ([]Cap, error) {
	if a.Role != identity.RoleAdmin && a.Role != identity.RoleOversight {
		return nil, fault.New(fault.Forbidden, "只有管理员和执法监督可以查看检查上限 / only the administrator and oversight read the caps")
	}
	var out []Cap
	err := s.db.NewRaw(`SELECT c.id, a.name AS agency, c.scope, c.item_code, c.grade, c.max_per_year, c.active
		FROM inspection_caps c LEFT JOIN agencies a ON a.id = c.agency_id ORDER BY c.id`).Scan(ctx, &out)
	return out, err
}
