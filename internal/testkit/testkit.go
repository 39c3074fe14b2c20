// Package testkit builds the world domain tests start from: a fresh
// database with the reference and demo seeds, a fake clock, and the demo
// users as actors. It is imported by tests only.
package testkit

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/pg/pgtest"
	"greenchannel/seeds"
)

// Quiet is a logger that discards everything.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// CST parses "2006-01-02 15:04" in China Standard Time.
func CST(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// World is a seeded database, a fake clock and the demo users.
type World struct {
	T        testing.TB
	DB       *bun.DB
	URL      string // the database's, for code that opens its own connections
	Clock    *clock.Fake
	Identity *identity.Service
	actors   map[string]identity.Actor
}

// New seeds a fresh database (reference and demo data) with the clock at start.
func New(t testing.TB, start time.Time) *World {
	t.Helper()
	db, url := pgtest.NewWithURL(t)
	if _, err := seeds.Load(context.Background(), db, true); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(start)
	return &World{T: t, DB: db, URL: url, Clock: clk, actors: map[string]identity.Actor{},
		Identity: identity.NewService(db, clk, Quiet, []identity.SigningKey{{ID: "test", Secret: make([]byte, 32)}}, identity.DefaultLimits)}
}

// As returns the actor of a demo user.
func (w *World) As(username string) identity.Actor {
	w.T.Helper()
	if a, ok := w.actors[username]; ok {
		return a
	}
	a, err := w.Identity.ActorByUsername(context.Background(), username)
	if err != nil {
		w.T.Fatalf("testkit: user %s: %v", username, err)
	}
	w.actors[username] = a
	return a
}
