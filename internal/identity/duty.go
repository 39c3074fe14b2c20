package identity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/audit"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/jobs"
	"greenchannel/internal/platform/pg"
)

// TaskOfficerChanged tells the routing engine that an officer's
// availability changed (duty, capacity, disabled), so it can re-route
// unaccepted work or drain the agency pool. Routing handles it.
const TaskOfficerChanged = "routing:officer_changed"

// OfficerPayload is the payload of TaskOfficerChanged.
type OfficerPayload struct {
	UserID int64 `json:"user_id"`
}

func officerChanged(ctx context.Context, tx bun.IDB, userID int64, at time.Time) error {
	return jobs.Enqueue(ctx, tx, jobs.Task{Type: TaskOfficerChanged, Queue: jobs.QueueCritical,
		Key: fmt.Sprintf("officer:%d:%d", userID, at.UnixMicro()), Payload: OfficerPayload{UserID: userID}})
}

// SetDuty puts the acting officer or lead on or off duty.
func (s *Service) SetDuty(ctx context.Context, a Actor, onDuty bool) (OfficerProfile, error) {
	if a.Role != RoleOfficer && a.Role != RoleLead {
		return OfficerProfile{}, fault.New(fault.Forbidden, "只有办案人员有在岗状态 / only officers and leads go on or off duty")
	}
	var p OfficerProfile
	err := pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.clock.Now()
		p = OfficerProfile{UserID: a.UserID, Skills: []string{}, Towns: []string{}, Capacity: 10, OnDuty: onDuty, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&p).On("CONFLICT (user_id) DO UPDATE").
			Set("on_duty = EXCLUDED.on_duty, updated_at = EXCLUDED.updated_at").Returning("*").Exec(ctx); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, now, audit.Entry{Actor: a.String(), Action: "officer.duty", TargetType: "user",
			TargetID: strconv.FormatInt(a.UserID, 10), Detail: map[string]any{"on_duty": onDuty}}); err != nil {
			return err
		}
		return officerChanged(ctx, tx, a.UserID, now)
	})
	return p, err
}
