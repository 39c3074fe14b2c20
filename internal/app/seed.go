package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"go.yaml.in/yaml/v3"

	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/pg"
	"greenchannel/seeds"
)

// demoPassword is the password of every demo user.
const demoPassword = seeds.DemoPassword

func seed(ctx context.Context, d *deps, demo bool, out io.Writer) error {
	lines, err := seeds.Load(ctx, d.db, demo)
	for _, l := range lines {
		fmt.Fprintln(out, "seed:", l)
	}
	if err != nil || !demo {
		return err
	}
	n, err := seedRequests(ctx, d)
	if n > 0 {
		fmt.Fprintf(out, "seed: %d demo requests filed and routed\n", n)
	}
	if err != nil {
		return err
	}
	secrets := make([][]byte, len(d.cfg.SecretKeys))
	for i, k := range d.cfg.SecretKeys {
		secrets[i] = k.Secret
	}
	err = pg.RunInTx(ctx, d.db, func(ctx context.Context, tx bun.Tx) error {
		n, err = inspection.SeedHistory(ctx, tx, d.clock.Now(), secrets)
		return err
	})
	if n > 0 {
		fmt.Fprintf(out, "seed: a year of %d demo inspections written\n", n)
	}
	return err
}

type demoRequest struct {
	User         string `yaml:"enterprise_user"`
	Category     string `yaml:"category"`
	Title        string `yaml:"title"`
	Description  string `yaml:"description"`
	ContactPhone string `yaml:"contact_phone"`
	Accept       bool   `yaml:"accept"`
}

// seedRequests files the demo requests through the real services (so they
// get ticket numbers, SLA clocks and a routing decision), once: only into a
// system that has no requests yet.
func seedRequests(ctx context.Context, d *deps) (int, error) {
	var existing int
	if err := d.db.NewRaw("SELECT count(*) FROM requests").Scan(ctx, &existing); err != nil || existing > 0 {
		return 0, err
	}
	raw, err := fs.ReadFile(seeds.FS, "demo/requests.yaml")
	if err != nil {
		return 0, err
	}
	var reqs []demoRequest
	if err := yaml.Unmarshal(raw, &reqs); err != nil {
		return 0, fmt.Errorf("seeds/demo/requests.yaml: %w", err)
	}
	for _, dr := range reqs {
		a, err := d.identity.ActorByUsername(ctx, dr.User)
		if err != nil {
			return 0, err
		}
		r, _, err := d.casework.Create(ctx, a, casework.NewRequest{Category: dr.Category, Title: dr.Title,
			Description: dr.Description, ContactPhone: dr.ContactPhone})
		if err != nil {
			return 0, err
		}
		if _, err := d.routing.Assign(ctx, r.ID); err != nil {
			return 0, err
		}
		if !dr.Accept {
			continue
		}
		routed, err := casework.Lookup(ctx, d.db, r.ID, false)
		if err != nil || routed.AssigneeID == nil {
			continue
		}
		officer, err := d.identity.Actor(ctx, *routed.AssigneeID)
		if err != nil {
			return 0, err
		}
		v := routed.Version
		if _, err := d.casework.Act(ctx, officer, r.ID, casework.ActInput{Action: casework.ActAccept, Version: &v}); err != nil {
			return 0, err
		}
	}
	return len(reqs), nil
}
