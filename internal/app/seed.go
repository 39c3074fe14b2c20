package app

import (
	"context"
	"fmt"
	"io"

	"greenchannel/seeds"
)

// demoPassword is the password of every demo user.
const demoPassword = seeds.DemoPassword

func seed(ctx context.Context, d *deps, demo bool, out io.Writer) error {
	lines, err := seeds.Load(ctx, d.db, demo)
	for _, l := range lines {
		fmt.Fprintln(out, "seed:", l)
	}
	return err
}
