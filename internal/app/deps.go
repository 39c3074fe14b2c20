package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"greenchannel/internal/casework"
	"greenchannel/internal/config"
	"greenchannel/internal/identity"
	"greenchannel/internal/inspection"
	"greenchannel/internal/oversight"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/storage"
	"greenchannel/internal/platform/workcal"
	"greenchannel/internal/routing"
	"greenchannel/internal/sla"
	"greenchannel/migrations"
)

// deps are the long-lived handles every process shares.
type deps struct {
	cfg     config.Config
	log     *slog.Logger
	clock   clock.Clock
	db      *bun.DB
	rdb     *redis.Client
	asynq   *asynq.Client
	metrics *prometheus.Registry
	files   storage.Store

	identity   *identity.Service
	casework   *casework.Service
	routing    *routing.Engine
	sla        *sla.Service
	inspection *inspection.Service
	oversight  *oversight.Service
}

func openDeps(ctx context.Context, cfg config.Config, log *slog.Logger) (*deps, error) {
	db, err := pg.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	rdb, err := jobs.ParseRedisURL(cfg.RedisURL)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(jobs.NewCollector(asynq.NewInspectorFromRedisClient(rdb), db))
	d := &deps{
		cfg: cfg, log: log, clock: clock.System{}, db: db, rdb: rdb,
		asynq: asynq.NewClientFromRedisClient(rdb), metrics: reg,
	}
	files, err := storage.NewLocal(cfg.DataDir)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d.files = files
	d.wire()
	return d, nil
}

// wire builds the domain services on top of the handles. Tests that swap
// the clock call it again.
func (d *deps) wire() {
	keys := make([]identity.SigningKey, len(d.cfg.SecretKeys))
	for i, k := range d.cfg.SecretKeys {
		keys[i] = identity.SigningKey{ID: k.ID, Secret: k.Secret}
	}
	d.identity = identity.NewService(d.db, d.clock, d.log, keys, identity.DefaultLimits)
	d.casework = casework.NewService(d.db, d.clock, d.log, d.files, casework.DefaultLimits)
	d.sla = sla.NewService(d.db, d.clock, d.log.With("component", "sla"))
	// An offer expires when the request's acknowledge deadline passes.
	d.routing = routing.NewEngine(d.db, d.clock, d.log.With("component", "routing"), d.casework, d.sla.AcknowledgeDue)
	d.casework.Observe(d.sla)
	d.casework.AddFiler(d.sla)
	d.casework.Observe(d.routing)
	secrets := make([][]byte, len(d.cfg.SecretKeys))
	for i, k := range d.cfg.SecretKeys {
		secrets[i] = k.Secret
	}
	working := func(ctx context.Context) (*workcal.Calendar, error) { return d.sla.CalendarByCode(ctx, "working") }
	d.inspection = inspection.NewService(d.db, d.clock, d.log.With("component", "inspection"), secrets, d.cfg.PublicURL, working)
	d.oversight = oversight.NewService(d.db, d.clock, d.log.With("component", "oversight"), working)
}

func (d *deps) close() {
	_ = d.db.Close()
	_ = d.rdb.Close()
}

// checkSchema refuses to run against a database the binary does not match.
func (d *deps) checkSchema(ctx context.Context) error {
	m, err := pg.NewMigrator(d.db, migrations.FS)
	if err != nil {
		return err
	}
	if err := m.Check(ctx); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	return nil
}

// ready reports each dependency's state for /readyz.
func (d *deps) ready(ctx context.Context) map[string]error {
	out := map[string]error{}
	if err := d.db.PingContext(ctx); err != nil {
		out["postgres"] = fmt.Errorf("unreachable")
	} else {
		out["postgres"] = nil
		m, err := pg.NewMigrator(d.db, migrations.FS)
		if err == nil {
			err = m.Check(ctx)
		}
		out["schema"] = err
	}
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		out["redis"] = fmt.Errorf("unreachable")
	} else {
		out["redis"] = nil
	}
	return out
}
