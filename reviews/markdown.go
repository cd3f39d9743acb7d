package reviews

import (
	"fmt"
	"strings"
)

var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `|`, `\|`,
	`#`, `\#`, `~`, `\~`, `!`, `\!`, `&`, `&amp;`, `<`, `&lt;`, `>`, `&gt;`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// md escapes outside text for CommonMark (and GitHub tables): markup
// characters are backslash-escaped, <, > and & become entities, and line
// breaks become spaces so text cannot start a new block.
func md(s string) string { return mdReplacer.Replace(s) }

// mdLink writes [text](url) when url is http(s), else the text alone.
func mdLink(text, url string) string {
	if !safeURL(url) {
		return md(text)
	}
	return "[" + md(text) + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(url) + ">)"
}

// safeURL accepts only absolute http and https URLs.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return (strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")) && !strings.ContainsAny(u, "\n\r\t \"'<>`")
}

// RenderMarkdown writes a weekly review as Markdown.
func RenderMarkdown(w *Weekly) []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	tz := w.TimeZone
	p("# Weekly operational review: %s, %s\n\n", md(w.Team), w.Week)
	p("%s to %s (%s). Generated %s.\n\n", w.WeekStart.Format("Mon 2 Jan 2006"), w.WeekEnd.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), md(tz), w.GeneratedAt.Format("2006-01-02 15:04 MST"))
	p("**%s.** %s\n\n", levelWord(w.Verdict.Level), md(w.Verdict.Summary))
	for _, f := range w.Verdict.Findings {
		p("- %s %s\n", sevMark(f.Severity), md(f.Text))
	}
	if len(w.Verdict.Findings) > 0 {
		p("\n")
	}

	p("## Pages\n\n")
	if pg := w.Pages; pg != nil {
		p("| figure | this week |\n|---|---|\n")
		p("| pages (high urgency) | %d |\n| business-impacting | %d (%s) |\n| false alarms | %d (%s) |\n", pg.Pages, pg.BusinessImpacting, pg.Band, pg.FalseAlarms, pct(pg.FalseAlarmShare))
		p("| unclassified | %d |\n| business / off / sleep hours | %d / %d / %d |\n", pg.Unclassified, pg.BusinessHours, pg.OffHours, pg.SleepHours)
		p("| interruptions (hours interrupted) | %d (%d) |\n", pg.Interruptions, pg.HoursInterrupted)
		p("| MTTA p50 / p90 | %s / %s |\n| MTTR p50 / p90 | %s / %s |\n", dur(pg.MTTA.P50), dur(pg.MTTA.P90), dur(pg.MTTR.P50), dur(pg.MTTR.P90))
		p("| escalated to secondary | %d |\n| low urgency (lower-severity alerts) | %d |\n\n", pg.EscalatedToSecondary.Count, pg.LowUrgency)
		if len(pg.TopAlerts) > 0 {
			p("Top noisy alerts:\n\n| alert | pages | false alarms | sleep hours |\n|---|---|---|---|\n")
			for _, a := range pg.TopAlerts {
				p("| %s | %d | %s | %d |\n", md(a.Title), a.Pages, pct(a.FalseAlarmShare), a.Sleep)
			}
			p("\n")
		}
		if len(pg.OnCall) > 0 {
			p("On call:\n\n")
			for _, o := range pg.OnCall {
				p("- level %d: %s, %s to %s\n", o.Level, md(o.Person), local(o.Start, tz), local(o.End, tz))
			}
			p("\n")
		}
		if len(pg.UnclassifiedPages) > 0 {
			p("To classify:\n\n")
			for _, u := range pg.UnclassifiedPages {
				p("- %s (%s, `%s`)\n", mdLink(u.Title, u.URL), local(u.CreatedAt, tz), strings.ReplaceAll(u.Key, "`", ""))
			}
			p("\n")
		}
	} else {
		p("Not available.\n\n")
	}

	p("## Incidents and postmortems\n\n")
	if in := w.Incidents; in != nil {
		p("%d %s, %d with a postmortem.\n\n", in.Count, plural(in.Count, "incident", "incidents"), in.WithPostmortem)
		for _, x := range in.List {
			pm := "no postmortem"
			if x.PostmortemURL != "" {
				pm = mdLink("postmortem", x.PostmortemURL)
			}
			p("- **%s** %s: %s, %s\n", md(x.Severity), md(x.Title), durp(x.DurationSeconds), pm)
			for _, a := range x.ActionItems {
				p("  - %s\n", mdAction(a, tz))
			}
		}
		if len(in.List) > 0 {
			p("\n")
		}
		e := in.Earlier
		p("Earlier action items (previous %d weeks): %d done of %d, %d open, %d overdue.\n", TrendWeeks, e.Done, e.Total, e.Open, e.Overdue)
		for _, a := range e.NotDone {
			p("- %s\n", mdAction(a, tz))
		}
		p("\n")
	} else {
		p("Not available.\n\n")
	}

	p("## SLOs\n\n")
	if s := w.SLOs; s != nil && len(s.List) > 0 {
		p("| SLO | objective | SLI | budget left | burn 1h | failing minutes | status |\n|---|---|---|---|---|---|---|\n")
		for _, x := range s.List {
			p("| %s/%s | %s | %s | %s | %s | %d | %s |\n", md(x.Service), md(x.Name), pct(x.Objective), ratiop(x.SLI, 5), pctp(x.BudgetRemaining), ratiop(x.BurnRate1h, 1), x.FailingMinutes, md(x.Status))
		}
		p("\n")
	} else if s != nil {
		p("No SLOs.\n\n")
	} else {
		p("Not available.\n\n")
	}

	p("## Probes\n\n")
	if pr := w.Probes; pr != nil {
		if pr.Runs == 0 {
			p("No probe runs recorded this week.\n\n")
		} else {
			p("%d runs, availability %s.\n\n", pr.Runs, avail(pr.Availability))
		}
		if len(pr.Journeys) > 0 {
			p("| journey / step | runs | failures | availability |\n|---|---|---|---|\n")
			for _, j := range pr.Journeys {
				p("| **%s** | %d | %d | %s |\n", md(j.Name), j.Runs, j.Failures, avail(j.Availability))
				for _, s := range j.Steps {
					p("| &nbsp;&nbsp;%s | %d | %d | %s |\n", md(s.Name), s.Runs, s.Failures, avail(s.Availability))
				}
			}
			p("\n")
		}
		if len(pr.Flakiest) > 0 {
			p("Flakiest steps:\n\n")
			for _, f := range pr.Flakiest {
				p("- %s/%s: %d of %d runs failed (%s)\n", md(f.Journey), md(f.Step), f.Failures, f.Runs, pct(f.FailureShare))
				for _, r := range f.Reasons {
					p("  - %s × %d, e.g. %s\n", md(r.Reason), r.Count, md(truncate(r.Example, 300)))
				}
			}
			p("\n")
		}
	} else {
		p("Not available.\n\n")
	}

	p("## Support\n\n")
	if s := w.Support; s != nil {
		p("%d tickets, %d open at the week's end, %d SLA %s, %d repeats.\n\n", s.Tickets, s.OpenAtWeekEnd, s.SLABreaches, plural(s.SLABreaches, "breach", "breaches"), s.Repeats)
		for _, c := range s.Categories {
			flag := ""
			if c.DeepDive {
				flag = " (deep-dive: more than a few)"
			}
			p("- %s: %d%s\n", md(c.Category), c.Tickets, flag)
		}
		for _, t := range s.BreachedTicket {
			p("- SLA breached: %s %s\n", md(t.ID), mdLink(t.Title, t.URL))
		}
		p("\n")
	} else {
		p("Not available.\n\n")
	}

	p("## Production changes\n\n")
	if c := w.Changes; c != nil {
		p("%d changes, %d compliant (%s), %d failed, %d manual, %d off-hours.\n\n", c.Total, c.Compliant, pct(c.ComplianceShare), c.Failed, c.Manual, c.OffHours)
		for _, r := range c.Rules {
			p("- rule %s: %d %s\n", md(r.Rule), r.Violations, plural(r.Violations, "violation", "violations"))
		}
		for _, x := range c.Noncompliant {
			p("- %s %s broke: %s\n", md(x.ID), mdLink(x.Title, x.URL), md(strings.Join(x.Violations, ", ")))
		}
		p("\n")
	} else {
		p("Not available.\n\n")
	}

	p("## Trends\n\n")
	if len(w.Trends) > 0 {
		p("| figure |")
		for _, wk := range w.Trends[0].Weeks {
			p(" %s |", wk)
		}
		p(" vs 4-week median |\n|---|")
		for range w.Trends[0].Weeks {
			p("---|")
		}
		p("---|\n")
		for _, t := range w.Trends {
			p("| %s |", md(t.Label))
			for _, v := range t.Values {
				p(" %s |", trendValue(t, v))
			}
			mark := ""
			if t.Worse {
				mark = " (worse)"
			}
			p(" %s %s%s |\n", arrow(t), trendValue(t, t.Median4), mark)
		}
		p("\n")
	} else {
		p("Not available.\n\n")
	}

	p("## Handoff notes\n\n")
	if len(w.Notes) == 0 {
		p("None yet: `vigil review note --team %s --week %s \"...\"`.\n\n", strings.ReplaceAll(w.Team, "`", ""), w.Week)
	}
	for _, n := range w.Notes {
		p("- %s (%s): %s\n", md(n.Author), local(n.At, tz), md(n.Text))
	}
	if len(w.Notes) > 0 {
		p("\n")
	}
	p("## Action items from this review\n\n")
	if len(w.ActionItems) == 0 {
		p("None.\n")
	}
	for _, n := range w.ActionItems {
		p("- [ ] %s (%s)\n", md(n.Text), md(n.Author))
	}
	for _, u := range w.Unavailable {
		if u.Section == "support" || u.Section == "changes" || u.Section == "slos" {
			continue // already said where the section would be
		}
		p("\n_%s not available: %s_\n", md(u.Section), md(u.Reason))
	}
	return []byte(b.String())
}

func mdAction(a ActionItem, tz string) string {
	state := "open"
	switch {
	case a.Done:
		state = "done"
	case a.Overdue:
		state = "**overdue**"
	}
	owner := ""
	if a.Owner != "" {
		owner = ", " + md(a.Owner)
	}
	return fmt.Sprintf("%s: %s (due %s%s)", state, mdLink(a.Title, a.URL), day(a.Due, tz), owner)
}

func sevMark(s string) string {
	switch s {
	case LevelCritical:
		return "🔴"
	case LevelWarn:
		return "🟠"
	}
	return "🔵"
}
