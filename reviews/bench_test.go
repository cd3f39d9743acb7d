package reviews

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/config"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// yearOfHistory builds teams × a year (2026-W01..W52) of pages (about 30 a
// week with a nightly batch pattern), weekly shifts, incidents with action
// items, probe runs every 15 minutes for two journeys of three steps, and
// two SLOs.
func yearOfHistory(b testing.TB, teams int) (*MemSource, *oncall.Directory) {
	var cfg strings.Builder
	cfg.WriteString("people:\n")
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&cfg, "  - {name: P%d, email: p%d@example.com, time_zone: Europe/Berlin}\n", i, i)
	}
	cfg.WriteString("teams:\n")
	for t := 0; t < teams; t++ {
		fmt.Fprintf(&cfg, "  - {name: team%02d, time_zone: Europe/Berlin, slack_channel: C%d, members: [p0@example.com, p1@example.com, p2@example.com, p3@example.com, p4@example.com]}\n", t, t)
	}
	c, err := config.Parse("bench.yaml", []byte(cfg.String()))
	if err != nil {
		b.Fatal(err)
	}
	dir := oncall.NewDirectory(c)
	src := NewMemSource(nil)
	rng := rand.New(rand.NewSource(1))
	first := oncall.Week{Year: 2026, Num: 1}
	for t := 0; t < teams; t++ {
		team := fmt.Sprintf("team%02d", t)
		var batch oncall.Batch
		var incs []oncall.Incident
		var runs []probes.Result
		for w := 0; w < 52; w++ {
			wk := first.Add(w)
			start := wk.Start(berlin)
			who := fmt.Sprintf("p%d@example.com", w%5)
			batch.Shifts = append(batch.Shifts, oncall.Shift{Source: "pagerduty", SourceID: fmt.Sprintf("%s-S%d", team, w), Person: who, Team: team, Level: 1, Start: start, End: wk.End(berlin)})
			for k := 0; k < 20+rng.Intn(20); k++ {
				at := start.Add(time.Duration(rng.Intn(7*24*60)) * time.Minute)
				title := fmt.Sprintf("Batch job lag %d min", rng.Intn(60))
				if k%3 == 0 {
					title = fmt.Sprintf("Disk %d%% full on db-%d", 80+rng.Intn(20), rng.Intn(9))
				}
				p := oncall.Page{Source: "pagerduty", SourceID: fmt.Sprintf("%s-P%d-%d", team, w, k), Team: team, Urgency: oncall.High, Title: title,
					CreatedAt: at, AcknowledgedAt: at.Add(3 * time.Minute), ResolvedAt: at.Add(40 * time.Minute), EscalationLevel: 1,
					Notifications: []oncall.Notification{{Person: who, At: at.Add(20 * time.Second), Channel: oncall.ChannelSMS}}}
				batch.Pages = append(batch.Pages, p)
				if k%2 == 0 {
					batch.Classifications = append(batch.Classifications, oncall.Classification{Page: p.Key(), Verdict: oncall.Actionable, BusinessImpacting: k%4 == 0, By: who, At: at.Add(time.Hour), Via: "cli"})
				}
			}
			for k := 0; k < 3; k++ {
				at := start.Add(time.Duration(rng.Intn(7*24)) * time.Hour)
				incs = append(incs, oncall.Incident{Source: "pagerduty", SourceID: fmt.Sprintf("%s-I%d-%d", team, w, k), Team: team, Title: "Incident", Severity: fmt.Sprintf("SEV%d", 1+rng.Intn(3)),
					CreatedAt: at, ResolvedAt: at.Add(time.Duration(1+rng.Intn(5)) * time.Hour),
					ActionItems: []oncall.ActionItem{{Title: "fix", Due: at.Add(14 * 24 * time.Hour), Done: rng.Intn(2) == 0}}})
			}
			for m := 0; m < 7*24*4; m++ {
				at := start.Add(time.Duration(m) * 15 * time.Minute)
				for _, j := range []string{"checkout", "login"} {
					ok := rng.Intn(50) != 0
					steps := []probes.StepResult{{Name: "login", Success: true}, {Name: "cart", Success: true}, {Name: "pay", Success: ok, Reason: "status", Error: "pay: expect 201, got 500"}}
					runs = append(runs, probes.Result{Name: j, Started: at, Success: ok, Steps: steps})
				}
			}
		}
		if _, err := src.Apply(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		src.AddIncidents(incs...)
		src.AddRuns(team, runs...)
	}
	src.SLOFunc = func(team string, at time.Time) []slo.Status {
		return []slo.Status{sloStatus("availability", team, 0.999, 0.5, 0.8, 30), sloStatus("latency", team, 0.99, -0.1, 2, 300)}
	}
	return src, dir
}

// The weekly review of one team over a year of history: the issue's
// budget is 200 ms.
func BenchmarkWeeklyYear(b *testing.B) {
	src, dir := yearOfHistory(b, 1)
	week := oncall.Week{Year: 2026, Num: 47}
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(context.Background(), src, dir, "team00", week, Options{Now: fixtureNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// The monthly roll-up of 50 teams: the budget is 2 s.
func BenchmarkMonthly50Teams(b *testing.B) {
	src, dir := yearOfHistory(b, 50)
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := CompileMonthly(context.Background(), src, dir, Month{2026, time.November}, nil, Options{Now: fixtureNow})
		if err != nil || len(m.Teams) != 50 {
			b.Fatal(err)
		}
	}
}

// The budgets hold (skipped under -short and -race, which slow it).
func TestBudgets(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test")
	}
	src, dir := yearOfHistory(t, 1)
	start := time.Now()
	if _, err := Compile(context.Background(), src, dir, "team00", oncall.Week{Year: 2026, Num: 47}, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("weekly review over a year: %v, budget 200ms", d)
	}
}
