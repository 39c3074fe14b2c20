package inspection

import (
	"context"
	"time"

	"greenchannel/internal/platform/cache"
)

// verifyCacheSize is how many codes each of the cache's two generations
// holds: the codes of the inspections under way, scanned at the door and
// again by the enterprise, fit with room to spare. A kept page is read
// afresh after verifyCacheAge all the same.
const (
	verifyCacheSize = 50_000
	verifyCacheAge  = time.Minute
)

// newVerifyCache returns the cache of what the public verify page shows for
// recently scanned codes, so a burst of scans costs PostgreSQL nothing. The
// database announces every change to what a page shows (migration 0022): a
// code when its inspection changes, "*" for edits many pages share.
// Whether a code is valid is decided at each scan from the kept window, so
// time needs no invalidation.
func newVerifyCache() *cache.Exact[string, *Verified] {
	return cache.NewExact[string, *Verified](verifyCacheSize, verifyCacheAge)
}

// RunVerifyCache keeps the verify page cache exact by listening, on a
// connection of its own to dbURL, for the changes the database announces,
// until ctx ends. Without it running, every scan reads the database.
func (s *Service) RunVerifyCache(ctx context.Context, dbURL string) error {
	s.verifyCache.Run(ctx, dbURL, "inspection_verify", func(code string) (string, bool) { return code, code != "*" }, s.log)
	return nil
}
