package identity

import (
	"context"

	"greenchannel/internal/platform/fault"
)

// Colleague is a member of the caller's own agency as the web pages show
// them: a lead picks an officer to reassign to, an inspector picks who
// comes along, an officer sees whether they are on duty.
type Colleague struct {
	ID          int64  `bun:"id"`
	DisplayName string `bun:"display_name"`
	Role        Role   `bun:"role"`
	OnDuty      bool   `bun:"on_duty"`
	Certificate string `bun:"certificate"` // enforcement certificate number, inspectors only
}

// Colleagues lists the enabled staff of the caller's agency. Only staff
// bound to an agency (officers, leads, inspectors) have colleagues.
func (s *Service) Colleagues(ctx context.Context, a Actor) ([]Colleague, error) {
	if a.AgencyID == 0 || (a.Role != RoleOfficer && a.Role != RoleLead && a.Role != RoleInspector) {
		return nil, fault.New(fault.Forbidden, "只有机关工作人员有同事列表 / only agency staff have colleagues")
	}
	var out []Colleague
	err := s.db.NewRaw(`SELECT u.id, u.display_name, u.role, coalesce(o.on_duty, false) AS on_duty, coalesce(c.number, '') AS certificate
		FROM users u
		LEFT JOIN officer_profiles o ON o.user_id = u.id
		LEFT JOIN inspector_certificates c ON c.user_id = u.id
		WHERE u.agency_id = ? AND u.disabled_at IS NULL
		ORDER BY u.id`, a.AgencyID).Scan(ctx, &out)
	return out, err
}
