// Package notify delivers in-app notifications to users. Notices are
// written in the caller's transaction, so nobody is told about a change
// that did not happen.
package notify

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
)

// Notice is one message to one or more users.
type Notice struct {
	Kind      string // "request.assigned", "request.pooled", "sla.warning", ...
	Title     string
	Body      string
	RequestID int64 // 0 when not about a request
}

// Notification is a stored notice for one user.
type Notification struct {
	bun.BaseModel `bun:"table:notifications"`
	ID            int64     `bun:"id,pk,autoincrement"`
	UserID        int64     `bun:"user_id"`
	Kind          string    `bun:"kind"`
	Title         string    `bun:"title"`
	Body          string    `bun:"body"`
	RequestID     *int64    `bun:"request_id"`
	CreatedAt     time.Time `bun:"created_at"`
	// DeliverAt holds back a notice sent during an enterprise's quiet hours.
	DeliverAt time.Time  `bun:"deliver_at"`
	ReadAt    *time.Time `bun:"read_at"`
}

// Send writes n for each user inside tx.
func Send(ctx context.Context, tx bun.IDB, at time.Time, users []int64, n Notice) error {
	all := make([]Addressed, len(users))
	for i, u := range users {
		all[i] = Addressed{UserID: u, Notice: n}
	}
	return SendAll(ctx, tx, at, all)
}

// Addressed is a notice for one user.
type Addressed struct {
	UserID int64
	Notice
}

// SendAll writes each notice to its user inside tx, in one statement.
func SendAll(ctx context.Context, tx bun.IDB, at time.Time, all []Addressed) error {
	if len(all) == 0 {
		return nil
	}
	n := len(all)
	users, kinds, titles, bodies, requests := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]*int64, n)
	for i, a := range all {
		users[i], kinds[i], titles[i], bodies[i] = a.UserID, a.Kind, a.Title, a.Body
		if a.RequestID != 0 {
			id := a.RequestID
			requests[i] = &id
		}
	}
	_, err := pg.ExecPrepared(ctx, tx, sendAllSQL, users, kinds, titles, bodies, requests, at)
	return err
}

// sendAllSQL writes notices from one array per column: one prepared
// statement for a single notice or a routing batch's five hundred.
const sendAllSQL = `INSERT INTO notifications (user_id, kind, title, body, request_id, created_at, deliver_at)
	SELECT u, k, t, b, r, $6, $6 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(u, k, t, b, r)`

// AgencyLeads returns the active leads of an agency, who are told about
// its pool.
func AgencyLeads(ctx context.Context, db bun.IDB, agencyID int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Table("users").Column("id").
		Where("agency_id = ? AND role = ? AND disabled_at IS NULL", agencyID, identity.RoleLead).Scan(ctx, &ids)
	return ids, err
}

// Oversight returns the active users of the oversight office.
func Oversight(ctx context.Context, db bun.IDB) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Table("users").Column("id").
		Where("role = ? AND disabled_at IS NULL", identity.RoleOversight).Scan(ctx, &ids)
	return ids, err
}

// List returns a user's newest delivered notifications.
func List(ctx context.Context, db bun.IDB, a identity.Actor, now time.Time, unreadOnly bool, limit int) ([]Notification, error) {
	if a.UserID == 0 {
		return nil, fault.New(fault.Unauthenticated, "sign in first")
	}
	var out []Notification
	q := db.NewSelect().Model(&out).Where("user_id = ? AND deliver_at <= ?", a.UserID, now).OrderExpr("id DESC").Limit(int64(limit))
	if unreadOnly {
		q.Where("read_at IS NULL")
	}
	err := q.Scan(ctx)
	return out, err
}

// MarkRead marks the given notifications of the actor read (others' ids are ignored).
func MarkRead(ctx context.Context, db bun.IDB, a identity.Actor, ids []int64, at time.Time) error {
	_, err := db.NewUpdate().Table("notifications").Set("read_at = ?", at).
		Where("user_id = ? AND id IN (?) AND read_at IS NULL", a.UserID, bun.List(ids)).Exec(ctx)
	return err
}
