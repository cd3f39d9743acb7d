package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a calendar period.
type Period string

// The calendar periods.
const (
	Week    Period = "week" // ISO week: Monday 00:00 local time
	Month   Period = "month"
	Quarter Period = "quarter"
)

// Window is an SLO's compliance window: rolling (Rolling > 0) or calendar
// (Period set, aligned in Location). A calendar month is not 30 days: its
// bounds come from the wall clock in the SLO's time zone, so a month that
// crosses a daylight-saving change is an hour shorter or longer.
type Window struct {
	Rolling  time.Duration
	Period   Period
	Location *time.Location
}

// IsCalendar reports whether w is a calendar window.
func (w Window) IsCalendar() bool { return w.Period != "" }

// String is the window as written in JSON output: "30d", "4w" → "28d",
// "month", "quarter (Europe/Berlin)" when the zone is not UTC.
func (w Window) String() string {
	if !w.IsCalendar() {
		return FormatDays(w.Rolling)
	}
	if w.Location == nil || w.Location == time.UTC {
		return string(w.Period)
	}
	return fmt.Sprintf("%s (%s)", w.Period, w.Location)
}

// Bounds returns the window that a status at `at` covers: [start, end) with
// end = at. For a calendar window start is the beginning of the period that
// holds at, in the window's time zone.
func (w Window) Bounds(at time.Time) (start, end time.Time) {
	if !w.IsCalendar() {
		return at.Add(-w.Rolling), at
	}
	start, _ = w.Period.bounds(at, w.loc())
	return start, at
}

// PeriodBounds returns the whole calendar period holding at ([start, next
// start)); for a rolling window, the same as Bounds.
func (w Window) PeriodBounds(at time.Time) (start, end time.Time) {
	if !w.IsCalendar() {
		return at.Add(-w.Rolling), at
	}
	return w.Period.bounds(at, w.loc())
}

// Length is the budget's time base at `at`: the rolling duration, or the
// length of the calendar period holding at (28 to 31 days for a month, ±1h
// across a DST change).
func (w Window) Length(at time.Time) time.Duration {
	if !w.IsCalendar() {
		return w.Rolling
	}
	s, e := w.Period.bounds(at, w.loc())
	return e.Sub(s)
}

func (w Window) loc() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

func (p Period) bounds(at time.Time, loc *time.Location) (start, end time.Time) {
	t := at.In(loc)
	y, m, d := t.Date()
	switch p {
	case Week:
		// ISO weeks start on Monday; Go's Weekday has Sunday = 0.
		back := (int(t.Weekday()) + 6) % 7
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	case Month:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	case Quarter:
		q := (int(m) - 1) / 3 * 3
		start = time.Date(y, time.Month(q+1), 1, 0, 0, 0, 0, loc)
		end = time.Date(y, time.Month(q+4), 1, 0, 0, 0, 0, loc)
	default:
		panic("slo: unknown period " + string(p))
	}
	return start.UTC(), end.UTC()
}

// ParseDays parses a rolling window: "30d", "4w", "12h" or a Go duration.
// Days and weeks are exact multiples of 24h (a rolling window does not care
// about the wall clock).
func ParseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		v, err := strconv.Atoi(s[:n-1])
		if err != nil || v <= 0 || v > 100_000 { // beyond that time.Duration overflows
			return 0, fmt.Errorf("expected a window like 30d or 4w, found %q", s)
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		return time.Duration(v) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("expected a window like 30d or 4w, found %q", s)
	}
	return d, nil
}

// FormatDays prints d in the largest whole unit: 30d, 6h, 5m, 90s.
func FormatDays(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
