package inspection

// VerifyCacheListening reports whether the verify cache keeps pages.
func (s *Service) VerifyCacheListening() bool { return s.verifyCache.Listening() }

// VerifyCached reports whether the page of code is kept.
func (s *Service) VerifyCached(code string) bool {
	_, ok, _ := s.verifyCache.Get(code)
	return ok
}

// DrawCodesFrom makes new codes from the given random bits, in turn.
func (s *Service) DrawCodesFrom(bits ...uint32) {
	s.draw = func() uint32 {
		b := bits[0]
		bits = bits[1:]
		return b
	}
}
