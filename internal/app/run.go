package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"greenchannel/internal/config"
	"greenchannel/internal/inspection"
	"greenchannel/internal/notify"
	"greenchannel/internal/platform/idem"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/routing"
	"greenchannel/internal/sla"
)

func runServe(ctx context.Context, cfg config.Config, log *slog.Logger, _ *flag.FlagSet, _ []string) error {
	return withDeps(ctx, cfg, log, func(d *deps) error {
		if err := d.checkSchema(ctx); err != nil {
			return err
		}
		return runGroup(ctx, serveParts(d)...)
	})
}

func runWorker(ctx context.Context, cfg config.Config, log *slog.Logger, _ *flag.FlagSet, _ []string) error {
	return withDeps(ctx, cfg, log, func(d *deps) error {
		if err := d.checkSchema(ctx); err != nil {
			return err
		}
		return runGroup(ctx, workerParts(d)...)
	})
}

func runScheduler(ctx context.Context, cfg config.Config, log *slog.Logger, _ *flag.FlagSet, _ []string) error {
	return withDeps(ctx, cfg, log, func(d *deps) error {
		if err := d.checkSchema(ctx); err != nil {
			return err
		}
		return runGroup(ctx, schedulerPart(d))
	})
}

func runAll(ctx context.Context, cfg config.Config, log *slog.Logger, _ *flag.FlagSet, _ []string) error {
	return withDeps(ctx, cfg, log, func(d *deps) error {
		if err := d.checkSchema(ctx); err != nil {
			return err
		}
		// One relay is enough when everything shares a process.
		parts := serveParts(d)
		parts = append(parts, workerServer(d), schedulerPart(d))
		return runGroup(ctx, parts...)
	})
}

func withDeps(ctx context.Context, cfg config.Config, log *slog.Logger, fn func(*deps) error) error {
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	return fn(d)
}

// part is one long-running piece of a process; it returns when ctx ends.
type part func(ctx context.Context) error

// runGroup runs parts until ctx ends or one fails, then stops the rest.
func runGroup(ctx context.Context, parts ...part) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		g.Go(func() error { return p(ctx) })
	}
	return g.Wait()
}

func serveParts(d *deps) []part {
	return []part{
		func(ctx context.Context) error {
			e, err := newHTTP(d)
			if err != nil {
				return err
			}
			return serveHTTP(ctx, d, e)
		},
		relayPart(d),
		func(ctx context.Context) error { return d.inspection.RunVerifyCache(ctx, d.cfg.DatabaseURL) },
		func(ctx context.Context) error { return d.identity.RunActorCache(ctx, d.cfg.DatabaseURL) },
	}
}

func workerParts(d *deps) []part { return []part{workerServer(d), relayPart(d)} }

func relayPart(d *deps) part {
	return jobs.NewRelay(d.db, d.cfg.DatabaseURL, d.asynq, d.log.With("component", "relay")).Run
}

// workerServer runs the asynq server until ctx ends, then lets in-flight
// tasks finish (up to the shutdown timeout) before returning.
func workerServer(d *deps) part {
	return func(ctx context.Context) error {
		if err := routing.CheckCatchAll(ctx, d.db); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		reg := newRegistry(d)
		srv := jobs.NewServer(d.rdb, d.log, 20, d.cfg.ShutdownTimeout)
		if err := srv.Start(reg.Mux()); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		d.log.Info("worker: started", "types", reg.Types())
		<-ctx.Done()
		d.log.Info("worker: shutting down, finishing in-flight tasks")
		srv.Shutdown()
		return nil
	}
}

func schedulerPart(d *deps) part {
	return jobs.NewScheduler(d.db, d.cfg.DatabaseURL, d.clock, d.log.With("component", "scheduler"), periodicTasks()).Run
}

// Task types of housekeeping run by the scheduler.
const (
	taskOutboxPrune = "outbox:prune"
	taskIdemPrune   = "idempotency:prune"
	taskAutoClose   = "casework:autoclose"
	taskReconcile   = "routing:reconcile"
	taskScan        = "oversight:scan"
	taskNightly     = "oversight:nightly"
	taskOverdue     = "oversight:overdue_orders"
	taskMonthly     = "oversight:monthly_snapshot"
	taskReportDays  = "oversight:report_days"
)

// newRegistry maps every task type to its handler. Domain packages expose
// plain methods; this is where they meet asynq.
func newRegistry(d *deps) *jobs.Registry {
	reg := jobs.NewRegistry(d.log, d.metrics)
	jobs.Handle(reg, taskOutboxPrune, func(ctx context.Context, _ struct{}) error {
		n, err := jobs.Prune(ctx, d.db, d.clock.Now().Add(-7*24*time.Hour))
		if err == nil && n > 0 {
			d.log.Info("outbox: pruned dispatched rows", "rows", n)
		}
		return err
	})
	jobs.Handle(reg, taskIdemPrune, func(ctx context.Context, _ struct{}) error {
		_, err := idem.Prune(ctx, d.db, d.clock.Now().Add(-48*time.Hour))
		return err
	})
	jobs.Handle(reg, routing.TaskAssign, d.routing.HandleAssign)
	jobs.Handle(reg, routing.TaskOfferExpired, d.routing.OfferExpired)
	jobs.Handle(reg, routing.TaskDrain, func(ctx context.Context, p routing.DrainPayload) error {
		_, err := d.routing.Drain(ctx, p.AgencyID)
		return err
	})
	jobs.Handle(reg, routing.TaskOfficerChanged, func(ctx context.Context, p routing.OfficerPayload) error {
		return d.routing.OfficerChanged(ctx, p.UserID)
	})
	jobs.Handle(reg, taskReconcile, func(ctx context.Context, _ struct{}) error {
		n, err := d.routing.Reconcile(ctx, 2*time.Minute)
		if n > 0 {
			d.log.Warn("routing: reconciled requests whose routing task never ran", "count", n)
		}
		return err
	})
	jobs.Handle(reg, sla.TaskDeadline, d.sla.Deadline)
	jobs.Handle(reg, sla.TaskEscalate, d.sla.Escalate)
	jobs.Handle(reg, sla.TaskSweep, func(ctx context.Context, _ struct{}) error {
		n, err := d.sla.Sweep(ctx)
		if n > 0 {
			d.log.Info("sla: sweep handled deadlines", "clocks", n)
		}
		return err
	})
	jobs.Handle(reg, sla.TaskRecompute, func(ctx context.Context, p sla.RecomputePayload) error {
		n, err := d.sla.Recompute(ctx, p)
		d.log.Info("sla: recomputed open clocks", "clocks", n, "calendar_id", p.CalendarID, "policy_id", p.PolicyID)
		return err
	})
	jobs.Handle(reg, notify.TaskWebhook, notify.Deliverer{DB: d.db, Client: &http.Client{Timeout: 10 * time.Second}, Now: d.clock.Now}.Deliver)
	jobs.Handle(reg, inspection.TaskAnalyze, d.oversight.AnalyzeInspection)
	jobs.Handle(reg, taskScan, func(ctx context.Context, _ struct{}) error {
		_, err := d.oversight.ScanRequests(ctx)
		return err
	})
	jobs.Handle(reg, taskNightly, func(ctx context.Context, _ struct{}) error {
		n, err := d.oversight.Nightly(ctx)
		d.log.Info("oversight: nightly pass", "evaluated", n)
		return err
	})
	jobs.Handle(reg, taskOverdue, func(ctx context.Context, _ struct{}) error {
		_, err := d.oversight.OverdueOrders(ctx)
		return err
	})
	jobs.Handle(reg, taskReportDays, func(ctx context.Context, _ struct{}) error {
		_, err := d.oversight.RefreshReportDays(ctx)
		return err
	})
	jobs.Handle(reg, taskMonthly, func(ctx context.Context, _ struct{}) error {
		return d.oversight.MonthlySnapshot(ctx, d.sla)
	})
	jobs.Handle(reg, taskAutoClose, func(ctx context.Context, _ struct{}) error {
		n, err := d.casework.AutoClose(ctx)
		if n > 0 {
			d.log.Info("casework: auto-closed resolved requests", "count", n)
		}
		return err
	})
	return reg
}

// periodicTasks is the scheduler's timetable.
func periodicTasks() []jobs.Periodic {
	return []jobs.Periodic{
		{Name: "outbox-prune", Every: time.Hour, Task: jobs.Task{Type: taskOutboxPrune, Queue: jobs.QueueLow}},
		{Name: "idempotency-prune", Every: time.Hour, Task: jobs.Task{Type: taskIdemPrune, Queue: jobs.QueueLow}},
		{Name: "auto-close", Every: 10 * time.Minute, Task: jobs.Task{Type: taskAutoClose, Queue: jobs.QueueLow}},
		{Name: "routing-reconcile", Every: time.Minute, Task: jobs.Task{Type: taskReconcile, Queue: jobs.QueueCritical}},
		{Name: "sla-sweep", Every: time.Minute, Task: jobs.Task{Type: sla.TaskSweep, Queue: jobs.QueueCritical}},
		{Name: "oversight-scan", Every: time.Minute, Task: jobs.Task{Type: taskScan, Queue: jobs.QueueLow}},
		{Name: "oversight-overdue", Every: 10 * time.Minute, Task: jobs.Task{Type: taskOverdue, Queue: jobs.QueueDefault}},
		{Name: "oversight-report-days", Every: time.Minute, Task: jobs.Task{Type: taskReportDays, Queue: jobs.QueueLow, Timeout: 10 * time.Minute}},
		{Name: "oversight-monthly", Every: 6 * time.Hour, Task: jobs.Task{Type: taskMonthly, Queue: jobs.QueueLow, Timeout: 5 * time.Minute}},
		{Name: "oversight-nightly", Every: 24 * time.Hour, Task: jobs.Task{Type: taskNightly, Queue: jobs.QueueLow, Timeout: 10 * time.Minute}},
	}
}
