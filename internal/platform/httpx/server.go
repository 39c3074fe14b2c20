package httpx

import (
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure New.
type Options struct {
	Log      *slog.Logger
	Metrics  prometheus.Registerer // nil: no HTTP metrics
	MapError ErrorMapper
	// BodyLimit caps JSON and form bodies, e.g. "1M"; UploadLimit caps
	// multipart uploads, e.g. "21M" (a 20 MB file plus the envelope).
	BodyLimit   string
	UploadLimit string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client. From any other peer the header is ignored, so a client cannot
	// choose the address that the per-address limits count.
	TrustedProxies []*net.IPNet
}

// New returns an Echo instance with the shared middleware: request id,
// panic recovery, access log and metrics, security headers and a body limit.
// CORS is off: the web pages are served from the same origin.
func New(o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = ErrorHandler(o.Log, o.MapError)
	e.IPExtractor = echo.ExtractIPDirect()
	if len(o.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range o.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: newRequestID,
	}))
	e.Use(accessLog(o.Log, newHTTPMetrics(o.Metrics)))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			o.Log.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0", // obsolete header; CSP does the job
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            31536000, // only sent over TLS
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
		ReferrerPolicy:        "same-origin",
	}))
	limit, upload := o.BodyLimit, o.UploadLimit
	if limit == "" {
		limit = "1M"
	}
	if upload == "" {
		upload = "21M"
	}
	isUpload := func(c echo.Context) bool {
		return strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm)
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: limit, Skipper: isUpload}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: upload, Skipper: func(c echo.Context) bool { return !isUpload(c) }}))
	return e
}

type httpMetrics struct {
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	if reg == nil {
		return nil
	}
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gc_http_request_duration_seconds",
		Help:    "HTTP request latency by route template, method and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "status"})}
	reg.MustRegister(m.duration)
	return m
}

// accessLog writes one slog line per request and feeds the latency histogram.
// The route label is the template ("/api/v1/requests/:id"), never the raw
// path, so the metric's cardinality stays bounded.
func accessLog(log *slog.Logger, m *httpMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // render now so the status below is the real one
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			if m != nil {
				m.duration.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
			}
			attrs := []any{
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "route", route, "path", c.Request().URL.Path,
				"status", status, "latency_ms", float64(elapsed.Microseconds()) / 1000,
				"bytes", c.Response().Size, "ip", c.RealIP(),
			}
			if actor, ok := c.Get(ActorLogKey).(string); ok {
				attrs = append(attrs, "actor", actor)
			}
			level := slog.LevelInfo
			if status >= http.StatusInternalServerError {
				level = slog.LevelError
			}
			log.Log(c.Request().Context(), level, "http", attrs...)
			return nil
		}
	}
}

// SessionCookie is the web session cookie's name.
const SessionCookie = "gc_session"

// CSRFKey is the echo.Context key under which the auth middleware leaves the
// session's CSRF token for page templates.
const CSRFKey = "gc.csrf"

// CSRFToken returns the session's CSRF token for forms, or "".
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(CSRFKey).(string)
	return s
}

// ActorLogKey is the echo.Context key under which the auth middleware leaves
// a short actor description ("user:42") for the access log.
const ActorLogKey = "gc.actor"

func newRequestID() string { return strings.ToLower(rand.Text()) }
