package oncall

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"time"
)

// Generated is a synthetic year of support tickets and change records
// (benchmarks, demos).
type Generated struct {
	Teams   []TeamSpec
	Tickets []Ticket
	Changes []ChangeRecord
}

// GenerateRecords makes a year (2026) of tickets and changes for teams
// teams of six in five time zones: tickets in business hours mostly, nine
// in ten answered, four in five solved, one in ten reopened, six
// categories and uncategorised, a few repeated titles; changes on three
// services per team, most compliant, some manual, some with commit times.
// The same seed gives the same records.
func GenerateRecords(teams, tickets, changes int, seed uint64) Generated {
	r := rand.New(rand.NewPCG(seed, seed+1))
	zones := []string{"America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"}
	var g Generated
	for t := 0; t < teams; t++ {
		loc, err := time.LoadLocation(zones[t%len(zones)])
		if err != nil {
			loc = time.UTC
		}
		h := DefaultHours()
		h.Holidays = map[string]bool{"2026-01-01": true, "2026-12-25": true, "2026-12-26": true}
		spec := TeamSpec{Name: fmt.Sprintf("team-%02d", t), Location: loc, Hours: h}
		for m := 0; m < 6; m++ {
			spec.Members = append(spec.Members, fmt.Sprintf("p%d@%s.example.com", m, spec.Name))
		}
		g.Teams = append(g.Teams, spec)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	prios := []string{"critical", "high", "normal", "normal", "low"}
	titles := []string{"How do I rotate my database password?", "Deploy stuck in pending", "Request: bigger default quota",
		"Please review PR #%d for the logging extension", "Design question: multi-region queues", "Pods crashlooping in ns-%d",
		"Metrics missing for service %d", "Cannot pull image from registry"}
	cats := append([]Category{""}, Categories...)
	for i := 0; i < tickets; i++ {
		team := &g.Teams[r.IntN(len(g.Teams))]
		created := start.Add(time.Duration(r.Int64N(int64(year))))
		t := Ticket{Source: SourceFile, SourceID: fmt.Sprintf("T%06d", i), Team: team.Name,
			Title: fmt.Sprintf(titles[r.IntN(len(titles))], r.IntN(500)), Priority: prios[r.IntN(len(prios))],
			Category: cats[r.IntN(len(cats))], CreatedAt: created, Requester: "someone@example.com"}
		if r.IntN(10) < 9 {
			t.FirstResponseAt = created.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
			t.FirstResponder = team.Members[r.IntN(6)]
			if r.IntN(10) < 9 {
				t.SolvedAt = t.FirstResponseAt.Add(time.Duration(r.Int64N(int64(10 * 24 * time.Hour))))
				t.SolvedBy = t.FirstResponder
				if r.IntN(10) == 0 {
					t.Reopens = 1
				}
			}
		}
		g.Tickets = append(g.Tickets, t)
	}
	kinds := []ChangeKind{KindDeploy, KindDeploy, KindDeploy, KindConfig, KindInfra, KindManual}
	for i := 0; i < changes; i++ {
		team := &g.Teams[r.IntN(len(g.Teams))]
		at := start.Add(time.Duration(r.Int64N(int64(year))))
		c := ChangeRecord{Source: SourceFile, SourceID: fmt.Sprintf("C%06d", i), Team: team.Name,
			Service: fmt.Sprintf("%s-svc-%d", team.Name, r.IntN(3)), At: at, Kind: kinds[r.IntN(len(kinds))],
			Author: team.Members[r.IntN(6)], Summary: "release", Automated: true}
		if c.Kind == KindManual {
			c.Automated = false
		}
		if r.IntN(10) < 8 {
			c.Documented = "https://wiki.example.com/changes/" + c.SourceID
		}
		if r.IntN(10) < 8 {
			c.ReviewedBy = team.Members[r.IntN(6)]
		}
		if r.IntN(10) < 9 {
			c.Tested = "ci"
		}
		if c.Kind == KindDeploy {
			c.CommitAt = at.Add(-time.Duration(r.Int64N(int64(72 * time.Hour))))
			c.Failed = r.IntN(20) == 0
		}
		if r.IntN(25) == 0 {
			c.Incidents = []string{fmt.Sprintf("pagerduty:INC%d", i)}
		}
		g.Changes = append(g.Changes, c)
	}
	return g
}

// SummariseYear measures every team's weeks of 2026 from records already
// read: the benchmark's unit of work (and a year view's). Each week gets
// only the records that can matter to it (tickets created before its end,
// changes from the day before it), so a year costs a little more than its
// records. It returns the tickets created and changes made, summed.
func SummariseYear(teams []TeamSpec, tickets map[string][]Ticket, changes map[string][]ChangeRecord, set SupportSettings, cset ChangeSettings) (int, int) {
	// Teams are independent: measure them on every processor.
	type sums struct{ s, c int }
	work := make(chan TeamSpec)
	out := make(chan sums)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(teams)))
	for range workers {
		go func() {
			var n sums
			for team := range work {
				s, c := summariseTeam(team, tickets[team.Name], changes[team.Name], set, cset)
				n.s += s
				n.c += c
			}
			out <- n
		}()
	}
	for _, t := range teams {
		work <- t
	}
	close(work)
	nS, nC := 0, 0
	for range workers {
		n := <-out
		nS += n.s
		nC += n.c
	}
	return nS, nC
}

func summariseTeam(team TeamSpec, tickets []Ticket, changes []ChangeRecord, set SupportSettings, cset ChangeSettings) (int, int) {
	nS, nC := 0, 0
	ts := append([]Ticket(nil), tickets...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].CreatedAt.Before(ts[j].CreatedAt) })
	keys := make([][2]string, len(ts))
	for i := range ts {
		keys[i] = RequestKeys(&ts[i])
	}
	cs := append([]ChangeRecord(nil), changes...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].At.Before(cs[j].At) })
	loc := team.Location
	if loc == nil {
		loc = time.UTC
	}
	for w := (Week{2026, 1}); w.Year == 2026; w = w.Add(1) {
		start, end := w.Start(loc), w.End(loc)
		n := sort.Search(len(ts), func(i int) bool { return !ts[i].CreatedAt.Before(end) })
		s := MeasureSupport(SupportInput{Team: team, Week: w, Tickets: ts[:n], Keys: keys[:n], Settings: set})
		a := sort.Search(len(cs), func(i int) bool { return !cs[i].At.Before(start.Add(-24 * time.Hour)) })
		b := sort.Search(len(cs), func(i int) bool { return !cs[i].At.Before(end) })
		c := MeasureChanges(ChangeInput{Team: team, Week: w, Changes: cs[a:b], Settings: cset})
		nS += s.Created
		nC += c.Changes
	}
	return nS, nC
}
