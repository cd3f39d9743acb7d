package reviews

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// The digest's renderers use the weekly review's machinery: md and mrk to
// escape outside text, html/template for HTML, the Slack block helpers
// and their limits.

func (d *Digest) periodLine() string {
	return fmt.Sprintf("%s to %s (%s); due %s", dateIn(d.PeriodStart, d.TimeZone, "Mon 2 Jan"), dateIn(d.PeriodEnd.Add(-1), d.TimeZone, "Mon 2 Jan 2006"),
		d.TimeZone, dateIn(d.Deadline, d.TimeZone, "Mon 2 Jan 15:04 MST"))
}

func (it DigestItem) tag() string {
	if it.Topic == "" {
		return it.teamsText()
	}
	return it.teamsText() + "; " + it.Topic
}

func (it DigestItem) teamsText() string {
	if len(it.Teams) == 0 {
		return it.Unit
	}
	return strings.Join(it.Teams, ", ")
}

// rewritten: the item's summary differs from its single original's, so
// the original is worth showing.
func (it DigestItem) rewritten() bool {
	return len(it.From) > 1 || len(it.From) == 1 && it.From[0].Summary != it.Summary
}

func dateIn(t time.Time, tz, layout string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(layout)
}

// RenderDigestMarkdown writes a digest as Markdown: the bold summary, then
// situation, action and result, with where each item came from.
func RenderDigestMarkdown(d *Digest) []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", md(d.title()))
	p("%s. Generated %s.\n\n", md(d.periodLine()), d.GeneratedAt.Format("2006-01-02 15:04 MST"))
	p("_%s_\n\n", md(d.selectionNote()))
	for _, sec := range []struct {
		title string
		items []DigestItem
		none  string
	}{{"Wins", d.Wins, "None."}, {"Challenges", d.Challenges, d.noChallenges()}} {
		p("## %s\n\n", sec.title)
		if len(sec.items) == 0 {
			p("%s\n\n", sec.none)
			continue
		}
		for _, it := range sec.items {
			p("- **%s** (%s)\n", md(it.Summary), md(it.tag()))
			for _, f := range []struct{ k, v string }{{"Situation", it.Situation}, {"Action", it.Action}, {"Result", it.Result}} {
				if f.v != "" {
					p("  - %s: %s\n", f.k, md(f.v))
				}
			}
			if len(it.Links) > 0 {
				var ls []string
				for i, l := range it.Links {
					ls = append(ls, mdLink(fmt.Sprintf("link %d", i+1), l))
				}
				p("  - %s\n", strings.Join(ls, ", "))
			}
			if it.rewritten() {
				for _, o := range it.From {
					p("  - _from %s %s (entry %d, %s): %s_\n", md(o.Level), md(o.Unit), o.ID, md(o.Author), md(o.Summary))
				}
			}
		}
		p("\n")
	}
	if len(d.Missing) > 0 {
		p("## Not written yet\n\n")
		for _, m := range d.Missing {
			p("- %s\n", md(m.text()))
		}
		p("\n")
	}
	return []byte(b.String())
}

// RenderDigestHTML writes a digest as one self-contained HTML page.
func RenderDigestHTML(d *Digest) ([]byte, error) {
	var buf bytes.Buffer
	err := digestHTML.Execute(&buf, d)
	return buf.Bytes(), err
}

var digestHTML = template.Must(template.New("digest").Funcs(funcs).Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1c2833;max-width:50rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5d8dc}
li{margin:.6rem 0}dl{margin:.2rem 0 0 0}dt{float:left;clear:left;width:5.5rem;color:#566573}dd{margin-left:5.5rem}
.muted{color:#566573}.missing{color:#b9770e}.tag{font-size:.8rem;color:#566573;margin-left:.4rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">{{.PeriodLine}}. Generated {{.GeneratedAt.Format "2006-01-02 15:04 MST"}}.</p>
<p><em>{{.SelectionNote}}</em></p>
<h2>Wins</h2>
{{with .Wins}}<ul>{{range .}}{{template "item" .}}{{end}}</ul>{{else}}<p class="muted">None.</p>{{end}}
<h2>Challenges</h2>
{{with .Challenges}}<ul>{{range .}}{{template "item" .}}{{end}}</ul>{{else}}<p class="missing">{{.NoChallenges}}</p>{{end}}
{{with .Missing}}<h2>Not written yet</h2><ul>{{range .}}<li class="missing">{{.Text}}</li>{{end}}</ul>{{end}}
</body>
</html>
{{define "item"}}<li><strong>{{.Summary}}</strong><span class="tag">{{.TeamsText}}{{with .Topic}} · {{.}}{{end}}</span>
<dl>{{with .Situation}}<dt>Situation</dt><dd>{{.}}</dd>{{end}}{{with .Action}}<dt>Action</dt><dd>{{.}}</dd>{{end}}{{with .Result}}<dt>Result</dt><dd>{{.}}</dd>{{end}}</dl>
{{with .Links}}<p>{{range $i, $l := .}}{{if safeURL $l}}<a href="{{$l}}">link {{inc $i}}</a> {{end}}{{end}}</p>{{end}}
{{if .Rewritten}}<p class="muted">{{range .From}}from {{.Level}} {{.Unit}} (entry {{.ID}}, {{.Author}}): {{.Summary}}<br>{{end}}</p>{{end}}</li>
{{end}}`))

// Methods the HTML template calls.

// NoChallenges is what the digest says when it has no challenge.
func (d *Digest) NoChallenges() string { return d.noChallenges() }

func (d *Digest) noChallenges() string {
	if d.Level == LevelTeam || !d.Selected {
		return "None written: challenges are not optional."
	}
	return "None selected: sharing a challenge builds trust and lets others help."
}

// Title is the digest's title.
func (d *Digest) Title() string { return d.title() }

// PeriodLine is the period's dates and deadline.
func (d *Digest) PeriodLine() string { return d.periodLine() }

// SelectionNote says whose selection the digest shows.
func (d *Digest) SelectionNote() string { return d.selectionNote() }

// TeamsText names the teams an item reports on.
func (it DigestItem) TeamsText() string { return it.teamsText() }

// Rewritten reports whether the item differs from its original.
func (it DigestItem) Rewritten() bool { return it.rewritten() }

// Text says why a team is called out.
func (m MissingUnit) Text() string { return m.text() }

// RenderDigestSlack writes a digest as one Slack message (its items in
// sections within Slack's limits); the HTML digest goes in its thread as a
// file.
func RenderDigestSlack(d *Digest) SlackReport {
	blocks := []slack.Block{
		header(d.title()),
		context_(mrk(d.periodLine()) + ". " + mrk(d.selectionNote())),
	}
	item := func(it DigestItem) string {
		var parts []string
		for _, f := range []struct{ k, v string }{{"Situation", it.Situation}, {"Action", it.Action}, {"Result", it.Result}} {
			if f.v != "" {
				parts = append(parts, "_"+f.k+":_ "+mrk(f.v))
			}
		}
		s := fmt.Sprintf("• *%s* (%s)", mrk(it.Summary), mrk(it.teamsText()))
		if len(parts) > 0 {
			s += "\n    " + strings.Join(parts, " ")
		}
		for i, l := range it.Links {
			if i == 0 {
				s += "\n    "
			} else {
				s += " · "
			}
			s += slackLink(fmt.Sprintf("link %d", i+1), l)
		}
		return s
	}
	for _, sec := range []struct {
		title string
		items []DigestItem
		none  string
	}{{":trophy: Wins", d.Wins, "None."}, {":construction: Challenges", d.Challenges, "_" + d.noChallenges() + "_"}} {
		blocks = append(blocks, section("*"+sec.title+"*"))
		var ls []string
		for _, it := range sec.items {
			ls = append(ls, item(it))
		}
		if len(ls) == 0 {
			ls = []string{sec.none}
		}
		blocks = append(blocks, lines(ls, 20)...)
	}
	if len(d.Missing) > 0 {
		var ls []string
		for _, m := range d.Missing {
			ls = append(ls, ":warning: "+mrk(m.text()))
		}
		blocks = append(blocks, section("*Not written yet*"))
		blocks = append(blocks, lines(ls, 4)...)
	}
	if len(blocks) > SlackMaxBlocks {
		blocks = append(blocks[:SlackMaxBlocks-1], context_("… cut at Slack's 50 blocks; see the attached digest."))
	}
	text := fmt.Sprintf("%s: %d %s, %d %s", d.title(), len(d.Wins), plural(len(d.Wins), "win", "wins"), len(d.Challenges), plural(len(d.Challenges), "challenge", "challenges"))
	return SlackReport{Summary: SlackMessage{Text: clip(mrk(text), SlackMaxText), Blocks: blocks}, Thread: []SlackMessage{}}
}

var (
	slackMemberID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	plainName     = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// RenderReminderSlack writes a reminder as one Slack message, mentioning
// the team's lead when their Slack id is known.
func RenderReminderSlack(r *Reminder) SlackReport {
	who := ""
	if slackMemberID.MatchString(r.SlackID) {
		who = "<@" + r.SlackID + "> "
	}
	due := dateIn(r.Deadline, r.TimeZone, "Mon 2 Jan 15:04 MST")
	var msg string
	if r.Reason == MissingNothing {
		msg = fmt.Sprintf(":alarm_clock: %s*%s* has written no wins or challenges for %s yet. They are due *%s*: a few wins and at least one challenge, each a bold summary then situation, action and result, with numbers.",
			who, mrk(r.Team), r.Period, due)
	} else {
		msg = fmt.Sprintf(":alarm_clock: %s*%s* has %d %s and no challenge for %s. Challenges are not optional: a delay, an incident, a blocked dependency or a departure tells leaders where to help. Due *%s*.",
			who, mrk(r.Team), r.Wins, plural(r.Wins, "win", "wins"), r.Period, due)
	}
	team := r.Team
	if !plainName.MatchString(team) {
		team = "TEAM"
	}
	cmd := fmt.Sprintf("`vigil wins add --team %s --kind challenge --summary \"...\" --situation \"...\" --action \"...\" --result \"...\"` (or `vigil wins suggest --team %s` for drafts from the data)",
		team, team)
	blocks := []slack.Block{section(msg), context_(cmd)}
	text := fmt.Sprintf("Wins and challenges for %s are due %s", r.Period, due)
	return SlackReport{Summary: SlackMessage{Text: clip(mrk(text), SlackMaxText), Blocks: blocks}, Thread: []SlackMessage{}}
}
