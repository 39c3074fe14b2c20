package casework

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// SeedCategories upserts the reference categories by code, keeping their
// order as listed.
func SeedCategories(ctx context.Context, tx bun.Tx, cats []Category) error {
	for i, c := range cats {
		if c.DefaultPriority == "" {
			c.DefaultPriority = Normal
		}
		if c.SLAKind == "" {
			c.SLAKind = "general"
		}
		if c.Weight == 0 {
			c.Weight = 1
		}
		c.Active, c.Sort = true, i
		if _, err := tx.NewInsert().Model(&c).On("CONFLICT (code) DO UPDATE").
			Set("name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, description_zh = EXCLUDED.description_zh").
			Set("agency_kind = EXCLUDED.agency_kind, default_priority = EXCLUDED.default_priority").
			Set("sla_kind = EXCLUDED.sla_kind, weight = EXCLUDED.weight, sort = EXCLUDED.sort").
			Exec(ctx); err != nil {
			return fmt.Errorf("category %s: %w", c.Code, err)
		}
	}
	return nil
}
