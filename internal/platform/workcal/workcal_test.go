package workcal

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// official loads the 2025 and 2026 State Council calendar from the seeds.
func official(t testing.TB) *Calendar {
	t.Helper()
	b, err := os.ReadFile("../../../seeds/reference/holidays-cn.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Years map[string]struct {
			Holidays []struct{ Date, Name string } `json:"holidays"`
			Makeup   []struct{ Date, Name string } `json:"makeup_workdays"`
		} `json:"years"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	c := Standard(shanghai)
	for y, days := range f.Years {
		var year int
		for _, ch := range y {
			year = year*10 + int(ch-'0')
		}
		c.Years[year] = true
		for _, h := range days.Holidays {
			d, _ := ParseDate(h.Date)
			c.Holidays[d] = h.Name
		}
		for _, m := range days.Makeup {
			d, _ := ParseDate(m.Date)
			c.MakeupDays[d] = m.Name
		}
	}
	return c
}

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPolicyWorkingDayChecks(t *testing.T) {
	c := official(t)
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2025-09-26", 7, "2025-10-13"}, // National Day: 9/28 and 10/11 are make-up Saturdays/Sundays
		{"2026-02-13", 3, "2026-02-25"}, // Spring Festival
		{"2026-09-30", 1, "2026-10-08"},
	} {
		got, prov := c.AddWorkingDays(date(tc.from), tc.n)
		if got.String() != tc.want || prov {
			t.Errorf("%s + %d working days = %s (provisional %v), want %s", tc.from, tc.n, got, prov, tc.want)
		}
	}
}

func TestBothYearsHave248WorkingDays(t *testing.T) {
	c := official(t)
	for _, y := range []int{2025, 2026} {
		n := 0
		for d := MakeDate(y, 1, 1); d < MakeDate(y+1, 1, 1); d++ {
			if c.IsWorkingDay(d) {
				n++
			}
		}
		if n != 248 {
			t.Errorf("%d has %d working days, want 248", y, n)
		}
	}
}

func TestAddAcrossLunchAndEvening(t *testing.T) {
	c := official(t)
	for _, tc := range []struct {
		from string
		min  int
		want string
	}{
		{"2026-03-02 09:00", 180, "2026-03-02 12:00"}, // the morning exactly
		{"2026-03-02 11:30", 60, "2026-03-02 14:00"},  // lunch is skipped
		{"2026-03-02 12:15", 1, "2026-03-02 13:31"},   // starting at lunch
		{"2026-03-02 17:00", 60, "2026-03-03 09:30"},  // evening is skipped
		{"2026-03-06 17:00", 60, "2026-03-09 09:30"},  // Friday to Monday
		{"2026-03-07 10:00", 420, "2026-03-09 17:30"}, // Saturday counts nothing; one full day
		{"2025-09-30 17:00", 60, "2025-10-09 09:30"},  // into National Day: resumes 10/9
		{"2025-10-10 17:00", 60, "2025-10-11 09:30"},  // Saturday 10/11 is a make-up working day
		{"2026-02-13 16:30", 120, "2026-02-14 10:00"}, // 2/14 (Saturday) is a make-up day before Spring Festival
	} {
		got, _ := c.Add(at(tc.from), tc.min)
		if !got.Equal(at(tc.want)) {
			t.Errorf("%s + %d min = %s, want %s", tc.from, tc.min, got.In(shanghai).Format("2006-01-02 15:04"), tc.want)
		}
	}
}

func TestAddThenBetweenGivesItBack(t *testing.T) {
	c := official(t)
	r := rand.New(rand.NewPCG(1, 2))
	start := at("2025-01-01 00:00")
	for range 3000 {
		from := start.Add(time.Duration(r.IntN(600*24*60)) * time.Minute)
		n := r.IntN(20000)
		to, _ := c.Add(from, n)
		if got, _ := c.Between(from, to); got != n {
			t.Fatalf("Between(%s, Add(%d)) = %d", from, n, got)
		}
		// Monotonic: more minutes never land earlier.
		to2, _ := c.Add(from, n+1)
		if !to2.After(to) {
			t.Fatalf("Add(%s, %d) = %s is not after Add(..., %d) = %s", from, n+1, to2, n, to)
		}
	}
}

func TestNextWorking(t *testing.T) {
	c := official(t)
	for from, want := range map[string]string{
		"2026-03-02 08:00": "2026-03-02 09:00",
		"2026-03-02 10:00": "2026-03-02 10:00",
		"2026-03-02 12:10": "2026-03-02 13:30",
		"2026-02-16 10:00": "2026-02-24 09:00", // Spring Festival holidays 2/15–2/23
	} {
		if got := c.NextWorking(at(from)); !got.Equal(at(want)) {
			t.Errorf("NextWorking(%s) = %s, want %s", from, got.In(shanghai), want)
		}
	}
}

func TestClosuresAndAlwaysOpen(t *testing.T) {
	c := official(t)
	c.Closures[date("2026-03-03")] = []Window{{14 * 60, 24 * 60}} // afternoon closed for an office move
	got, _ := c.Add(at("2026-03-03 11:00"), 120)
	if !got.Equal(at("2026-03-04 09:30")) { // 60 before lunch, 30 until the closure, 30 next morning
		t.Fatalf("partial closure: %s", got.In(shanghai))
	}
	always := &Calendar{Loc: shanghai, AlwaysOpen: true}
	got, _ = always.Add(at("2026-02-17 23:00"), 120) // Spring Festival night counts for emergencies
	if !got.Equal(at("2026-02-18 01:00")) {
		t.Fatalf("24x7: %s", got.In(shanghai))
	}
}

func TestBeyondTheLoadedYearsIsProvisional(t *testing.T) {
	c := official(t)
	if _, prov := c.Add(at("2026-12-31 09:00"), 421); !prov {
		t.Fatal("a deadline in 2027 must be marked provisional")
	}
	if _, prov := c.Add(at("2026-12-01 09:00"), 420); prov {
		t.Fatal("a deadline inside 2026 is not provisional")
	}
	// 2027-01-01 is a Friday; without an official calendar it counts as a working day.
	d, prov := c.AddWorkingDays(date("2026-12-31"), 1)
	if d.String() != "2027-01-01" || !prov {
		t.Fatalf("provisional working day: %s %v", d, prov)
	}
}

func BenchmarkAddThreeMonths(b *testing.B) {
	c := official(b)
	from := at("2026-01-05 10:17")
	minutes := 63 * 420 // about three months of working days
	for b.Loop() {
		c.Add(from, minutes)
	}
}
