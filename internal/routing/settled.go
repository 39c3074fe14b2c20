package routing

import (
	"context"
	"sync"

	"greenchannel/internal/casework"
)

// settledSize bounds how many requests a router remembers: a burst's worth
// several times over.
const settledSize = 1 << 16

// settled remembers the requests this process's batches placed or pooled,
// with the version they had when read. A burst files thousands of requests
// and every one brings its own routing task, but the first few tasks place
// them all in batches; the others then only have to learn that their
// request is done. Knowing it here saves a query per task. A task for a
// newer version (the request was transferred or declined since) is not
// covered and goes to the database as before; so does any task after the
// memory has moved on or the process restarted.
type settled struct {
	mu   sync.Mutex
	at   map[int64]int // request id → version when placed
	ring []int64       // ids in the order they were added, to forget the oldest
	next int
}

func (s *settled) add(reqs []*casework.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at, s.ring = make(map[int64]int, settledSize), make([]int64, settledSize)
	}
	for _, r := range reqs {
		if old := s.ring[s.next]; old != 0 {
			delete(s.at, old)
		}
		s.ring[s.next], s.next = r.ID, (s.next+1)%settledSize
		s.at[r.ID] = max(s.at[r.ID], r.Version)
	}
}

// covers reports whether the routing asked for at version was settled here.
func (s *settled) covers(id int64, version int) bool {
	if version <= 0 {
		return false // a task from before versions were sent
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.at[id]
	return ok && version <= v
}

// has reports whether a batch of this process placed or pooled id.
func (s *settled) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.at[id]
	return ok
}

// HandleAssign is the TaskAssign handler: a task whose request a batch of
// this process already placed returns at once, any other is routed.
func (e *Engine) HandleAssign(ctx context.Context, p AssignPayload) error {
	if e.settled.covers(p.RequestID, p.Version) {
		return nil
	}
	return e.Route(ctx, p.RequestID)
}
