package reviews

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/slo"
)

// TrendWeeks is how many earlier weeks each headline figure is shown
// against.
const TrendWeeks = 4

// FlakiestSteps is how many failing steps the probes section lists.
const FlakiestSteps = 5

// Options adjust a compilation.
type Options struct {
	// Now is the generation time (time.Now when zero); action items due
	// before min(Now, week end) and not done are overdue.
	Now time.Time
	// Lite skips what only the full weekly report shows (trends, budget
	// burn-down): what the monthly roll-up uses.
	Lite bool
}

// Compile builds a team's weekly review. An unknown team is an
// *oncall.UnknownTeamError; a section whose source method returns
// ErrNotAvailable is left out and listed; any other source error fails.
func Compile(ctx context.Context, src Source, dir *oncall.Directory, team string, week oncall.Week, opt Options) (*Weekly, error) {
	spec, ok := dir.Team(team)
	if !ok {
		return nil, &oncall.UnknownTeamError{Team: team, Known: dir.TeamNames()}
	}
	loc := spec.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	start, end := week.Start(loc), week.End(loc)
	w := &Weekly{
		Team: team, Week: week.String(), TimeZone: loc.String(),
		WeekStart: start, WeekEnd: end, GeneratedAt: now.UTC().Truncate(time.Second),
		Trends: []Trend{}, Notes: []Note{}, ActionItems: []Note{}, Unavailable: []Unavailable{},
	}
	c := &compiler{ctx: ctx, src: src, dir: dir, spec: spec, loc: loc, week: week, now: now, opt: opt, w: w}
	steps := []struct {
		section string
		f       func() error
	}{
		{"pages", c.pages},
		{"incidents", c.incidents},
		{"slos", c.slos},
		{"probes", c.probes},
		{"support", c.support},
		{"changes", c.changes},
		{"notes", c.notes},
	}
	for _, s := range steps {
		if err := s.f(); err != nil {
			if errors.Is(err, ErrNotAvailable) {
				w.Unavailable = append(w.Unavailable, Unavailable{Section: s.section, Reason: err.Error()})
				continue
			}
			return nil, fmt.Errorf("review %s %s: %s: %w", team, week, s.section, err)
		}
	}
	if !opt.Lite {
		c.trends()
	}
	w.Verdict = verdict(w)
	return w, nil
}

type compiler struct {
	ctx  context.Context
	src  Source
	dir  *oncall.Directory
	spec oncall.TeamSpec
	loc  *time.Location
	week oncall.Week
	now  time.Time
	opt  Options
	w    *Weekly

	// Per-week figures for the trends, index 0 = four weeks before.
	loads        []oncall.Load
	sleep        []int
	incCount     []int
	probeAv      []*float64
	sloBad       []*float64
	supportWeeks []*Support
	changeWeeks  []*Changes
	hasTrends    bool
}

func (c *compiler) weeksBack() int {
	if c.opt.Lite {
		return 0
	}
	return TrendWeeks
}

// pages measures the week and, for the trends, the four before it.
func (c *compiler) pages() error {
	back := c.weeksBack()
	from := c.week.Add(-back - 1).Start(c.loc)
	end := c.week.End(c.loc)
	pages, err := c.src.Pages(c.ctx, c.spec.Name, from, end)
	if err != nil {
		return err
	}
	shifts, err := c.src.Shifts(c.ctx, c.spec.Name, c.week.Add(-back-7).Start(c.loc), end)
	if err != nil {
		return err
	}
	keys := make([]string, len(pages))
	for i := range pages {
		keys[i] = pages[i].Key()
	}
	cls, err := c.src.Classifications(c.ctx, keys)
	if err != nil {
		return err
	}
	people := c.dir.Locations()
	in := oncall.LoadInput{Team: c.spec, People: people, Pages: pages, Shifts: shifts, Classifications: cls}
	for i := back; i >= 0; i-- {
		in.Week = c.week.Add(-i)
		c.loads = append(c.loads, oncall.Measure(in))
		c.sleep = append(c.sleep, c.bucketCounts(pages, in.Week, people)[oncall.Sleep])
	}
	l := c.loads[len(c.loads)-1]
	b := c.bucketCounts(pages, c.week, people)
	p := &Pages{
		Pages: l.Pages, LowUrgency: l.LowUrgency, BusinessImpacting: l.BusinessImpacting,
		Band: string(l.Band), StabilityFirst: l.StabilityFirst,
		FalseAlarms: l.FalseAlarms, FalseAlarmShare: l.FalseAlarmShare, Unclassified: l.Unclassified,
		BusinessHours: b[oncall.Business], OffHours: b[oncall.Off], SleepHours: b[oncall.Sleep],
		Interruptions: l.Interruptions, HoursInterrupted: l.HoursInterrupted,
		MTTA: l.MTTA, MTTR: l.MTTR, EscalatedToSecondary: l.Escalated,
		TopAlerts: nonNil(l.TopAlerts), People: nonNil(l.People),
		RotationSize: l.RotationSize, RotationTooSmall: l.RotationTooSmall,
		Unmapped: nonNil(l.Unmapped), OnCall: []OnCall{}, UnclassifiedPages: []PageRef{},
	}
	start := c.week.Start(c.loc)
	for _, s := range shifts {
		if !s.Start.Before(end) || (!s.End.IsZero() && !s.End.After(start)) {
			continue
		}
		oc := OnCall{Person: s.Person, Level: s.Level, Start: maxTime(s.Start, start).UTC(), End: end.UTC()}
		if !s.End.IsZero() && s.End.Before(end) {
			oc.End = s.End.UTC()
		}
		p.OnCall = append(p.OnCall, oc)
	}
	sort.Slice(p.OnCall, func(i, j int) bool {
		a, b := p.OnCall[i], p.OnCall[j]
		if a.Level != b.Level {
			return a.Level < b.Level
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Person < b.Person
	})
	for i := range pages {
		pg := &pages[i]
		if pg.Urgency == oncall.Low || !c.counts(pg) || !c.week.Contains(pg.CreatedAt, c.loc) {
			continue
		}
		if cl, ok := cls[pg.Key()]; !ok || cl.Verdict == "" {
			p.UnclassifiedPages = append(p.UnclassifiedPages, PageRef{Key: pg.Key(), Title: pg.Title, URL: pg.URL, CreatedAt: pg.CreatedAt.UTC()})
		}
	}
	c.w.Pages = p
	c.hasTrends = true
	return nil
}

func (c *compiler) counts(p *oncall.Page) bool {
	return p.Team == c.spec.Name && (c.spec.PageSource == "" || p.Source == c.spec.PageSource)
}

// bucketCounts places each high-urgency page of a week at its first
// interruption, in the interrupted person's time zone (at its creation in
// the team's when nobody was interrupted).
func (c *compiler) bucketCounts(pages []oncall.Page, w oncall.Week, people map[string]*time.Location) map[oncall.Bucket]int {
	out := map[oncall.Bucket]int{}
	for i := range pages {
		p := &pages[i]
		if p.Urgency == oncall.Low || !c.counts(p) || !w.Contains(p.CreatedAt, c.loc) {
			continue
		}
		at, loc, first := p.CreatedAt, c.loc, true
		for _, n := range p.Notifications {
			if n.Channel.Interrupts() && (first || n.At.Before(at)) {
				at, loc, first = n.At, c.loc, false
				if l := people[n.Person]; l != nil {
					loc = l
				}
			}
		}
		out[c.spec.Hours.Bucket(at, loc)]++
	}
	return out
}

func (c *compiler) incidents() error {
	back := c.weeksBack()
	if back < TrendWeeks {
		back = TrendWeeks // earlier action items are always followed up
	}
	start, end := c.week.Start(c.loc), c.week.End(c.loc)
	list, err := c.src.Incidents(c.ctx, c.spec.Name, c.week.Add(-back).Start(c.loc), end)
	if err != nil {
		return err
	}
	cutoff := minTime(c.now, end)
	sec := &Incidents{List: []Incident{}, Earlier: FollowUp{NotDone: []ActionItem{}}}
	c.incCount = make([]int, c.weeksBack()+1)
	for _, in := range list {
		wk := weekIndex(c.week, oncall.WeekOf(in.CreatedAt, c.loc))
		if k := wk + len(c.incCount) - 1; k >= 0 && k < len(c.incCount) {
			c.incCount[k]++
		}
		items := make([]ActionItem, 0, len(in.ActionItems))
		for _, a := range in.ActionItems {
			it := ActionItem{Incident: in.Key(), Title: a.Title, URL: a.URL, Owner: a.Owner, Done: a.Done}
			if !a.Due.IsZero() {
				d := a.Due.UTC()
				it.Due = &d
				it.Overdue = !a.Done && a.Due.Before(cutoff)
			}
			items = append(items, it)
		}
		if !in.CreatedAt.Before(start) {
			x := Incident{Key: in.Key(), Title: in.Title, Severity: in.Severity, CreatedAt: in.CreatedAt.UTC(),
				PostmortemURL: in.PostmortemURL, Pages: len(in.Pages), ActionItems: items}
			if !in.ResolvedAt.IsZero() {
				r := in.ResolvedAt.UTC()
				d := r.Sub(in.CreatedAt).Seconds()
				x.ResolvedAt, x.DurationSeconds = &r, &d
			}
			sec.List = append(sec.List, x)
			if in.PostmortemURL != "" {
				sec.WithPostmortem++
			} else {
				sec.MissingPostmortem++
			}
			continue
		}
		for _, it := range items {
			sec.Earlier.Total++
			switch {
			case it.Done:
				sec.Earlier.Done++
			case it.Overdue:
				sec.Earlier.Overdue++
				sec.Earlier.NotDone = append(sec.Earlier.NotDone, it)
			default:
				sec.Earlier.Open++
				sec.Earlier.NotDone = append(sec.Earlier.NotDone, it)
			}
		}
	}
	sort.SliceStable(sec.List, func(i, j int) bool { return impactLess(sec.List[j], sec.List[i]) })
	sec.Count = len(sec.List)
	c.w.Incidents = sec
	return nil
}

// sevRank orders severities: "sev1"/"SEV-1"/"P1"/"critical" first.
func sevRank(s string) int {
	s = strings.ToLower(s)
	for _, r := range s {
		if r >= '0' && r <= '9' {
			return int(r - '0')
		}
	}
	switch s {
	case "critical":
		return 1
	case "high", "major":
		return 2
	case "medium", "moderate":
		return 3
	case "low", "minor":
		return 4
	}
	return 9
}

// impactLess reports whether a had less impact than b: lower severity,
// then shorter, then fewer pages.
func impactLess(a, b Incident) bool {
	if ra, rb := sevRank(a.Severity), sevRank(b.Severity); ra != rb {
		return ra > rb
	}
	da, db := durationOf(a), durationOf(b)
	if da != db {
		return da < db
	}
	if a.Pages != b.Pages {
		return a.Pages < b.Pages
	}
	return a.Key > b.Key
}

func durationOf(i Incident) float64 {
	if i.DurationSeconds == nil {
		return math.Inf(1) // still open: the longest
	}
	return *i.DurationSeconds
}

func (c *compiler) slos() error {
	end := c.week.End(c.loc)
	sts, err := c.src.SLOs(c.ctx, c.spec.Name, end)
	if err != nil {
		return err
	}
	sec := &SLOs{List: []SLO{}}
	idx := map[string]int{}
	for _, s := range sts {
		x := SLO{Name: s.Name, Service: s.Service, Objective: s.Objective, Window: s.Window,
			SLI: s.SLI, BudgetRemaining: s.ErrorBudget.Remaining, BurnRate1h: s.BurnRates.Get("1h"),
			FailingMinutes: s.FailingMinutes, TimeToExhaustionSeconds: s.TimeToExhaustion, Status: s.State,
			BurnDown: []BudgetPoint{}}
		switch s.State {
		case slo.StatusExhausted:
			sec.Exhausted++
		case slo.StatusBurning:
			sec.Burning++
		}
		idx[s.Service+"/"+s.Name] = len(sec.List)
		sec.List = append(sec.List, x)
	}
	if !c.opt.Lite {
		// Budget burn-down: the remaining budget at each local midnight.
		start := c.week.Start(c.loc)
		for d := 0; d <= 7; d++ {
			at := time.Date(start.Year(), start.Month(), start.Day()+d, 0, 0, 0, 0, c.loc)
			var day []slo.Status
			if d == 7 {
				day = sts
			} else if day, err = c.src.SLOs(c.ctx, c.spec.Name, at); err != nil {
				return err
			}
			for _, s := range day {
				if i, ok := idx[s.Service+"/"+s.Name]; ok {
					sec.List[i].BurnDown = append(sec.List[i].BurnDown, BudgetPoint{At: at.UTC(), Remaining: s.ErrorBudget.Remaining})
				}
			}
		}
		c.sloBad = make([]*float64, TrendWeeks+1)
		for i := 0; i < TrendWeeks; i++ {
			prev, err := c.src.SLOs(c.ctx, c.spec.Name, c.week.Add(i-TrendWeeks).End(c.loc))
			if err != nil {
				return err
			}
			c.sloBad[i] = ptr(float64(countBad(prev)))
		}
		c.sloBad[TrendWeeks] = ptr(float64(sec.Exhausted + sec.Burning))
	}
	sort.SliceStable(sec.List, func(i, j int) bool {
		if a, b := statusRank(sec.List[i].Status), statusRank(sec.List[j].Status); a != b {
			return a < b
		}
		return sec.List[i].Service+"/"+sec.List[i].Name < sec.List[j].Service+"/"+sec.List[j].Name
	})
	c.w.SLOs = sec
	return nil
}

func countBad(sts []slo.Status) int {
	n := 0
	for _, s := range sts {
		if s.State == slo.StatusExhausted || s.State == slo.StatusBurning {
			n++
		}
	}
	return n
}

func statusRank(s string) int {
	switch s {
	case slo.StatusExhausted:
		return 0
	case slo.StatusBurning:
		return 1
	case slo.StatusStale, slo.StatusNoData:
		return 2
	}
	return 3
}

func (c *compiler) probes() error {
	back := c.weeksBack()
	start, end := c.week.Start(c.loc), c.week.End(c.loc)
	runs, err := c.src.ProbeRuns(c.ctx, c.spec.Name, c.week.Add(-back).Start(c.loc), end)
	if err != nil {
		return err
	}
	type stepAgg struct {
		Step
		reasons map[string]*ReasonCount
		order   int
	}
	type journeyAgg struct {
		Journey
		steps map[string]*stepAgg
	}
	runsBy := make([]int, back+1)
	okBy := make([]int, back+1)
	journeys := map[string]*journeyAgg{}
	sec := &Probes{Journeys: []Journey{}, Flakiest: []Flaky{}}
	for _, r := range runs {
		k := weekIndex(c.week, oncall.WeekOf(r.Started, c.loc)) + back
		if k < 0 || k > back {
			continue
		}
		runsBy[k]++
		if r.Success {
			okBy[k]++
		}
		if r.Started.Before(start) || !r.Started.Before(end) {
			continue
		}
		j := journeys[r.Name]
		if j == nil {
			j = &journeyAgg{Journey: Journey{Name: r.Name}, steps: map[string]*stepAgg{}}
			journeys[r.Name] = j
		}
		j.Runs++
		sec.Runs++
		if !r.Success {
			j.Failures++
			sec.Failures++
		}
		for i, s := range r.Steps {
			if s.Skipped {
				continue
			}
			st := j.steps[s.Name]
			if st == nil {
				st = &stepAgg{Step: Step{Name: s.Name}, reasons: map[string]*ReasonCount{}, order: i}
				j.steps[s.Name] = st
			}
			st.Runs++
			if !s.Success {
				st.Failures++
				reason := string(s.Reason)
				if reason == "" {
					reason = "failed"
				}
				rc := st.reasons[reason]
				if rc == nil {
					rc = &ReasonCount{Reason: reason}
					st.reasons[reason] = rc
				}
				rc.Count++
				rc.Example = s.Error // runs are oldest first: the latest wins
			}
		}
	}
	names := make([]string, 0, len(journeys))
	for n := range journeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		j := journeys[n]
		j.Availability = share(j.Runs-j.Failures, j.Runs)
		steps := make([]*stepAgg, 0, len(j.steps))
		for _, s := range j.steps {
			steps = append(steps, s)
		}
		sort.Slice(steps, func(a, b int) bool {
			if steps[a].order != steps[b].order {
				return steps[a].order < steps[b].order
			}
			return steps[a].Name < steps[b].Name
		})
		j.Steps = []Step{}
		for _, s := range steps {
			s.Availability = share(s.Runs-s.Failures, s.Runs)
			j.Steps = append(j.Steps, s.Step)
			if s.Failures == 0 {
				continue
			}
			f := Flaky{Journey: n, Step: s.Name, Runs: s.Runs, Failures: s.Failures, FailureShare: share(s.Failures, s.Runs)}
			for _, rc := range s.reasons {
				f.Reasons = append(f.Reasons, *rc)
			}
			sort.Slice(f.Reasons, func(a, b int) bool {
				if f.Reasons[a].Count != f.Reasons[b].Count {
					return f.Reasons[a].Count > f.Reasons[b].Count
				}
				return f.Reasons[a].Reason < f.Reasons[b].Reason
			})
			sec.Flakiest = append(sec.Flakiest, f)
		}
		sec.Journeys = append(sec.Journeys, j.Journey)
	}
	sort.SliceStable(sec.Flakiest, func(a, b int) bool {
		x, y := sec.Flakiest[a], sec.Flakiest[b]
		if x.FailureShare != y.FailureShare {
			return x.FailureShare > y.FailureShare
		}
		if x.Failures != y.Failures {
			return x.Failures > y.Failures
		}
		return x.Journey+"/"+x.Step < y.Journey+"/"+y.Step
	})
	if len(sec.Flakiest) > FlakiestSteps {
		sec.Flakiest = sec.Flakiest[:FlakiestSteps]
	}
	sec.Availability = share(sec.Runs-sec.Failures, sec.Runs)
	c.probeAv = make([]*float64, back+1)
	for i := range runsBy {
		if runsBy[i] > 0 {
			c.probeAv[i] = ptr(share(okBy[i], runsBy[i]))
		}
	}
	c.w.Probes = sec
	return nil
}

func (c *compiler) support() error {
	ss, ok := c.src.(SupportSource)
	if !ok {
		return fmt.Errorf("support tickets: the source keeps none: %w", ErrNotAvailable)
	}
	back := c.weeksBack()
	for i := back; i >= 0; i-- {
		w := c.week.Add(-i)
		s, err := ss.Support(c.ctx, c.spec.Name, w.Start(c.loc), w.End(c.loc))
		if err != nil {
			return err
		}
		c.supportWeeks = append(c.supportWeeks, s)
	}
	s := c.supportWeeks[len(c.supportWeeks)-1]
	if s != nil {
		for i := range s.Categories {
			s.Categories[i].DeepDive = s.Categories[i].Tickets > SupportDeepDive
		}
		if s.Categories == nil {
			s.Categories = []SupportCategory{}
		}
		if s.BreachedTicket == nil {
			s.BreachedTicket = []TicketRef{}
		}
	}
	c.w.Support = s
	return nil
}

func (c *compiler) changes() error {
	cs, ok := c.src.(ChangeSource)
	if !ok {
		return fmt.Errorf("change records: the source keeps none: %w", ErrNotAvailable)
	}
	back := c.weeksBack()
	for i := back; i >= 0; i-- {
		w := c.week.Add(-i)
		s, err := cs.Changes(c.ctx, c.spec.Name, w.Start(c.loc), w.End(c.loc))
		if err != nil {
			return err
		}
		c.changeWeeks = append(c.changeWeeks, s)
	}
	s := c.changeWeeks[len(c.changeWeeks)-1]
	if s != nil {
		s.ComplianceShare = share(s.Compliant, s.Total)
		if s.Rules == nil {
			s.Rules = []ChangeRule{}
		}
		if s.Noncompliant == nil {
			s.Noncompliant = []ChangeRef{}
		}
	}
	c.w.Changes = s
	return nil
}

func (c *compiler) notes() error {
	ns, err := c.src.Notes(c.ctx, c.spec.Name, c.week)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.Kind == NoteAction {
			c.w.ActionItems = append(c.w.ActionItems, n)
		} else {
			c.w.Notes = append(c.w.Notes, n)
		}
	}
	return nil
}

// trends: each headline figure against the previous four weeks.
func (c *compiler) trends() {
	weeks := make([]string, TrendWeeks+1)
	for i := range weeks {
		weeks[i] = c.week.Add(i - TrendWeeks).String()
	}
	add := func(figure, label string, higherWorse bool, vals []*float64) {
		if len(vals) != TrendWeeks+1 || vals[TrendWeeks] == nil {
			return
		}
		t := Trend{Figure: figure, Label: label, Weeks: weeks, Values: make([]float64, len(vals))}
		var prev []float64
		for i, v := range vals {
			if v != nil {
				t.Values[i] = *v
				if i < TrendWeeks {
					prev = append(prev, *v)
				}
			}
		}
		t.Median4 = round(median(prev), 4)
		cur := t.Values[TrendWeeks]
		switch {
		case len(prev) == 0 || math.Abs(cur-t.Median4) < 1e-9:
			t.Direction = "flat"
		case cur > t.Median4:
			t.Direction = "up"
			t.Worse = higherWorse
		default:
			t.Direction = "down"
			t.Worse = !higherWorse
		}
		c.w.Trends = append(c.w.Trends, t)
	}
	if len(c.loads) == TrendWeeks+1 {
		col := func(f func(oncall.Load) float64) []*float64 {
			out := make([]*float64, len(c.loads))
			for i, l := range c.loads {
				out[i] = ptr(f(l))
			}
			return out
		}
		add("pages", "Pages", true, col(func(l oncall.Load) float64 { return float64(l.Pages) }))
		add("business_impacting", "Business-impacting pages", true, col(func(l oncall.Load) float64 { return float64(l.BusinessImpacting) }))
		add("false_alarm_share", "False-alarm share", true, col(func(l oncall.Load) float64 { return l.FalseAlarmShare }))
		sl := make([]*float64, len(c.sleep))
		for i, v := range c.sleep {
			sl[i] = ptr(float64(v))
		}
		add("sleep_hour_pages", "Sleep-hour pages", true, sl)
		add("interruptions", "Interruptions", true, col(func(l oncall.Load) float64 { return float64(l.Interruptions) }))
		add("mtta_p50_seconds", "MTTA p50 (s)", true, col(func(l oncall.Load) float64 { return l.MTTA.P50 }))
	}
	if len(c.incCount) == TrendWeeks+1 {
		v := make([]*float64, len(c.incCount))
		for i, n := range c.incCount {
			v[i] = ptr(float64(n))
		}
		add("incidents", "Incidents", true, v)
	}
	add("slos_burning_or_exhausted", "SLOs burning or exhausted", true, c.sloBad)
	add("probe_availability", "Probe availability", false, c.probeAv)
	if len(c.supportWeeks) == TrendWeeks+1 {
		t := make([]*float64, len(c.supportWeeks))
		b := make([]*float64, len(c.supportWeeks))
		for i, s := range c.supportWeeks {
			if s != nil {
				t[i], b[i] = ptr(float64(s.Tickets)), ptr(float64(s.SLABreaches))
			}
		}
		add("support_tickets", "Support tickets", true, t)
		add("sla_breaches", "Support SLA breaches", true, b)
	}
	if len(c.changeWeeks) == TrendWeeks+1 {
		v := make([]*float64, len(c.changeWeeks))
		for i, s := range c.changeWeeks {
			if s != nil {
				v[i] = ptr(float64(s.Total - s.Compliant))
			}
		}
		add("noncompliant_changes", "Non-compliant changes", true, v)
	}
}

// verdict reads the review with the book's thresholds (practices.md 0-3).
func verdict(w *Weekly) Verdict {
	var fs []Finding
	add := func(kind, sev, format string, args ...any) {
		fs = append(fs, Finding{Kind: kind, Severity: sev, Text: fmt.Sprintf(format, args...)})
	}
	headline := ""
	if p := w.Pages; p != nil {
		switch oncall.Band(p.Band) {
		case oncall.Healthy:
			headline = fmt.Sprintf("Healthy week: %d business-impacting %s (the book's happy zone is under 2), %d %s in all, %d in sleep hours.",
				p.BusinessImpacting, plural(p.BusinessImpacting, "page", "pages"), p.Pages, plural(p.Pages, "page", "pages"), p.SleepHours)
		case oncall.Strained:
			headline = fmt.Sprintf("Strained week: %d business-impacting pages (2 to 5 brings some unhappiness; the target is under 5), %d in all, %d in sleep hours.",
				p.BusinessImpacting, p.Pages, p.SleepHours)
			add("pages", LevelWarn, "%d business-impacting pages: strained (2-5)", p.BusinessImpacting)
		default:
			headline = fmt.Sprintf("Unsustainable week: %d business-impacting pages, over the book's limit of 5, %d in all, %d in sleep hours.",
				p.BusinessImpacting, p.Pages, p.SleepHours)
			add("pages", LevelCritical, "%d business-impacting pages: over 5 a week loses people", p.BusinessImpacting)
		}
		if p.StabilityFirst {
			add("stability_first", LevelCritical, "over 5 business-impacting pages two weeks running: pause feature work and restore stability")
		}
		if p.EscalatedToSecondary.Count > 0 {
			add("escalated", LevelWarn, "%d %s fell through to the secondary (should be extraordinarily rare)", p.EscalatedToSecondary.Count, plural(p.EscalatedToSecondary.Count, "page", "pages"))
		}
		if p.RotationTooSmall {
			add("rotation", LevelWarn, "rotation of %d is under the 4 a 1-in-4 rota needs", p.RotationSize)
		}
		var over []string
		for _, person := range p.People {
			if person.OverOneInFourByTime {
				over = append(over, person.Email)
			}
		}
		if len(over) > 0 {
			add("one_in_four", LevelWarn, "on call more than 1 week in 4: %s", strings.Join(over, ", "))
		}
		if p.Unclassified > 0 {
			add("unclassified", LevelOK, "%d %s to classify", p.Unclassified, plural(p.Unclassified, "page", "pages"))
		}
	} else {
		headline = "Pager data is not available for this week."
	}
	if s := w.SLOs; s != nil {
		for _, x := range s.List {
			switch x.Status {
			case slo.StatusExhausted:
				add("slo_exhausted", LevelCritical, "SLO %s/%s has exhausted its error budget: time to talk options and trade-offs", x.Service, x.Name)
			case slo.StatusBurning:
				add("slo_burning", LevelWarn, "SLO %s/%s is burning its budget (1h burn rate %s)", x.Service, x.Name, fmtRate(x.BurnRate1h))
			}
		}
	}
	if s := w.Support; s != nil {
		if s.SLABreaches > 0 {
			add("sla_breaches", LevelWarn, "%d support SLA %s", s.SLABreaches, plural(s.SLABreaches, "breach", "breaches"))
		}
		for _, cat := range s.Categories {
			if cat.DeepDive {
				add("support_deep_dive", LevelWarn, "%d %q tickets: more than a few, worth a deep-dive", cat.Tickets, cat.Category)
			}
		}
	}
	if ch := w.Changes; ch != nil && ch.Total > ch.Compliant {
		n := ch.Total - ch.Compliant
		add("noncompliant_changes", LevelWarn, "%d of %d %s broke a change rule", n, ch.Total, plural(ch.Total, "change", "changes"))
	}
	if in := w.Incidents; in != nil {
		if in.MissingPostmortem > 0 {
			add("postmortems", LevelWarn, "%d %s without a postmortem", in.MissingPostmortem, plural(in.MissingPostmortem, "incident", "incidents"))
		}
		if in.Earlier.Overdue > 0 {
			add("action_items", LevelWarn, "%d earlier action %s overdue", in.Earlier.Overdue, plural(in.Earlier.Overdue, "item", "items"))
		}
	}
	if pr := w.Probes; pr != nil && len(pr.Flakiest) > 0 {
		f := pr.Flakiest[0]
		add("flaky_step", LevelOK, "flakiest step %s/%s failed %d of %d runs", f.Journey, f.Step, f.Failures, f.Runs)
	}
	rank := map[string]int{LevelCritical: 0, LevelWarn: 1, LevelOK: 2}
	sort.SliceStable(fs, func(i, j int) bool { return rank[fs[i].Severity] < rank[fs[j].Severity] })
	v := Verdict{Level: LevelOK, Findings: fs}
	if v.Findings == nil {
		v.Findings = []Finding{}
	}
	if len(fs) > 0 && fs[0].Severity != LevelOK {
		v.Level = fs[0].Severity
	}
	v.Summary = headline
	var rest []string
	for _, f := range fs {
		if f.Kind == "pages" || f.Severity == LevelOK {
			continue
		}
		rest = append(rest, f.Text)
	}
	if len(rest) > 3 {
		rest = append(rest[:3], fmt.Sprintf("%d more %s", len(rest)-3, plural(len(rest)-3, "finding", "findings")))
	}
	if len(rest) > 0 {
		v.Summary += " Also: " + strings.Join(rest, "; ") + "."
	}
	return v
}

func fmtRate(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", *r)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// weekIndex is how many weeks w is after base (negative: before).
func weekIndex(base, w oncall.Week) int {
	d := w.Start(time.UTC).Sub(base.Start(time.UTC))
	return int(math.Round(d.Hours() / (24 * 7)))
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a)/float64(b), 4)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ptr[T any](v T) *T { return &v }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
