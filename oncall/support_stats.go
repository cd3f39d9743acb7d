package oncall

import (
	"sort"
	"strings"
	"time"
	"unicode"
)

// Support defaults from the book and the research notes.
const (
	// DeepDiveThreshold: more than this many tickets of one category in a
	// week ("more than a few", seed L2530) asks for a repetition deep-dive.
	DeepDiveThreshold = 3
	// RepeatWeeks is how many weeks, this one included, repeated requests
	// are looked for in.
	RepeatWeeks = 4
	// OperationalLoadLimit: on-call plus support rotation over half the
	// team is a problem (seed L2560-2562).
	OperationalLoadLimit = 0.5
)

// SLATarget is the support SLA of one priority: how soon a first response
// and a solve are due, in calendar or business hours. A zero duration has
// no goal.
type SLATarget struct {
	Priority      string
	FirstResponse time.Duration
	Resolution    time.Duration
	BusinessHours bool
}

// SupportRotation is a team's support rotation: Size members on duty at a
// time (1 when zero), taking turns of Weeks weeks (1 when zero) from Start.
type SupportRotation struct {
	Members []string
	Start   Week
	Weeks   int
	Size    int
}

// OnDuty lists who is on the rotation in week w.
func (r SupportRotation) OnDuty(w Week) []string {
	if len(r.Members) == 0 || r.Start.Year == 0 {
		return nil
	}
	weeks, size := max(r.Weeks, 1), max(r.Size, 1)
	size = min(size, len(r.Members))
	// Whole weeks between the two Mondays (UTC dates carry no DST).
	n := int(w.Start(time.UTC).Sub(r.Start.Start(time.UTC)).Hours()/24) / 7
	if n < 0 {
		return nil
	}
	turn := n / weeks
	out := make([]string, 0, size)
	for i := 0; i < size; i++ {
		out = append(out, r.Members[(turn*size+i)%len(r.Members)])
	}
	return out
}

// SupportSettings are a team's support measures' knobs.
type SupportSettings struct {
	SLA []SLATarget
	// DeepDiveThreshold, RepeatWeeks: the defaults when zero.
	DeepDiveThreshold int
	RepeatWeeks       int
	Rotation          SupportRotation
}

func (s SupportSettings) threshold() int {
	if s.DeepDiveThreshold > 0 {
		return s.DeepDiveThreshold
	}
	return DeepDiveThreshold
}

func (s SupportSettings) repeatWeeks() int {
	if s.RepeatWeeks > 0 {
		return s.RepeatWeeks
	}
	return RepeatWeeks
}

// SupportInput is everything MeasureSupport reads. Tickets must hold the
// team's tickets created in the repeat window (RepeatWeeks up to this one)
// and every ticket still open at its start; Shifts the week's on-call
// shifts (for the combined operational load). Extra records are ignored.
type SupportInput struct {
	Team     TeamSpec
	Week     Week
	Tickets  []Ticket
	Shifts   []Shift
	Settings SupportSettings
	// Keys, when set, holds RequestKeys of each of Tickets (same index),
	// for callers measuring many weeks of the same tickets.
	Keys [][2]string
}

// RequestKeys are a ticket's normalised title and body as repeated
// requests compare them.
func RequestKeys(t *Ticket) [2]string {
	return [2]string{RequestKey(t.Title, 0), RequestKey(t.Body, 40)}
}

// SupportStats is a team's support queue for one ISO week. Its JSON is a
// stable contract: snake_case, durations in seconds, ratios in 0..1.
type SupportStats struct {
	Team      string    `json:"team"`
	Week      string    `json:"week"`
	TimeZone  string    `json:"time_zone"`
	WeekStart time.Time `json:"week_start"`
	WeekEnd   time.Time `json:"week_end"`
	Created   int       `json:"created"`
	Solved    int       `json:"solved"`
	// OpenAtWeekEnd counts tickets open at the week's end; CarriedOver is
	// those of them created before the week.
	OpenAtWeekEnd    int              `json:"open_at_week_end"`
	CarriedOver      int              `json:"carried_over"`
	NetBacklogChange int              `json:"net_backlog_change"`
	FirstResponse    TimeStats        `json:"first_response"`
	Resolution       TimeStats        `json:"resolution"`
	Priorities       []PriorityCount  `json:"priorities"`
	SLA              []SLAStats       `json:"sla"`
	Reopened         ReopenRate       `json:"reopened"`
	Backlog          []AgeBucket      `json:"backlog"`
	Categories       []CategoryCount  `json:"categories"`
	Uncategorised    int              `json:"uncategorised"`
	DeepDive         []Category       `json:"deep_dive"`
	Repeated         []RepeatGroup    `json:"repeated"`
	Rotation         SupportRotationW `json:"rotation"`
	OperationalLoad  OperationalLoad  `json:"operational_load"`
	Unmapped         []string         `json:"unmapped,omitempty"`
}

// TimeStats are one duration in calendar and in business hours (the team's
// hours, time zone and holidays).
type TimeStats struct {
	Calendar Stats `json:"calendar_seconds"`
	Business Stats `json:"business_seconds"`
}

// PriorityCount is how many tickets of a priority were created.
type PriorityCount struct {
	Priority string `json:"priority"`
	Created  int    `json:"created"`
}

// SLAStats is the SLA of one priority in the week.
type SLAStats struct {
	Priority            string    `json:"priority"`
	BusinessHours       bool      `json:"business_hours"`
	FirstResponseTarget float64   `json:"first_response_target_seconds"`
	ResolutionTarget    float64   `json:"resolution_target_seconds"`
	FirstResponse       SLACounts `json:"first_response"`
	Resolution          SLACounts `json:"resolution"`
}

// SLACounts: goals completed in the week within (met) or past (breached)
// their target, the breach rate over completed goals, and the tickets still
// waiting at the week's end whose target has already passed.
type SLACounts struct {
	Met                 int      `json:"met"`
	Breached            int      `json:"breached"`
	BreachRate          float64  `json:"breach_rate"`
	OpenBreached        int      `json:"open_breached"`
	OpenBreachedTickets []string `json:"open_breached_tickets"`
}

// ReopenRate is solved tickets with at least one reopen over solved tickets.
type ReopenRate struct {
	Reopened int     `json:"reopened"`
	Solved   int     `json:"solved"`
	Rate     float64 `json:"rate"`
}

// AgeBucket counts open tickets at the week's end by whole days of age.
type AgeBucket struct {
	Days string `json:"days"`
	Open int    `json:"open"`
}

// CategoryCount is the week's new tickets of one category.
type CategoryCount struct {
	Category Category `json:"category"`
	Count    int      `json:"count"`
	DeepDive bool     `json:"deep_dive"`
}

// RepeatGroup is a set of near-identical requests: candidates for docs,
// training or self-service.
type RepeatGroup struct {
	Title    string   `json:"title"`
	Tickets  int      `json:"tickets"`
	ThisWeek int      `json:"this_week"`
	Keys     []string `json:"keys"`
}

// SupportRotationW is who did support in the week.
type SupportRotationW struct {
	// OnDuty is the configured rotation's people for the week.
	OnDuty []string `json:"on_duty"`
	// Responders are who answered and solved tickets, busiest first.
	Responders []Responder `json:"responders"`
}

// Responder is one person's support week.
type Responder struct {
	Email          string `json:"email"`
	FirstResponses int    `json:"first_responses"`
	Solved         int    `json:"solved"`
}

// OperationalLoad is on-call plus support rotation as a share of the team.
type OperationalLoad struct {
	TeamSize int      `json:"team_size"`
	OnCall   []string `json:"on_call"`
	Support  []string `json:"support"`
	// People on either duty, each counted once.
	People   int     `json:"people"`
	Share    float64 `json:"share"`
	OverHalf bool    `json:"over_half"`
}

var ageBuckets = []struct {
	name string
	max  int // inclusive, days
}{{"0-1", 1}, {"2-5", 5}, {"6-10", 10}, {"11-30", 30}, {"over_30", 1 << 30}}

// MeasureSupport computes a team's support week. It is pure.
//
// Definitions (issue 7; oncall-review.md 1.9):
//   - created, solved: tickets created, finally solved, in the week (team
//     time zone); open at week's end: created before the end and not solved
//     by it; carried over: of those, created before the week;
//   - first response: created → first public reply by someone else, over
//     tickets first answered in the week; resolution: created → final
//     solve, over tickets solved in the week; business variants count only
//     the team's business hours, in its time zone, without holidays;
//   - SLA, per configured priority and goal: met or breached when the goal
//     completed in the week; open_breached when at the week's end the goal
//     is still waiting and its target has passed. A tracker's own SLA cycle
//     (Jira Service Management) takes precedence over the target;
//   - reopened: solved-in-week tickets with one reopen or more / solved;
//   - backlog: open at the week's end, by whole days since creation;
//   - categories: the week's new tickets; deep_dive when a category has
//     more than the threshold;
//   - repeated: tickets of the repeat window whose normalised titles or
//     bodies match, in groups of two or more with one in this week;
//   - operational load: distinct people on level-1 on call (an hour or
//     more) or on the support rotation, over the team's members.
func MeasureSupport(in SupportInput) SupportStats {
	loc := in.Team.Location
	if loc == nil {
		loc = time.UTC
	}
	hours := in.Team.Hours
	if hours.Business == (ClockRange{}) {
		hours.Business = DefaultHours().Business
	}
	start, end := in.Week.Start(loc), in.Week.End(loc)
	in2 := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	st := SupportStats{Team: in.Team.Name, Week: in.Week.String(), TimeZone: loc.String(), WeekStart: start, WeekEnd: end}

	targets := map[string]SLATarget{}
	var order []string
	for _, t := range in.Settings.SLA {
		k := strings.ToLower(strings.TrimSpace(t.Priority))
		if _, dup := targets[k]; !dup {
			order = append(order, k)
		}
		targets[k] = t
	}
	sla := map[string]*SLAStats{}
	for _, k := range order {
		t := targets[k]
		sla[k] = &SLAStats{Priority: t.Priority, BusinessHours: t.BusinessHours,
			FirstResponseTarget: t.FirstResponse.Seconds(), ResolutionTarget: t.Resolution.Seconds(),
			FirstResponse: SLACounts{OpenBreachedTickets: []string{}}, Resolution: SLACounts{OpenBreachedTickets: []string{}}}
	}

	var frCal, frBiz, resCal, resBiz []float64
	cats := map[Category]int{}
	prio := map[string]int{}
	ages := make([]int, len(ageBuckets))
	resp := map[string]*Responder{}
	responder := func(e string) *Responder {
		r := resp[e]
		if r == nil {
			r = &Responder{Email: e}
			resp[e] = r
		}
		return r
	}
	unmapped := map[string]bool{}
	over := func(a, b time.Time, biz bool, d time.Duration) bool {
		if biz {
			return hours.businessOver(a, b, d, loc)
		}
		return b.Sub(a) > d
	}
	span := func(a, b time.Time, biz bool) time.Duration {
		if biz {
			return hours.BusinessTime(a, b, loc)
		}
		return b.Sub(a)
	}
	for i := range in.Tickets {
		t := &in.Tickets[i]
		if t.Team != in.Team.Name || !t.CreatedAt.Before(end) {
			continue
		}
		if t.CreatedAt.Before(start) && !t.SolvedAt.IsZero() && t.SolvedAt.Before(start) &&
			(t.FirstResponseAt.IsZero() || t.FirstResponseAt.Before(start)) {
			continue // done with before the week: nothing of it is measured here
		}
		if in2(t.CreatedAt) {
			st.Created++
			if t.Category == "" {
				st.Uncategorised++
			} else {
				cats[t.Category]++
			}
			pk := strings.ToLower(strings.TrimSpace(t.Priority))
			if pk == "" {
				pk = "none"
			}
			prio[pk]++
			for _, u := range t.Unmapped {
				unmapped[u] = true
			}
		}
		if in2(t.FirstResponseAt) {
			frCal = append(frCal, t.FirstResponseAt.Sub(t.CreatedAt).Seconds())
			frBiz = append(frBiz, hours.BusinessTime(t.CreatedAt, t.FirstResponseAt, loc).Seconds())
			if t.FirstResponder != "" {
				responder(t.FirstResponder).FirstResponses++
			}
		}
		if in2(t.SolvedAt) {
			st.Solved++
			resCal = append(resCal, t.SolvedAt.Sub(t.CreatedAt).Seconds())
			resBiz = append(resBiz, hours.BusinessTime(t.CreatedAt, t.SolvedAt, loc).Seconds())
			if t.Reopens > 0 {
				st.Reopened.Reopened++
			}
			if t.SolvedBy != "" {
				responder(t.SolvedBy).Solved++
			}
		}
		if t.openAt(end) {
			st.OpenAtWeekEnd++
			if t.CreatedAt.Before(start) {
				st.CarriedOver++
			}
			days := int(end.Sub(t.CreatedAt) / (24 * time.Hour))
			for b, ab := range ageBuckets {
				if days <= ab.max {
					ages[b]++
					break
				}
			}
		}
		s := sla[strings.ToLower(strings.TrimSpace(t.Priority))]
		if s == nil {
			continue
		}
		target := targets[strings.ToLower(strings.TrimSpace(t.Priority))]
		for _, g := range []struct {
			name   string
			done   time.Time
			target time.Duration
			counts *SLACounts
		}{
			{GoalFirstResponse, t.FirstResponseAt, target.FirstResponse, &s.FirstResponse},
			{GoalResolution, t.SolvedAt, target.Resolution, &s.Resolution},
		} {
			if g.target <= 0 {
				continue
			}
			if tg, ok := trackerGoal(t, g.name); ok {
				switch {
				case tg.Completed && in2(tg.Stop):
					if tg.Breached {
						g.counts.Breached++
					} else {
						g.counts.Met++
					}
				case !tg.Completed && t.openAt(end) && (tg.Breached || (!tg.Breach.IsZero() && tg.Breach.Before(end))):
					g.counts.OpenBreached++
					g.counts.OpenBreachedTickets = append(g.counts.OpenBreachedTickets, t.Key())
				}
				continue
			}
			switch {
			case in2(g.done):
				if span(t.CreatedAt, g.done, target.BusinessHours) <= g.target {
					g.counts.Met++
				} else {
					g.counts.Breached++
				}
			case (g.done.IsZero() || !g.done.Before(end)) && over(t.CreatedAt, end, target.BusinessHours, g.target):
				g.counts.OpenBreached++
				g.counts.OpenBreachedTickets = append(g.counts.OpenBreachedTickets, t.Key())
			}
		}
	}
	st.NetBacklogChange = st.Created - st.Solved
	st.FirstResponse = TimeStats{stats(frCal), stats(frBiz)}
	st.Resolution = TimeStats{stats(resCal), stats(resBiz)}
	st.Reopened.Solved = st.Solved
	st.Reopened.Rate = ratio(st.Reopened.Reopened, st.Solved)
	for _, k := range order {
		s := sla[k]
		for _, c := range []*SLACounts{&s.FirstResponse, &s.Resolution} {
			c.BreachRate = ratio(c.Breached, c.Met+c.Breached)
			sort.Strings(c.OpenBreachedTickets)
		}
		st.SLA = append(st.SLA, *s)
	}
	if st.SLA == nil {
		st.SLA = []SLAStats{}
	}
	st.Priorities = []PriorityCount{}
	for p, n := range prio {
		st.Priorities = append(st.Priorities, PriorityCount{p, n})
	}
	sort.Slice(st.Priorities, func(i, j int) bool { return st.Priorities[i].Priority < st.Priorities[j].Priority })
	for b, ab := range ageBuckets {
		st.Backlog = append(st.Backlog, AgeBucket{ab.name, ages[b]})
	}
	st.DeepDive = []Category{}
	for _, c := range Categories {
		cc := CategoryCount{Category: c, Count: cats[c], DeepDive: cats[c] > in.Settings.threshold()}
		if cc.DeepDive {
			st.DeepDive = append(st.DeepDive, c)
		}
		st.Categories = append(st.Categories, cc)
	}
	st.Repeated = repeated(in, loc)

	st.Rotation.OnDuty = in.Settings.Rotation.OnDuty(in.Week)
	if st.Rotation.OnDuty == nil {
		st.Rotation.OnDuty = []string{}
	}
	st.Rotation.Responders = []Responder{}
	for _, r := range resp {
		st.Rotation.Responders = append(st.Rotation.Responders, *r)
	}
	sort.Slice(st.Rotation.Responders, func(i, j int) bool {
		a, b := st.Rotation.Responders[i], st.Rotation.Responders[j]
		if a.FirstResponses+a.Solved != b.FirstResponses+b.Solved {
			return a.FirstResponses+a.Solved > b.FirstResponses+b.Solved
		}
		return a.Email < b.Email
	})
	st.OperationalLoad = operationalLoad(in, st.Rotation.OnDuty, loc)
	st.Unmapped = sortedKeys(unmapped)
	if len(st.Unmapped) == 0 {
		st.Unmapped = nil
	}
	return st
}

func trackerGoal(t *Ticket, goal string) (SLAGoal, bool) {
	for _, g := range t.SLA {
		if g.Goal == goal {
			return g, true
		}
	}
	return SLAGoal{}, false
}

// OnCallPeople lists who spent at least OnCallWeekMin at level 1 in week w
// (team time zone), sorted.
func OnCallPeople(shifts []Shift, w Week, loc *time.Location) []string {
	by := map[string][]span{}
	from, to := w.Start(loc), w.End(loc)
	for _, s := range shifts {
		if s.Level != 1 || s.Person == "" {
			continue
		}
		e := s.End
		if e.IsZero() {
			e = to
		}
		by[s.Person] = append(by[s.Person], span{s.Start, e})
	}
	out := []string{}
	for p, sp := range by {
		if overlap(merge(sp), from, to) >= OnCallWeekMin {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func operationalLoad(in SupportInput, support []string, loc *time.Location) OperationalLoad {
	var shifts []Shift
	for _, s := range in.Shifts {
		if s.Team == in.Team.Name || s.Team == "" {
			shifts = append(shifts, s)
		}
	}
	ol := OperationalLoad{TeamSize: len(in.Team.Members), OnCall: OnCallPeople(shifts, in.Week, loc), Support: append([]string{}, support...)}
	sort.Strings(ol.Support)
	busy := map[string]bool{}
	for _, p := range ol.OnCall {
		busy[strings.ToLower(p)] = true
	}
	for _, p := range ol.Support {
		busy[strings.ToLower(p)] = true
	}
	ol.People = len(busy)
	ol.Share = ratio(ol.People, ol.TeamSize)
	ol.OverHalf = ol.TeamSize > 0 && float64(ol.People)/float64(ol.TeamSize) > OperationalLoadLimit
	return ol
}

var (
	stopWords = map[string]bool{"a": true, "an": true, "the": true, "to": true, "for": true, "in": true, "on": true,
		"of": true, "is": true, "are": true, "my": true, "our": true, "please": true, "with": true, "and": true,
		"i": true, "we": true, "it": true, "this": true, "that": true, "be": true, "at": true, "from": true, "hi": true, "hello": true,
		"do": true, "does": true, "can": true, "could": true, "you": true, "me": true, "us": true}
)

// RequestKey normalises a request's text so near-identical requests
// match: reply prefixes ("Re:", "Fwd:") and [tags] dropped; case and
// punctuation ignored; words with a digit (ids, numbers, versions, hosts
// like db-7) and long hex strings folded to "#", as NormaliseTitle folds
// them; filler words dropped; a plural s ignored. At most maxWords words
// are kept (all when zero). One pass, no regular expressions: it runs for
// every ticket of every week measured.
func RequestKey(s string, maxWords int) string {
	s = stripPrefixes(s)
	var out []string
	word := make([]rune, 0, 32)
	flush := func() {
		if len(word) == 0 {
			return
		}
		digit, hex := false, true
		for _, r := range word {
			if unicode.IsDigit(r) {
				digit = true
			}
			if !strings.ContainsRune("0123456789abcdef", r) {
				hex = false
			}
		}
		w := string(word)
		word = word[:0]
		switch {
		case digit || (hex && len(w) >= 8):
			w = "#"
		case stopWords[w]:
			return
		case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	for _, r := range s {
		if maxWords > 0 && len(out) >= maxWords {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			word = append(word, unicode.ToLower(r))
			continue
		}
		flush()
	}
	if maxWords == 0 || len(out) < maxWords {
		flush()
	}
	return strings.Join(out, " ")
}

// stripPrefixes drops leading "Re:", "Fw:", "Fwd:" and "[tag]"s.
func stripPrefixes(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case len(s) >= 3 && strings.EqualFold(s[:3], "re:"), len(s) >= 3 && strings.EqualFold(s[:3], "fw:"):
			s = s[3:]
		case len(s) >= 4 && strings.EqualFold(s[:4], "fwd:"):
			s = s[4:]
		case strings.HasPrefix(s, "["):
			i := strings.IndexByte(s, ']')
			if i < 0 {
				return s
			}
			s = s[i+1:]
		default:
			return s
		}
	}
}

func repeated(in SupportInput, loc *time.Location) []RepeatGroup {
	from := in.Week.Add(1 - in.Settings.repeatWeeks()).Start(loc)
	start, end := in.Week.Start(loc), in.Week.End(loc)
	type keyed struct {
		t    *Ticket
		keys [2]string
	}
	var ks []keyed
	for i := range in.Tickets {
		t := &in.Tickets[i]
		if t.Team == in.Team.Name && !t.CreatedAt.Before(from) && t.CreatedAt.Before(end) {
			k := keyed{t: t}
			if len(in.Keys) == len(in.Tickets) {
				k.keys = in.Keys[i]
			} else {
				k.keys = RequestKeys(t)
			}
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if !ks[i].t.CreatedAt.Equal(ks[j].t.CreatedAt) {
			return ks[i].t.CreatedAt.Before(ks[j].t.CreatedAt)
		}
		return ks[i].t.Key() < ks[j].t.Key()
	})
	ts := make([]*Ticket, len(ks))
	for i := range ks {
		ts[i] = ks[i].t
	}
	parent := make([]int, len(ts))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	first := map[string]int{}
	link := func(key string, i int) {
		if j, ok := first[key]; ok {
			parent[find(i)] = find(j)
		} else {
			first[key] = i
		}
	}
	for i := range ts {
		k := ks[i].keys
		if k[0] != "" {
			link("t:"+k[0], i)
		}
		if strings.Count(k[1], " ") >= 4 {
			link("b:"+k[1], i)
		}
	}
	size := make([]int, len(ts))
	recent := make([]int, len(ts))
	for i, t := range ts {
		r := find(i)
		size[r]++
		if !t.CreatedAt.Before(start) {
			recent[r]++
		}
	}
	groups := map[int]*RepeatGroup{}
	var roots []int
	for i, t := range ts {
		r := find(i)
		if size[r] < 2 || recent[r] == 0 {
			continue
		}
		g := groups[r]
		if g == nil {
			g = &RepeatGroup{Tickets: size[r], ThisWeek: recent[r]}
			groups[r] = g
			roots = append(roots, r)
		}
		g.Title = t.Title // the latest
		g.Keys = append(g.Keys, t.Key())
	}
	out := []RepeatGroup{}
	for _, r := range roots {
		g := groups[r]
		sort.Strings(g.Keys)
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Tickets != out[j].Tickets {
			return out[i].Tickets > out[j].Tickets
		}
		return out[i].Title < out[j].Title
	})
	return out
}
