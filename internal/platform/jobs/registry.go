package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrPermanent marks a failure that retrying cannot fix (a malformed
// payload, a row that no longer exists). The task is archived, not retried.
var ErrPermanent = errors.New("permanent job failure")

// Registry maps task types to handlers. The app fills it once at start.
type Registry struct {
	log      *slog.Logger
	handlers map[string]func(context.Context, []byte) error

	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// NewRegistry returns an empty registry whose handlers report to reg.
func NewRegistry(log *slog.Logger, reg prometheus.Registerer) *Registry {
	r := &Registry{
		log:      log,
		handlers: map[string]func(context.Context, []byte) error{},
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gc_jobs_processed_total", Help: "Background tasks run, by type and outcome.",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gc_jobs_duration_seconds", Help: "Background task run time.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"type"}),
	}
	if reg != nil {
		reg.MustRegister(r.processed, r.duration)
	}
	return r
}

// Handle registers fn for taskType, decoding the JSON payload into P.
// Registering a type twice is a programming error and panics at start.
func Handle[P any](r *Registry, taskType string, fn func(context.Context, P) error) {
	if _, dup := r.handlers[taskType]; dup {
		panic("jobs: handler registered twice for " + taskType)
	}
	r.handlers[taskType] = func(ctx context.Context, raw []byte) error {
		var p P
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("%w: payload: %w", ErrPermanent, err)
		}
		return fn(ctx, p)
	}
}

// Types lists the registered task types.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.handlers))
	for t := range r.handlers {
		out = append(out, t)
	}
	return out
}

// Mux returns the asynq handler serving every registered type.
func (r *Registry) Mux() asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		h, ok := r.handlers[t.Type()]
		if !ok {
			r.processed.WithLabelValues(t.Type(), "unknown").Inc()
			return fmt.Errorf("no handler for task type %q: %w", t.Type(), asynq.SkipRetry)
		}
		start := time.Now()
		err := h(ctx, t.Payload())
		r.duration.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
		switch {
		case err == nil:
			r.processed.WithLabelValues(t.Type(), "ok").Inc()
			return nil
		case errors.Is(err, ErrPermanent):
			r.processed.WithLabelValues(t.Type(), "permanent").Inc()
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		default:
			r.processed.WithLabelValues(t.Type(), "retry").Inc()
			return err
		}
	})
}
