package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"greenchannel"
	"greenchannel/api"
	"greenchannel/internal/httpapi"
	"greenchannel/internal/identity"
	"greenchannel/internal/platform/httpx"
	"greenchannel/internal/web"
)

// newHTTP builds the whole HTTP surface: the API (validated against the
// embedded spec), web pages and docs, metrics and the queue monitor.
func newHTTP(d *deps) (*echo.Echo, error) {
	e := httpx.New(httpx.Options{Log: d.log, Metrics: d.metrics, MapError: httpapi.MapError, TrustedProxies: d.cfg.TrustedProxies})

	spec, err := api.GetSpec()
	if err != nil {
		return nil, err
	}
	validate, err := httpx.ValidateRequests(spec)
	if err != nil {
		return nil, err
	}
	// About twice the database pool: enough to keep it busy, few enough that
	// a burst queues here instead of inside every request.
	e.Use(httpx.InFlight(64, 2*time.Second))
	e.Use(validate)
	e.Use(httpapi.Authenticate(d.identity))
	// The public code check must not become a way to enumerate codes.
	e.Use(httpx.RateLimit("/api/v1/inspection-codes/", 60))

	server := httpapi.New(httpapi.Deps{Version: Version, Ready: d.ready, Identity: d.identity, Casework: d.casework,
		Routing: d.routing, SLA: d.sla, Inspection: d.inspection, Oversight: d.oversight, DB: d.db, Now: d.clock.Now})
	api.RegisterHandlers(e, api.NewStrictHandler(server, []api.StrictMiddlewareFunc{
		httpapi.RequireAuth(httpapi.PublicOperations(spec)),
	}))

	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{})))
	web.Register(e, web.Deps{Spec: greenchannel.OpenAPIYAML, Identity: d.identity, Log: d.log, SecureCookies: strings.HasPrefix(d.cfg.PublicURL, "https://"),
		Casework: d.casework, SLA: d.sla, Inspection: d.inspection, Oversight: d.oversight, Routing: d.routing, Now: d.clock.Now})
	if err := mountQueueMonitor(e, d); err != nil {
		return nil, err
	}
	return e, nil
}

func mountQueueMonitor(e *echo.Echo, d *deps) error {
	opt, err := asynq.ParseRedisURI(d.cfg.RedisURL)
	if err != nil {
		return err
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: "/admin/queues", RedisConnOpt: opt})
	h := echo.WrapHandler(mon)
	e.Any("/admin/queues", h, queueMonitorAccess, relaxCSP)
	e.Any("/admin/queues/*", h, queueMonitorAccess, relaxCSP)
	return nil
}

// queueMonitorAccess lets only the administrator and the oversight office
// reach asynqmon, which has no authentication of its own.
func queueMonitorAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, ok := identity.ActorFrom(c.Request().Context())
		if !ok {
			return httpx.Unauthorized("请先登录 / sign in first")
		}
		if a.Role != identity.RoleAdmin && a.Role != identity.RoleOversight {
			return httpx.Forbidden("only the administrator and the oversight office may open the queue monitor")
		}
		return next(c)
	}
}

// relaxCSP lets asynqmon's bundled single-page app run its inline bootstrap.
func relaxCSP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy",
			"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline' https:; font-src 'self' data: https:; img-src 'self' data:")
		return next(c)
	}
}

// serveHTTP runs e until ctx ends, then drains in-flight requests.
func serveHTTP(ctx context.Context, d *deps, e *echo.Echo) error {
	srv := &http.Server{
		Addr:              d.cfg.HTTPAddr,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // uploads on slow links
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		d.log.Info("http: listening", "addr", "http://"+d.cfg.HTTPAddr, "version", Version)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
		close(errc)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	d.log.Info("http: shutting down, finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return <-errc
}
