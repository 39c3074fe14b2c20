package sla

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/platform/workcal"
)

// CalendarRow is a stored calendar.
type CalendarRow struct {
	bun.BaseModel  `bun:"table:calendars"`
	ID             int64           `bun:"id,pk,autoincrement"`
	Code           string          `bun:"code"`
	Name           string          `bun:"name"`
	TZ             string          `bun:"tz"`
	AlwaysOpen     bool            `bun:"always_open"`
	Week           json.RawMessage `bun:"week,type:jsonb"`
	WorkdayWindows json.RawMessage `bun:"workday_windows,type:jsonb"`
	Version        int             `bun:"version"`
	UpdatedAt      time.Time       `bun:"updated_at"`
}

// calendars caches built calendars by id and version: a calendar is read
// for every clock change and every clock shown, but changes only when an
// administrator edits it. The version is re-checked at most every few
// seconds, so another process's edit is seen within that time; the edit's
// recompute job re-derives the stored deadlines in any case.
type calendars struct {
	mu   sync.Mutex
	byID map[int64]cachedCal
}

type cachedCal struct {
	version int
	checked time.Time
	cal     *workcal.Calendar
}

const calendarRecheck = 5 * time.Second

// get returns the current calendar.
func (c *calendars) get(ctx context.Context, db bun.IDB, id int64) (*workcal.Calendar, error) {
	c.mu.Lock()
	hit, ok := c.byID[id]
	c.mu.Unlock()
	if ok && time.Since(hit.checked) < calendarRecheck {
		return hit.cal, nil
	}
	var version int
	if err := db.NewSelect().Table("calendars").Column("version").Where("id = ?", id).Scan(ctx, &version); err != nil {
		return nil, fmt.Errorf("calendar %d: %w", id, err)
	}
	if !ok || hit.version != version {
		cal, v, err := loadCalendar(ctx, db, id)
		if err != nil {
			return nil, err
		}
		hit = cachedCal{version: v, cal: cal}
	}
	hit.checked = time.Now()
	c.mu.Lock()
	if c.byID == nil {
		c.byID = map[int64]cachedCal{}
	}
	c.byID[id] = hit
	c.mu.Unlock()
	return hit.cal, nil
}

// forget drops a calendar so the next read loads it afresh (after an edit).
func (c *calendars) forget(id int64) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}

func loadCalendar(ctx context.Context, db bun.IDB, id int64) (*workcal.Calendar, int, error) {
	var row CalendarRow
	if err := db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("calendar %d: %w", id, err)
	}
	loc, err := time.LoadLocation(row.TZ)
	if err != nil {
		return nil, 0, fmt.Errorf("calendar %s: time zone %q: %w", row.Code, row.TZ, err)
	}
	cal := &workcal.Calendar{Loc: loc, AlwaysOpen: row.AlwaysOpen, Holidays: map[workcal.Date]string{},
		MakeupDays: map[workcal.Date]string{}, Closures: map[workcal.Date][]workcal.Window{}, Years: map[int]bool{}}
	var week [7][][2]int
	if err := json.Unmarshal(row.Week, &week); err != nil {
		return nil, 0, fmt.Errorf("calendar %s: week: %w", row.Code, err)
	}
	for wd, ws := range week {
		cal.Week[wd] = windows(ws)
	}
	var workday [][2]int
	if err := json.Unmarshal(row.WorkdayWindows, &workday); err != nil {
		return nil, 0, fmt.Errorf("calendar %s: workday windows: %w", row.Code, err)
	}
	cal.WorkdayWindows = windows(workday)

	var days []struct {
		Day     time.Time       `bun:"day"`
		Kind    string          `bun:"kind"`
		Name    string          `bun:"name"`
		Windows json.RawMessage `bun:"windows"`
	}
	if err := db.NewSelect().Table("calendar_days").Column("day", "kind", "name", "windows").
		Where("calendar_id = ?", id).Scan(ctx, &days); err != nil {
		return nil, 0, err
	}
	for _, d := range days {
		date := workcal.MakeDate(d.Day.Date())
		name := d.Name
		if name == "" {
			name = d.Kind
		}
		switch d.Kind {
		case "holiday":
			cal.Holidays[date] = name
		case "makeup":
			cal.MakeupDays[date] = name
		case "closure":
			var ws [][2]int
			_ = json.Unmarshal(d.Windows, &ws)
			cal.Closures[date] = windows(ws)
		}
	}
	var years []int
	if err := db.NewSelect().Table("calendar_years").Column("year").Where("calendar_id = ?", id).Scan(ctx, &years); err != nil {
		return nil, 0, err
	}
	for _, y := range years {
		cal.Years[y] = true
	}
	if err := cal.Validate(); err != nil {
		return nil, 0, fmt.Errorf("calendar %s: %w", row.Code, err)
	}
	return cal, row.Version, nil
}

func windows(pairs [][2]int) []workcal.Window {
	out := make([]workcal.Window, len(pairs))
	for i, p := range pairs {
		out[i] = workcal.Window{Start: p[0], End: p[1]}
	}
	return out
}

// CalendarByCode returns a calendar by its code (other domains count
// working days on "working").
func (s *Service) CalendarByCode(ctx context.Context, code string) (*workcal.Calendar, error) {
	var id int64
	if err := s.db.NewSelect().Table("calendars").Column("id").Where("code = ?", code).Scan(ctx, &id); err != nil {
		return nil, fmt.Errorf("calendar %s: %w", code, err)
	}
	return s.cals.get(ctx, s.db, id)
}
