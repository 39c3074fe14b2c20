package identity

// ActorCacheListening reports whether the actor cache keeps actors.
func (s *Service) ActorCacheListening() bool { return s.actors.Listening() }

// ActorCached reports whether the actor of user id is kept.
func (s *Service) ActorCached(id int64) bool {
	_, ok, _ := s.actors.Get(id)
	return ok
}
