package sla

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"
)

// CalendarSeed is a calendar in seeds/reference/sla.yaml.
type CalendarSeed struct {
	Code       string   `yaml:"code"`
	Name       string   `yaml:"name"`
	AlwaysOpen bool     `yaml:"always_open"`
	Weekdays   [][2]int `yaml:"weekday_windows"` // Monday to Friday
	Official   bool     `yaml:"official_holidays"`
}

// PolicySeed is a policy in seeds/reference/sla.yaml. Targets are given in
// working days or hours of the policy's calendar and stored in minutes.
type PolicySeed struct {
	Code                 string `yaml:"code"`
	Name                 string `yaml:"name"`
	Precedence           int    `yaml:"precedence"`
	SLAKind              string `yaml:"sla_kind"`
	Calendar             string `yaml:"calendar"`
	AcknowledgeMinutes   int    `yaml:"acknowledge_minutes"`
	ResolutionMinutes    int    `yaml:"resolution_minutes"`
	NextResponseMinutes  int    `yaml:"next_response_minutes"`
	WarnPercent          int    `yaml:"warn_percent"`
	MaxPauses            *int   `yaml:"max_pauses"`
	MaxPauseMinutes      *int   `yaml:"max_pause_minutes"`
	ReassignOnEscalation bool   `yaml:"reassign_on_escalation"`
}

// Holidays is the official calendar file (seeds/reference/holidays-cn.json).
type Holidays struct {
	Years map[string]struct {
		Holidays []struct{ Date, Name string } `json:"holidays"`
		Makeup   []struct{ Date, Name string } `json:"makeup_workdays"`
	} `json:"years"`
}

// SeedCalendars upserts the calendars and loads the official holidays into
// those that follow them.
func SeedCalendars(ctx context.Context, tx bun.Tx, cals []CalendarSeed, official Holidays) error {
	for _, c := range cals {
		week := make([][][2]int, 7)
		for wd := range week {
			week[wd] = [][2]int{}
		}
		if !c.AlwaysOpen {
			for wd := 1; wd <= 5; wd++ {
				week[wd] = c.Weekdays
			}
		}
		weekJSON, _ := json.Marshal(week)
		workday := c.Weekdays
		if workday == nil {
			workday = [][2]int{}
		}
		workdayJSON, _ := json.Marshal(workday)
		var id int64
		if err := tx.NewRaw(`INSERT INTO calendars (code, name, always_open, week, workday_windows) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
			c.Code, c.Name, c.AlwaysOpen, string(weekJSON), string(workdayJSON)).Scan(ctx, &id); err != nil {
			return fmt.Errorf("calendar %s: %w", c.Code, err)
		}
		if !c.Official {
			continue
		}
		for y, days := range official.Years {
			year, err := strconv.Atoi(y)
			if err != nil {
				return fmt.Errorf("holidays: year %q", y)
			}
			if err := LoadYear(ctx, tx, id, year, days.Holidays, days.Makeup); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadYear replaces a calendar's holidays and make-up days of one year and
// marks the year loaded (its dates stop being provisional).
func LoadYear(ctx context.Context, tx bun.IDB, calendarID int64, year int, holidays, makeup []struct{ Date, Name string }) error {
	if _, err := tx.NewRaw(`DELETE FROM calendar_days WHERE calendar_id = ? AND kind IN ('holiday', 'makeup')
		AND day >= make_date(?, 1, 1) AND day < make_date(? + 1, 1, 1)`, calendarID, year, year).Exec(ctx); err != nil {
		return err
	}
	for kind, days := range map[string][]struct{ Date, Name string }{"holiday": holidays, "makeup": makeup} {
		for _, d := range days {
			if _, err := tx.NewRaw(`INSERT INTO calendar_days (calendar_id, day, kind, name) VALUES (?, ?, ?, ?)`,
				calendarID, d.Date, kind, d.Name).Exec(ctx); err != nil {
				return fmt.Errorf("%s %s: %w", kind, d.Date, err)
			}
		}
	}
	if _, err := tx.NewRaw(`INSERT INTO calendar_years (calendar_id, year) VALUES (?, ?) ON CONFLICT DO NOTHING`, calendarID, year).Exec(ctx); err != nil {
		return err
	}
	_, err := tx.NewRaw("UPDATE calendars SET version = version + 1, updated_at = now() WHERE id = ?", calendarID).Exec(ctx)
	return err
}

// SeedPolicies upserts the policies by code.
func SeedPolicies(ctx context.Context, tx bun.Tx, ps []PolicySeed) error {
	for _, p := range ps {
		var calID int64
		if err := tx.NewRaw("SELECT id FROM calendars WHERE code = ?", p.Calendar).Scan(ctx, &calID); err != nil {
			return fmt.Errorf("policy %s: calendar %s: %w", p.Code, p.Calendar, err)
		}
		warn := p.WarnPercent
		if warn == 0 {
			warn = 75
		}
		if _, err := tx.NewRaw(`INSERT INTO sla_policies (code, name, precedence, sla_kind, calendar_id, acknowledge_minutes,
			resolution_minutes, next_response_minutes, warn_percent, max_pauses, max_pause_minutes, reassign_on_escalation)
			VALUES (?, ?, ?, NULLIF(?, ''), ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, precedence = EXCLUDED.precedence, sla_kind = EXCLUDED.sla_kind,
			  calendar_id = EXCLUDED.calendar_id, acknowledge_minutes = EXCLUDED.acknowledge_minutes,
			  resolution_minutes = EXCLUDED.resolution_minutes, next_response_minutes = EXCLUDED.next_response_minutes,
			  warn_percent = EXCLUDED.warn_percent, max_pauses = EXCLUDED.max_pauses, max_pause_minutes = EXCLUDED.max_pause_minutes,
			  reassign_on_escalation = EXCLUDED.reassign_on_escalation`,
			p.Code, p.Name, p.Precedence, p.SLAKind, calID, p.AcknowledgeMinutes, p.ResolutionMinutes, p.NextResponseMinutes,
			warn, p.MaxPauses, p.MaxPauseMinutes, p.ReassignOnEscalation).Exec(ctx); err != nil {
			return fmt.Errorf("policy %s: %w", p.Code, err)
		}
	}
	var n int
	if err := tx.NewRaw("SELECT count(*) FROM sla_policies WHERE active AND category IS NULL AND priority IS NULL AND sla_kind IS NULL").Scan(ctx, &n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNoPolicy
	}
	return nil
}
