package jobs

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

// Collector reports queue sizes and the outbox backlog at scrape time, so the
// figures are read from Redis and PostgreSQL rather than kept in memory.
type Collector struct {
	inspector *asynq.Inspector
	db        bun.IDB

	queueSize     *prometheus.Desc
	outboxPending *prometheus.Desc
	outboxAge     *prometheus.Desc
}

// NewCollector returns a collector over the given inspector and database.
func NewCollector(inspector *asynq.Inspector, db bun.IDB) *Collector {
	return &Collector{
		inspector:     inspector,
		db:            db,
		queueSize:     prometheus.NewDesc("gc_queue_tasks", "Tasks in an asynq queue by state.", []string{"queue", "state"}, nil),
		outboxPending: prometheus.NewDesc("gc_outbox_pending", "Outbox rows not yet dispatched to Redis.", nil, nil),
		outboxAge:     prometheus.NewDesc("gc_outbox_oldest_seconds", "Age of the oldest undispatched outbox row.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queueSize
	ch <- c.outboxPending
	ch <- c.outboxAge
}

// Collect implements prometheus.Collector. Unreachable backends are skipped:
// /readyz is where their absence is reported.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range []string{QueueCritical, QueueDefault, QueueLow} {
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived,
		} {
			ch <- prometheus.MustNewConstMetric(c.queueSize, prometheus.GaugeValue, float64(n), q, state)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, age, err := Backlog(ctx, c.db); err == nil {
		ch <- prometheus.MustNewConstMetric(c.outboxPending, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.outboxAge, prometheus.GaugeValue, age.Seconds())
	}
}
