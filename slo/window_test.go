package slo

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendarBounds(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	kolkata := mustLoc(t, "Asia/Kolkata")
	cases := []struct {
		name       string
		w          Window
		at         string
		start, end string // whole period
		length     time.Duration
	}{
		// October 2026 in Berlin ends after DST ends (25 Oct): 31 days and an hour.
		{"month across DST end", Window{Period: Month, Location: berlin}, "2026-10-25T12:00:00Z", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 31*24*time.Hour + time.Hour},
		// March 2026 in Berlin loses an hour (29 Mar).
		{"month across DST start", Window{Period: Month, Location: berlin}, "2026-03-31T21:59:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 31*24*time.Hour - time.Hour},
		// 2026-03-31T22:00Z is already April in Berlin.
		{"month end boundary", Window{Period: Month, Location: berlin}, "2026-03-31T22:00:00Z", "2026-03-31T22:00:00Z", "2026-04-30T22:00:00Z", 30 * 24 * time.Hour},
		{"february leap year UTC", Window{Period: Month}, "2028-02-29T23:59:59Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", 29 * 24 * time.Hour},
		{"february UTC", Window{Period: Month}, "2026-02-10T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", 28 * 24 * time.Hour},
		{"december to january", Window{Period: Month, Location: ny}, "2027-01-01T04:59:00Z", "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z", 31 * 24 * time.Hour},
		// ISO week starts Monday; 2026-11-30 is a Monday.
		{"week monday", Window{Period: Week}, "2026-11-30T09:00:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", 7 * 24 * time.Hour},
		{"week sunday", Window{Period: Week}, "2026-11-29T23:59:00Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", 7 * 24 * time.Hour},
		// The week holding the US DST end (1 Nov 2026) is 7 days and an hour.
		{"week across DST", Window{Period: Week, Location: ny}, "2026-11-01T12:00:00Z", "2026-10-26T04:00:00Z", "2026-11-02T05:00:00Z", 7*24*time.Hour + time.Hour},
		{"quarter Q4 Berlin", Window{Period: Quarter, Location: berlin}, "2026-11-30T09:00:00Z", "2026-09-30T22:00:00Z", "2026-12-31T23:00:00Z", 92*24*time.Hour + time.Hour},
		{"quarter Q1 UTC", Window{Period: Quarter}, "2026-03-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", 90 * 24 * time.Hour},
		// Half-hour zone: the month starts at :30 UTC.
		{"month Kolkata", Window{Period: Month, Location: kolkata}, "2026-11-15T00:00:00Z", "2026-10-31T18:30:00Z", "2026-11-30T18:30:00Z", 30 * 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := ts(c.at)
			s, e := c.w.PeriodBounds(at)
			if !s.Equal(ts(c.start)) || !e.Equal(ts(c.end)) {
				t.Fatalf("period %s..%s, want %s..%s", s, e, c.start, c.end)
			}
			bs, be := c.w.Bounds(at)
			if !bs.Equal(s) || !be.Equal(at) {
				t.Fatalf("bounds %s..%s", bs, be)
			}
			if got := c.w.Length(at); got != c.length {
				t.Fatalf("length %s, want %s", got, c.length)
			}
		})
	}
}

func TestRollingBounds(t *testing.T) {
	w := Window{Rolling: 30 * 24 * time.Hour}
	s, e := w.Bounds(ts("2026-11-30T09:00:00Z"))
	if !s.Equal(ts("2026-10-31T09:00:00Z")) || !e.Equal(ts("2026-11-30T09:00:00Z")) {
		t.Fatalf("%s %s", s, e)
	}
	// A rolling window ignores DST: exactly 30×24h even across 25 Oct.
	if w.Length(ts("2026-10-26T00:00:00Z")) != 720*time.Hour || w.String() != "30d" {
		t.Fatal(w.String())
	}
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "4w": 672 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseDays(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-3d", "0w", "30 days", "1M"} {
		if _, err := ParseDays(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if FormatDays(672*time.Hour) != "28d" || FormatDays(90*time.Minute) != "90m" || FormatDays(6*time.Hour) != "6h" {
		t.Fatal("format")
	}
}
