package reviews

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/slo"
)

// Month is a calendar month, written 2026-11.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "2026-11".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Month{}, fmt.Errorf("month: expected a month like 2026-11, found %q", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// Add moves n months forward (backward when negative).
func (m Month) Add(n int) Month {
	t := time.Date(m.Year, m.Month+time.Month(n), 1, 12, 0, 0, 0, time.UTC)
	return Month{t.Year(), t.Month()}
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Weeks are the ISO weeks whose Thursday falls in the month (the ISO rule
// for placing a week in a month), so every week belongs to one month.
func (m Month) Weeks() []oncall.Week {
	var out []oncall.Week
	first := time.Date(m.Year, m.Month, 1, 12, 0, 0, 0, time.UTC)
	w := oncall.WeekOf(first, time.UTC).Add(-1)
	for i := 0; i < 7; i++ {
		thu := w.Start(time.UTC).AddDate(0, 0, 3)
		if thu.Year() == m.Year && thu.Month() == m.Month {
			out = append(out, w)
		}
		w = w.Add(1)
	}
	return out
}

// MonthOf is the month a week belongs to (by its Thursday).
func MonthOf(w oncall.Week) Month {
	thu := w.Start(time.UTC).AddDate(0, 0, 3)
	return Month{thu.Year(), thu.Month()}
}

// TopIncidents is how many incidents the roll-up lists.
const TopIncidents = 10

// Monthly is the org-level roll-up across teams: the highest-impact
// incidents, and the outliers (teams over five business-impacting pages a
// week, SLOs exhausted, support SLAs breached, lowest change compliance),
// ranked.
type Monthly struct {
	Month        string          `json:"month"`
	Weeks        []string        `json:"weeks"`
	GeneratedAt  time.Time       `json:"generated_at"`
	Teams        []TeamMonth     `json:"teams"`
	TopIncidents []MonthIncident `json:"top_incidents"`
	Outliers     []Outlier       `json:"outliers"`
	Unavailable  []Unavailable   `json:"unavailable"`
}

// TeamMonth is one team's month.
type TeamMonth struct {
	Team                       string   `json:"team"`
	Pages                      int      `json:"pages"`
	BusinessImpacting          int      `json:"business_impacting"`
	WeeksOverFive              int      `json:"weeks_over_five"`
	WorstWeek                  string   `json:"worst_week"`
	WorstWeekBusinessImpacting int      `json:"worst_week_business_impacting"`
	Incidents                  int      `json:"incidents"`
	SLOsExhausted              []string `json:"slos_exhausted"`
	SupportSLABreaches         *int     `json:"support_sla_breaches"`
	ChangeCompliance           *float64 `json:"change_compliance"`
	ProbeAvailability          *float64 `json:"probe_availability"`
}

// MonthIncident is an incident with its team.
type MonthIncident struct {
	Team string `json:"team"`
	Incident
}

// Outlier kinds.
const (
	OutlierPages      = "pages_over_five"
	OutlierSLO        = "slo_exhausted"
	OutlierSupport    = "support_sla_breached"
	OutlierCompliance = "change_compliance_low"
)

// ComplianceFloor: a team whose changes were under this share compliant in
// the month is an outlier.
const ComplianceFloor = 0.9

// Outlier is one team standing out, ranked by Score (higher first).
type Outlier struct {
	Rank  int     `json:"rank"`
	Team  string  `json:"team"`
	Kind  string  `json:"kind"`
	Text  string  `json:"text"`
	Value float64 `json:"value"`
	Score float64 `json:"score"`
}

// CompileMonthly builds the roll-up of a month across teams (all the
// directory's teams when none are given).
func CompileMonthly(ctx context.Context, src Source, dir *oncall.Directory, month Month, teams []string, opt Options) (*Monthly, error) {
	if len(teams) == 0 {
		teams = dir.TeamNames()
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := &Monthly{Month: month.String(), GeneratedAt: now.UTC().Truncate(time.Second),
		Teams: []TeamMonth{}, TopIncidents: []MonthIncident{}, Outliers: []Outlier{}, Unavailable: []Unavailable{}}
	weeks := month.Weeks()
	for _, w := range weeks {
		m.Weeks = append(m.Weeks, w.String())
	}
	var incidents []MonthIncident
	for _, team := range teams {
		tm := TeamMonth{Team: team, SLOsExhausted: []string{}}
		exhausted := map[string]bool{}
		var breaches, total, compliant, runs, ok int
		var haveSupport, haveChanges bool
		missing := map[string]string{}
		tsrc := src
		if spec, ok := dir.Team(team); ok && len(weeks) > 0 {
			// One read per team: shifts reach back 8 weeks, incidents 4.
			from := weeks[0].Add(-8).Start(spec.Location)
			var err error
			if tsrc, err = cached(ctx, src, team, from, weeks[len(weeks)-1].End(spec.Location)); err != nil {
				return nil, err
			}
		}
		for _, w := range weeks {
			r, err := Compile(ctx, tsrc, dir, team, w, Options{Now: now, Lite: true})
			if err != nil {
				return nil, err
			}
			for _, u := range r.Unavailable {
				missing[u.Section] = u.Reason
			}
			if p := r.Pages; p != nil {
				tm.Pages += p.Pages
				tm.BusinessImpacting += p.BusinessImpacting
				if p.BusinessImpacting > 5 {
					tm.WeeksOverFive++
				}
				if p.BusinessImpacting > tm.WorstWeekBusinessImpacting || tm.WorstWeek == "" {
					tm.WorstWeek, tm.WorstWeekBusinessImpacting = r.Week, p.BusinessImpacting
				}
			}
			if in := r.Incidents; in != nil {
				tm.Incidents += in.Count
				for _, x := range in.List {
					incidents = append(incidents, MonthIncident{Team: team, Incident: x})
				}
			}
			if s := r.SLOs; s != nil {
				for _, x := range s.List {
					if x.Status == slo.StatusExhausted && !exhausted[x.Service+"/"+x.Name] {
						exhausted[x.Service+"/"+x.Name] = true
						tm.SLOsExhausted = append(tm.SLOsExhausted, x.Service+"/"+x.Name)
					}
				}
			}
			if s := r.Support; s != nil {
				haveSupport = true
				breaches += s.SLABreaches
			}
			if c := r.Changes; c != nil {
				haveChanges = true
				total += c.Total
				compliant += c.Compliant
			}
			if p := r.Probes; p != nil {
				runs += p.Runs
				ok += p.Runs - p.Failures
			}
		}
		sort.Strings(tm.SLOsExhausted)
		if haveSupport {
			tm.SupportSLABreaches = ptr(breaches)
		}
		if haveChanges && total > 0 {
			tm.ChangeCompliance = ptr(share(compliant, total))
		}
		if runs > 0 {
			tm.ProbeAvailability = ptr(share(ok, runs))
		}
		for _, sec := range sortedKeys(missing) {
			m.Unavailable = append(m.Unavailable, Unavailable{Section: team + "/" + sec, Reason: missing[sec]})
		}
		m.Teams = append(m.Teams, tm)
		m.Outliers = append(m.Outliers, outliers(tm)...)
	}
	sort.SliceStable(incidents, func(i, j int) bool { return impactLess(incidents[j].Incident, incidents[i].Incident) })
	if len(incidents) > TopIncidents {
		incidents = incidents[:TopIncidents]
	}
	m.TopIncidents = append(m.TopIncidents, incidents...)
	sort.SliceStable(m.Outliers, func(i, j int) bool {
		if m.Outliers[i].Score != m.Outliers[j].Score {
			return m.Outliers[i].Score > m.Outliers[j].Score
		}
		return m.Outliers[i].Team < m.Outliers[j].Team
	})
	for i := range m.Outliers {
		m.Outliers[i].Rank = i + 1
	}
	return m, nil
}

// outliers scores what makes a team stand out. Scores put sustained
// overload first (the book's attrition risk), then exhausted budgets,
// breached support SLAs and non-compliant changes.
func outliers(tm TeamMonth) []Outlier {
	var out []Outlier
	if tm.WeeksOverFive > 0 {
		out = append(out, Outlier{Team: tm.Team, Kind: OutlierPages, Value: float64(tm.WeeksOverFive),
			Score: round(100+10*float64(tm.WeeksOverFive)+float64(tm.WorstWeekBusinessImpacting), 2),
			Text:  fmt.Sprintf("%d %s over 5 business-impacting pages (worst %s: %d)", tm.WeeksOverFive, plural(tm.WeeksOverFive, "week", "weeks"), tm.WorstWeek, tm.WorstWeekBusinessImpacting)})
	}
	if n := len(tm.SLOsExhausted); n > 0 {
		out = append(out, Outlier{Team: tm.Team, Kind: OutlierSLO, Value: float64(n), Score: float64(80 + n),
			Text: fmt.Sprintf("%d %s exhausted: %s", n, plural(n, "SLO", "SLOs"), strings.Join(tm.SLOsExhausted, ", "))})
	}
	if b := tm.SupportSLABreaches; b != nil && *b > 0 {
		out = append(out, Outlier{Team: tm.Team, Kind: OutlierSupport, Value: float64(*b), Score: float64(50 + *b),
			Text: fmt.Sprintf("%d support SLA %s", *b, plural(*b, "breach", "breaches"))})
	}
	if c := tm.ChangeCompliance; c != nil && *c < ComplianceFloor {
		out = append(out, Outlier{Team: tm.Team, Kind: OutlierCompliance, Value: *c, Score: round(40+(1-*c)*10, 2),
			Text: fmt.Sprintf("change compliance %s, under %s", pct(*c), pct(ComplianceFloor))})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RenderMonthlyMarkdown writes the roll-up as Markdown.
func RenderMonthlyMarkdown(m *Monthly) []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Monthly operational roll-up: %s\n\n", m.Month)
	p("Weeks %s. Generated %s.\n\n", strings.Join(m.Weeks, ", "), m.GeneratedAt.Format("2006-01-02 15:04 MST"))
	p("## Outliers, ranked\n\n")
	if len(m.Outliers) == 0 {
		p("None.\n\n")
	}
	for _, o := range m.Outliers {
		p("%d. **%s**: %s\n", o.Rank, md(o.Team), md(o.Text))
	}
	if len(m.Outliers) > 0 {
		p("\n")
	}
	p("## Highest-impact incidents\n\n")
	if len(m.TopIncidents) == 0 {
		p("None.\n\n")
	}
	for _, x := range m.TopIncidents {
		pm := "no postmortem"
		if x.PostmortemURL != "" {
			pm = mdLink("postmortem", x.PostmortemURL)
		}
		p("- **%s** %s (%s): %s, %s\n", md(x.Severity), md(x.Title), md(x.Team), durp(x.DurationSeconds), pm)
	}
	if len(m.TopIncidents) > 0 {
		p("\n")
	}
	p("## Teams\n\n| team | pages | business-impacting | weeks over 5 | incidents | SLOs exhausted | SLA breaches | change compliance | probe availability |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range m.Teams {
		sla := "n/a"
		if t.SupportSLABreaches != nil {
			sla = fmt.Sprint(*t.SupportSLABreaches)
		}
		cc := "n/a"
		if t.ChangeCompliance != nil {
			cc = pct(*t.ChangeCompliance)
		}
		pa := "n/a"
		if t.ProbeAvailability != nil {
			pa = avail(*t.ProbeAvailability)
		}
		p("| %s | %d | %d | %d | %d | %d | %s | %s | %s |\n", md(t.Team), t.Pages, t.BusinessImpacting, t.WeeksOverFive, t.Incidents, len(t.SLOsExhausted), sla, cc, pa)
	}
	return []byte(b.String())
}

// RenderMonthlySlack writes the roll-up as Slack messages.
func RenderMonthlySlack(m *Monthly) SlackReport {
	title := "Monthly operational roll-up: " + m.Month
	var ol []string
	for _, o := range m.Outliers {
		ol = append(ol, fmt.Sprintf("%d. *%s*: %s", o.Rank, mrk(o.Team), mrk(o.Text)))
	}
	if len(ol) == 0 {
		ol = []string{"No outliers this month."}
	}
	sum := append([]slack.Block{header(title), section("*Outliers, ranked*")}, lines(ol, 10)...)
	sum = append(sum, context_("Highest-impact incidents and every team's figures in the thread; the full roll-up is attached."))
	var il []string
	for _, x := range m.TopIncidents {
		il = append(il, fmt.Sprintf("• *%s* %s (%s): %s", mrk(x.Severity), mrk(x.Title), mrk(x.Team), durp(x.DurationSeconds)))
	}
	if len(il) == 0 {
		il = []string{"No incidents."}
	}
	var tl []string
	for _, t := range m.Teams {
		tl = append(tl, fmt.Sprintf("• *%s*: %d pages, %d business-impacting, %d weeks over 5, %d incidents, %d SLOs exhausted", mrk(t.Team), t.Pages, t.BusinessImpacting, t.WeeksOverFive, t.Incidents, len(t.SLOsExhausted)))
	}
	return SlackReport{
		Summary: SlackMessage{Text: title, Blocks: sum},
		Thread: []SlackMessage{
			{Text: "Highest-impact incidents", Blocks: append([]slack.Block{header("Highest-impact incidents")}, lines(il, 20)...)},
			{Text: "Teams", Blocks: append([]slack.Block{header("Teams")}, lines(tl, 40)...)},
		},
	}
}
