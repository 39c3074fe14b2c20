// Package cache keeps in-process copies of what the database holds, exact
// rather than merely recent: the database announces every change to what a
// cache keeps (a trigger's NOTIFY), and a cache keeps entries only while it
// listens for those announcements.
package cache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"greenchannel/internal/platform/pg"
)

// Exact is a cache kept exact by a channel's notifications. Each of its two
// generations holds up to size entries: when the current one is full it
// becomes the previous one and a new one starts, and a hit in the previous
// one moves to the current one, so what is read lately stays.
//
// An entry is also read afresh once it is maxAge old: should the listening
// connection stall without failing, no change is missed for longer.
type Exact[K comparable, V any] struct {
	size   int
	maxAge time.Duration
	now    func() time.Time // time.Now; tests move it

	mu        sync.Mutex
	listening bool
	// gen counts invalidations: a value read from the database before one
	// may be out of date and is not kept.
	gen       uint64
	cur, prev map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time // when it was read
}

// NewExact returns an empty cache that keeps nothing until Run listens.
func NewExact[K comparable, V any](size int, maxAge time.Duration) *Exact[K, V] {
	return &Exact[K, V]{size: size, maxAge: maxAge, now: time.Now, cur: map[K]entry[V]{}, prev: map[K]entry[V]{}}
}

// Get returns the kept value of k, or the generation to Put a value read
// from the database under.
func (c *Exact[K, V]) Get(k K) (v V, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening {
		return v, false, c.gen
	}
	e, ok := c.cur[k]
	if !ok {
		if e, ok = c.prev[k]; ok {
			c.store(k, e)
		}
	}
	if !ok || c.now().Sub(e.at) >= c.maxAge {
		return v, false, c.gen
	}
	return e.v, true, c.gen
}

// Put keeps a value read from the database, unless something changed since
// the read began (gen is what Get returned before it) or nothing would tell
// the cache of a change.
func (c *Exact[K, V]) Put(k K, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listening && gen == c.gen {
		c.store(k, entry[V]{v, c.now()})
	}
}

func (c *Exact[K, V]) store(k K, e entry[V]) {
	if len(c.cur) >= c.size {
		c.prev, c.cur = c.cur, make(map[K]entry[V], c.size)
	}
	c.cur[k] = e
}

// Forget drops k. A process that makes a change itself forgets it at once,
// without waiting for the announcement.
func (c *Exact[K, V]) Forget(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.cur, k)
	delete(c.prev, k)
}

// ForgetAll drops everything kept.
func (c *Exact[K, V]) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetAllLocked()
}

func (c *Exact[K, V]) forgetAllLocked() {
	c.gen++
	clear(c.cur)
	clear(c.prev)
}

// Listening reports whether the cache keeps entries.
func (c *Exact[K, V]) Listening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listening
}

// setListening turns keeping on or off; either way everything kept is
// dropped, since changes made while nobody listened were missed.
func (c *Exact[K, V]) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetAllLocked()
	c.listening = on
}

// Run keeps c exact by listening on channel, on a connection of its own to
// dbURL, until ctx ends. key turns a notification's payload into the key
// to forget; a payload it does not take (ok false) forgets everything.
// Without Run, c keeps nothing and every read goes to the database.
func (c *Exact[K, V]) Run(ctx context.Context, dbURL, channel string, key func(payload string) (K, bool), log *slog.Logger) {
	defer c.setListening(false)
	pg.Listen(ctx, dbURL, channel, pg.Listener{
		Listening: func() { c.setListening(true) },
		Notified: func(payload string) {
			if k, ok := key(payload); ok {
				c.Forget(k)
			} else {
				c.ForgetAll()
			}
		},
		Lost: func(err error) {
			c.setListening(false)
			log.Warn("cache: listen connection lost; reads go to the database until it is back", slog.String("channel", channel), slog.Any("err", err))
		},
	})
}
