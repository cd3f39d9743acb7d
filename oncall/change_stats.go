package oncall

import (
	"sort"
	"time"
)

// Change defaults.
const (
	// FailureWindow: a page on a change's service this soon after it marks
	// the change as failed.
	FailureWindow = time.Hour
	// DeployWindow is a change's deploy window when it has no finish time.
	DeployWindow = 30 * time.Minute
)

// ChangeSettings are the change measures' knobs; zero means the default.
type ChangeSettings struct {
	FailureWindow time.Duration
	DeployWindow  time.Duration
}

func (s ChangeSettings) failureWindow() time.Duration {
	if s.FailureWindow > 0 {
		return s.FailureWindow
	}
	return FailureWindow
}

func (s ChangeSettings) deployWindow() time.Duration {
	if s.DeployWindow > 0 {
		return s.DeployWindow
	}
	return DeployWindow
}

// Window is a change's deploy window [At, end).
func (s ChangeSettings) Window(c *ChangeRecord) (time.Time, time.Time) {
	if !c.FinishedAt.IsZero() && c.FinishedAt.After(c.At) {
		return c.At, c.FinishedAt
	}
	return c.At, c.At.Add(s.deployWindow())
}

// ChangeInput is everything MeasureChanges reads. Changes must cover the
// week (and the day before, for deploy windows reaching into it); Pages
// the week plus the failure window after it, with any page explicitly
// linked to a change of the week; Incidents those explicitly linked.
type ChangeInput struct {
	Team      TeamSpec
	Week      Week
	Changes   []ChangeRecord
	Pages     []Page
	Incidents []Incident
	Settings  ChangeSettings
}

// ChangeStats is a team's production changes for one ISO week. Its JSON is
// a stable contract: snake_case, durations in seconds, ratios in 0..1.
type ChangeStats struct {
	Team      string             `json:"team"`
	Week      string             `json:"week"`
	TimeZone  string             `json:"time_zone"`
	WeekStart time.Time          `json:"week_start"`
	WeekEnd   time.Time          `json:"week_end"`
	Changes   int                `json:"changes"`
	ByKind    map[ChangeKind]int `json:"by_kind"`
	// Compliance with each of the book's rules and with all three.
	Documented   Rate           `json:"documented"`
	Reviewed     Rate           `json:"reviewed"`
	Tested       Rate           `json:"tested"`
	AllThree     Rate           `json:"all_three"`
	NonCompliant []NonCompliant `json:"non_compliant"`
	Manual       Rate           `json:"manual"`
	OffHours     Rate           `json:"off_hours"`
	RolledBack   int            `json:"rolled_back"`
	// Deployments counts successful deploys; DeployDays the days (team
	// time zone) with at least one.
	Deployments       int           `json:"deployments"`
	DeployDays        int           `json:"deploy_days"`
	FailedDeployments int           `json:"failed_deployments"`
	ChangeFailure     ChangeFailure `json:"change_failure"`
	LeadTime          Stats         `json:"lead_time_seconds"`
	// LeadTimeDropped counts lead times of zero or less, left out.
	LeadTimeDropped int                 `json:"lead_time_dropped"`
	RecoveryTime    Stats               `json:"failed_deployment_recovery_seconds"`
	DeployRelated   []DeployRelatedPage `json:"deploy_related_pages"`
	Unmapped        []string            `json:"unmapped,omitempty"`
}

// NonCompliant is a change missing one or more of the three rules.
type NonCompliant struct {
	Change  string    `json:"change"`
	Service string    `json:"service"`
	At      time.Time `json:"at"`
	Author  string    `json:"author,omitempty"`
	Summary string    `json:"summary,omitempty"`
	Missing []string  `json:"missing"`
}

// ChangeFailure is the change failure rate with how failures were found.
type ChangeFailure struct {
	Failed int     `json:"failed"`
	Rate   float64 `json:"rate"`
	// Linked: an incident was linked to the change; Followed: a page on
	// its service came within the failure window.
	Linked   int      `json:"linked"`
	Followed int      `json:"followed"`
	Changes  []string `json:"changes"`
}

// DeployRelatedPage is a page that started in a change's deploy window on
// the change's service.
type DeployRelatedPage struct {
	Page      string    `json:"page"`
	Change    string    `json:"change"`
	Service   string    `json:"service"`
	CreatedAt time.Time `json:"created_at"`
}

// DeployRelated tags the pages that started during a change's deploy
// window on the same service; a page inside several windows goes to the
// latest-starting change. Pages come out oldest first.
func DeployRelated(pages []Page, changes []ChangeRecord, s ChangeSettings) []DeployRelatedPage {
	bySvc := map[string][]*ChangeRecord{}
	for i := range changes {
		c := &changes[i]
		if c.Service != "" {
			bySvc[c.Service] = append(bySvc[c.Service], c)
		}
	}
	out := []DeployRelatedPage{}
	for i := range pages {
		p := &pages[i]
		var best *ChangeRecord
		for _, c := range bySvc[p.Service] {
			from, to := s.Window(c)
			if !p.CreatedAt.Before(from) && p.CreatedAt.Before(to) && (best == nil || c.At.After(best.At) ||
				(c.At.Equal(best.At) && c.Key() < best.Key())) {
				best = c
			}
		}
		if best != nil {
			out = append(out, DeployRelatedPage{Page: p.Key(), Change: best.Key(), Service: p.Service, CreatedAt: p.CreatedAt})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Page < out[j].Page
	})
	return out
}

// MeasureChanges computes a team's change week. It is pure.
//
// Definitions (issue 7; oncall-review.md 1.8):
//   - the week's changes are the team's changes with At in the week (team
//     time zone);
//   - documented: a link; reviewed: a reviewer other than the author;
//     tested: how it was tested; all_three: all of them; each rate is over
//     the week's changes;
//   - manual: not automated (every manual operation is); off-hours: At
//     outside the team's business hours (evenings, weekends, holidays);
//   - a change failed when an incident or page is linked to it, or a page
//     on its service started within the failure window after At; the
//     change failure rate is failed / changes;
//   - deployments: successful deploys (kind deploy, not failed); deploy
//     days: local days with one;
//   - lead time: At − CommitAt where known, dropping zero or less; median
//     and p90;
//   - failed deployment recovery time: At → the latest resolution of the
//     failed change's linked or following pages and incidents, over failed
//     changes whose failures are all resolved;
//   - deploy_related_pages: the team's pages started in the week inside a
//     change's deploy window on the same service.
func MeasureChanges(in ChangeInput) ChangeStats {
	loc := in.Team.Location
	if loc == nil {
		loc = time.UTC
	}
	hours := in.Team.Hours
	if hours.Business == (ClockRange{}) && hours.Sleep == (ClockRange{}) {
		def := DefaultHours()
		hours.Business, hours.Sleep = def.Business, def.Sleep
	}
	start, end := in.Week.Start(loc), in.Week.End(loc)
	cs := ChangeStats{Team: in.Team.Name, Week: in.Week.String(), TimeZone: loc.String(), WeekStart: start, WeekEnd: end,
		ByKind: map[ChangeKind]int{}, NonCompliant: []NonCompliant{}, DeployRelated: []DeployRelatedPage{}}
	cs.ChangeFailure.Changes = []string{}

	pagesBySvc := map[string][]*Page{}
	pageByKey := map[string]*Page{}
	for i := range in.Pages {
		p := &in.Pages[i]
		pageByKey[p.Key()] = p
		if p.Service != "" {
			pagesBySvc[p.Service] = append(pagesBySvc[p.Service], p)
		}
	}
	incByKey := map[string]*Incident{}
	for i := range in.Incidents {
		incByKey[in.Incidents[i].Key()] = &in.Incidents[i]
	}

	var week []ChangeRecord
	var doc, rev, tst, all, manual, off int
	var leads, recoveries []float64
	days := map[string]bool{}
	unmapped := map[string]bool{}
	window := in.Settings.failureWindow()
	for i := range in.Changes {
		c := &in.Changes[i]
		if c.Team != in.Team.Name {
			continue
		}
		if _, wend := in.Settings.Window(c); c.At.Before(end) && wend.After(start) {
			week = append(week, *c) // its deploy window reaches into the week
		}
		if c.At.Before(start) || !c.At.Before(end) {
			continue
		}
		cs.Changes++
		cs.ByKind[c.Kind]++
		for _, u := range c.Unmapped {
			unmapped[u] = true
		}
		missing := c.Missing()
		has := map[string]bool{RuleDocumented: true, RuleReviewed: true, RuleTested: true}
		for _, m := range missing {
			has[m] = false
		}
		if has[RuleDocumented] {
			doc++
		}
		if has[RuleReviewed] {
			rev++
		}
		if has[RuleTested] {
			tst++
		}
		if len(missing) == 0 {
			all++
		} else {
			cs.NonCompliant = append(cs.NonCompliant, NonCompliant{Change: c.Key(), Service: c.Service, At: c.At,
				Author: c.Author, Summary: c.Summary, Missing: missing})
		}
		if !c.Automated || c.Kind == KindManual {
			manual++
		}
		if hours.Bucket(c.At, loc) != Business {
			off++
		}
		if c.RolledBack {
			cs.RolledBack++
		}
		if c.Kind == KindDeploy {
			if c.Failed {
				cs.FailedDeployments++
			} else {
				cs.Deployments++
				days[c.At.In(loc).Format(time.DateOnly)] = true
			}
		}
		if !c.CommitAt.IsZero() {
			if d := c.At.Sub(c.CommitAt); d > 0 {
				leads = append(leads, d.Seconds())
			} else {
				cs.LeadTimeDropped++
			}
		}

		// Failures: explicit links, then pages following on the service.
		var resolved []time.Time
		open := false
		note := func(created, res time.Time) {
			if res.IsZero() || res.Before(created) {
				open = true
			} else {
				resolved = append(resolved, res)
			}
		}
		linked := false
		for _, k := range c.Incidents {
			linked = true
			if p := pageByKey[k]; p != nil {
				note(p.CreatedAt, p.ResolvedAt)
			} else if inc := incByKey[k]; inc != nil {
				note(inc.CreatedAt, inc.ResolvedAt)
			} else {
				open = true // not known here: no recovery time
			}
		}
		followed := false
		for _, p := range pagesBySvc[c.Service] {
			if p.Team != "" && p.Team != in.Team.Name {
				continue
			}
			if !p.CreatedAt.Before(c.At) && p.CreatedAt.Before(c.At.Add(window)) {
				followed = true
				if !linked {
					note(p.CreatedAt, p.ResolvedAt)
				}
			}
		}
		if linked || followed {
			cs.ChangeFailure.Failed++
			cs.ChangeFailure.Changes = append(cs.ChangeFailure.Changes, c.Key())
			if linked {
				cs.ChangeFailure.Linked++
			} else {
				cs.ChangeFailure.Followed++
			}
			if !open && len(resolved) > 0 {
				last := resolved[0]
				for _, r := range resolved[1:] {
					if r.After(last) {
						last = r
					}
				}
				if d := last.Sub(c.At); d >= 0 {
					recoveries = append(recoveries, d.Seconds())
				}
			}
		}
	}
	n := cs.Changes
	cs.Documented, cs.Reviewed, cs.Tested, cs.AllThree = Rate{doc, ratio(doc, n)}, Rate{rev, ratio(rev, n)}, Rate{tst, ratio(tst, n)}, Rate{all, ratio(all, n)}
	cs.Manual, cs.OffHours = Rate{manual, ratio(manual, n)}, Rate{off, ratio(off, n)}
	cs.DeployDays = len(days)
	cs.ChangeFailure.Rate = ratio(cs.ChangeFailure.Failed, n)
	sort.Strings(cs.ChangeFailure.Changes)
	sort.Slice(cs.NonCompliant, func(i, j int) bool {
		if !cs.NonCompliant[i].At.Equal(cs.NonCompliant[j].At) {
			return cs.NonCompliant[i].At.Before(cs.NonCompliant[j].At)
		}
		return cs.NonCompliant[i].Change < cs.NonCompliant[j].Change
	})
	cs.LeadTime, cs.RecoveryTime = stats(leads), stats(recoveries)

	var weekPages []Page
	for i := range in.Pages {
		p := &in.Pages[i]
		if (p.Team == in.Team.Name || p.Team == "") && !p.CreatedAt.Before(start) && p.CreatedAt.Before(end) {
			weekPages = append(weekPages, *p)
		}
	}
	cs.DeployRelated = DeployRelated(weekPages, week, in.Settings)
	cs.Unmapped = sortedKeys(unmapped)
	if len(cs.Unmapped) == 0 {
		cs.Unmapped = nil
	}
	return cs
}
