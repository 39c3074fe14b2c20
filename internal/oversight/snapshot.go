package oversight

import (
	"bytes"
	"context"
	"time"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/clock"
	"greenchannel/internal/platform/export"
	"greenchannel/internal/sla"
)

// Snapshot is a stored monthly summary.
type Snapshot struct {
	ID        int64     `bun:"id"`
	Kind      string    `bun:"kind"`
	Period    string    `bun:"period"`
	CreatedAt time.Time `bun:"created_at"`
}

// system reads reports on the office's behalf for scheduled summaries.
var system = identity.Actor{UserID: -1, Username: "system", Role: identity.RoleOversight}

// InspectionTable turns report rows into a downloadable table.
func InspectionTable(rows []InspectionRow) export.Table {
	t := export.Table{Title: "检查情况", Headers: []string{"分组", "检查次数", "现场检查占比", "联合检查占比", "重复检查", "超频次放行", "未扫码检查", "评价数", "平均评分"}}
	for _, r := range rows {
		onsite, joint := r.Shares()
		t.Rows = append(t.Rows, []any{r.Name, r.Inspections, onsite, joint, r.RepeatVisits, r.CapOverrides, r.NoCodeScan, r.Rated, r.AvgRating})
	}
	return t
}

// RequestTable turns SLA report rows into a downloadable table.
func RequestTable(rows []sla.ReportRow) export.Table {
	t := export.Table{Title: "诉求办理（三率）", Headers: []string{"分组", "诉求数", "已分派", "按时响应", "响应率", "评价数", "确认解决", "解决率", "满意", "满意率", "超时", "响应用时中位数（工作分钟）", "响应用时P90（工作分钟）"}}
	for _, r := range rows {
		resp, resol, sat := r.Rates()
		t.Rows = append(t.Rows, []any{r.Name, r.Requests, r.Dispatched, r.AcknowledgedOnTime, resp, r.Evaluated, r.ConfirmedResolved, resol, r.Satisfied, sat, r.Breaches, r.AckP50, r.AckP90})
	}
	return t
}

// MonthlySnapshot stores the summary of the month before now, once.
func (s *Service) MonthlySnapshot(ctx context.Context, slaSvc *sla.Service) error {
	now := s.clock.Now().In(clock.Shanghai)
	to := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, clock.Shanghai)
	from := to.AddDate(0, -1, 0)
	period := from.Format("2006-01")
	if n, err := s.db.NewSelect().Table("report_snapshots").Where("kind = 'monthly' AND period = ?", period).Count(ctx); err != nil || n > 0 {
		return err
	}
	insp, err := s.InspectionReport(ctx, system, from, to, "agency")
	if err != nil {
		return err
	}
	reqs, err := slaSvc.Report(ctx, system, from, to, "agency")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := export.WriteXLSX(&buf, InspectionTable(insp), RequestTable(reqs)); err != nil {
		return err
	}
	_, err = s.db.NewRaw(`INSERT INTO report_snapshots (kind, period, xlsx, created_at) VALUES ('monthly', ?, ?, ?) ON CONFLICT DO NOTHING`,
		period, buf.Bytes(), s.clock.Now()).Exec(ctx)
	return err
}

// Snapshots lists the stored summaries (oversight only).
func (s *Service) Snapshots(ctx context.Context, a identity.Actor) ([]Snapshot, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return nil, err
	}
	var out []Snapshot
	err := s.db.NewRaw("SELECT id, kind, period, created_at FROM report_snapshots ORDER BY id DESC").Scan(ctx, &out)
	return out, err
}

// SnapshotFile returns a summary's workbook (oversight only).
func (s *Service) SnapshotFile(ctx context.Context, a identity.Actor, id int64) (Snapshot, []byte, error) {
	if err := mayOversee(a, identity.Oversee); err != nil {
		return Snapshot{}, nil, err
	}
	var row struct {
		Snapshot
		XLSX []byte `bun:"xlsx"`
	}
	if err := s.db.NewRaw("SELECT id, kind, period, created_at, xlsx FROM report_snapshots WHERE id = ?", id).Scan(ctx, &row); err != nil {
		return Snapshot{}, nil, notFound()
	}
	return row.Snapshot, row.XLSX, nil
}
