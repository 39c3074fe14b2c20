package casework

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
)

// ByTicket returns the request with this ticket number (GC-2026-000123),
// if the actor may see it; people quote ticket numbers, not ids.
func (s *Service) ByTicket(ctx context.Context, a identity.Actor, ticket string) (Request, error) {
	var id int64
	err := s.db.NewRaw("SELECT id FROM requests WHERE ticket_no = ?", strings.ToUpper(strings.TrimSpace(ticket))).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fault.New(fault.NotFound, "没有这个诉求编号 / no request has this ticket number")
	}
	if err != nil {
		return Request{}, err
	}
	return s.Get(ctx, a, id)
}
