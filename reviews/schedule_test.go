package reviews

import (
	"context"
	"testing"
	"time"
)

func TestWeeklyScheduleAcrossDST(t *testing.T) {
	s, err := ParseSchedule("0 9 * * MON", berlin)
	if err != nil {
		t.Fatal(err)
	}
	// Europe/Berlin springs forward on Sunday 29 March 2026: Monday 09:00
	// is 08:00 UTC before and 07:00 UTC after.
	got := s.Next(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("before DST: %v, want %v", got.UTC(), want)
	}
	got = s.Next(got)
	if want := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("after DST: %v, want %v", got.UTC(), want)
	}
	j := Job{Kind: KindWeekly, Location: berlin}
	if p := j.Period(got); p != "2026-W13" {
		t.Fatalf("period %s", p)
	}
	// And in the autumn, in New York (1 November 2026).
	ny := mustLoc("America/New_York")
	s2, _ := ParseSchedule("0 9 * * MON", ny)
	if got := s2.Next(time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("after DST ends: %v", got.UTC())
	}
}

func TestFirstMonday(t *testing.T) {
	s, err := ParseSchedule("first-monday 09:00", mustLoc("America/New_York"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	at := time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC)
	for range 5 {
		at = s.Next(at)
		got = append(got, at.UTC().Format(time.RFC3339))
	}
	want := []string{"2026-09-07T13:00:00Z", "2026-10-05T13:00:00Z", "2026-11-02T14:00:00Z", "2026-12-07T14:00:00Z", "2027-01-04T14:00:00Z"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("first Mondays: %v, want %v", got, want)
		}
	}
	// On the first Monday itself, before and after 09:00.
	if n := s.Next(time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)); n.UTC().Day() != 2 {
		t.Fatalf("same day: %v", n)
	}
	if n := s.Next(time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC)); n.UTC().Month() != time.December {
		t.Fatalf("after it: %v", n)
	}
	if p := (Job{Kind: KindMonthly, Location: time.UTC}).Period(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)); p != "2026-11" {
		t.Fatal(p)
	}
	for _, bad := range []string{"first-monday 9am", "0 25 * * MON", "nonsense"} {
		if _, err := ParseSchedule(bad, time.UTC); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s, err := ParseSchedule("off", time.UTC); s != nil || err != nil {
		t.Fatal("off")
	}
}

// A run missed while vigil was down runs once at start-up: the DST week
// (2026-W13 in Berlin, 167 hours) is reviewed once however often vigil
// restarts.
func TestCatchUpOnce(t *testing.T) {
	src, dir := fixture(t)
	jobs, err := NewJobs(dir, map[string]string{"payments": "C0PAYMENTS"}, "0 9 * * MON", "first-monday 09:00", "C0ORG", time.UTC)
	if err != nil || len(jobs) != 3 {
		t.Fatal(jobs, err)
	}
	out := &MemOutbox{}
	now := time.Date(2026, 3, 31, 10, 0, 0, 0, berlin)
	s := &Scheduler{Source: src, Dir: dir, Outbox: out, Jobs: jobs, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Now: func() time.Time { return now }}
	n, err := s.CatchUp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// payments and search weekly (W13), and the March roll-up was due on
	// Monday 2 March (after Since).
	if n != 3 {
		t.Fatalf("%d reports made", n)
	}
	if n, _ := s.CatchUp(context.Background()); n != 0 {
		t.Fatalf("restart made %d more", n)
	}
	list, _ := out.List(context.Background())
	periods := map[string]string{}
	for _, e := range list {
		periods[e.Team] = e.Period
	}
	if periods["payments"] != "2026-W13" || periods["search"] != "2026-W13" || periods[OrgTeam] != "2026-02" {
		t.Fatalf("periods %v", periods)
	}
	// Before Since, nothing is caught up.
	s2 := &Scheduler{Source: src, Dir: dir, Outbox: &MemOutbox{}, Jobs: jobs, Since: now, Now: func() time.Time { return now }}
	if n, _ := s2.CatchUp(context.Background()); n != 0 {
		t.Fatalf("a new install caught up %d", n)
	}
}
