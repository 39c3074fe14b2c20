package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Tokens is what a successful API sign-in or refresh returns.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

var errBadCredentials = fault.New(fault.Unauthenticated, "用户名或密码错误 / wrong username or password")

// Login checks a username and password from client address ip and returns
// a fresh token pair. Failures are counted per account and per address;
// past the limit the caller gets fault.RateLimited with a RetryAfter.
func (s *Service) Login(ctx context.Context, username, password, ip string) (Tokens, User, error) {
	u, err := s.checkPassword(ctx, username, password, ip)
	if err != nil {
		return Tokens{}, User{}, err
	}
	var t Tokens
	err = pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		t, err = s.issue(ctx, tx, u, uuid.New())
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, s.clock.Now(), audit.Entry{
			Actor: "user:" + strconv.FormatInt(u.ID, 10), Action: "auth.login", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10), Detail: map[string]any{"ip": ip, "via": "token"},
		})
	})
	return t, *u, err
}

// checkPassword verifies credentials under the throttle.
func (s *Service) checkPassword(ctx context.Context, username, password, ip string) (*User, error) {
	now := s.clock.Now()
	userKey, ipKey := "user:"+strings.ToLower(strings.TrimSpace(username)), "ip:"+ip
	if wait, err := s.lockedFor(ctx, now, userKey, ipKey); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, &fault.Error{Kind: fault.RateLimited, RetryAfter: wait,
			Msg: fmt.Sprintf("登录失败次数过多，请%d分钟后再试 / too many failed sign-ins; try again in %d min", minutesCeil(wait), minutesCeil(wait))}
	}

	u, err := s.userByUsername(ctx, s.db, username)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password) // same cost as a real check
		return nil, s.recordFailure(ctx, now, userKey, ipKey, nil, "unknown user")
	}
	if err != nil {
		return nil, err
	}
	if !CheckPassword(u.PasswordHash, password) {
		return nil, s.recordFailure(ctx, now, userKey, ipKey, u, "wrong password")
	}
	if u.DisabledAt != nil {
		return nil, s.recordFailure(ctx, now, userKey, ipKey, u, "disabled")
	}
	if _, err := s.db.NewDelete().Table("login_throttle").Where("key = ?", userKey).Exec(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

func minutesCeil(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// lockedFor returns how long the longer of the two locks still runs.
func (s *Service) lockedFor(ctx context.Context, now time.Time, keys ...string) (time.Duration, error) {
	var until []time.Time
	err := s.db.NewSelect().Table("login_throttle").Column("locked_until").
		Where("key IN (?)", bun.List(keys)).Where("locked_until > ?", now).Scan(ctx, &until)
	if err != nil {
		return 0, err
	}
	var wait time.Duration
	for _, t := range until {
		wait = max(wait, t.Sub(now))
	}
	return wait, nil
}

// recordFailure counts the failure against the account and the address,
// locks whichever reached its limit, audits it, and returns the error the
// caller should see. It commits on its own: the failure must count even
// though the sign-in fails.
func (s *Service) recordFailure(ctx context.Context, now time.Time, userKey, ipKey string, u *User, why string) error {
	target := strings.TrimPrefix(userKey, "user:")
	if u != nil {
		target = strconv.FormatInt(u.ID, 10)
	}
	var lockedNow []string
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		lockedNow = lockedNow[:0]
		for _, k := range []struct {
			key   string
			limit int
		}{{userKey, s.limits.MaxFailures}, {ipKey, s.limits.MaxIPFailures}} {
			var failures int
			// A failure outside the window starts a new count.
			err := tx.NewRaw(`INSERT INTO login_throttle AS t (key, failures, first_failure) VALUES (?, 1, ?)
				ON CONFLICT (key) DO UPDATE SET
				  failures = CASE WHEN t.first_failure < ? THEN 1 ELSE t.failures + 1 END,
				  first_failure = CASE WHEN t.first_failure < ? THEN EXCLUDED.first_failure ELSE t.first_failure END
				RETURNING failures`, k.key, now, now.Add(-s.limits.Window), now.Add(-s.limits.Window)).Scan(ctx, &failures)
			if err != nil {
				return err
			}
			if failures >= k.limit {
				if _, err := tx.NewRaw("UPDATE login_throttle SET locked_until = ?, failures = 0 WHERE key = ?",
					now.Add(s.limits.Lockout), k.key).Exec(ctx); err != nil {
					return err
				}
				lockedNow = append(lockedNow, k.key)
			}
		}
		entry := audit.Entry{Actor: ipKey, Action: "auth.login_failed", TargetType: "user", TargetID: target,
			Detail: map[string]any{"reason": why}}
		if err := audit.Append(ctx, tx, now, entry); err != nil {
			return err
		}
		for _, k := range lockedNow {
			if err := audit.Append(ctx, tx, now, audit.Entry{Actor: "system", Action: "auth.lockout", TargetType: "throttle",
				TargetID: k, Detail: map[string]any{"until": now.Add(s.limits.Lockout), "user": target}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if why == "disabled" {
		return fault.New(fault.Unauthenticated, "账号已停用 / this account is disabled")
	}
	return errBadCredentials
}

// issue writes a new refresh token in family and signs an access token.
func (s *Service) issue(ctx context.Context, tx bun.IDB, u *User, family uuid.UUID) (Tokens, error) {
	now := s.clock.Now()
	refresh := rand.Text() + rand.Text()
	if _, err := tx.NewRaw(`INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.ID, family, hashToken(refresh), now.Add(s.limits.RefreshTTL), now).Exec(ctx); err != nil {
		return Tokens{}, err
	}
	access, err := s.signAccess(u.ID, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, RefreshToken: refresh, ExpiresIn: s.limits.AccessTTL}, nil
}

// Refresh spends a refresh token and returns a new pair in the same family.
// A token presented a second time means it was copied: the whole family is
// revoked, so the thief and the owner both have to sign in again.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	var t Tokens
	var reused bool
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.clock.Now()
		var row struct {
			ID        int64      `bun:"id"`
			UserID    int64      `bun:"user_id"`
			Family    uuid.UUID  `bun:"family"`
			ExpiresAt time.Time  `bun:"expires_at"`
			UsedAt    *time.Time `bun:"used_at"`
			RevokedAt *time.Time `bun:"revoked_at"`
		}
		err := tx.NewSelect().Table("refresh_tokens").Column("id", "user_id", "family", "expires_at", "used_at", "revoked_at").
			Where("token_hash = ?", hashToken(refresh)).For("UPDATE").Scan(ctx, &row)
		if errors.Is(err, sql.ErrNoRows) {
			return errInvalidRefresh
		}
		if err != nil {
			return err
		}
		if row.RevokedAt != nil || !now.Before(row.ExpiresAt) {
			return errInvalidRefresh
		}
		if row.UsedAt != nil {
			reused = true
			if _, err := tx.NewRaw("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL", now, row.Family).Exec(ctx); err != nil {
				return err
			}
			return audit.Append(ctx, tx, now, audit.Entry{Actor: "system", Action: "auth.refresh_reuse", TargetType: "user",
				TargetID: strconv.FormatInt(row.UserID, 10), Detail: map[string]any{"family": row.Family}})
		}
		if _, err := tx.NewRaw("UPDATE refresh_tokens SET used_at = ? WHERE id = ?", now, row.ID).Exec(ctx); err != nil {
			return err
		}
		u, err := s.userByID(ctx, tx, row.UserID)
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			return errInvalidRefresh
		}
		t, err = s.issue(ctx, tx, u, row.Family)
		return err
	})
	if err == nil && reused {
		return Tokens{}, errInvalidRefresh
	}
	return t, err
}

var errInvalidRefresh = fault.New(fault.Unauthenticated, "登录已失效，请重新登录 / the refresh token is not valid; sign in again")

// Logout revokes the refresh token's family. Unknown tokens are ignored:
// logging out twice is not an error.
func (s *Service) Logout(ctx context.Context, refresh string) error {
	_, err := s.db.NewRaw(`UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL
		AND family = (SELECT family FROM refresh_tokens WHERE token_hash = ?)`, s.clock.Now(), hashToken(refresh)).Exec(ctx)
	return err
}

type accessClaims struct {
	jwt.RegisteredClaims
}

func (s *Service) signAccess(userID int64, now time.Time) (string, error) {
	k := s.keys[0]
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, accessClaims{jwt.RegisteredClaims{
		Issuer:    "greenchannel",
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.limits.AccessTTL)),
	}})
	tok.Header["kid"] = k.ID
	return tok.SignedString(k.Secret)
}

// Authenticate turns an access token into the actor, as the user is now
// (actorByUserID), so a disabled account stops working at once, not when
// its token expires.
func (s *Service) Authenticate(ctx context.Context, access string) (Actor, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(access, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range s.keys {
			if k.ID == kid {
				return k.Secret, nil
			}
		}
		return nil, fmt.Errorf("unknown key %q", kid)
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("greenchannel"), jwt.WithTimeFunc(s.clock.Now), jwt.WithExpirationRequired())
	if err != nil {
		return Actor{}, fault.New(fault.Unauthenticated, "访问令牌无效或已过期 / the access token is invalid or expired")
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil {
		return Actor{}, fault.New(fault.Unauthenticated, "the access token is invalid")
	}
	return s.actorByUserID(ctx, id)
}

// Actor returns the actor for a user id (for jobs and tests acting as a
// known user); a disabled user is refused like at sign-in.
func (s *Service) Actor(ctx context.Context, userID int64) (Actor, error) {
	return s.actorByUserID(ctx, userID)
}

// ActorByUsername is Actor by username.
func (s *Service) ActorByUsername(ctx context.Context, username string) (Actor, error) {
	u, err := s.userByUsername(ctx, s.db, username)
	if err != nil {
		return Actor{}, notFound(err)
	}
	return s.actorByUserID(ctx, u.ID)
}

// actorSQL reads what an actor is made of. It reads no more than that and
// runs prepared.
const actorSQL = `SELECT u.id, u.username, u.role, coalesce(u.agency_id, 0), coalesce(a.kind, ''), coalesce(u.enterprise_id, 0),
	  u.disabled_at IS NOT NULL
	FROM users u LEFT JOIN agencies a ON a.id = u.agency_id WHERE u.id = $1`

// actorCacheSize is how many actors each of the cache's two generations
// holds: every account of a district, with room to spare. A kept actor is
// read afresh after actorCacheAge all the same.
const (
	actorCacheSize = 20_000
	actorCacheAge  = time.Minute
)

// actorByUserID reads the actor of every authenticated request. It comes
// from the cache when it is there: the database announces every change to
// a user or an agency's kind (migration 0023), so a disabled account still
// stops working at once, and the round trip a request spent on it is gone.
// A disabled account is never kept.
func (s *Service) actorByUserID(ctx context.Context, id int64) (Actor, error) {
	a, ok, gen := s.actors.Get(id)
	if ok {
		return a, nil
	}
	row, err := pg.QueryRowPrepared(ctx, s.db, actorSQL, id)
	if err != nil {
		return Actor{}, err
	}
	var disabled bool
	err = row.Scan(&a.UserID, &a.Username, &a.Role, &a.AgencyID, &a.AgencyKind, &a.EnterpriseID, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && disabled) {
		return Actor{}, fault.New(fault.Unauthenticated, "账号不可用 / this account cannot sign in")
	}
	if err != nil {
		return Actor{}, err
	}
	s.actors.Put(id, a, gen)
	return a, nil
}

// RunActorCache keeps the actor cache exact by listening, on a connection
// of its own to dbURL, for the changes the database announces, until ctx
// ends. Without it running, every request reads its actor.
func (s *Service) RunActorCache(ctx context.Context, dbURL string) error {
	s.actors.Run(ctx, dbURL, "identity_actor", func(payload string) (int64, bool) {
		id, err := strconv.ParseInt(payload, 10, 64)
		return id, err == nil
	}, s.log)
	return nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
