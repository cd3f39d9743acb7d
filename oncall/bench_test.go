package oncall

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Generate makes a year of history: teams teams, pages pages spread over
// 2026 (one in five low urgency), ten notifications each (2 million log
// entries for 200,000 pages), weekly level-1 rotations of six people, and
// a classification for four pages in five.
func generate(teams, pages int) (map[string]LoadInput, int) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []string{"America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	out := map[string]LoadInput{}
	people := map[string]*time.Location{}
	for t := 0; t < teams; t++ {
		name := fmt.Sprintf("team-%02d", t)
		loc, _ := time.LoadLocation(zones[t%len(zones)])
		in := LoadInput{Team: TeamSpec{Name: name, Location: loc, Hours: DefaultHours()}, People: people,
			Classifications: map[string]Classification{}}
		for m := 0; m < 6; m++ {
			email := fmt.Sprintf("p%d@%s.example.com", m, name)
			in.Team.Members = append(in.Team.Members, email)
			people[email], _ = time.LoadLocation(zones[(t+m)%len(zones)])
		}
		w := WeekOf(start, loc)
		for i := 0; i < 54; i++ {
			in.Shifts = append(in.Shifts, Shift{Source: SourcePagerDuty, SourceID: fmt.Sprintf("%s-%d", name, i), Team: name,
				Person: in.Team.Members[i%6], Level: 1, Start: w.Add(i).Start(loc), End: w.Add(i + 1).Start(loc)})
		}
		out[name] = in
	}
	logs := 0
	for i := 0; i < pages; i++ {
		name := fmt.Sprintf("team-%02d", r.IntN(teams))
		in := out[name]
		at := start.Add(time.Duration(r.Int64N(int64(year))))
		p := Page{Source: SourcePagerDuty, SourceID: fmt.Sprint(i), Team: name, Urgency: High, EscalationLevel: 1 + r.IntN(10)/9,
			Title: fmt.Sprintf("Alert%d on host-%d", r.IntN(40), r.IntN(100)), CreatedAt: at,
			AcknowledgedAt: at.Add(time.Duration(r.IntN(900)) * time.Second), ResolvedAt: at.Add(time.Duration(r.IntN(7200)) * time.Second)}
		if r.IntN(5) == 0 {
			p.Urgency = Low
		}
		for n := 0; n < 10; n++ {
			ch := []Channel{ChannelPush, ChannelSMS, ChannelPhone, ChannelEmail}[r.IntN(4)]
			p.Notifications = append(p.Notifications, Notification{Person: in.Team.Members[r.IntN(6)], At: at.Add(time.Duration(n*20) * time.Second), Channel: ch})
			logs++
		}
		if r.IntN(5) != 0 {
			v := Actionable
			if r.IntN(3) == 0 {
				v = FalseAlarm
			}
			in.Classifications[p.Key()] = Classification{Page: p.Key(), Verdict: v, BusinessImpacting: v == Actionable && r.IntN(2) == 0}
		}
		in.Pages = append(in.Pages, p)
		out[name] = in
	}
	return out, logs
}

// BenchmarkMeasureAllTeams: the load of every one of 50 teams for one
// week, each team's input holding its whole year (what a store read
// narrows to two weeks).
func BenchmarkMeasureAllTeams(b *testing.B) {
	data, logs := generate(50, 200000)
	b.ReportMetric(float64(logs), "log_entries")
	week := Week{2026, 47}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, in := range data {
			in.Week = week
			if l := Measure(in); l.Pages == 0 {
				b.Fatal("no pages")
			}
		}
	}
}

// BenchmarkMeasureWeek: the same, with each team's input narrowed to the
// two weeks a store query returns.
func BenchmarkMeasureWeek(b *testing.B) {
	data, _ := generate(50, 200000)
	week := Week{2026, 47}
	for k, in := range data {
		from, to := week.Add(-1).Start(in.Team.Location), week.End(in.Team.Location)
		var ps []Page
		for _, p := range in.Pages {
			if !p.CreatedAt.Before(from) && p.CreatedAt.Before(to) {
				ps = append(ps, p)
			}
		}
		in.Pages, in.Week = ps, week
		data[k] = in
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, in := range data {
			Measure(in)
		}
	}
}
