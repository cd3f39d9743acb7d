package reviews

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/slackfake"
)

// The reminder fires 24 hours before each deadline and the digest a day
// after it, period after period, across the daylight-saving change.
func TestWinsScheduleAcrossPeriods(t *testing.T) {
	org := testOrg()
	ny := org.Calendar.Location
	rem := DeadlineSchedule{Calendar: org.Calendar, Offset: -24 * time.Hour}
	dig := DeadlineSchedule{Calendar: org.Calendar, Offset: 24 * time.Hour}
	// From inside P05 (2 to 15 March): P04's digest (Thu 5 March 15:00
	// EST) is still to come, then P05's reminder (Tue 17 March 15:00 EDT).
	from := time.Date(2026, 3, 5, 12, 0, 0, 0, ny)
	if got := dig.Next(from); !got.Equal(time.Date(2026, 3, 5, 15, 0, 0, 0, ny)) || dig.PeriodAt(got).String() != "2026-P04" {
		t.Fatalf("digest next %s (%s)", got, dig.PeriodAt(got))
	}
	got := rem.Next(from)
	if !got.Equal(time.Date(2026, 3, 17, 15, 0, 0, 0, ny)) || rem.PeriodAt(got).String() != "2026-P05" || got.UTC().Hour() != 19 {
		t.Fatalf("reminder next %s (%s)", got, rem.PeriodAt(got))
	}
	// Every firing is 14 days after the last, at the same local time.
	for i := 0; i < 30; i++ {
		next := rem.Next(got)
		if l := next.In(ny); l.Sub(got) < 13*24*time.Hour || l.Hour() != 15 || l.Weekday() != time.Tuesday || rem.PeriodAt(next) != org.Calendar.Add(rem.PeriodAt(got), 1) {
			t.Fatalf("after %s: %s", got, next)
		}
		got = next
	}
	// Previous finds the last firing (the scheduler's catch-up).
	if p := Previous(dig, time.Date(2026, 3, 19, 16, 0, 0, 0, ny), 40*24*time.Hour); !p.Equal(time.Date(2026, 3, 19, 15, 0, 0, 0, ny)) {
		t.Fatalf("previous %s", p)
	}
}

// The rhythm through the schedule runner, the outbox and Slack: a
// reminder to each team that has not written (or has no challenge), the
// digests after the deadline, each made once however often it fires.
func TestWinsRhythm(t *testing.T) {
	ctx := context.Background()
	w, _ := newWins(t)
	seedTree(t, w)
	org := w.Org
	day := 24 * time.Hour
	minus, plus := -day, day
	jobs := WinsJobs(w.Store, org, &minus, &plus)
	if len(jobs) != 2 {
		t.Fatal(jobs)
	}
	out := &MemOutbox{}
	fake := slackfake.New(t, "C0PAYMENTS", "C0SEARCH", "C0WAREHOUSE", "C0TOOLS", "C0INFRA", "C0DATA", "C0PLATFORM")
	clk := &clock{t: time.Date(2026, 3, 17, 15, 0, 0, 0, org.Calendar.Location)}
	fake.SetClock(clk.now)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Scheduler{Outbox: out, Jobs: jobs, Since: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Now: clk.now, Log: quiet,
		Deliverer: &Deliverer{Outbox: out, Slack: NewSlackClient(goodToken, fake.URL()), Now: clk.now, Log: quiet}}
	// The reminder: search has a win and no challenge, tools nothing.
	if n, err := s.CatchUp(ctx); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if n, _ := s.CatchUp(ctx); n != 0 {
		t.Fatal("reminders made twice")
	}
	list, _ := out.List(ctx)
	var teams []string
	for _, e := range list {
		if e.Kind != KindReminder || e.Period != "2026-P05" {
			t.Fatalf("%+v", e)
		}
		teams = append(teams, e.Team)
	}
	if strings.Join(teams, ",") != "tools,search" {
		t.Fatalf("reminded %v", teams)
	}
	if n, err := s.Deliverer.RunOnce(ctx); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	msgs := fake.TopLevel("C0SEARCH")
	if len(msgs) != 1 || !strings.Contains(string(mustJSON(msgs[0])), "has 1 win and no challenge for 2026-P05") {
		t.Fatalf("search reminder %+v", msgs)
	}
	if _, uploads := fake.Counts(); uploads != 0 {
		t.Fatalf("a reminder uploaded %d files", uploads)
	}
	// The digests, a day after the deadline.
	clk.t = time.Date(2026, 3, 19, 15, 0, 0, 0, org.Calendar.Location)
	if n, err := s.CatchUp(ctx); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	list, _ = out.List(ctx)
	digests := map[string]Digest{}
	for _, e := range list {
		if e.Kind == KindDigest {
			var d Digest
			json.Unmarshal(e.Payload, &d)
			digests[e.Team+" "+e.Channel] = d
		}
	}
	if len(digests) != 3 || digests["group:infrastructure C0INFRA"].Period != "2026-P05" || !digests["org:platform C0PLATFORM"].Selected || digests["group:data C0DATA"].Selected {
		t.Fatalf("digests %v", digests)
	}
	if n, err := s.Deliverer.RunOnce(ctx); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	top := fake.TopLevel("C0PLATFORM")
	if len(top) != 1 {
		t.Fatalf("%d org digests posted", len(top))
	}
	th := fake.Thread(top[0].TS)
	if len(th) != 1 || len(th[0].Files) != 1 || th[0].Files[0].Name != "vigil-wins-org-platform-2026-P05-o5.html" {
		t.Fatalf("org digest thread %+v", th)
	}
	// Firing again (a restart, a second replica) makes nothing new.
	if added, err := s.Fire(ctx, jobs[1], clk.now()); err != nil || added {
		t.Fatal(added, err)
	}
}
