// Package app wires the binary: configuration → database, Redis, services →
// HTTP server, worker and scheduler, and the subcommands that run them.
// It is the only place that knows every piece; nothing imports it but main.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"greenchannel/internal/config"
)

// Version is stamped at build time (-ldflags "-X greenchannel/internal/app.Version=...").
var Version = "dev"

// ErrUsage means the command line was wrong; main exits 2.
var ErrUsage = errors.New("usage")

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, cfg config.Config, log *slog.Logger, fs *flag.FlagSet, args []string) error
	flags               func(fs *flag.FlagSet)
}

func commands() []command {
	return []command{
		{name: "serve", summary: "serve the REST API, web pages, /healthz, /readyz, /metrics and /docs", run: runServe},
		{name: "worker", summary: "run background jobs (asynq server) and the outbox relay", run: runWorker},
		{name: "scheduler", summary: "enqueue periodic tasks (one active instance; others stand by)", run: runScheduler},
		{name: "all", summary: "serve, worker and scheduler in one process (development, small installs)", run: runAll},
		{name: "migrate", args: "up|down|status", summary: "apply, roll back (last group) or list database migrations", run: runMigrate},
		{name: "seed", args: "[--demo]", summary: "load reference data; --demo also loads demo users and data", run: runSeed,
			flags: func(fs *flag.FlagSet) { fs.Bool("demo", false, "also load demo users, enterprises and cases") }},
		{name: "audit", args: "verify", summary: "check the audit log's hash chain and name the first broken link", run: runAudit},
		{name: "version", summary: "print the version", run: func(_ context.Context, _ config.Config, _ *slog.Logger, fs *flag.FlagSet, _ []string) error {
			fmt.Fprintln(fs.Output(), "greenchannel", Version)
			return nil
		}},
	}
}

// Run executes the subcommand in args (args[0] is the subcommand).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	usage := func() {
		fmt.Fprintln(stderr, "greenchannel — 涉企法治服务绿色通道\n\nUsage: greenchannel <command> [arguments]\n\nCommands:")
		for _, c := range cmds {
			fmt.Fprintf(stderr, "  %-10s %-15s %s\n", c.name, c.args, c.summary)
		}
		fmt.Fprintln(stderr, "\nConfiguration comes from GC_* environment variables; see README.md.\nRun 'greenchannel <command> --help' for details.")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return ErrUsage
		}
		return nil
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(stdout)
		if c.flags != nil {
			c.flags(fs)
		}
		fs.Usage = func() {
			fmt.Fprintf(stderr, "Usage: greenchannel %s %s\n\n%s\n", c.name, c.args, c.summary)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			fs.SetOutput(stdout)
		}
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return ErrUsage
		}
		if c.name == "version" {
			return c.run(ctx, config.Config{}, nil, fs, fs.Args())
		}
		cfg, err := config.FromEnv()
		if err != nil {
			return err
		}
		return c.run(ctx, cfg, newLogger(cfg, stderr), fs, fs.Args())
	}
	fmt.Fprintf(stderr, "greenchannel: unknown command %q\n\n", args[0])
	usage()
	return ErrUsage
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Main is what cmd/greenchannel calls; it returns the process exit code.
func Main(ctx context.Context) int {
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	default:
		msg := err.Error()
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		fmt.Fprint(os.Stderr, "greenchannel: "+msg)
		return 1
	}
}
