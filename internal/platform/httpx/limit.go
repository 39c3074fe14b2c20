package httpx

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// InFlight caps the requests served at once. Past the cap a request waits
// up to wait for a slot and is then answered 503 with Retry-After:
// under overload the server keeps finishing what it took on instead of
// starting everything and finishing nothing.
func InFlight(max int, wait time.Duration) echo.MiddlewareFunc {
	slots := make(chan struct{}, max)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
			default:
				select {
				case slots <- struct{}{}:
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				case <-time.After(wait):
					p := NewProblem(http.StatusServiceUnavailable, "overloaded", "Service busy", "服务繁忙，请稍后重试 / the service is busy; try again shortly")
					p.Headers = map[string]string{"Retry-After": "1"}
					return p
				}
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}
