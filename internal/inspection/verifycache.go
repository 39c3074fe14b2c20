package inspection

import (
	"context"
	"log/slog"
	"sync"

	"greenchannel/internal/platform/pg"
)

// verifyCacheSize is how many codes each of the cache's two generations
// holds: the codes of the inspections under way, scanned at the door and
// again by the enterprise, fit with room to spare.
const verifyCacheSize = 50_000

// verifyCache keeps what the public verify page shows for recently scanned
// codes, so a burst of scans costs PostgreSQL nothing. It is exact, not
// merely recent: the database notifies every change to what a page shows
// (migration 0022), and the cache keeps entries only while it is listening.
// Whether a code is valid is decided at each scan from the kept window, so
// time needs no invalidation.
type verifyCache struct {
	mu        sync.Mutex
	listening bool
	// gen counts invalidations: a page read from the database before one
	// may be out of date and is not kept.
	gen uint64
	// Two generations: when cur is full it becomes prev and a new cur
	// starts; a hit in prev moves to cur. The codes scanned lately stay.
	cur, prev map[string]*Verified
}

func newVerifyCache() *verifyCache {
	return &verifyCache{cur: map[string]*Verified{}, prev: map[string]*Verified{}}
}

// get returns the kept page of code, or the generation to put it under.
func (c *verifyCache) get(code string) (*Verified, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening {
		return nil, c.gen
	}
	if v, ok := c.cur[code]; ok {
		return v, c.gen
	}
	if v, ok := c.prev[code]; ok {
		c.store(code, v)
		return v, c.gen
	}
	return nil, c.gen
}

// put keeps a page read from the database, unless something changed since
// the read began (gen is what get returned before it) or nothing would
// tell the cache of a change.
func (c *verifyCache) put(code string, v *Verified, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listening && gen == c.gen {
		c.store(code, v)
	}
}

func (c *verifyCache) store(code string, v *Verified) {
	if len(c.cur) >= verifyCacheSize {
		c.prev, c.cur = c.cur, make(map[string]*Verified, verifyCacheSize)
	}
	c.cur[code] = v
}

// forget drops one code's page, or every page for "*".
func (c *verifyCache) forget(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(code)
}

func (c *verifyCache) forgetLocked(code string) {
	c.gen++
	if code == "*" {
		clear(c.cur)
		clear(c.prev)
		return
	}
	delete(c.cur, code)
	delete(c.prev, code)
}

// setListening turns keeping on or off; either way everything kept is
// dropped, since changes made while nobody listened were missed.
func (c *verifyCache) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked("*")
	c.listening = on
}

// RunVerifyCache keeps the verify page cache exact by listening, on a
// connection of its own to dbURL, for the changes the database announces,
// until ctx ends. Without it running, every scan reads the database.
func (s *Service) RunVerifyCache(ctx context.Context, dbURL string) error {
	defer s.verifyCache.setListening(false)
	pg.Listen(ctx, dbURL, "inspection_verify", pg.Listener{
		Listening: func() { s.verifyCache.setListening(true) },
		Notified:  s.verifyCache.forget,
		Lost: func(err error) {
			s.verifyCache.setListening(false)
			s.log.Warn("verify cache: listen connection lost; scans read the database until it is back", slog.Any("err", err))
		},
	})
	return nil
}
