package reviews

import (
	"testing"
	"time"
)

func testCalendar() Calendar {
	return Calendar{Anchor: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Location: mustLoc("America/New_York"),
		DeadlineDay: time.Wednesday, DeadlineMinute: 15 * 60}
}

func TestPeriods(t *testing.T) {
	c := testCalendar()
	ny := c.Location
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 1, 5, 0, 0, 0, 0, ny), "2026-P01"},
		{time.Date(2026, 1, 4, 23, 59, 0, 0, ny), "2025-P26"}, // the period starting 2025-12-22
		{time.Date(2026, 1, 19, 0, 0, 0, 0, ny), "2026-P02"},
		{time.Date(2026, 1, 19, 4, 0, 0, 0, time.UTC), "2026-P01"}, // still the 18th in New York
		{time.Date(2026, 12, 21, 9, 0, 0, 0, ny), "2026-P26"},
		{time.Date(2027, 1, 3, 9, 0, 0, 0, ny), "2026-P26"},
		{time.Date(2027, 1, 4, 9, 0, 0, 0, ny), "2027-P01"},
	} {
		if got := c.Of(tc.at).String(); got != tc.want {
			t.Errorf("Of(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
	// Round trips and boundaries, a year either side.
	p := c.Of(time.Date(2025, 1, 1, 12, 0, 0, 0, ny))
	for i := 0; i < 60; i++ {
		next := c.Add(p, 1)
		if !c.End(p).Equal(c.Start(next)) || c.Of(c.Start(next)) != next || c.Of(c.Start(next).Add(-time.Second)) != p {
			t.Fatalf("%s/%s boundary", p, next)
		}
		if next.Year == p.Year && next.Num != p.Num+1 || next.Year != p.Year && next.Num != 1 {
			t.Fatalf("%s then %s", p, next)
		}
		if q, err := c.Parse(p.String()); err != nil || q != p {
			t.Fatalf("parse %s: %v %v", p, q, err)
		}
		if ws := c.Weeks(p); len(ws) != 2 || ws[1] != ws[0].Add(1) {
			t.Fatalf("%s weeks %v", p, ws)
		}
		d := c.Deadline(p)
		if d.Weekday() != time.Wednesday || d.Hour() != 15 || d.Before(c.End(p)) || d.Sub(c.End(p)) > 7*24*time.Hour {
			t.Fatalf("%s deadline %s", p, d)
		}
		p = next
	}
	// 2026 has 26 periods from 5 January; 2027-P01 starts 4 January.
	if _, err := c.Parse("2026-P27"); err == nil || err.Error() != `period: 2026 has 26 periods (2026-P01 to 2026-P26), found "2026-P27"` {
		t.Fatal(err)
	}
	for _, bad := range []string{"2026-P00", "2026-7", "2026-P7", "2026-W07", "26-P07", "2026-P07x"} {
		if _, err := c.Parse(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	p1, _ := c.Parse("2026-P01")
	if !c.Start(p1).Equal(time.Date(2026, 1, 5, 0, 0, 0, 0, ny)) || !c.Deadline(p1).Equal(time.Date(2026, 1, 21, 15, 0, 0, 0, ny)) {
		t.Fatalf("P01 %s deadline %s", c.Start(p1), c.Deadline(p1))
	}
	if ws := c.Weeks(p1); ws[0].String() != "2026-W02" {
		t.Fatalf("weeks %v", ws)
	}
}

// Open: the previous period until its deadline, then the current one;
// Closed: the latest period whose deadline has passed. Across the daylight
// saving change of 8 March 2026 in New York.
func TestOpenClosed(t *testing.T) {
	c := testCalendar()
	ny := c.Location
	p5, _ := c.Parse("2026-P05") // 2 to 15 March; deadline Wed 18 March 15:00 EDT
	dl := c.Deadline(p5)
	if !dl.Equal(time.Date(2026, 3, 18, 15, 0, 0, 0, ny)) || dl.UTC().Hour() != 19 {
		t.Fatalf("deadline %s (%s UTC)", dl, dl.UTC())
	}
	if got := c.Open(dl.Add(-time.Second)); got != p5 {
		t.Fatalf("open before deadline: %s", got)
	}
	if got := c.Open(dl); got != c.Add(p5, 1) {
		t.Fatalf("open at deadline: %s", got)
	}
	if got := c.Closed(dl); got != p5 {
		t.Fatalf("closed at deadline: %s", got)
	}
	if got := c.Closed(dl.Add(-time.Second)); got != c.Add(p5, -1) {
		t.Fatalf("closed before deadline: %s", got)
	}
	// A deadline on the periods' first weekday at midnight is the end itself.
	c.DeadlineDay, c.DeadlineMinute = time.Monday, 0
	if !c.Deadline(p5).Equal(c.End(p5)) {
		t.Fatal(c.Deadline(p5))
	}
}
