package seeds

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"go.yaml.in/yaml/v3"

	"greenchannel/internal/casework"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/routing"
	"greenchannel/internal/sla"
)

// DemoPassword is the password of every demo user (README lists them).
const DemoPassword = "demo12345"

// Load writes the reference data and, when demo is set, the demo data, in
// one transaction. Every loader upserts by natural key, so loading twice
// changes nothing. It returns a one-line summary per part.
func Load(ctx context.Context, db bun.IDB, demo bool) ([]string, error) {
	var (
		towns       []identity.TownSeed
		agencies    []identity.AgencySeed
		categories  []casework.Category
		enterprises []identity.EnterpriseSeed
		users       []identity.UserSeed
		rules       []routing.RuleSeed
		slaRef      struct {
			Calendars []sla.CalendarSeed `yaml:"calendars"`
			Policies  []sla.PolicySeed   `yaml:"policies"`
		}
		holidays sla.Holidays
		insp     inspection.Reference
		certs    []inspection.Certificate
	)
	files := map[string]any{
		"reference/towns.yaml":         &towns,
		"reference/agencies.yaml":      &agencies,
		"reference/categories.yaml":    &categories,
		"reference/routing_rules.yaml": &rules,
		"reference/sla.yaml":           &slaRef,
		"reference/inspection.yaml":    &insp,
	}
	if demo {
		files["demo/enterprises.yaml"] = &enterprises
		files["demo/users.yaml"] = &users
		files["demo/inspectors.yaml"] = &certs
	}
	for name, dst := range files {
		if err := readYAML(name, dst); err != nil {
			return nil, err
		}
	}
	raw, err := fs.ReadFile(FS, "reference/holidays-cn.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &holidays); err != nil {
		return nil, fmt.Errorf("seeds/reference/holidays-cn.json: %w", err)
	}
	err = pg.RunInTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := identity.SeedReference(ctx, tx, towns, agencies); err != nil {
			return err
		}
		if err := casework.SeedCategories(ctx, tx, categories); err != nil {
			return err
		}
		if err := routing.SeedRules(ctx, tx, rules); err != nil {
			return err
		}
		if err := sla.SeedCalendars(ctx, tx, slaRef.Calendars, holidays); err != nil {
			return err
		}
		if err := sla.SeedPolicies(ctx, tx, slaRef.Policies); err != nil {
			return err
		}
		if err := inspection.SeedReference(ctx, tx, insp); err != nil {
			return err
		}
		if !demo {
			return nil
		}
		if err := identity.SeedDemo(ctx, tx, enterprises, users, DemoPassword); err != nil {
			return err
		}
		return inspection.SeedCertificates(ctx, tx, certs)
	})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	out := []string{fmt.Sprintf("reference data loaded (%d towns, %d agencies, %d categories, %d routing rules, %d calendars, %d SLA policies)",
		len(towns), len(agencies), len(categories), len(rules), len(slaRef.Calendars), len(slaRef.Policies)),
		fmt.Sprintf("inspection reference loaded (%d items, %d caps, %d triggers, %d plans)", len(insp.Items), len(insp.Caps), len(insp.Triggers), len(insp.Plans))}
	if demo {
		out = append(out, fmt.Sprintf("demo data loaded (%d enterprises, %d users, password %s)", len(enterprises), len(users), DemoPassword))
	}
	return out, nil
}

func readYAML(name string, dst any) error {
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("seeds/%s: %w", name, err)
	}
	return nil
}
