package httpx

import (
	"hash/maphash"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// RateLimit allows perMinute requests per client address to paths under
// prefix. Each server process counts in its own memory: a scan costs no
// round trip to Redis (which took a fifth of the server's time on the public
// code check) and the limit holds while Redis is down. Behind a balancer of
// n processes a client may get up to n × perMinute; the limit is there to
// stop floods and code enumeration, for which that factor does not matter.
func RateLimit(prefix string, perMinute int) echo.MiddlewareFunc {
	counter := newMinuteCounter(perMinute)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !strings.HasPrefix(c.Request().URL.Path, prefix) {
				return next(c)
			}
			now := time.Now()
			if !counter.allow(c.RealIP(), now) {
				p := NewProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests", "请求过于频繁，请稍后再试 / too many requests; try again shortly")
				p.Headers = map[string]string{"Retry-After": strconv.FormatInt(60-now.Unix()%60, 10)}
				return p
			}
			return next(c)
		}
	}
}

// minuteCounter counts requests per address in fixed one-minute windows,
// in a count-min sketch: two rows of counters, each address adding to one
// counter in each row, its count the smaller of the two. Its memory is fixed
// (4 MB) however many addresses come, so a flood from fresh addresses cannot
// grow it; an address is counted too high only when busy ones share both
// its counters, which a random hash seed keeps rare and unpredictable.
type minuteCounter struct {
	limit uint16
	seed  maphash.Seed

	mu     sync.Mutex
	minute int64
	rows   [2][]uint16
}

const sketchBits = 20 // 2^20 counters a row

func newMinuteCounter(limit int) *minuteCounter {
	m := &minuteCounter{limit: uint16(min(limit, math.MaxUint16)), seed: maphash.MakeSeed()}
	for r := range m.rows {
		m.rows[r] = make([]uint16, 1<<sketchBits)
	}
	return m
}

// allow counts one request of key at now and says whether it is within the limit.
func (m *minuteCounter) allow(key string, now time.Time) bool {
	h := maphash.String(m.seed, key)
	const mask = 1<<sketchBits - 1
	a, b := &m.rows[0][h&mask], &m.rows[1][(h>>32)&mask]
	minute := now.Unix() / 60
	m.mu.Lock()
	defer m.mu.Unlock()
	if minute != m.minute {
		m.minute = minute
		clear(m.rows[0])
		clear(m.rows[1])
	}
	n := min(*a, *b)
	if n >= m.limit {
		return false // not counted further: a refused flood cannot wrap a counter
	}
	// Raise only the counters at the key's count: a counter that others
	// already pushed higher holds their count, not this key's.
	if *a == n {
		*a++
	}
	if *b == n {
		*b++
	}
	return true
}
