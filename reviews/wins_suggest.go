package reviews

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/slo"
)

// Suggestion thresholds. A good week has fewer than GoodWeekPages
// business-impacting pages, a bad one more than BadWeekPages (the book's
// <2 happy, >5 unhappy). Pages moved sharply when the period's count is at
// least SharpRatio times the previous period's (or at most 1/SharpRatio)
// and differs by at least SharpMin. The support backlog moved when the
// open tickets at the period's end differ from the previous period's end
// by at least BacklogMin and BacklogShare.
const (
	GoodWeekPages = 2
	BadWeekPages  = 5
	SharpRatio    = 1.5
	SharpMin      = 4
	BacklogMin    = 3
	BacklogShare  = 0.25
)

// Suggestion is an entry drafted from what vigil already knows, for the
// team's lead to accept, edit or drop; never published unreviewed. Key is
// stable for a team and period, so accepting one twice makes one entry.
type Suggestion struct {
	Key   string `json:"key"`
	Rule  string `json:"rule"`
	Entry Entry  `json:"entry"`
}

// Suggestion rules.
const (
	SuggestGoodWeek      = "good_week"
	SuggestBadWeek       = "bad_week"
	SuggestPagesDown     = "pages_down"
	SuggestPagesUp       = "pages_up"
	SuggestSLOExhausted  = "slo_exhausted"
	SuggestSLORecovered  = "slo_recovered"
	SuggestBacklogUp     = "support_backlog_up"
	SuggestBacklogDown   = "support_backlog_down"
	SuggestIncidents     = "incidents"
	SuggestComplianceLow = "change_compliance_low"
	SuggestComplianceOK  = "change_compliance_recovered"
)

// periodFigures are one period's measures, from its two weeks' reviews.
type periodFigures struct {
	weeks      []*Weekly
	pages      int
	impact     int
	haveLoad   bool
	incidents  []Incident
	haveInc    bool
	exhausted  map[string]SLO // service/name, at the period's end
	haveSLOs   bool
	backlog    *int
	changes    int
	compliant  int
	haveChange bool
}

func measurePeriod(ctx context.Context, src Source, dir *oncall.Directory, team string, weeks []oncall.Week, now time.Time) (periodFigures, error) {
	f := periodFigures{exhausted: map[string]SLO{}}
	for i, w := range weeks {
		r, err := Compile(ctx, src, dir, team, w, Options{Now: now, Lite: true})
		if err != nil {
			return f, err
		}
		f.weeks = append(f.weeks, r)
		if p := r.Pages; p != nil {
			f.haveLoad = true
			f.pages += p.Pages
			f.impact += p.BusinessImpacting
		}
		if in := r.Incidents; in != nil {
			f.haveInc = true
			f.incidents = append(f.incidents, in.List...)
		}
		if c := r.Changes; c != nil {
			f.haveChange = true
			f.changes += c.Total
			f.compliant += c.Compliant
		}
		if i == len(weeks)-1 {
			if s := r.SLOs; s != nil {
				f.haveSLOs = true
				for _, x := range s.List {
					if x.Status == slo.StatusExhausted {
						f.exhausted[x.Service+"/"+x.Name] = x
					}
				}
			}
			if s := r.Support; s != nil {
				f.backlog = ptr(s.OpenAtWeekEnd)
			}
		}
	}
	return f, nil
}

// Suggest drafts a team's operations news for a period from the weekly
// reviews of its two weeks and of the two before: a good or bad week,
// pages sharply up or down, SLOs exhausted or recovered, the support
// backlog, incidents and change compliance, each with its numbers.
func Suggest(ctx context.Context, src Source, dir *oncall.Directory, cal Calendar, team string, p Period, now time.Time) ([]Suggestion, error) {
	spec, ok := dir.Team(team)
	if !ok {
		return nil, &InputError{Msg: (&oncall.UnknownTeamError{Team: team, Known: dir.TeamNames()}).Error()}
	}
	cur, prev := cal.Weeks(p), cal.Weeks(cal.Add(p, -1))
	loc := spec.Location
	if loc == nil {
		loc = time.UTC
	}
	// One read of the four weeks (shifts reach back further).
	tsrc, err := cached(ctx, src, team, prev[0].Add(-8).Start(loc), cur[len(cur)-1].End(loc))
	if err != nil {
		return nil, err
	}
	this, err := measurePeriod(ctx, tsrc, dir, team, cur, now)
	if err != nil {
		return nil, err
	}
	before, err := measurePeriod(ctx, tsrc, dir, team, prev, now)
	if err != nil {
		return nil, err
	}
	var out []Suggestion
	add := func(rule, key, kind, topic, summary, situation, result string) {
		out = append(out, Suggestion{Key: rule + ":" + key, Rule: rule, Entry: Entry{Level: LevelTeam, Unit: team, Period: p.String(),
			Kind: kind, Topic: topic, Summary: summary, Situation: situation, Result: result, Audience: AudienceTeam,
			Suggestion: rule + ":" + key, Links: []string{}, Sources: []int64{}}})
	}
	if this.haveLoad {
		for _, w := range this.weeks {
			pg := w.Pages
			if pg == nil || pg.Pages == 0 && len(pg.OnCall) == 0 {
				continue // no pager record for the week: nothing to say
			}
			switch {
			case pg.BusinessImpacting < GoodWeekPages:
				add(SuggestGoodWeek, w.Week, KindWin, TopicOperations,
					fmt.Sprintf("A quiet on-call week: %d business-impacting %s in %s", pg.BusinessImpacting, plural(pg.BusinessImpacting, "page", "pages"), w.Week),
					fmt.Sprintf("The book's line for a healthy rotation is under %d business-impacting pages a week.", GoodWeekPages),
					fmt.Sprintf("%d business-impacting of %d pages in %s; %d in sleep hours.", pg.BusinessImpacting, pg.Pages, w.Week, pg.SleepHours))
			case pg.BusinessImpacting > BadWeekPages:
				add(SuggestBadWeek, w.Week, KindChallenge, TopicOperations,
					fmt.Sprintf("A hard on-call week: %d business-impacting pages in %s", pg.BusinessImpacting, w.Week),
					fmt.Sprintf("Over %d business-impacting pages a week wears a team out; stability comes before feature work until it is back down.", BadWeekPages),
					fmt.Sprintf("%d business-impacting of %d pages in %s; %d in sleep hours.", pg.BusinessImpacting, pg.Pages, w.Week, pg.SleepHours))
			}
		}
		if before.haveLoad {
			a, b := float64(before.pages), float64(this.pages)
			diff := this.pages - before.pages
			switch {
			case diff <= -SharpMin && b <= a/SharpRatio:
				add(SuggestPagesDown, "", KindWin, TopicMetrics,
					fmt.Sprintf("Pages down %s: %d, from %d the period before", pctAbs(a, b), this.pages, before.pages),
					"Fewer pages means fewer interruptions and nights broken for the on-call.",
					fmt.Sprintf("%d pages in %s, %d in %s (%s); business-impacting %d, from %d.", this.pages, p, before.pages, cal.Add(p, -1), pctChange(a, b), this.impact, before.impact))
			case diff >= SharpMin && b >= a*SharpRatio:
				add(SuggestPagesUp, "", KindChallenge, TopicOperations,
					fmt.Sprintf("Pages up %s: %d, from %d the period before", pctAbs(a, b), this.pages, before.pages),
					"A sharp rise in pages is worth explaining before it becomes the new normal.",
					fmt.Sprintf("%d pages in %s, %d in %s (%s); business-impacting %d, from %d.", this.pages, p, before.pages, cal.Add(p, -1), pctChange(a, b), this.impact, before.impact))
			}
		}
	}
	if this.haveSLOs {
		for _, k := range sortedKeys(this.exhausted) {
			if _, was := before.exhausted[k]; was && before.haveSLOs {
				continue // still exhausted: said last period
			}
			x := this.exhausted[k]
			add(SuggestSLOExhausted, k, KindChallenge, TopicOperations,
				fmt.Sprintf("Error budget of %s exhausted", k),
				fmt.Sprintf("The SLO %s (objective %s over %s) has used its whole error budget; that opens a conversation about options and trade-offs, not an automatic freeze.", k, pct(x.Objective), x.Window),
				fmt.Sprintf("Budget left %s at the period's end; SLI %s; %d failing minutes.", pctp(x.BudgetRemaining), ratiop(x.SLI, 5), x.FailingMinutes))
		}
		if before.haveSLOs {
			for _, k := range sortedKeys(before.exhausted) {
				if _, still := this.exhausted[k]; still {
					continue
				}
				var now *SLO
				for _, x := range this.weeks[len(this.weeks)-1].SLOs.List {
					if x.Service+"/"+x.Name == k {
						now = &x
					}
				}
				result := "The budget is no longer exhausted at the period's end."
				if now != nil {
					result = fmt.Sprintf("Budget left %s at the period's end, from %s; SLI %s.", pctp(now.BudgetRemaining), pctp(before.exhausted[k].BudgetRemaining), ratiop(now.SLI, 5))
				}
				add(SuggestSLORecovered, k, KindWin, TopicOperations,
					fmt.Sprintf("Error budget of %s recovered", k),
					fmt.Sprintf("The SLO %s had exhausted its error budget at the end of %s.", k, cal.Add(p, -1)), result)
			}
		}
	}
	if this.backlog != nil && before.backlog != nil {
		a, b := *before.backlog, *this.backlog
		d := b - a
		big := math.Abs(float64(d)) >= BacklogMin && math.Abs(float64(d)) >= BacklogShare*math.Max(float64(a), 1)
		switch {
		case big && d > 0:
			add(SuggestBacklogUp, "", KindChallenge, TopicOperations,
				fmt.Sprintf("Support backlog up to %d open tickets, from %d", b, a),
				"Open tickets at the end of the period, against the end of the one before.",
				fmt.Sprintf("%d open at the end of %s, %d at the end of %s (%+d).", b, p, a, cal.Add(p, -1), d))
		case big && d < 0:
			add(SuggestBacklogDown, "", KindWin, TopicMetrics,
				fmt.Sprintf("Support backlog down to %d open tickets, from %d", b, a),
				"Open tickets at the end of the period, against the end of the one before.",
				fmt.Sprintf("%d open at the end of %s, %d at the end of %s (%+d).", b, p, a, cal.Add(p, -1), d))
		}
	}
	if this.haveInc && len(this.incidents) > 0 {
		inc := append([]Incident(nil), this.incidents...)
		sort.SliceStable(inc, func(i, j int) bool { return impactLess(inc[j], inc[i]) })
		var names []string
		missing := 0
		for i, x := range inc {
			if x.PostmortemURL == "" {
				missing++
			}
			if i < 3 {
				names = append(names, fmt.Sprintf("%s %s (%s)", x.Severity, x.Title, durp(x.DurationSeconds)))
			}
		}
		add(SuggestIncidents, "", KindChallenge, TopicOperations,
			fmt.Sprintf("%d %s in %s", len(inc), plural(len(inc), "incident", "incidents"), p),
			"Briefly acknowledging the bigger incidents helps others trust the team is on top of them: "+strings.Join(names, "; ")+".",
			fmt.Sprintf("%d %s, %d with a postmortem, %d without.", len(inc), plural(len(inc), "incident", "incidents"), len(inc)-missing, missing))
	}
	if this.haveChange && this.changes > 0 {
		share := float64(this.compliant) / float64(this.changes)
		prevShare := -1.0
		if before.haveChange && before.changes > 0 {
			prevShare = float64(before.compliant) / float64(before.changes)
		}
		switch {
		case share < ComplianceFloor:
			add(SuggestComplianceLow, "", KindChallenge, TopicOperations,
				fmt.Sprintf("Change compliance at %s: %d of %d changes documented, reviewed and tested", pct(share), this.compliant, this.changes),
				fmt.Sprintf("Every production change should be documented, reviewed and tested; under %s is worth a look.", pct(ComplianceFloor)),
				fmt.Sprintf("%d of %d changes met all three rules (%s)%s.", this.compliant, this.changes, pct(share), prevText(prevShare)))
		case prevShare >= 0 && prevShare < ComplianceFloor:
			add(SuggestComplianceOK, "", KindWin, TopicOperations,
				fmt.Sprintf("Change compliance back to %s, from %s", pct(share), pct(prevShare)),
				"Every production change should be documented, reviewed and tested.",
				fmt.Sprintf("%d of %d changes met all three rules (%s)%s.", this.compliant, this.changes, pct(share), prevText(prevShare)))
		}
	}
	return out, nil
}

func prevText(prev float64) string {
	if prev < 0 {
		return ""
	}
	return fmt.Sprintf(", from %s the period before", pct(prev))
}

// pctChange writes the change from a to b as "-60%" or "+150%".
func pctChange(a, b float64) string {
	if a == 0 {
		return "from none"
	}
	return fmt.Sprintf("%+.0f%%", (b-a)/a*100)
}

func pctAbs(a, b float64) string {
	if a == 0 {
		return "from none"
	}
	return fmt.Sprintf("%.0f%%", math.Abs(b-a)/a*100)
}
