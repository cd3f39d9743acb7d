package oncall

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Band is the book's reading of business-impacting pages in a week.
type Band string

const (
	Healthy       Band = "healthy"       // under 2
	Strained      Band = "strained"      // 2 to 5
	Unsustainable Band = "unsustainable" // over 5
)

// BandOf places a week's business-impacting page count.
func BandOf(businessImpacting int) Band {
	switch {
	case businessImpacting < 2:
		return Healthy
	case businessImpacting <= 5:
		return Strained
	}
	return Unsustainable
}

// Thresholds from the book (practices.md section 1).
const (
	// InterruptionMerge: notifications of one person about one page within
	// this long of a counted interruption are the same interruption.
	InterruptionMerge = 60 * time.Second
	// OnCallWeekMin is how much level-1 duty makes an ISO week an on-call week.
	OnCallWeekMin = time.Hour
	// MinRotation is the smallest healthy rotation (1 week on, 3 off).
	MinRotation = 4
	// TopAlerts is how many noisy alerts a load lists.
	TopAlerts = 5
)

// TeamSpec is what the measures need to know about a team.
type TeamSpec struct {
	Name     string
	Location *time.Location
	// Members are emails; they are listed even in a quiet week.
	Members []string
	// PageSource, when set, is the only source whose pages count, so an
	// alert that reached both Alertmanager and PagerDuty counts once.
	PageSource string
	Hours      Hours
}

// LoadInput is everything Measure reads. Pages must cover the week and
// the week before (for the change and stability_first); Shifts the
// trailing eight weeks. Extra records are ignored.
type LoadInput struct {
	Team TeamSpec
	Week Week
	// People maps an email to the person's own time zone; anyone missing
	// is bucketed in the team's.
	People          map[string]*time.Location
	Pages           []Page
	Shifts          []Shift
	Classifications map[string]Classification // current, by Page.Key()
}

// Load is a team's pager load for one ISO week. Its JSON is a stable
// contract: snake_case, durations in seconds, ratios in 0..1 (4 places).
type Load struct {
	Team              string    `json:"team"`
	Week              string    `json:"week"`
	TimeZone          string    `json:"time_zone"`
	WeekStart         time.Time `json:"week_start"`
	WeekEnd           time.Time `json:"week_end"`
	Pages             int       `json:"pages"`
	LowUrgency        int       `json:"low_urgency"`
	BusinessImpacting int       `json:"business_impacting"`
	Band              Band      `json:"band"`
	StabilityFirst    bool      `json:"stability_first"`
	FalseAlarms       int       `json:"false_alarms"`
	FalseAlarmShare   float64   `json:"false_alarm_share"`
	Unclassified      int       `json:"unclassified"`
	Interruptions     int       `json:"interruptions"`
	HoursInterrupted  int       `json:"hours_interrupted"`
	MTTA              Stats     `json:"mtta_seconds"`
	MTTR              Stats     `json:"mttr_seconds"`
	Escalated         Rate      `json:"escalated_to_secondary"`
	TopAlerts         []Alert   `json:"top_alerts"`
	People            []Person  `json:"people"`
	RotationSize      int       `json:"rotation_size"`
	RotationTooSmall  bool      `json:"rotation_too_small"`
	Change            Change    `json:"change"`
	// Unmapped lists ids in the week's pages that the config does not know.
	Unmapped []string `json:"unmapped,omitempty"`
}

// Stats summarise durations in seconds over Count pages.
type Stats struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
}

// Rate is a count and its share of pages.
type Rate struct {
	Count int     `json:"count"`
	Rate  float64 `json:"rate"`
}

// Alert is one noisy alert: pages grouped by normalised title.
type Alert struct {
	Title           string  `json:"title"`
	Pages           int     `json:"pages"`
	FalseAlarmShare float64 `json:"false_alarm_share"`
	Sleep           int     `json:"sleep"`
}

// Person is one responder's week.
type Person struct {
	Email         string         `json:"email"`
	TimeZone      string         `json:"time_zone"`
	Pages         map[Bucket]int `json:"pages"`
	Interruptions int            `json:"interruptions"`
	OnCallWeeks4  int            `json:"oncall_weeks_4"`
	OnCallWeeks8  int            `json:"oncall_weeks_8"`
	OverOneInFour bool           `json:"over_one_in_four"`
	OnCallShare   float64        `json:"oncall_share"`
	// The on-call weeks count every ISO week touched by an hour of
	// duty, so a rota handing over on Monday 09:00 gives each person two
	// "weeks" per shift and flags a healthy one-in-five rota. The figures
	// below count duty by time instead: level-1 hours in the trailing 4 and
	// 8 weeks as weeks' worth (168 h), flagged over one in four with an
	// hour's slack for daylight-saving weeks. Reviews use these.
	OnCallWeekEquivalents4 float64 `json:"oncall_week_equivalents_4"`
	OnCallWeekEquivalents8 float64 `json:"oncall_week_equivalents_8"`
	OverOneInFourByTime    bool    `json:"over_one_in_four_by_time"`
}

// Change is this week minus last week.
type Change struct {
	Pages             int     `json:"pages"`
	LowUrgency        int     `json:"low_urgency"`
	BusinessImpacting int     `json:"business_impacting"`
	FalseAlarms       int     `json:"false_alarms"`
	FalseAlarmShare   float64 `json:"false_alarm_share"`
	Unclassified      int     `json:"unclassified"`
	Interruptions     int     `json:"interruptions"`
	HoursInterrupted  int     `json:"hours_interrupted"`
	Escalated         int     `json:"escalated_to_secondary"`
	MTTAMean          float64 `json:"mtta_mean_seconds"`
	MTTRMean          float64 `json:"mttr_mean_seconds"`
}

// weekFigures are the per-week counts Change compares.
type weekFigures struct {
	pages, low, impact, falseAlarms, unclassified, interruptions, hours, escalated int
	mtta, mttr                                                                     Stats
	high                                                                           []*Page
	all                                                                            []*Page
	interrupts                                                                     []interruption
}

type interruption struct {
	person string
	at     time.Time
}

// Measure computes a team's load for a week. It is pure: same input, same
// figures.
//
// Definitions (issue 6, practices.md section 1):
//   - a page is a high-urgency page of the team created in the week (team
//     time zone); low urgency is counted apart;
//   - business-impacting, false alarm and unclassified use each page's
//     current classification; the false-alarm share is over all pages;
//   - an interruption is an SMS, phone or push notification (never email)
//     about any of the week's pages, either urgency; one person's
//     notifications about one page within 60 s of a counted one merge;
//   - hours interrupted counts distinct clock hours (team time zone) with an
//     interruption;
//   - MTTA is first acknowledgement minus creation over acknowledged pages,
//     MTTR resolution minus creation over resolved pages; percentiles
//     interpolate linearly between closest ranks;
//   - escalated to secondary: pages that reached escalation level 2 or more;
//   - a responder's pages are the pages they were interrupted for, bucketed
//     at their first interruption in their own time zone; a page with no
//     recorded interruption goes to whoever was level-1 on call when it was
//     created;
//   - an on-call week is an ISO week (team time zone) with at least one hour
//     at level 1; the share of time on call is level-1 time over the
//     trailing four weeks; over_one_in_four is more than 1 in the trailing 4
//     or more than 2 in the trailing 8;
//   - the rotation is everyone with an on-call week in the trailing 8 (the
//     team's members when there are no shifts), too small under 4.
func Measure(in LoadInput) Load {
	loc := in.Team.Location
	if loc == nil {
		loc = time.UTC
	}
	hours := in.Team.Hours
	if hours.Business == (ClockRange{}) && hours.Sleep == (ClockRange{}) {
		def := DefaultHours()
		hours.Business, hours.Sleep = def.Business, def.Sleep
	}
	this := figures(in, in.Week, loc)
	last := figures(in, in.Week.Add(-1), loc)

	l := Load{
		Team: in.Team.Name, Week: in.Week.String(), TimeZone: loc.String(),
		WeekStart: in.Week.Start(loc), WeekEnd: in.Week.End(loc),
		Pages: this.pages, LowUrgency: this.low, BusinessImpacting: this.impact,
		Band:           BandOf(this.impact),
		StabilityFirst: this.impact > 5 && last.impact > 5,
		FalseAlarms:    this.falseAlarms, FalseAlarmShare: ratio(this.falseAlarms, this.pages),
		Unclassified:  this.unclassified,
		Interruptions: this.interruptions, HoursInterrupted: this.hours,
		MTTA: this.mtta, MTTR: this.mttr,
		Escalated: Rate{this.escalated, ratio(this.escalated, this.pages)},
	}
	l.Change = Change{
		Pages: this.pages - last.pages, LowUrgency: this.low - last.low,
		BusinessImpacting: this.impact - last.impact,
		FalseAlarms:       this.falseAlarms - last.falseAlarms,
		FalseAlarmShare:   round(ratio(this.falseAlarms, this.pages)-ratio(last.falseAlarms, last.pages), 4),
		Unclassified:      this.unclassified - last.unclassified,
		Interruptions:     this.interruptions - last.interruptions,
		HoursInterrupted:  this.hours - last.hours,
		Escalated:         this.escalated - last.escalated,
		MTTAMean:          round(this.mtta.Mean-last.mtta.Mean, 1),
		MTTRMean:          round(this.mttr.Mean-last.mttr.Mean, 1),
	}
	l.TopAlerts = topAlerts(this.high, in, hours, loc)
	l.People, l.RotationSize = people(in, this, hours, loc)
	l.RotationTooSmall = l.RotationSize < MinRotation
	seen := map[string]bool{}
	for _, p := range this.all {
		for _, u := range p.Unmapped {
			if !seen[u] {
				seen[u] = true
				l.Unmapped = append(l.Unmapped, u)
			}
		}
	}
	sort.Strings(l.Unmapped)
	return l
}

func counts(in LoadInput, p *Page) bool {
	if p.Team != in.Team.Name {
		return false
	}
	return in.Team.PageSource == "" || p.Source == in.Team.PageSource
}

func figures(in LoadInput, w Week, loc *time.Location) weekFigures {
	var f weekFigures
	start, end := w.Start(loc), w.End(loc)
	var acks, fixes []float64
	for i := range in.Pages {
		p := &in.Pages[i]
		if !counts(in, p) || p.CreatedAt.Before(start) || !p.CreatedAt.Before(end) {
			continue
		}
		f.all = append(f.all, p)
		f.interrupts = append(f.interrupts, interruptions(p)...)
		if p.Urgency == Low {
			f.low++
			continue
		}
		f.pages++
		f.high = append(f.high, p)
		c, ok := in.Classifications[p.Key()]
		switch {
		case !ok || c.Verdict == "":
			f.unclassified++
		case c.Verdict == FalseAlarm:
			f.falseAlarms++
		}
		if ok && c.BusinessImpacting && c.Verdict != FalseAlarm {
			f.impact++
		}
		if p.EscalationLevel >= 2 {
			f.escalated++
		}
		if !p.AcknowledgedAt.IsZero() && !p.AcknowledgedAt.Before(p.CreatedAt) {
			acks = append(acks, p.AcknowledgedAt.Sub(p.CreatedAt).Seconds())
		}
		if !p.ResolvedAt.IsZero() && !p.ResolvedAt.Before(p.CreatedAt) {
			fixes = append(fixes, p.ResolvedAt.Sub(p.CreatedAt).Seconds())
		}
	}
	f.interruptions = len(f.interrupts)
	hours := map[string]bool{}
	for _, it := range f.interrupts {
		hours[it.at.In(loc).Format("2006-01-02T15 -0700")] = true
	}
	f.hours = len(hours)
	f.mtta, f.mttr = stats(acks), stats(fixes)
	return f
}

// interruptions returns a page's interruptions, merged per person.
func interruptions(p *Page) []interruption {
	var ns []Notification
	for _, n := range p.Notifications {
		if n.Channel.Interrupts() {
			ns = append(ns, n)
		}
	}
	sort.SliceStable(ns, func(i, j int) bool {
		if ns[i].Person != ns[j].Person {
			return ns[i].Person < ns[j].Person
		}
		return ns[i].At.Before(ns[j].At)
	})
	var out []interruption
	for _, n := range ns {
		if k := len(out); k > 0 && out[k-1].person == n.Person && n.At.Sub(out[k-1].at) < InterruptionMerge {
			continue
		}
		out = append(out, interruption{n.Person, n.At})
	}
	return out
}

func topAlerts(pages []*Page, in LoadInput, hours Hours, loc *time.Location) []Alert {
	type group struct {
		Alert
		falseAlarms int
		first       time.Time
	}
	groups := map[string]*group{}
	for _, p := range pages {
		title := NormaliseTitle(p.Title)
		key := strings.ToLower(title)
		g := groups[key]
		if g == nil {
			g = &group{Alert: Alert{Title: title}, first: p.CreatedAt}
			groups[key] = g
		}
		g.Pages++
		if c, ok := in.Classifications[p.Key()]; ok && c.Verdict == FalseAlarm {
			g.falseAlarms++
		}
		if pageBucket(p, in, hours, loc) == Sleep {
			g.Sleep++
		}
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		g.FalseAlarmShare = ratio(g.falseAlarms, g.Pages)
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Pages != list[j].Pages {
			return list[i].Pages > list[j].Pages
		}
		return list[i].Title < list[j].Title
	})
	out := []Alert{}
	for i := 0; i < len(list) && i < TopAlerts; i++ {
		out = append(out, list[i].Alert)
	}
	return out
}

// pageBucket is when a page first interrupted anyone, in that person's
// time zone (the created time in the on-call person's, failing that).
func pageBucket(p *Page, in LoadInput, hours Hours, loc *time.Location) Bucket {
	its := interruptions(p)
	if len(its) == 0 {
		who := onCallAt(in.Shifts, p.CreatedAt)
		return hours.Bucket(p.CreatedAt, personLoc(in, who, loc))
	}
	first := its[0]
	for _, it := range its[1:] {
		if it.at.Before(first.at) {
			first = it
		}
	}
	return hours.Bucket(first.at, personLoc(in, first.person, loc))
}

func personLoc(in LoadInput, email string, team *time.Location) *time.Location {
	if l := in.People[email]; l != nil {
		return l
	}
	return team
}

// onCallAt is the level-1 person on call at t ("" when nobody is known);
// of overlapping shifts, the latest-starting one (an override) wins.
func onCallAt(shifts []Shift, t time.Time) string {
	var who string
	var from time.Time
	for _, s := range shifts {
		if s.Level == 1 && !t.Before(s.Start) && (s.End.IsZero() || t.Before(s.End)) && (who == "" || s.Start.After(from)) {
			who, from = s.Person, s.Start
		}
	}
	return who
}

func people(in LoadInput, f weekFigures, hours Hours, loc *time.Location) ([]Person, int) {
	byEmail := map[string]*Person{}
	get := func(email string) *Person {
		p := byEmail[email]
		if p == nil {
			p = &Person{Email: email, TimeZone: personLoc(in, email, loc).String(),
				Pages: map[Bucket]int{Business: 0, Off: 0, Sleep: 0}}
			byEmail[email] = p
		}
		return p
	}
	for _, m := range in.Team.Members {
		get(m)
	}
	for _, it := range f.interrupts {
		get(it.person).Interruptions++
	}
	for _, p := range f.high {
		its := interruptions(p)
		if len(its) == 0 {
			if who := onCallAt(in.Shifts, p.CreatedAt); who != "" {
				get(who).Pages[hours.Bucket(p.CreatedAt, personLoc(in, who, loc))]++
			}
			continue
		}
		// interruptions are sorted by person then time: the first of each
		// person is their first interruption for this page.
		for i, it := range its {
			if i == 0 || its[i-1].person != it.person {
				get(it.person).Pages[hours.Bucket(it.at, personLoc(in, it.person, loc))]++
			}
		}
	}

	// On-call weeks: level-1 time per person per week of the trailing 8.
	weeks := make([]Week, 8)
	for i := range weeks {
		weeks[i] = in.Week.Add(i - 7)
	}
	level1 := map[string][]span{}
	for _, s := range in.Shifts {
		if s.Level != 1 || s.Person == "" {
			continue
		}
		end := s.End
		if end.IsZero() {
			end = in.Week.End(loc)
		}
		level1[s.Person] = append(level1[s.Person], span{s.Start, end})
	}
	rotation := 0
	for email, spans := range level1 {
		spans = merge(spans)
		n4, n8 := 0, 0
		for i, w := range weeks {
			if overlap(spans, w.Start(loc), w.End(loc)) >= OnCallWeekMin {
				n8++
				if i >= 4 {
					n4++
				}
			}
		}
		if n8 == 0 {
			continue
		}
		rotation++
		p := get(email)
		p.OnCallWeeks4, p.OnCallWeeks8 = n4, n8
		p.OverOneInFour = n4 > 1 || n8 > 2
		from, to := weeks[4].Start(loc), in.Week.End(loc)
		p.OnCallShare = round(overlap(spans, from, to).Seconds()/to.Sub(from).Seconds(), 4)
		const week = 7 * 24 * time.Hour
		d4, d8 := overlap(spans, from, to), overlap(spans, weeks[0].Start(loc), to)
		p.OnCallWeekEquivalents4 = round(d4.Hours()/week.Hours(), 2)
		p.OnCallWeekEquivalents8 = round(d8.Hours()/week.Hours(), 2)
		p.OverOneInFourByTime = d4 > week+OnCallWeekMin || d8 > 2*week+OnCallWeekMin
	}
	if rotation == 0 {
		rotation = len(in.Team.Members)
	}
	out := make([]Person, 0, len(byEmail))
	for _, p := range byEmail {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, rotation
}

type span struct{ from, to time.Time }

func merge(s []span) []span {
	sort.Slice(s, func(i, j int) bool { return s[i].from.Before(s[j].from) })
	var out []span
	for _, x := range s {
		if !x.to.After(x.from) {
			continue
		}
		if k := len(out); k > 0 && !x.from.After(out[k-1].to) {
			if x.to.After(out[k-1].to) {
				out[k-1].to = x.to
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

func overlap(s []span, from, to time.Time) time.Duration {
	var d time.Duration
	for _, x := range s {
		a, b := x.from, x.to
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			d += b.Sub(a)
		}
	}
	return d
}

// stats: mean and linearly interpolated percentiles (closest ranks,
// R type 7), rounded to 0.1 s.
func stats(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Stats{Count: len(s), Mean: round(sum/float64(len(s)), 1), P50: round(percentile(s, 0.5), 1), P90: round(percentile(s, 0.9), 1)}
}

func percentile(sorted []float64, q float64) float64 {
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a)/float64(b), 4)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

var (
	uuidRE = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	ipRE   = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b`)
	hexRE  = regexp.MustCompile(`(?i)\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b`)
	numRE  = regexp.MustCompile(`\d+(?:\.\d+)?`)
	wsRE   = regexp.MustCompile(`\s+`)
)

// NormaliseTitle folds the parts of an alert title that change from one
// firing to the next (ids, addresses, numbers) so that repeats group:
// "Disk 91% full on db-7 (10.0.3.4)" becomes "Disk #% full on db-# (#)".
// Case is kept; grouping ignores it.
func NormaliseTitle(s string) string {
	s = uuidRE.ReplaceAllString(s, "#")
	s = ipRE.ReplaceAllString(s, "#")
	s = hexRE.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) >= 8 {
			return "#"
		}
		return m
	})
	s = numRE.ReplaceAllString(s, "#")
	s = wsRE.ReplaceAllString(strings.TrimSpace(s), " ")
	if s == "" {
		return "(untitled)"
	}
	return s
}
