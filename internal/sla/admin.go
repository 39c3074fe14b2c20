package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/workcal"
)

func mayManage(a identity.Actor) error {
	return identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference})
}

// recomputeLater queues the re-derivation of the open clocks an edit
// touches; a task per edit version, so two quick edits run it twice, harmlessly.
func recomputeLater(ctx context.Context, tx bun.IDB, p RecomputePayload, at time.Time) error {
	return jobs.Enqueue(ctx, tx, jobs.Task{Type: TaskRecompute, Queue: jobs.QueueLow, Timeout: 10 * time.Minute,
		Key: fmt.Sprintf("sla:recompute:%d:%d:%d", p.CalendarID, p.PolicyID, at.UnixMicro()), Payload: p})
}

// PolicyInput changes a policy (non-nil fields).
type PolicyInput struct {
	Name                 *string
	Precedence           *int
	AcknowledgeMinutes   *int
	ResolutionMinutes    *int
	NextResponseMinutes  *int
	WarnPercent          *int
	MaxPauses            *int
	MaxPauseMinutes      *int
	ReassignOnEscalation *bool
	Active               *bool
}

// UpdatePolicy changes a policy and queues the recompute of its open clocks.
func (s *Service) UpdatePolicy(ctx context.Context, a identity.Actor, id int64, in PolicyInput) (Policy, error) {
	if err := mayManage(a); err != nil {
		return Policy{}, err
	}
	var p Policy
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(&p).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fault.New(fault.NotFound, "policy not found")
			}
			return err
		}
		before := p
		set := func(dst *int, v *int, field string) error {
			if v != nil {
				if *v <= 0 {
					return invalid(field, "must be positive")
				}
				*dst = *v
			}
			return nil
		}
		if in.Name != nil {
			p.Name = *in.Name
		}
		for _, f := range []struct {
			dst   *int
			v     *int
			field string
		}{{&p.Precedence, in.Precedence, "precedence"}, {&p.AcknowledgeMinutes, in.AcknowledgeMinutes, "acknowledge_minutes"},
			{&p.ResolutionMinutes, in.ResolutionMinutes, "resolution_minutes"}, {&p.WarnPercent, in.WarnPercent, "warn_percent"}} {
			if err := set(f.dst, f.v, f.field); err != nil {
				return err
			}
		}
		if in.NextResponseMinutes != nil {
			p.NextResponseMinutes = in.NextResponseMinutes
		}
		if in.MaxPauses != nil {
			p.MaxPauses = in.MaxPauses
		}
		if in.MaxPauseMinutes != nil {
			p.MaxPauseMinutes = in.MaxPauseMinutes
		}
		if in.ReassignOnEscalation != nil {
			p.ReassignOnEscalation = *in.ReassignOnEscalation
		}
		if in.Active != nil {
			p.Active = *in.Active
		}
		if p.WarnPercent >= 100 {
			return invalid("warn_percent", "warn before the deadline: 1–99")
		}
		p.Version++
		p.UpdatedAt = s.clock.Now()
		if _, err := tx.NewUpdate().Model(&p).WherePK().ExcludeColumn("id", "code").Exec(ctx); err != nil {
			return err
		}
		var catchAll int
		if err := tx.NewRaw("SELECT count(*) FROM sla_policies WHERE active AND category IS NULL AND priority IS NULL AND sla_kind IS NULL").Scan(ctx, &catchAll); err != nil {
			return err
		}
		if catchAll == 0 {
			return fault.New(fault.Conflict, "这会停用兜底时效规则 / this would leave no catch-all policy")
		}
		if err := audit.Append(ctx, tx, p.UpdatedAt, audit.Entry{Actor: a.String(), Action: "sla_policy.update", TargetType: "sla_policy",
			TargetID: strconv.FormatInt(p.ID, 10), Detail: map[string]any{"before": before, "after": p}}); err != nil {
			return err
		}
		return recomputeLater(ctx, tx, RecomputePayload{PolicyID: p.ID}, p.UpdatedAt)
	})
	return p, err
}

// Calendars lists the calendars with their loaded years.
func (s *Service) Calendars(ctx context.Context) ([]CalendarRow, map[int64][]int, error) {
	var rows []CalendarRow
	if err := s.db.NewSelect().Model(&rows).OrderExpr("id").Scan(ctx); err != nil {
		return nil, nil, err
	}
	var years []struct {
		CalendarID int64 `bun:"calendar_id"`
		Year       int   `bun:"year"`
	}
	if err := s.db.NewSelect().Table("calendar_years").Column("calendar_id", "year").OrderExpr("year").Scan(ctx, &years); err != nil {
		return nil, nil, err
	}
	out := map[int64][]int{}
	for _, y := range years {
		out[y.CalendarID] = append(out[y.CalendarID], y.Year)
	}
	return rows, out, nil
}

// Day is one holiday, make-up day or closure to load.
type Day struct {
	Date   string
	Name   string
	Closed [][2]int // closures only: the closed spans
}

// LoadCalendarYear replaces one year's holidays, make-up days and closures
// (the State Council publishes next year's around November) and queues the
// recompute of open clocks. Clocks already met or breached keep their
// outcome; running ones get deadlines that are no longer provisional.
func (s *Service) LoadCalendarYear(ctx context.Context, a identity.Actor, calendarID int64, year int, holidays, makeup, closures []Day) error {
	if err := mayManage(a); err != nil {
		return err
	}
	for _, list := range [][]Day{holidays, makeup, closures} {
		for _, d := range list {
			t, err := workcal.ParseDate(d.Date)
			if err != nil || t.Year() != year {
				return invalid("date", "dates must be 2006-01-02 and inside "+strconv.Itoa(year))
			}
		}
	}
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		plain := func(ds []Day) []struct{ Date, Name string } {
			out := make([]struct{ Date, Name string }, len(ds))
			for i, d := range ds {
				out[i].Date, out[i].Name = d.Date, d.Name
			}
			return out
		}
		if err := LoadYear(ctx, tx, calendarID, year, plain(holidays), plain(makeup)); err != nil {
			if errors.Is(pg.MapError(err), pg.ErrForeignKey) {
				return fault.New(fault.NotFound, "calendar not found")
			}
			return err
		}
		if _, err := tx.NewRaw(`DELETE FROM calendar_days WHERE calendar_id = ? AND kind = 'closure'
			AND day >= make_date(?, 1, 1) AND day < make_date(? + 1, 1, 1)`, calendarID, year, year).Exec(ctx); err != nil {
			return err
		}
		for _, c := range closures {
			w, _ := json.Marshal(c.Closed)
			if _, err := tx.NewRaw(`INSERT INTO calendar_days (calendar_id, day, kind, name, windows) VALUES (?, ?, 'closure', ?, ?)`,
				calendarID, c.Date, c.Name, string(w)).Exec(ctx); err != nil {
				return err
			}
		}
		now := s.clock.Now()
		if err := audit.Append(ctx, tx, now, audit.Entry{Actor: a.String(), Action: "calendar.load_year", TargetType: "calendar",
			TargetID: strconv.FormatInt(calendarID, 10), Detail: map[string]any{"year": year, "holidays": len(holidays), "makeup": len(makeup), "closures": len(closures)}}); err != nil {
			return err
		}
		return recomputeLater(ctx, tx, RecomputePayload{CalendarID: calendarID}, now)
	})
}

// ResetClock restarts a request's clock after a legal interruption (a lead
// of the agency holding it may); the reason stays in the clock's log.
func (s *Service) ResetClock(ctx context.Context, a identity.Actor, r *identity.Resource, requestID int64, kind, reason string) error {
	if err := identity.Authorize(a, identity.Lead, *r); err != nil {
		return err
	}
	if kind != Acknowledge && kind != Resolution {
		return invalid("clock", "acknowledge or resolution")
	}
	return pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := s.Reset(ctx, tx, requestID, kind, reason, a.UserID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, s.clock.Now(), audit.Entry{Actor: a.String(), Action: "sla.reset", TargetType: "request",
			TargetID: strconv.FormatInt(requestID, 10), Detail: map[string]any{"clock": kind, "reason": reason}})
	})
}
