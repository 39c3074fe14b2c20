package oversight

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/inspection"
	"greenchannel/internal/platform/pg"
)

// requestKinds are the timeline events after which request rules may fire.
var requestKinds = []string{"reopen", "transfer", "decline", "feedback", "sla_breached", "sla_escalated", "request_info", "resolve"}

// ScanRequests evaluates the request rules for every request with new
// relevant timeline events since the last scan, and moves the cursor on,
// in one transaction per batch. Returns how many requests it looked at.
func (s *Service) ScanRequests(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.scanBatch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func (s *Service) scanBatch(ctx context.Context) (int, error) {
	n := 0
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var cursor int64
		// The row lock makes concurrent scans take turns.
		if err := tx.NewRaw(`INSERT INTO oversight_cursors (name, last_id) VALUES ('request_events', 0)
			ON CONFLICT (name) DO UPDATE SET last_id = oversight_cursors.last_id RETURNING last_id`).Scan(ctx, &cursor); err != nil {
			return err
		}
		var rows []struct {
			ID        int64 `bun:"id"`
			RequestID int64 `bun:"request_id"`
		}
		if err := tx.NewRaw(`SELECT id, request_id FROM request_events WHERE id > ? AND kind IN (?) ORDER BY id LIMIT 1000`,
			cursor, bun.List(requestKinds)).Scan(ctx, &rows); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		seen := map[int64]bool{}
		for _, r := range rows {
			if !seen[r.RequestID] {
				seen[r.RequestID] = true
				if err := s.requestRules(ctx, tx, r.RequestID); err != nil {
					return err
				}
			}
		}
		n = len(seen)
		_, err := tx.NewRaw("UPDATE oversight_cursors SET last_id = ? WHERE name = 'request_events'", rows[len(rows)-1].ID).Exec(ctx)
		return err
	})
	return n, err
}

// requestRules raises the alerts a request deserves now.
func (s *Service) requestRules(ctx context.Context, tx bun.IDB, id int64) error {
	var r struct {
		EnterpriseID int64  `bun:"enterprise_id"`
		AgencyID     *int64 `bun:"agency_id"`
		Reopens      int    `bun:"reopen_count"`
		TicketNo     string `bun:"ticket_no"`
		Moves        int    `bun:"moves"`
		Rating       *int   `bun:"rating"`
		OverPause    bool   `bun:"over_pause"`
	}
	if err := tx.NewRaw(`SELECT q.enterprise_id, q.agency_id, q.reopen_count, q.ticket_no,
		  (SELECT count(*) FROM request_events e WHERE e.request_id = q.id AND e.kind IN ('transfer', 'decline')) AS moves,
		  (SELECT rating FROM request_feedback f WHERE f.request_id = q.id) AS rating,
		  EXISTS (SELECT 1 FROM sla_clocks c WHERE c.request_id = q.id AND c.over_pause_cap) AS over_pause
		FROM requests q WHERE q.id = ?`, id).Scan(ctx, &r); err != nil {
		return err
	}
	now := s.clock.Now()
	base := finding{enterprise: r.EnterpriseID, requests: []int64{id}, detail: map[string]any{"ticket_no": r.TicketNo}}
	if r.AgencyID != nil {
		base.agencies = []int64{*r.AgencyID}
	}
	var fs []finding
	var breaches []struct {
		Level    int    `bun:"level"`
		Kind     string `bun:"clock_kind"`
		AgencyID *int64 `bun:"agency_id"`
	}
	if err := tx.NewRaw("SELECT level, clock_kind, agency_id FROM sla_breaches WHERE request_id = ?", id).Scan(ctx, &breaches); err != nil {
		return err
	}
	for _, b := range breaches {
		rule := "sla_breach"
		if b.Level >= 2 {
			rule = "sla_breach_unresolved"
		}
		f := base
		f.rule, f.key = rule, fmt.Sprintf("%d:%s", id, b.Kind)
		if b.AgencyID != nil {
			f.agencies = []int64{*b.AgencyID}
		}
		fs = append(fs, f)
	}
	if r.Reopens >= threshold(ctx, tx, "repeated_reopen", 2) {
		f := base
		f.rule, f.key = "repeated_reopen", fmt.Sprint(id)
		fs = append(fs, f)
	}
	if r.OverPause {
		f := base
		f.rule, f.key = "excessive_pausing", fmt.Sprint(id)
		fs = append(fs, f)
	}
	if r.Moves >= threshold(ctx, tx, "decline_ping_pong", 3) {
		f := base
		f.rule, f.key = "decline_ping_pong", fmt.Sprint(id)
		fs = append(fs, f)
	}
	if r.Rating != nil && *r.Rating <= threshold(ctx, tx, "low_satisfaction", 2) {
		f := base
		f.rule, f.key = "low_satisfaction", fmt.Sprint(id)
		fs = append(fs, f)
	}
	for _, f := range fs {
		if err := raise(ctx, tx, f, now); err != nil {
			return err
		}
	}
	return nil
}

// Nightly re-evaluates the inspections of the last 35 days (situations
// build up as visits are planned) and scans requests, as a full pass
// besides the event-driven one.
func (s *Service) Nightly(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.NewRaw("SELECT id FROM inspections WHERE window_from >= ? ORDER BY id",
		s.clock.Now().Add(-35*24*time.Hour)).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.AnalyzeInspection(ctx, inspection.AnalyzePayload{InspectionID: id, Event: "nightly"}); err != nil {
			return 0, err
		}
	}
	n, err := s.ScanRequests(ctx)
	return len(ids) + n, err
}
