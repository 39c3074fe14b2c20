package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strconv"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Session is a signed-in browser.
type Session struct {
	Token string // goes into the HttpOnly cookie; only its hash is stored
	CSRF  string // must come back with every state-changing request
}

// LoginSession checks credentials (with the same throttle as Login) and
// opens a web session.
func (s *Service) LoginSession(ctx context.Context, username, password, ip string) (Session, Actor, error) {
	u, err := s.checkPassword(ctx, username, password, ip)
	if err != nil {
		return Session{}, Actor{}, err
	}
	sess := Session{Token: rand.Text() + rand.Text(), CSRF: rand.Text()}
	err = pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.clock.Now()
		if _, err := tx.NewRaw(`INSERT INTO sessions (user_id, token_hash, csrf_token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, hashToken(sess.Token), sess.CSRF, now.Add(s.limits.SessionTTL), now).Exec(ctx); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: "user:" + strconv.FormatInt(u.ID, 10), Action: "auth.login",
			TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10), Detail: map[string]any{"ip": ip, "via": "web"}})
	})
	if err != nil {
		return Session{}, Actor{}, err
	}
	return sess, actorOf(u), nil
}

// SessionActor returns the actor and CSRF token of a live session.
func (s *Service) SessionActor(ctx context.Context, token string) (Actor, string, error) {
	var row struct {
		UserID int64  `bun:"user_id"`
		CSRF   string `bun:"csrf_token"`
	}
	err := s.db.NewSelect().Table("sessions").Column("user_id", "csrf_token").
		Where("token_hash = ?", hashToken(token)).Where("expires_at > ?", s.clock.Now()).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, "", fault.New(fault.Unauthenticated, "会话已过期，请重新登录 / your session has ended; sign in again")
	}
	if err != nil {
		return Actor{}, "", err
	}
	a, err := s.actorByUserID(ctx, row.UserID)
	return a, row.CSRF, err
}

// LogoutSession ends a web session.
func (s *Service) LogoutSession(ctx context.Context, token string) error {
	_, err := s.db.NewDelete().Table("sessions").Where("token_hash = ?", hashToken(token)).Exec(ctx)
	return err
}
