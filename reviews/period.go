package reviews

import (
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/oncall"
)

// Period is a biweekly wins-and-challenges period, written 2026-P07: the
// seventh period that starts in 2026. Like a Week it has no calendar of its
// own: a Calendar places it.
type Period struct {
	Year int
	Num  int
}

func (p Period) String() string { return fmt.Sprintf("%04d-P%02d", p.Year, p.Num) }

// PeriodDays is a period's length.
const PeriodDays = 14

// Calendar places periods: every 14 days from an anchor date, in the org's
// time zone, each closing at its deadline (the first DeadlineDay at
// DeadlineMinute at or after the period's end).
type Calendar struct {
	// Anchor is a date on which a period starts (its year, month and day
	// count; the clock and zone are ignored).
	Anchor         time.Time
	Location       *time.Location
	DeadlineDay    time.Weekday
	DeadlineMinute int
	// DigestAfter is how long after the deadline the digest is posted
	// (schedules.wins_digest); the leads' selections close then.
	DigestAfter time.Duration
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// dayNum is a civil date's day number (days since 1970-01-01).
func dayNum(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func civil(n int) time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (c Calendar) anchorDay() int {
	return dayNum(c.Anchor.Year(), c.Anchor.Month(), c.Anchor.Day())
}

// index is a period's number counted from the anchor's (0).
func (c Calendar) indexOfDay(day int) int { return floorDiv(day-c.anchorDay(), PeriodDays) }

// firstIndex is the index of the first period starting in year y.
func (c Calendar) firstIndex(y int) int {
	return floorDiv(dayNum(y, time.January, 1)-c.anchorDay()+PeriodDays-1, PeriodDays)
}

func (c Calendar) period(index int) Period {
	start := civil(c.anchorDay() + index*PeriodDays)
	y := start.Year()
	return Period{Year: y, Num: index - c.firstIndex(y) + 1}
}

func (c Calendar) index(p Period) int { return c.firstIndex(p.Year) + p.Num - 1 }

// Of is the period holding t.
func (c Calendar) Of(t time.Time) Period {
	l := t.In(c.loc())
	return c.period(c.indexOfDay(dayNum(l.Year(), l.Month(), l.Day())))
}

// Add moves n periods forward (backward when negative).
func (c Calendar) Add(p Period, n int) Period { return c.period(c.index(p) + n) }

// Start is a period's first midnight in the org's time zone.
func (c Calendar) Start(p Period) time.Time {
	d := civil(c.anchorDay() + c.index(p)*PeriodDays)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc())
}

// End is the next period's start.
func (c Calendar) End(p Period) time.Time { return c.Start(c.Add(p, 1)) }

// Deadline is when a period's entries are due and the period closes.
func (c Calendar) Deadline(p Period) time.Time {
	end := c.End(p)
	for i := 0; i < 8; i++ {
		d := time.Date(end.Year(), end.Month(), end.Day()+i, c.DeadlineMinute/60, c.DeadlineMinute%60, 0, 0, c.loc())
		if d.Weekday() == c.DeadlineDay && !d.Before(end) {
			return d
		}
	}
	return end // unreachable: some day in eight is the weekday
}

// DigestAt is when a period's digest goes out and its selections close
// (the deadline itself when the digest comes earlier or is off).
func (c Calendar) DigestAt(p Period) time.Time {
	d := c.Deadline(p)
	if c.DigestAfter > 0 {
		return d.Add(c.DigestAfter)
	}
	return d
}

// Open is the oldest period still open at now: the one written for now
// (the previous period until its deadline, then the current one).
func (c Calendar) Open(now time.Time) Period {
	p := c.Add(c.Of(now), -1)
	if now.Before(c.Deadline(p)) {
		return p
	}
	return c.Add(p, 1)
}

// Closed is the latest period whose deadline is at or before t.
func (c Calendar) Closed(t time.Time) Period {
	p := c.Add(c.Of(t), -1)
	if t.Before(c.Deadline(p)) {
		return c.Add(p, -1)
	}
	return p
}

// Parse reads "2026-P07" and checks that the calendar has that period
// (2026 has 26 or 27 periods, by where the anchor falls).
func (c Calendar) Parse(s string) (Period, error) {
	var p Period
	var rest string
	n, _ := fmt.Sscanf(s, "%4d-P%2d%s", &p.Year, &p.Num, &rest)
	if n != 2 || len(s) != 8 || p.Num < 1 || p.Year < 1 {
		return Period{}, fmt.Errorf("period: expected a period like 2026-P07 (two-week periods numbered from the first that starts in the year), found %q", s)
	}
	if last := c.Add(Period{p.Year + 1, 1}, -1); p.Num > last.Num {
		return Period{}, fmt.Errorf("period: %d has %d periods (%04d-P01 to %s), found %q", p.Year, last.Num, p.Year, last, s)
	}
	return p, nil
}

// Weeks are the ISO weeks whose Thursday falls in the period: exactly two,
// the weeks the period's figures (pages, incidents) are measured in.
func (c Calendar) Weeks(p Period) []oncall.Week {
	start := civil(c.anchorDay() + c.index(p)*PeriodDays)
	var out []oncall.Week
	for i := 0; i < PeriodDays; i++ {
		d := start.AddDate(0, 0, i)
		if d.Weekday() == time.Thursday {
			out = append(out, oncall.WeekOf(d, time.UTC))
		}
	}
	return out
}
