package oncall

import (
	"fmt"
	"testing"
	"time"
)

func TestWeek(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	for _, c := range []struct {
		in         string
		start      string
		hours      float64
		prev, next string
	}{
		{"2026-W47", "2026-11-16T00:00:00-05:00", 168, "2026-W46", "2026-W48"},
		{"2026-W10", "2026-03-02T00:00:00-05:00", 167, "2026-W09", "2026-W11"}, // DST starts Sun 8 Mar
		{"2026-W44", "2026-10-26T00:00:00-04:00", 169, "2026-W43", "2026-W45"}, // DST ends Sun 1 Nov
		{"2026-W01", "2025-12-29T00:00:00-05:00", 168, "2025-W52", "2026-W02"},
		{"2026-W53", "2026-12-28T00:00:00-05:00", 168, "2026-W52", "2027-W01"},
	} {
		w, err := ParseWeek(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Start(ny).Format(time.RFC3339); got != c.start {
			t.Errorf("%s start %s, want %s", c.in, got, c.start)
		}
		if got := w.End(ny).Sub(w.Start(ny)).Hours(); got != c.hours {
			t.Errorf("%s lasts %v h, want %v", c.in, got, c.hours)
		}
		if w.String() != c.in || w.Add(-1).String() != c.prev || w.Add(1).String() != c.next {
			t.Errorf("%s: %s %s %s", c.in, w, w.Add(-1), w.Add(1))
		}
	}
	for _, bad := range []string{"2025-W53", "2026-W00", "2026-W54", "2026W47", "2026-W4", "2026-W477", "", "2026-w47"} {
		if _, err := ParseWeek(bad); err == nil {
			t.Errorf("ParseWeek(%q) accepted", bad)
		}
	}
	// Sunday 23:30 in New York is already Monday in UTC.
	if w := WeekOf(utc("2026-11-23T04:30:00Z"), ny); w.String() != "2026-W47" {
		t.Errorf("WeekOf: %s", w)
	}
}

func TestBucket(t *testing.T) {
	ny, tokyo, kolkata := mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo"), mustLoc(t, "Asia/Kolkata")
	def := DefaultHours()
	holiday := DefaultHours()
	holiday.Holidays = map[string]bool{"2026-12-25": true}
	custom := Hours{Business: ClockRange{9 * 60, 17*60 + 30}, Sleep: ClockRange{23 * 60, 7 * 60}}
	for _, c := range []struct {
		name string
		at   string
		loc  *time.Location
		h    Hours
		want Bucket
	}{
		{"weekday morning", "2026-11-17T13:00:00Z", ny, def, Business},              // Tue 08:00 EST
		{"just before business", "2026-11-17T12:59:59Z", ny, def, Sleep},            // 07:59:59
		{"evening", "2026-11-17T23:00:00Z", ny, def, Off},                           // 18:00
		{"sleep starts", "2026-11-18T03:00:00Z", ny, def, Sleep},                    // 22:00
		{"weekend afternoon", "2026-11-21T19:00:00Z", ny, def, Off},                 // Sat 14:00
		{"weekend night", "2026-11-22T04:00:00Z", ny, def, Sleep},                   // Sat 23:00
		{"far responder", "2026-11-17T15:00:00Z", tokyo, def, Sleep},                // NY 10:00 = Tokyo 00:00
		{"half-hour zone", "2026-11-17T02:29:00Z", kolkata, def, Sleep},             // 07:59 IST
		{"half-hour zone business", "2026-11-17T02:30:00Z", kolkata, def, Business}, // 08:00 IST
		// DST: the same UTC clock reads an hour apart either side of 8 March.
		{"before DST", "2026-03-06T12:30:00Z", ny, def, Sleep},   // Fri 07:30 EST
		{"after DST", "2026-03-09T12:30:00Z", ny, def, Business}, // Mon 08:30 EDT
		{"DST night", "2026-03-08T06:30:00Z", ny, def, Sleep},    // Sun 01:30 EST
		{"holiday", "2026-12-25T15:00:00Z", ny, holiday, Off},
		{"not a holiday without config", "2026-12-25T15:00:00Z", ny, def, Business},
		{"holiday is the responder's date", "2026-12-25T02:00:00Z", tokyo, holiday, Off}, // Tokyo Fri 11:00, NY still 24th
		{"custom business end", "2026-11-17T22:29:00Z", ny, custom, Business},            // 17:29
		{"custom off", "2026-11-17T22:30:00Z", ny, custom, Off},                          // 17:30
		{"custom sleep", "2026-11-18T04:00:00Z", ny, custom, Sleep},                      // 23:00
		{"custom morning", "2026-11-17T12:00:00Z", ny, custom, Off},                      // 07:00
	} {
		if got := c.h.Bucket(utc(c.at), c.loc); got != c.want {
			t.Errorf("%s: %s in %s = %s, want %s", c.name, c.at, c.loc, got, c.want)
		}
	}
}

func TestParseClockRange(t *testing.T) {
	r, err := ParseClockRange("22:00-08:00")
	if err != nil || r != (ClockRange{1320, 480}) || r.String() != "22:00-08:00" || !r.Contains(0) || r.Contains(480) {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"8-18", "08:00", "08:00-08:00", "25:00-08:00", ""} {
		if _, err := ParseClockRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBandAndStability(t *testing.T) {
	for n, want := range map[int]Band{0: Healthy, 1: Healthy, 2: Strained, 5: Strained, 6: Unsustainable} {
		if got := BandOf(n); got != want {
			t.Errorf("BandOf(%d) = %s, want %s", n, got, want)
		}
	}
	ny := mustLoc(t, "America/New_York")
	weekOf := func(this, last int) Load {
		cs := map[string]Classification{}
		var pages []Page
		add := func(n int, day string) {
			for i := 0; i < n; i++ {
				id := fmt.Sprintf("%s-%d", day, i)
				pages = append(pages, mkPage(id, "X", day+"T15:00:00Z"))
				classify(cs, id, Actionable, true)
			}
		}
		add(this, "2026-11-17")
		add(last, "2026-11-10")
		return Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny}, Week: Week{2026, 47}, Pages: pages, Classifications: cs})
	}
	for _, c := range []struct {
		this, last int
		band       Band
		stability  bool
	}{
		{6, 6, Unsustainable, true},
		{6, 5, Unsustainable, false},
		{5, 9, Strained, false},
		{1, 0, Healthy, false},
	} {
		l := weekOf(c.this, c.last)
		if l.Band != c.band || l.StabilityFirst != c.stability || l.Change.BusinessImpacting != c.this-c.last {
			t.Errorf("%d after %d: band %s stability %v change %d", c.this, c.last, l.Band, l.StabilityFirst, l.Change.BusinessImpacting)
		}
	}
}

func TestImpactNeedsActionable(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	cs := map[string]Classification{}
	cs["pagerduty:A"] = Classification{Page: "pagerduty:A", Verdict: FalseAlarm, BusinessImpacting: true}
	l := Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny}, Week: Week{2026, 47},
		Pages: []Page{mkPage("A", "X", "2026-11-17T15:00:00Z")}, Classifications: cs})
	if l.BusinessImpacting != 0 || l.FalseAlarms != 1 || l.FalseAlarmShare != 1 {
		t.Errorf("%+v", l)
	}
}

func TestInterruptions(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	p := mkPage("A", "X", "2026-11-17T15:00:00Z",
		notify(bob, "2026-11-17T15:00:00Z", ChannelSMS),
		notify(bob, "2026-11-17T15:00:00Z", ChannelPush),  // same notification, two channels
		notify(bob, "2026-11-17T15:00:59Z", ChannelPhone), // within 60 s of the counted one
		notify(bob, "2026-11-17T15:01:00Z", ChannelPhone), // 60 s later: new interruption
		notify(bob, "2026-11-17T15:01:30Z", ChannelEmail), // email never interrupts
		notify(alice, "2026-11-17T15:00:10Z", ChannelChat),
		notify(carol, "2026-11-17T16:00:10Z", ChannelPush),
	)
	// A second page to bob 10 s later is its own interruption (per page).
	q := mkPage("B", "Y", "2026-11-17T15:00:10Z", low(), notify(bob, "2026-11-17T15:00:10Z", ChannelPush))
	l := Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny}, Week: Week{2026, 47}, Pages: []Page{p, q}})
	if l.Interruptions != 4 || l.HoursInterrupted != 2 {
		t.Errorf("interruptions %d hours %d", l.Interruptions, l.HoursInterrupted)
	}
	// DST fall-back: 01:30 EDT and 01:30 EST are two different clock hours.
	r := mkPage("C", "Z", "2026-11-01T05:30:00Z", notify(bob, "2026-11-01T05:30:00Z", ChannelPush))
	s := mkPage("D", "Z", "2026-11-01T06:30:00Z", notify(bob, "2026-11-01T06:30:00Z", ChannelPush))
	l = Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny}, Week: Week{2026, 44}, Pages: []Page{r, s}})
	if l.Interruptions != 2 || l.HoursInterrupted != 2 {
		t.Errorf("DST: interruptions %d hours %d", l.Interruptions, l.HoursInterrupted)
	}
}

// Alertmanager pages say nothing of who was woken: they go to whoever was
// level-1 on call, in that person's time zone.
func TestPagesWithoutNotificationsGoToOnCall(t *testing.T) {
	ny, tokyo := mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo")
	pages := []Page{
		mkPage("a1", "CPU", "2026-11-17T15:00:00Z", source(SourceAlertmanager)), // Tokyo 00:00
		mkPage("a2", "CPU", "2026-11-18T02:00:00Z", source(SourceAlertmanager)), // override: alice 21:00 NY
		mkPage("a3", "CPU", "2026-11-30T02:00:00Z", source(SourceAlertmanager)), // not this week
		mkPage("p1", "CPU", "2026-11-17T15:00:00Z"),                             // another source
	}
	shifts := []Shift{
		shift(bob, 1, "2026-11-16T05:00:00Z", "2026-11-23T05:00:00Z"),
		shift(alice, 1, "2026-11-18T00:00:00Z", "2026-11-18T03:00:00Z"),
	}
	l := Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny, PageSource: SourceAlertmanager},
		Week: Week{2026, 47}, People: map[string]*time.Location{bob: tokyo}, Pages: pages, Shifts: shifts})
	if l.Pages != 2 || l.Interruptions != 0 {
		t.Fatalf("pages %d interruptions %d", l.Pages, l.Interruptions)
	}
	got := map[string]map[Bucket]int{}
	for _, p := range l.People {
		got[p.Email] = p.Pages
	}
	if got[bob][Sleep] != 1 || got[alice][Off] != 1 {
		t.Errorf("%v", got)
	}
	if l.RotationSize != 2 || !l.RotationTooSmall {
		t.Errorf("rotation %d %v", l.RotationSize, l.RotationTooSmall)
	}
	if l.TopAlerts[0].Sleep != 1 {
		t.Errorf("top %+v", l.TopAlerts)
	}
}

func TestRotationFallsBackToMembers(t *testing.T) {
	l := Measure(LoadInput{Team: TeamSpec{Name: "t", Members: []string{alice, bob, carol, dave}}, Week: Week{2026, 47}})
	if l.RotationSize != 4 || l.RotationTooSmall || len(l.People) != 4 || l.TimeZone != "UTC" || l.TopAlerts == nil {
		t.Errorf("%+v", l)
	}
	if l.MTTA != (Stats{}) || l.FalseAlarmShare != 0 || l.Band != Healthy {
		t.Errorf("%+v", l)
	}
}

func TestOnCallWeeks(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	shifts := []Shift{
		// Overlapping shifts (a schedule layer and an override) count once.
		shift(bob, 1, "2026-11-16T05:00:00Z", "2026-11-20T05:00:00Z"),
		shift(bob, 1, "2026-11-19T05:00:00Z", "2026-11-23T05:00:00Z"),
		// Exactly one hour in W46 counts.
		shift(bob, 1, "2026-11-15T05:00:00Z", "2026-11-15T06:00:00Z"),
		// 59 minutes in W45 does not.
		shift(bob, 1, "2026-11-08T05:00:00Z", "2026-11-08T05:59:00Z"),
		// An open-ended shift from W39 (outside the 8 weeks) to now.
		{Source: SourcePagerDuty, SourceID: "perm", Person: alice, Level: 1, Start: utc("2026-09-21T04:00:00Z")},
	}
	l := Measure(LoadInput{Team: TeamSpec{Name: "payments", Location: ny}, Week: Week{2026, 47}, Shifts: shifts})
	by := map[string]Person{}
	for _, p := range l.People {
		by[p.Email] = p
	}
	b, a := by[bob], by[alice]
	// Trailing four weeks W44-W47 last 673 h (DST ended 1 Nov).
	if b.OnCallWeeks4 != 2 || b.OnCallWeeks8 != 2 || !b.OverOneInFour || b.OnCallShare != round((168+1+59.0/60)/673, 4) {
		t.Errorf("bob %+v", b)
	}
	if a.OnCallWeeks4 != 4 || a.OnCallWeeks8 != 8 || !a.OverOneInFour || a.OnCallShare != 1 {
		t.Errorf("alice %+v", a)
	}
}

func TestStats(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Stats
	}{
		{nil, Stats{}},
		{[]float64{10}, Stats{1, 10, 10, 10}},
		{[]float64{10, 20}, Stats{2, 15, 15, 19}},
		{[]float64{4, 1, 3, 2}, Stats{4, 2.5, 2.5, 3.7}},
	} {
		if got := stats(c.in); got != c.want {
			t.Errorf("stats(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestNormaliseTitle(t *testing.T) {
	for in, want := range map[string]string{
		"CheckoutErrorsBurn":                              "CheckoutErrorsBurn",
		"Disk 91% full on db-7 (10.0.3.4)":                "Disk #% full on db-# (#)",
		"  Pod   api-7f9c8d6b5-x2x9z  restarted ":         "Pod api-#-x#x#z restarted",
		"Job 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed": "Job # failed",
		"": "(untitled)",
	} {
		if got := NormaliseTitle(in); got != want {
			t.Errorf("NormaliseTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
