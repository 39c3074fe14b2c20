package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"greenchannel/internal/config"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/pg"
	"greenchannel/migrations"
)

func runMigrate(ctx context.Context, cfg config.Config, log *slog.Logger, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		fs.Usage()
		return ErrUsage
	}
	db, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := pg.NewMigrator(db, migrations.FS)
	if err != nil {
		return err
	}
	out := fs.Output()
	report := func(names []string, err error, done, nothing string) error {
		if err != nil {
			return fmt.Errorf("migrate %s: %w", args[0], err)
		}
		if len(names) == 0 {
			fmt.Fprintln(out, "migrate:", nothing)
		}
		for _, n := range names {
			fmt.Fprintln(out, "migrate:", done, n)
		}
		return nil
	}
	switch args[0] {
	case "up":
		names, err := m.Up(ctx)
		return report(names, err, "applied", "database is up to date")
	case "down":
		names, err := m.Down(ctx)
		return report(names, err, "rolled back", "nothing to roll back")
	case "status":
		lines, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	}
	return nil
}

func runAudit(ctx context.Context, cfg config.Config, log *slog.Logger, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 || args[0] != "verify" {
		fs.Usage()
		return ErrUsage
	}
	db, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := audit.Verify(ctx, db)
	if err != nil {
		return err
	}
	if res.BrokenAt != 0 {
		return fmt.Errorf("audit log broken at entry %d after %d good entries: %s", res.BrokenAt, res.Checked-1, res.Reason)
	}
	fmt.Fprintf(fs.Output(), "audit: %d entries, chain intact\n", res.Checked)
	return nil
}

func runSeed(ctx context.Context, cfg config.Config, log *slog.Logger, fs *flag.FlagSet, args []string) error {
	demo := fs.Lookup("demo").Value.(flag.Getter).Get().(bool)
	return withDeps(ctx, cfg, log, func(d *deps) error {
		if err := d.checkSchema(ctx); err != nil {
			return err
		}
		return seed(ctx, d, demo, fs.Output())
	})
}
