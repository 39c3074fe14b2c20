package identity

import (
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/cache"
	"greenchannel/internal/platform/clock"
)

// SigningKey is one named secret for access tokens. The first key of a
// Service signs; every key verifies, so keys rotate without logging
// everyone out.
type SigningKey struct {
	ID     string
	Secret []byte
}

// Limits are the sign-in settings.
type Limits struct {
	AccessTTL  time.Duration // access token lifetime (≤ 15 min)
	RefreshTTL time.Duration
	SessionTTL time.Duration // web session lifetime
	// Failed sign-ins: MaxFailures within Window lock the account (or the
	// client address, after MaxIPFailures) for Lockout.
	MaxFailures   int
	MaxIPFailures int
	Window        time.Duration
	Lockout       time.Duration
}

// DefaultLimits are the shipped sign-in settings.
var DefaultLimits = Limits{
	AccessTTL:     15 * time.Minute,
	RefreshTTL:    30 * 24 * time.Hour,
	SessionTTL:    12 * time.Hour,
	MaxFailures:   5,
	MaxIPFailures: 30,
	Window:        15 * time.Minute,
	Lockout:       15 * time.Minute,
}

// Service is the identity domain: sign-in and the administration of
// agencies, users and enterprises.
type Service struct {
	db     *bun.DB
	clock  clock.Clock
	log    *slog.Logger
	keys   []SigningKey
	limits Limits
	// actors keeps the actors of recent requests (see actorByUserID).
	actors *cache.Exact[int64, Actor]
}

// NewService returns the identity service. keys must hold at least one key.
func NewService(db *bun.DB, clk clock.Clock, log *slog.Logger, keys []SigningKey, limits Limits) *Service {
	if len(keys) == 0 {
		panic("identity: no signing keys")
	}
	return &Service{db: db, clock: clk, log: log, keys: keys, limits: limits, actors: cache.NewExact[int64, Actor](actorCacheSize, actorCacheAge)}
}
