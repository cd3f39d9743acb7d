package oncall

import (
	"fmt"
	"testing"
	"time"
)

// A healthy one-in-five weekly rota handing over on Monday 09:00 touches
// two ISO weeks per shift: the week count flags everyone, the
// time-based figures do not.
func TestMondayMorningHandover(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	rota := []string{"a@x", "b@x", "c@x", "d@x", "e@x"}
	first := time.Date(2026, 9, 7, 9, 0, 0, 0, ny) // a Monday
	var shifts []Shift
	for w := range 14 {
		start := first.AddDate(0, 0, 7*w)
		shifts = append(shifts, Shift{Source: "t", SourceID: fmt.Sprint(w), Person: rota[w%5], Team: "t", Level: 1,
			Start: start.UTC(), End: start.AddDate(0, 0, 7).UTC()})
	}
	week, _ := ParseWeek("2026-W49") // Nov 30 - Dec 6: a's shift starts that Monday
	l := Measure(LoadInput{Team: TeamSpec{Name: "t", Location: ny, Members: rota}, Week: week, Shifts: shifts})
	for _, p := range l.People {
		if p.OverOneInFourByTime {
			t.Errorf("%s flagged by time: %+v", p.Email, p)
		}
		if p.OnCallWeekEquivalents4 > 1 || p.OnCallWeekEquivalents8 > 2 {
			t.Errorf("%s: %+v", p.Email, p)
		}
	}
	flagged := 0
	for _, p := range l.People {
		if p.OverOneInFour {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatal("the issue's week count is expected to flag Monday-09:00 handovers (that is why the time-based flag exists)")
	}
	// A person doing two shifts in four weeks is flagged by time too.
	shifts = append(shifts, Shift{Source: "t", SourceID: "extra", Person: "e@x", Team: "t", Level: 1,
		Start: time.Date(2026, 11, 16, 9, 0, 0, 0, ny).UTC(), End: time.Date(2026, 11, 23, 9, 0, 0, 0, ny).UTC()})
	l = Measure(LoadInput{Team: TeamSpec{Name: "t", Location: ny, Members: rota}, Week: week, Shifts: shifts})
	for _, p := range l.People {
		if p.Email == "e@x" && !p.OverOneInFourByTime {
			t.Fatalf("two weeks in four not flagged: %+v", p)
		}
	}
}
