package httpx

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// RateLimit allows perMinute requests per client address to paths under
// prefix, counted in Redis so every server process shares the limit. When
// Redis is unreachable the request is let through: the limit protects the
// service, it must not take it down.
func RateLimit(rdb redis.UniversalClient, prefix string, perMinute int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !strings.HasPrefix(c.Request().URL.Path, prefix) {
				return next(c)
			}
			now := time.Now()
			window := now.Unix() / 60
			key := fmt.Sprintf("gc:rl:%s:%s:%d", prefix, c.RealIP(), window)
			// Count and expire in one round trip: nearly every scan comes
			// from a phone the window has not seen yet.
			pipe := rdb.Pipeline()
			incr := pipe.Incr(c.Request().Context(), key)
			pipe.ExpireNX(c.Request().Context(), key, 2*time.Minute)
			_, err := pipe.Exec(c.Request().Context())
			n := incr.Val()
			if err == nil && n > int64(perMinute) {
				p := NewProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests", "请求过于频繁，请稍后再试 / too many requests; try again shortly")
				p.Headers = map[string]string{"Retry-After": strconv.FormatInt(60-now.Unix()%60, 10)}
				return p
			}
			return next(c)
		}
	}
}
