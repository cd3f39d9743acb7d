package oncall

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestBusinessTime(t *testing.T) {
	ny, tokyo, berlin := mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo"), mustLoc(t, "Europe/Berlin")
	def := DefaultHours()
	xmas := DefaultHours()
	xmas.Holidays = map[string]bool{"2026-12-25": true}
	night := Hours{Business: ClockRange{22 * 60, 6 * 60}}
	for _, c := range []struct {
		name     string
		from, to string
		loc      *time.Location
		h        Hours
		want     time.Duration
	}{
		{"over a weekend", "2026-11-20T16:00:00Z", "2026-11-23T10:00:00Z", time.UTC, def, 4 * time.Hour},
		{"holiday skipped", "2026-12-24T17:00:00+01:00", "2026-12-28T09:00:00+01:00", berlin, xmas, 2 * time.Hour},
		{"same without the holiday", "2026-12-24T17:00:00+01:00", "2026-12-28T09:00:00+01:00", berlin, def, 12 * time.Hour},
		{"a New York day", "2026-11-17T13:00:00Z", "2026-11-17T23:00:00Z", ny, def, 10 * time.Hour},
		{"the same instants are a Tokyo night", "2026-11-17T13:00:00Z", "2026-11-17T23:00:00Z", tokyo, def, 0},
		{"Tokyo next morning", "2026-11-17T13:00:00Z", "2026-11-18T01:30:00Z", tokyo, def, 150 * time.Minute},
		{"across DST start", "2026-03-06T17:00:00-05:00", "2026-03-09T09:00:00-04:00", ny, def, 2 * time.Hour},
		{"wrapping range", "2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z", time.UTC, night, 8 * time.Hour},
		{"inside one day", "2026-11-17T09:15:00Z", "2026-11-17T09:45:00Z", time.UTC, def, 30 * time.Minute},
		{"reversed", "2026-11-17T10:00:00Z", "2026-11-17T09:00:00Z", time.UTC, def, 0},
	} {
		if got := c.h.BusinessTime(at(c.from), at(c.to), c.loc); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCategories(t *testing.T) {
	c, err := NewCategoriser([]CategoryRule{
		{Category: PlatformBug, Labels: []string{"bug"}},
		{Category: PRReview, Components: []string{"Extensions"}},
		{Category: HowTo, Keywords: []string{"how do i", "docs"}},
		{Category: DesignQuestion, Keywords: []string{"design"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := []Ticket{
		{SourceID: "1", Labels: []string{"BUG"}, Title: "how do I x"},
		{SourceID: "2", Components: []string{"extensions"}},
		{SourceID: "3", Title: "How do I deploy?"},
		{SourceID: "4", Body: "see the docs."},
		{SourceID: "5", Title: "redesigned dashboards"}, // "design" is not a whole word here
		{SourceID: "6", Title: "design review", Category: FeatureRequest, CategoryBy: CategoryByHand},
		{SourceID: "7", Title: "nothing", Category: HowTo, CategoryBy: CategoryByRule},
	}
	changed := c.Apply(ts)
	want := []Category{PlatformBug, PRReview, HowTo, HowTo, "", FeatureRequest, ""}
	for i, w := range want {
		if ts[i].Category != w {
			t.Errorf("ticket %s: %q, want %q", ts[i].SourceID, ts[i].Category, w)
		}
	}
	if len(changed) != 5 {
		t.Errorf("changed %d, want 5", len(changed))
	}
	if _, err := NewCategoriser([]CategoryRule{{Category: "bugs"}}); err == nil {
		t.Error("unknown category accepted")
	}
	for in, want := range map[string]Category{"Platform-Bug": PlatformBug, "how to": HowTo, "office hours": DesignQuestion, "pull request review": PRReview} {
		if got, err := ParseCategory(in); err != nil || got != want {
			t.Errorf("ParseCategory(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCategory("misc"); err == nil {
		t.Error("misc accepted")
	}
}

func TestRotation(t *testing.T) {
	r := SupportRotation{Members: []string{"a", "b", "c"}, Start: Week{2026, 45}, Weeks: 2}
	for w, want := range map[int]string{44: "", 45: "a", 46: "a", 47: "b", 49: "c", 51: "a"} {
		got := r.OnDuty(Week{2026, w})
		if (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
			t.Errorf("W%d: %v, want %s", w, got, want)
		}
	}
	r.Size, r.Weeks = 2, 1
	if got := r.OnDuty(Week{2026, 46}); !reflect.DeepEqual(got, []string{"c", "a"}) {
		t.Errorf("pairs: %v", got)
	}
	// Across a year boundary (2026 has 53 weeks).
	// 9 weeks on: turn 9, members 18 and 19 mod 3.
	if got := r.OnDuty(Week{2027, 1}); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("2027-W01: %v", got)
	}
}

// supportFixture is a Berlin team's week 2026-W47 with a local holiday on
// Wednesday 18 November (Buß- und Bettag).
func supportFixture(t *testing.T) SupportInput {
	berlin := mustLoc(t, "Europe/Berlin")
	h := DefaultHours()
	h.Holidays = map[string]bool{"2026-11-18": true}
	team := TeamSpec{Name: "platform", Location: berlin, Hours: h,
		Members: []string{"a@ex.com", "b@ex.com", "c@ex.com", "d@ex.com", "e@ex.com", "f@ex.com"}}
	tk := func(id, prio, created, fr, frBy, solved, solvedBy string, cat Category, title string) Ticket {
		x := Ticket{Source: SourceFile, SourceID: id, Team: "platform", Priority: prio, Title: title, Category: cat,
			CreatedAt: at(created), FirstResponder: frBy, SolvedBy: solvedBy}
		if fr != "" {
			x.FirstResponseAt = at(fr)
		}
		if solved != "" {
			x.SolvedAt = at(solved)
		}
		return x
	}
	tickets := []Ticket{
		tk("T1", "critical", "2026-11-16T09:00:00+01:00", "2026-11-16T09:30:00+01:00", "a@ex.com", "2026-11-16T15:00:00+01:00", "a@ex.com", Troubleshooting, "Prod outage in checkout"),
		tk("T2", "Critical", "2026-11-17T17:00:00+01:00", "2026-11-17T19:00:00+01:00", "b@ex.com", "2026-11-18T10:00:00+01:00", "b@ex.com", Troubleshooting, "Pods crashlooping after upgrade"),
		tk("T3", "normal", "2026-11-18T09:00:00+01:00", "2026-11-19T09:00:00+01:00", "a@ex.com", "", "", HowTo, "How do I rotate my database password?"),
		tk("T4", "normal", "2026-11-19T10:00:00+01:00", "", "", "", "", HowTo, "how to rotate database password"),
		tk("T5", "critical", "2026-11-20T17:30:00+01:00", "", "", "", "", "", "Deploys failing in eu-1"),
		tk("T6", "low", "2026-11-11T10:00:00+01:00", "2026-11-11T11:00:00+01:00", "b@ex.com", "", "", HowTo, "RE: How do I rotate my database password?"),
		tk("T7", "low", "2026-10-01T10:00:00+02:00", "", "", "", "", PlatformBug, "Metrics agent leaks memory"),
		tk("T8", "normal", "2026-11-12T12:00:00+01:00", "2026-11-12T12:10:00+01:00", "c@ex.com", "2026-11-16T12:00:00+01:00", "c@ex.com", PlatformBug, "Helm chart bug"),
		tk("T9", "critical", "2026-11-16T10:00:00+01:00", "", "", "", "", Troubleshooting, "Other team's ticket"),
		tk("T10", "", "2026-11-17T11:00:00+01:00", "", "", "2026-11-17T11:30:00+01:00", "d@ex.com", Troubleshooting, "Quick question on logs"),
		tk("T11", "normal", "2026-11-20T09:00:00+01:00", "2026-11-20T09:05:00+01:00", "d@ex.com", "", "", Troubleshooting, "Latency spike in eu-3"),
		tk("T12", "low", "2026-11-21T10:00:00+01:00", "", "", "", "", "", "Registry errors"),
	}
	tickets[1].Reopens = 1
	tickets[4].Body = "Our deploys to eu-1 have been failing since 10:00 with error 503 from the registry"
	tickets[11].Body = "our deploys to EU-2 have been failing since 11:30 with error 503 from the registry."
	tickets[11].Unmapped = []string{"user:ghost"}
	tickets[8].Team = "other"
	w := Week{2026, 47}
	shifts := []Shift{
		{Person: "e@ex.com", Team: "platform", Level: 1, Start: w.Start(berlin), End: w.End(berlin)},
		{Person: "a@ex.com", Team: "platform", Level: 1, Start: at("2026-11-17T12:00:00Z"), End: at("2026-11-17T12:30:00Z")},
		{Person: "f@ex.com", Team: "platform", Level: 2, Start: w.Start(berlin), End: w.End(berlin)},
	}
	return SupportInput{Team: team, Week: w, Tickets: tickets, Shifts: shifts, Settings: SupportSettings{
		SLA: []SLATarget{
			{Priority: "critical", FirstResponse: time.Hour, Resolution: 8 * time.Hour},
			{Priority: "normal", FirstResponse: 4 * time.Hour, BusinessHours: true},
		},
		Rotation: SupportRotation{Members: []string{"a@ex.com", "b@ex.com", "c@ex.com"}, Start: Week{2026, 45}},
	}}
}

func TestMeasureSupport(t *testing.T) {
	in := supportFixture(t)
	s := MeasureSupport(in)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	check("created", s.Created, 8)
	check("solved", s.Solved, 4)
	check("net", s.NetBacklogChange, 4)
	check("open", s.OpenAtWeekEnd, 7)
	check("carried over", s.CarriedOver, 2)
	check("week start", s.WeekStart.Format(time.RFC3339), "2026-11-16T00:00:00+01:00")
	// First responses in the week: T1 30 min, T2 2 h (1 h of business:
	// 17:00-18:00), T3 24 h over the holiday (1 h: Thursday 08:00-09:00),
	// T11 5 min.
	check("first response calendar", s.FirstResponse.Calendar, Stats{Count: 4, Mean: 23925, P50: 4500, P90: 62640})
	check("first response business", s.FirstResponse.Business, Stats{Count: 4, Mean: 2325, P50: 2700, P90: 3600})
	// Solved in the week: T1 6 h (6 h), T2 17 h (1 h: the holiday counts
	// nothing), T10 30 min, T8 four days (20 h: Thu 6 + Fri 10 + Mon 4).
	check("resolution calendar", s.Resolution.Calendar, Stats{Count: 4, Mean: 107550, P50: 41400, P90: 260280})
	check("resolution business", s.Resolution.Business, Stats{Count: 4, Mean: 24750, P50: 12600, P90: 56880})
	check("priorities", s.Priorities, []PriorityCount{{"critical", 3}, {"low", 1}, {"none", 1}, {"normal", 3}})
	check("sla", s.SLA, []SLAStats{
		{Priority: "critical", FirstResponseTarget: 3600, ResolutionTarget: 28800,
			FirstResponse: SLACounts{Met: 1, Breached: 1, BreachRate: 0.5, OpenBreached: 1, OpenBreachedTickets: []string{"file:T5"}},
			Resolution:    SLACounts{Met: 1, Breached: 1, BreachRate: 0.5, OpenBreached: 1, OpenBreachedTickets: []string{"file:T5"}}},
		// T3 answered after 1 business hour (met), T11 after 5 min (met),
		// T4 unanswered for 18 business hours (open and breached).
		{Priority: "normal", BusinessHours: true, FirstResponseTarget: 14400,
			FirstResponse: SLACounts{Met: 2, OpenBreached: 1, OpenBreachedTickets: []string{"file:T4"}},
			Resolution:    SLACounts{OpenBreachedTickets: []string{}}},
	})
	check("reopened", s.Reopened, ReopenRate{Reopened: 1, Solved: 4, Rate: 0.25})
	check("backlog", s.Backlog, []AgeBucket{{"0-1", 1}, {"2-5", 4}, {"6-10", 0}, {"11-30", 1}, {"over_30", 1}})
	check("categories", s.Categories, []CategoryCount{{Troubleshooting, 4, true}, {PlatformBug, 0, false}, {HowTo, 2, false},
		{FeatureRequest, 0, false}, {PRReview, 0, false}, {DesignQuestion, 0, false}})
	check("uncategorised", s.Uncategorised, 2)
	check("deep dive", s.DeepDive, []Category{Troubleshooting})
	check("repeated", s.Repeated, []RepeatGroup{
		{Title: "how to rotate database password", Tickets: 3, ThisWeek: 2, Keys: []string{"file:T3", "file:T4", "file:T6"}},
		{Title: "Registry errors", Tickets: 2, ThisWeek: 2, Keys: []string{"file:T12", "file:T5"}},
	})
	check("on duty", s.Rotation.OnDuty, []string{"c@ex.com"})
	check("responders", s.Rotation.Responders, []Responder{{"a@ex.com", 2, 1}, {"b@ex.com", 1, 1}, {"d@ex.com", 1, 1}, {"c@ex.com", 0, 1}})
	check("load", s.OperationalLoad, OperationalLoad{TeamSize: 6, OnCall: []string{"e@ex.com"}, Support: []string{"c@ex.com"}, People: 2, Share: 0.3333})
	check("unmapped", s.Unmapped, []string{"user:ghost"})

	// A raised threshold clears the deep-dive; a small team is over half.
	in.Settings.DeepDiveThreshold = 4
	in.Team.Members = in.Team.Members[:3]
	s = MeasureSupport(in)
	check("deep dive at 4", s.DeepDive, []Category{})
	check("load of 3", s.OperationalLoad, OperationalLoad{TeamSize: 3, OnCall: []string{"e@ex.com"}, Support: []string{"c@ex.com"}, People: 2, Share: 0.6667, OverHalf: true})

	// The JSON is the contract: snake_case keys, seconds, ratios.
	data, err := json.MarshalIndent(MeasureSupport(supportFixture(t)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "support_week.json", append(data, '\n'))
}

func TestSupportTrackerSLA(t *testing.T) {
	in := supportFixture(t)
	// Jira says T2's first response met its goal (its calendar paused
	// outside working hours) and T4's resolution cycle is ongoing and
	// breached: the tracker wins for the goals it reports.
	in.Tickets[1].SLA = []SLAGoal{{Goal: GoalFirstResponse, Completed: true, Stop: at("2026-11-17T19:00:00+01:00")}}
	in.Tickets[3].SLA = []SLAGoal{{Goal: GoalFirstResponse, Breached: false}}
	s := MeasureSupport(in)
	if got := s.SLA[0].FirstResponse; got.Met != 2 || got.Breached != 0 {
		t.Errorf("critical first response: %+v", got)
	}
	if got := s.SLA[1].FirstResponse; got.OpenBreached != 0 || got.Met != 2 {
		t.Errorf("normal first response: %+v", got)
	}
	in.Tickets[3].SLA = []SLAGoal{{Goal: GoalFirstResponse, Breach: at("2026-11-22T10:00:00+01:00")}}
	if got := MeasureSupport(in).SLA[1].FirstResponse; got.OpenBreached != 1 {
		t.Errorf("breach time before week's end: %+v", got)
	}
}

func TestRequestKey(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"RE: [URGENT] How do I rotate my DB password?", "how to rotate db password"},
		{"Fwd: Disk 91% full on db-7", "disk 45% full on db-3"},
	} {
		if RequestKey(c.a, 0) != RequestKey(c.b, 0) {
			t.Errorf("%q / %q: %q vs %q", c.a, c.b, RequestKey(c.a, 0), RequestKey(c.b, 0))
		}
	}
	if RequestKey("one two three four five six", 3) != "one two three" {
		t.Error(RequestKey("one two three four five six", 3))
	}
}
