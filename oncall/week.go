package oncall

import (
	"fmt"
	"time"
)

// Week is an ISO 8601 week, written 2026-W47. A week has no time zone of
// its own: Start and End place it in one.
type Week struct {
	Year int
	Num  int
}

// WeekOf is the ISO week holding t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, w := t.In(loc).ISOWeek()
	return Week{y, w}
}

// ParseWeek reads "2026-W47".
func ParseWeek(s string) (Week, error) {
	var w Week
	var rest string
	n, _ := fmt.Sscanf(s, "%4d-W%2d%s", &w.Year, &w.Num, &rest)
	if n != 2 || len(s) != 8 || w.Num < 1 || w.Num > 53 || w.Year < 1 {
		return Week{}, fmt.Errorf("week: expected an ISO week like 2026-W47, found %q", s)
	}
	if WeekOf(w.Start(time.UTC), time.UTC) != w {
		return Week{}, fmt.Errorf("week: %d has no week %d, found %q", w.Year, w.Num, s)
	}
	return w, nil
}

func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// Start is Monday 00:00 of the week in loc.
func (w Week) Start(loc *time.Location) time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, loc)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(w.Year, time.January, 4-back+(w.Num-1)*7, 0, 0, 0, 0, loc)
}

// End is the next Monday 00:00 in loc: calendar arithmetic, so a week
// with a daylight-saving change lasts 167 or 169 hours.
func (w Week) End(loc *time.Location) time.Time { return w.Add(1).Start(loc) }

// Add moves n weeks forward (backward when negative).
func (w Week) Add(n int) Week {
	s := w.Start(time.UTC)
	return WeekOf(time.Date(s.Year(), s.Month(), s.Day()+7*n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Contains reports whether t falls in the week in loc.
func (w Week) Contains(t time.Time, loc *time.Location) bool {
	return !t.Before(w.Start(loc)) && t.Before(w.End(loc))
}
