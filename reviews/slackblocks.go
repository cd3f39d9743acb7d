package reviews

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Slack's limits (Block Kit reference).
const (
	SlackMaxBlocks     = 50
	SlackMaxText       = 3000 // a section's or context element's text
	SlackMaxFieldText  = 2000 // a section field
	SlackMaxHeaderText = 150
	SlackMaxFields     = 10
)

// SlackMessage is one message: fallback text (notifications, screen
// readers) and Block Kit blocks.
type SlackMessage struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// SlackReport is a review as Slack messages: a summary for the channel and
// the sections, one message each, for its thread.
type SlackReport struct {
	Summary SlackMessage   `json:"summary"`
	Thread  []SlackMessage `json:"thread"`
}

// zwsp, inserted around Slack's formatting characters, stops outside text
// from turning bold, italic, struck or code.
const zwsp = "\u200b"

var mrkdwnReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	"*", zwsp+"*"+zwsp, "_", zwsp+"_"+zwsp, "~", zwsp+"~"+zwsp, "`", zwsp+"`"+zwsp,
	"\r", " ", "\n", " ",
)

// mrk escapes outside text for Slack mrkdwn: &, < and > as entities (so
// <!channel>, <@U1> and <url|text> are shown, not acted on) and the
// formatting characters neutralised.
func mrk(s string) string { return mrkdwnReplacer.Replace(s) }

// clip cuts escaped mrkdwn to n bytes without splitting a rune or an
// entity.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = truncate(s, n)
	body := strings.TrimSuffix(s, "…")
	if i := strings.LastIndexByte(body, '&'); i >= 0 && !strings.Contains(body[i:], ";") {
		body = body[:i]
	}
	return body + "…"
}

func mrkText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip(s, SlackMaxText), false, false)
}

func plainText(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(strings.Join(strings.Fields(s), " "), n), false, false)
}

func header(s string) slack.Block { return slack.NewHeaderBlock(plainText(s, SlackMaxHeaderText)) }

func section(s string) slack.Block { return slack.NewSectionBlock(mrkText(s), nil, nil) }

func context_(s string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, clip(s, SlackMaxText), false, false))
}

// lines packs bullet lines into as few sections as the text limit allows,
// at most max sections; what does not fit is counted in a last line.
func lines(ls []string, maxBlocks int) []slack.Block {
	var out []slack.Block
	var cur strings.Builder
	for i, l := range ls {
		l = clip(l, SlackMaxText-2)
		if cur.Len()+len(l)+1 > SlackMaxText {
			if len(out) == maxBlocks-1 {
				rest := fmt.Sprintf("… and %d more", len(ls)-i)
				if cur.Len()+len(rest)+1 > SlackMaxText {
					out = append(out, section(cur.String()))
					cur.Reset()
				} else {
					cur.WriteString("\n")
				}
				cur.WriteString(rest)
				break
			}
			out = append(out, section(cur.String()))
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n")
		}
		cur.WriteString(l)
	}
	if cur.Len() > 0 && len(out) < maxBlocks {
		out = append(out, section(cur.String()))
	}
	return out
}

func slackLink(text, url string) string {
	if !safeURL(url) || strings.ContainsAny(url, "|") {
		return mrk(text)
	}
	t := mrk(text)
	t = strings.ReplaceAll(t, "|", "¦")
	return "<" + url + "|" + t + ">"
}

func levelEmoji(l string) string {
	switch l {
	case LevelCritical:
		return ":red_circle:"
	case LevelWarn:
		return ":large_orange_circle:"
	}
	return ":large_green_circle:"
}

// RenderSlack writes a weekly review as Slack Block Kit messages, each
// within Slack's limits (50 blocks, 3,000 characters a text).
func RenderSlack(w *Weekly) SlackReport {
	tz := w.TimeZone
	var r SlackReport
	title := fmt.Sprintf("Weekly review: %s, %s", w.Team, w.Week)
	sum := []slack.Block{
		header(title),
		section(fmt.Sprintf("%s *%s.* %s", levelEmoji(w.Verdict.Level), levelWord(w.Verdict.Level), mrk(w.Verdict.Summary))),
	}
	var fields []*slack.TextBlockObject
	field := func(label, value string) {
		if len(fields) < SlackMaxFields {
			fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, clip("*"+label+"*\n"+value, SlackMaxFieldText), false, false))
		}
	}
	if p := w.Pages; p != nil {
		field("Pages", fmt.Sprintf("%d (%d business-impacting, %s)", p.Pages, p.BusinessImpacting, p.Band))
		field("Sleep / off hours", fmt.Sprintf("%d / %d", p.SleepHours, p.OffHours))
		field("False alarms", fmt.Sprintf("%d (%s)", p.FalseAlarms, pct(p.FalseAlarmShare)))
		field("MTTA / MTTR p50", dur(p.MTTA.P50)+" / "+dur(p.MTTR.P50))
	}
	if in := w.Incidents; in != nil {
		field("Incidents", fmt.Sprintf("%d (%d without postmortem)", in.Count, in.MissingPostmortem))
		field("Earlier action items", fmt.Sprintf("%d done of %d, %d overdue", in.Earlier.Done, in.Earlier.Total, in.Earlier.Overdue))
	}
	if s := w.SLOs; s != nil {
		field("SLOs", fmt.Sprintf("%d exhausted, %d burning of %d", s.Exhausted, s.Burning, len(s.List)))
	}
	if pr := w.Probes; pr != nil {
		field("Probe availability", avail(pr.Availability))
	}
	if s := w.Support; s != nil {
		field("Support", fmt.Sprintf("%d tickets, %d SLA breaches", s.Tickets, s.SLABreaches))
	}
	if c := w.Changes; c != nil {
		field("Changes", fmt.Sprintf("%d, %d non-compliant", c.Total, c.Total-c.Compliant))
	}
	if len(fields) > 0 {
		sum = append(sum, slack.NewSectionBlock(nil, fields, nil))
	}
	var fl []string
	for _, f := range w.Verdict.Findings {
		fl = append(fl, "• "+mrk(f.Text))
	}
	sum = append(sum, lines(fl, 3)...)
	sum = append(sum, context_(fmt.Sprintf("Sections in the thread; the full report is attached. Generated %s.", w.GeneratedAt.Format("2006-01-02 15:04 MST"))))
	r.Summary = SlackMessage{Text: clip(mrk(fmt.Sprintf("%s: %s. %s", title, levelWord(w.Verdict.Level), w.Verdict.Summary)), SlackMaxText), Blocks: sum}

	msg := func(title string, blocks ...slack.Block) {
		all := append([]slack.Block{header(title)}, blocks...)
		if len(all) > SlackMaxBlocks {
			all = append(all[:SlackMaxBlocks-1], context_("… cut at Slack's 50 blocks; see the attached report."))
		}
		r.Thread = append(r.Thread, SlackMessage{Text: title, Blocks: all})
	}
	notAvailable := func(title string) { msg(title, context_("Not available.")) }

	if p := w.Pages; p != nil {
		var ls []string
		ls = append(ls, fmt.Sprintf("*%d pages*, %d business-impacting (%s), %d false alarms, %d unclassified; %d low urgency", p.Pages, p.BusinessImpacting, p.Band, p.FalseAlarms, p.Unclassified, p.LowUrgency))
		ls = append(ls, fmt.Sprintf("Business / off / sleep hours: %d / %d / %d; %d interruptions in %d hours", p.BusinessHours, p.OffHours, p.SleepHours, p.Interruptions, p.HoursInterrupted))
		ls = append(ls, fmt.Sprintf("MTTA p50 %s, p90 %s; MTTR p50 %s, p90 %s; %d escalated to secondary", dur(p.MTTA.P50), dur(p.MTTA.P90), dur(p.MTTR.P50), dur(p.MTTR.P90), p.EscalatedToSecondary.Count))
		blocks := lines(ls, 1)
		if len(p.TopAlerts) > 0 {
			var al []string
			for _, a := range p.TopAlerts {
				al = append(al, fmt.Sprintf("• %s: %d pages, %s false alarms, %d in sleep hours", mrk(a.Title), a.Pages, pct(a.FalseAlarmShare), a.Sleep))
			}
			blocks = append(blocks, section("*Top noisy alerts*"))
			blocks = append(blocks, lines(al, 5)...)
		}
		if len(p.OnCall) > 0 {
			var oc []string
			for _, o := range p.OnCall {
				oc = append(oc, fmt.Sprintf("• level %d: %s, %s to %s", o.Level, mrk(o.Person), local(o.Start, tz), local(o.End, tz)))
			}
			blocks = append(blocks, section("*On call*"))
			blocks = append(blocks, lines(oc, 5)...)
		}
		if len(p.UnclassifiedPages) > 0 {
			var uc []string
			for _, u := range p.UnclassifiedPages {
				uc = append(uc, fmt.Sprintf("• %s (%s)", slackLink(u.Title, u.URL), local(u.CreatedAt, tz)))
			}
			blocks = append(blocks, section("*To classify*"))
			blocks = append(blocks, lines(uc, 10)...)
		}
		msg("Pages", blocks...)
	} else {
		notAvailable("Pages")
	}
	if in := w.Incidents; in != nil {
		var ls []string
		for _, x := range in.List {
			pm := "*no postmortem*"
			if x.PostmortemURL != "" {
				pm = slackLink("postmortem", x.PostmortemURL)
			}
			ls = append(ls, fmt.Sprintf("• *%s* %s: %s, %s", mrk(x.Severity), mrk(x.Title), durp(x.DurationSeconds), pm))
			for _, a := range x.ActionItems {
				ls = append(ls, "    ◦ "+slackAction(a, tz))
			}
		}
		ls = append(ls, fmt.Sprintf("*Earlier action items* (previous %d weeks): %d done of %d, %d open, %d overdue", TrendWeeks, in.Earlier.Done, in.Earlier.Total, in.Earlier.Open, in.Earlier.Overdue))
		for _, a := range in.Earlier.NotDone {
			ls = append(ls, "• "+slackAction(a, tz))
		}
		msg("Incidents and postmortems", lines(ls, 20)...)
	} else {
		notAvailable("Incidents and postmortems")
	}
	if s := w.SLOs; s != nil {
		var ls []string
		for _, x := range s.List {
			ls = append(ls, fmt.Sprintf("• *%s/%s* %s: SLI %s (objective %s), budget left %s, burn 1h %s, %d failing minutes",
				mrk(x.Service), mrk(x.Name), mrk(x.Status), ratiop(x.SLI, 5), pct(x.Objective), pctp(x.BudgetRemaining), ratiop(x.BurnRate1h, 1), x.FailingMinutes))
		}
		if len(ls) == 0 {
			ls = []string{"No SLOs."}
		}
		msg("SLOs", lines(ls, 20)...)
	} else {
		notAvailable("SLOs")
	}
	if pr := w.Probes; pr != nil {
		ls := []string{fmt.Sprintf("%d runs, availability %s", pr.Runs, avail(pr.Availability))}
		if pr.Runs == 0 {
			ls[0] = "No probe runs recorded this week"
		}
		for _, j := range pr.Journeys {
			var st []string
			for _, s := range j.Steps {
				st = append(st, fmt.Sprintf("%s %s", mrk(s.Name), avail(s.Availability)))
			}
			ls = append(ls, fmt.Sprintf("• *%s* %s (%d runs): %s", mrk(j.Name), avail(j.Availability), j.Runs, strings.Join(st, ", ")))
		}
		for _, f := range pr.Flakiest {
			var rs []string
			for _, rc := range f.Reasons {
				rs = append(rs, fmt.Sprintf("%s × %d (e.g. %s)", mrk(rc.Reason), rc.Count, mrk(truncate(rc.Example, 200))))
			}
			ls = append(ls, fmt.Sprintf("• flaky: *%s/%s* failed %d of %d: %s", mrk(f.Journey), mrk(f.Step), f.Failures, f.Runs, strings.Join(rs, "; ")))
		}
		msg("Probes", lines(ls, 20)...)
	} else {
		notAvailable("Probes")
	}
	if s := w.Support; s != nil {
		ls := []string{fmt.Sprintf("%d tickets, %d open at the week's end, %d SLA breaches, %d repeats", s.Tickets, s.OpenAtWeekEnd, s.SLABreaches, s.Repeats)}
		for _, c := range s.Categories {
			dd := ""
			if c.DeepDive {
				dd = " — *deep-dive*"
			}
			ls = append(ls, fmt.Sprintf("• %s: %d%s", mrk(c.Category), c.Tickets, dd))
		}
		for _, t := range s.BreachedTicket {
			ls = append(ls, fmt.Sprintf("• SLA breached: %s %s", mrk(t.ID), slackLink(t.Title, t.URL)))
		}
		msg("Support", lines(ls, 20)...)
	}
	if c := w.Changes; c != nil {
		ls := []string{fmt.Sprintf("%d changes, %d compliant (%s), %d failed, %d manual, %d off-hours", c.Total, c.Compliant, pct(c.ComplianceShare), c.Failed, c.Manual, c.OffHours)}
		for _, x := range c.Noncompliant {
			ls = append(ls, fmt.Sprintf("• %s %s broke %s", mrk(x.ID), slackLink(x.Title, x.URL), mrk(strings.Join(x.Violations, ", "))))
		}
		msg("Production changes", lines(ls, 20)...)
	}
	if len(w.Trends) > 0 {
		var ls []string
		for _, t := range w.Trends {
			var vs []string
			for _, v := range t.Values {
				vs = append(vs, trendValue(t, v))
			}
			worse := ""
			if t.Worse {
				worse = " :warning:"
			}
			ls = append(ls, fmt.Sprintf("• %s: %s %s (median %s)%s", mrk(t.Label), strings.Join(vs, " → "), arrow(t), trendValue(t, t.Median4), worse))
		}
		msg("Trends (five weeks)", lines(ls, 5)...)
	}
	var nl []string
	for _, n := range w.Notes {
		nl = append(nl, fmt.Sprintf("• *%s*: %s", mrk(n.Author), mrk(n.Text)))
	}
	for _, n := range w.ActionItems {
		nl = append(nl, fmt.Sprintf("☐ %s (%s)", mrk(n.Text), mrk(n.Author)))
	}
	if len(nl) == 0 {
		nl = []string{"No handoff notes yet."}
	}
	msg("Handoff notes and action items", lines(nl, 20)...)
	return r
}

func slackAction(a ActionItem, tz string) string {
	state := "open"
	switch {
	case a.Done:
		state = "done"
	case a.Overdue:
		state = "*overdue*"
	}
	owner := ""
	if a.Owner != "" {
		owner = ", " + mrk(a.Owner)
	}
	return fmt.Sprintf("%s: %s (due %s%s)", state, slackLink(a.Title, a.URL), day(a.Due, tz), owner)
}
