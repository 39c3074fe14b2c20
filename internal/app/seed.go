package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/uptrace/bun"
	"go.yaml.in/yaml/v3"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/pg"
	"greenchannel/seeds"
)

// demoPassword is the password of every demo user (README lists them).
const demoPassword = "demo12345"

// seed loads reference data and, when asked, demo data, in one transaction.
// Every loader upserts by natural key, so running it twice changes nothing.
func seed(ctx context.Context, d *deps, demo bool, out io.Writer) error {
	var (
		towns       []identity.TownSeed
		agencies    []identity.AgencySeed
		enterprises []identity.EnterpriseSeed
		users       []identity.UserSeed
	)
	for file, dst := range map[string]any{
		"reference/towns.yaml":    &towns,
		"reference/agencies.yaml": &agencies,
	} {
		if err := readYAML(file, dst); err != nil {
			return err
		}
	}
	if demo {
		for file, dst := range map[string]any{
			"demo/enterprises.yaml": &enterprises,
			"demo/users.yaml":       &users,
		} {
			if err := readYAML(file, dst); err != nil {
				return err
			}
		}
	}
	err := pg.RunInTx(ctx, d.db, func(ctx context.Context, tx bun.Tx) error {
		if err := identity.SeedReference(ctx, tx, towns, agencies); err != nil {
			return err
		}
		if demo {
			return identity.SeedDemo(ctx, tx, enterprises, users, demoPassword)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(out, "seed: reference data loaded (%d towns, %d agencies)\n", len(towns), len(agencies))
	if demo {
		fmt.Fprintf(out, "seed: demo data loaded (%d enterprises, %d users, password %s)\n", len(enterprises), len(users), demoPassword)
	}
	return nil
}

func readYAML(name string, dst any) error {
	b, err := fs.ReadFile(seeds.FS, name)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("seeds/%s: %w", name, err)
	}
	return nil
}
