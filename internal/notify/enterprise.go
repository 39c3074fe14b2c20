package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Quiet is "无事不扰" for enterprises: no notices at night (except
// emergencies), and past a daily number the rest of the day's notices are
// folded into one digest.
type Quiet struct {
	Loc        *time.Location
	StartHour  int // 22: quiet from 22:00
	EndHour    int // 8: until 08:00
	DailyLimit int // notices a day before they fold into a digest
}

// DefaultQuiet is the shipped setting.
func DefaultQuiet(loc *time.Location) Quiet {
	return Quiet{Loc: loc, StartHour: 22, EndHour: 8, DailyLimit: 5}
}

// deliverAt is at, or the end of the quiet hours if at falls inside them.
func (q Quiet) deliverAt(at time.Time) time.Time {
	local := at.In(q.Loc)
	h := local.Hour()
	if h >= q.EndHour && h < q.StartHour {
		return at
	}
	day := local
	if h >= q.StartHour {
		day = local.AddDate(0, 0, 1)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, q.EndHour, 0, 0, 0, q.Loc)
}

// ToEnterprise notifies enterprise users under the quiet rules. Emergencies
// go out at once, whatever the hour.
func ToEnterprise(ctx context.Context, tx bun.IDB, q Quiet, at time.Time, users []int64, n Notice, emergency bool) error {
	deliver := at
	if !emergency {
		deliver = q.deliverAt(at)
	}
	local := deliver.In(q.Loc)
	y, m, d := local.Date()
	dayStart := time.Date(y, m, d, 0, 0, 0, 0, q.Loc)
	for _, u := range users {
		var today int
		if err := tx.NewSelect().Table("notifications").ColumnExpr("count(*)").
			Where("user_id = ? AND deliver_at >= ? AND deliver_at < ? AND kind <> 'digest'", u, dayStart, dayStart.AddDate(0, 0, 1)).
			Scan(ctx, &today); err != nil {
			return err
		}
		if emergency || today < q.DailyLimit {
			if err := insert(ctx, tx, u, n, at, deliver); err != nil {
				return err
			}
			continue
		}
		// Over the limit: add a line to the day's digest instead.
		line := fmt.Sprintf("%s %s", local.Format("15:04"), n.Title)
		res, err := tx.NewRaw(`UPDATE notifications SET body = body || E'\n' || ?, read_at = NULL
			WHERE user_id = ? AND kind = 'digest' AND deliver_at >= ? AND deliver_at < ?`,
			line, u, dayStart, dayStart.AddDate(0, 0, 1)).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			digest := Notice{Kind: "digest", Title: "今日其他进展汇总 / more updates today", Body: line}
			if err := insert(ctx, tx, u, digest, at, deliver); err != nil {
				return err
			}
		}
	}
	return nil
}

func insert(ctx context.Context, tx bun.IDB, user int64, n Notice, at, deliver time.Time) error {
	row := Notification{UserID: user, Kind: n.Kind, Title: n.Title, Body: n.Body, CreatedAt: at, DeliverAt: deliver}
	if n.RequestID != 0 {
		id := n.RequestID
		row.RequestID = &id
	}
	_, err := tx.NewInsert().Model(&row).ExcludeColumn("id", "read_at").Exec(ctx)
	return err
}
