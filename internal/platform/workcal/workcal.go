// Package workcal does working-time arithmetic on a Chinese working
// calendar: working windows per weekday (several a day, e.g. 09:00–12:00
// and 13:30–17:30), statutory holidays, make-up working days (调休) and
// partial-day closures, or around the clock for emergencies.
//
// It is pure: a Calendar is plain data, and nothing here reads a clock or
// a database. Dates past the last year whose official calendar is loaded
// are treated as Monday–Friday with the default windows, and results that
// depend on them are reported as provisional.
package workcal

import (
	"fmt"
	"sort"
	"time"
)

// Window is a span of a day in minutes after midnight, [Start, End).
type Window struct {
	Start, End int
}

// Date is a civil date as days since 1970-01-01.
type Date int32

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return MakeDate(y, m, d)
}

// MakeDate builds a Date.
func MakeDate(y int, m time.Month, d int) Date {
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return MakeDate(t.Date()), nil
}

// Time is the date's midnight in UTC (for its year, month, day).
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the date as 2006-01-02.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// Weekday is the date's day of the week.
func (d Date) Weekday() time.Weekday { return time.Weekday((int64(d) + 4) % 7) } // 1970-01-01 was a Thursday

// Year is the date's year.
func (d Date) Year() int { return d.Time().Year() }

// Calendar is one working calendar.
type Calendar struct {
	Loc *time.Location
	// AlwaysOpen makes every minute a working minute (emergency desks).
	AlwaysOpen bool
	// Week holds the working windows of each weekday; a weekday with none
	// is a rest day. Make-up working days use WorkdayWindows.
	Week           [7][]Window
	WorkdayWindows []Window
	Holidays       map[Date]string
	MakeupDays     map[Date]string
	// Closures remove windows from one date (a partial-day closure).
	Closures map[Date][]Window
	// Years lists the years whose official holidays are loaded.
	Years map[int]bool
}

// Standard returns a calendar with the common government hours
// (09:00–12:00, 13:30–17:30, Monday to Friday) and no holidays loaded.
func Standard(loc *time.Location) *Calendar {
	day := []Window{{9 * 60, 12 * 60}, {13*60 + 30, 17*60 + 30}}
	c := &Calendar{Loc: loc, WorkdayWindows: day, Holidays: map[Date]string{}, MakeupDays: map[Date]string{},
		Closures: map[Date][]Window{}, Years: map[int]bool{}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		c.Week[wd] = day
	}
	return c
}

// Validate checks windows are ordered, inside the day and not overlapping.
func (c *Calendar) Validate() error {
	check := func(name string, ws []Window) error {
		prev := 0
		for i, w := range ws {
			if w.Start < 0 || w.End > 24*60 || w.Start >= w.End || (i > 0 && w.Start < prev) {
				return fmt.Errorf("%s: window %d (%d–%d) is out of order or outside the day", name, i+1, w.Start, w.End)
			}
			prev = w.End
		}
		return nil
	}
	for wd, ws := range c.Week {
		if err := check(time.Weekday(wd).String(), ws); err != nil {
			return err
		}
	}
	return check("make-up days", c.WorkdayWindows)
}

// windows returns the working windows of d and whether they are a guess
// (d lies in a year whose holidays are not loaded).
func (c *Calendar) windows(d Date) (ws []Window, provisional bool) {
	if !c.Years[d.Year()] {
		wd := d.Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			return nil, true
		}
		return c.WorkdayWindows, true
	}
	switch {
	case c.Holidays[d] != "":
		return nil, false
	case c.MakeupDays[d] != "":
		ws = c.WorkdayWindows
	default:
		ws = c.Week[d.Weekday()]
	}
	if cl, ok := c.Closures[d]; ok {
		ws = subtract(ws, cl)
	}
	return ws, false
}

// subtract removes the closed spans from the windows.
func subtract(ws, closed []Window) []Window {
	out := append([]Window(nil), ws...)
	for _, cl := range closed {
		var next []Window
		for _, w := range out {
			if cl.End <= w.Start || cl.Start >= w.End {
				next = append(next, w)
				continue
			}
			if cl.Start > w.Start {
				next = append(next, Window{w.Start, cl.Start})
			}
			if cl.End < w.End {
				next = append(next, Window{cl.End, w.End})
			}
		}
		out = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// IsWorkingDay reports whether d has any working time.
func (c *Calendar) IsWorkingDay(d Date) bool {
	if c.AlwaysOpen {
		return true
	}
	ws, _ := c.windows(d)
	return len(ws) > 0
}

// midnight returns 00:00 of d in the calendar's zone.
func (c *Calendar) midnight(d Date) time.Time {
	y, m, day := d.Time().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, c.Loc)
}

// position returns t's date and its offset into that day.
func (c *Calendar) position(t time.Time) (Date, time.Duration) {
	local := t.In(c.Loc)
	d := DateOf(local, c.Loc)
	return d, local.Sub(c.midnight(d))
}

// maxDays bounds every walk (about 30 years) so bad data cannot loop forever.
const maxDays = 11000

// Add returns the instant n working minutes after t, and whether any day
// it crossed lies beyond the loaded calendar. Adding zero returns t.
func (c *Calendar) Add(t time.Time, minutes int) (time.Time, bool) {
	if minutes <= 0 {
		return t, false
	}
	if c.AlwaysOpen {
		return t.Add(time.Duration(minutes) * time.Minute), false
	}
	remaining := time.Duration(minutes) * time.Minute
	d, off := c.position(t)
	provisional := false
	for range maxDays {
		ws, guess := c.windows(d)
		provisional = provisional || guess
		for _, w := range ws {
			start, end := time.Duration(w.Start)*time.Minute, time.Duration(w.End)*time.Minute
			if off >= end {
				continue
			}
			if off > start {
				start = off
			}
			if avail := end - start; remaining <= avail {
				return c.midnight(d).Add(start + remaining), provisional
			} else {
				remaining -= avail
			}
		}
		d, off = d+1, 0
	}
	panic("workcal: no working time within 30 years; is every day a holiday?")
}

// Between returns the working minutes in [from, to), rounded down; zero
// when to is not after from.
func (c *Calendar) Between(from, to time.Time) (int, bool) {
	if !to.After(from) {
		return 0, false
	}
	if c.AlwaysOpen {
		return int(to.Sub(from) / time.Minute), false
	}
	d, off := c.position(from)
	last, lastOff := c.position(to)
	var total time.Duration
	provisional := false
	for ; d <= last; d, off = d+1, 0 {
		ws, guess := c.windows(d)
		provisional = provisional || guess
		for _, w := range ws {
			start, end := time.Duration(w.Start)*time.Minute, time.Duration(w.End)*time.Minute
			if d == last && end > lastOff {
				end = lastOff
			}
			if start < off {
				start = off
			}
			if end > start {
				total += end - start
			}
		}
	}
	return int(total / time.Minute), provisional
}

// NextWorking returns the first working instant at or after t.
func (c *Calendar) NextWorking(t time.Time) time.Time {
	if c.AlwaysOpen {
		return t
	}
	d, off := c.position(t)
	for range maxDays {
		ws, _ := c.windows(d)
		for _, w := range ws {
			start, end := time.Duration(w.Start)*time.Minute, time.Duration(w.End)*time.Minute
			if off < end {
				if off > start {
					start = off
				}
				return c.midnight(d).Add(start)
			}
		}
		d, off = d+1, 0
	}
	panic("workcal: no working time within 30 years")
}

// AddWorkingDays counts n working days after d the way statutes do: the
// starting day is not counted, and the result is always a working day.
func (c *Calendar) AddWorkingDays(d Date, n int) (Date, bool) {
	provisional := false
	for i := 0; i < maxDays; i++ {
		d++
		ws, guess := c.windows(d)
		provisional = provisional || guess
		if len(ws) > 0 || c.AlwaysOpen {
			n--
			if n <= 0 {
				return d, provisional
			}
		}
	}
	panic("workcal: no working day within 30 years")
}

// EndOfWorkingDays is the end of the n-th working day after t's date
// (the close of its last window), for deadlines stated in working days.
func (c *Calendar) EndOfWorkingDays(t time.Time, n int) (time.Time, bool) {
	d, provisional := c.AddWorkingDays(DateOf(t, c.Loc), n)
	ws, _ := c.windows(d)
	if len(ws) == 0 {
		return c.midnight(d + 1), provisional
	}
	return c.midnight(d).Add(time.Duration(ws[len(ws)-1].End) * time.Minute), provisional
}

// MinutesPerDay is the working minutes of a standard working day, used to
// turn "N working days" targets into minutes.
func (c *Calendar) MinutesPerDay() int {
	if c.AlwaysOpen {
		return 24 * 60
	}
	total := 0
	for _, w := range c.WorkdayWindows {
		total += w.End - w.Start
	}
	return total
}
