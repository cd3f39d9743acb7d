package reviews

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// RenderHTML writes a weekly review as one self-contained HTML page: inline
// CSS and SVG charts (pages per week, budget burn-down), no scripts, no
// outside assets. All text goes through html/template, so outside text is
// escaped for its context.
func RenderHTML(w *Weekly) ([]byte, error) {
	var buf bytes.Buffer
	err := weeklyHTML.Execute(&buf, htmlView{W: w, Pages: pagesChart(w), Burn: burnChart(w)})
	return buf.Bytes(), err
}

type htmlView struct {
	W     *Weekly
	Pages *barChart
	Burn  *lineChart
}

type bar struct {
	X, Y, W, H     float64
	IX, IY, IH     float64 // the business-impacting part
	Label          string
	Value, Impact  int
	LabelX, LabelY float64
}

type barChart struct {
	Width, Height float64
	Bars          []bar
	LimitY        float64 // the book's line: 5 business-impacting pages
	Max           int
}

func pagesChart(w *Weekly) *barChart {
	var pages, impact *Trend
	for i := range w.Trends {
		switch w.Trends[i].Figure {
		case "pages":
			pages = &w.Trends[i]
		case "business_impacting":
			impact = &w.Trends[i]
		}
	}
	if pages == nil || impact == nil {
		return nil
	}
	c := &barChart{Width: 420, Height: 180}
	top := 5.0
	for _, v := range pages.Values {
		top = math.Max(top, v)
	}
	c.Max = int(top)
	plotH, base := 130.0, 150.0
	scale := plotH / top
	n := float64(len(pages.Values))
	slot := (c.Width - 40) / n
	for i, v := range pages.Values {
		x := 30 + float64(i)*slot + slot*0.15
		bw := slot * 0.7
		h := v * scale
		ih := impact.Values[i] * scale
		c.Bars = append(c.Bars, bar{X: r1(x), Y: r1(base - h), W: r1(bw), H: r1(h), IX: r1(x), IY: r1(base - ih), IH: r1(ih),
			Label: pages.Weeks[i], Value: int(v), Impact: int(impact.Values[i]), LabelX: r1(x + bw/2), LabelY: base + 16})
	}
	c.LimitY = r1(base - 5*scale)
	return c
}

type line struct {
	Name    string
	Points  string
	Color   string
	Last    string
	LegendY float64
}

type lineChart struct {
	Width, Height float64
	ZeroY         float64
	Lines         []line
	Days          []struct {
		X     float64
		Label string
	}
}

var lineColors = []string{"#c0392b", "#2471a3", "#239b56", "#b9770e", "#7d3c98", "#566573"}

func burnChart(w *Weekly) *lineChart {
	if w.SLOs == nil || len(w.SLOs.List) == 0 {
		return nil
	}
	c := &lineChart{Width: 420, Height: 180}
	lo, hi := 0.0, 1.0
	for _, s := range w.SLOs.List {
		for _, p := range s.BurnDown {
			if p.Remaining != nil {
				lo, hi = math.Min(lo, *p.Remaining), math.Max(hi, *p.Remaining)
			}
		}
	}
	top, bottom := 10.0, 150.0
	y := func(v float64) float64 { return r1(bottom - (v-lo)/(hi-lo)*(bottom-top)) }
	c.ZeroY = y(0)
	x := func(i int) float64 { return r1(40 + float64(i)*(c.Width-60)/7) }
	for i := 0; i <= 7; i++ {
		label := ""
		if i < 7 {
			label = w.WeekStart.AddDate(0, 0, i).Format("Mon")
		}
		c.Days = append(c.Days, struct {
			X     float64
			Label string
		}{x(i), label})
	}
	for k, s := range w.SLOs.List {
		var pts []string
		for i, p := range s.BurnDown {
			if p.Remaining != nil && i <= 7 {
				pts = append(pts, fmt.Sprintf("%g,%g", x(i), y(*p.Remaining)))
			}
		}
		if len(pts) == 0 {
			continue
		}
		c.Lines = append(c.Lines, line{Name: s.Service + "/" + s.Name, Points: strings.Join(pts, " "),
			Color: lineColors[k%len(lineColors)], Last: pctp(s.BudgetRemaining), LegendY: float64(22 + 13*len(c.Lines))})
	}
	if len(c.Lines) == 0 {
		return nil
	}
	return c
}

func r1(v float64) float64 { return math.Round(v*10) / 10 }

var funcs = template.FuncMap{
	"pct": pct, "pctp": pctp, "avail": avail, "dur": dur, "durp": durp, "ratiop": ratiop,
	"local": local, "day": day, "level": levelWord, "trendValue": trendValue, "arrow": arrow,
	"plural": plural, "sevClass": func(s string) string { return "sev-" + s },
	"safeURL": func(u string) bool { return safeURL(u) },
	"join":    strings.Join, "truncate": truncate, "trendWeeks": func() int { return TrendWeeks },
	"actionView": func(a ActionItem, tz string) actionView { return actionView{a, tz} },
}

var weeklyHTML = template.Must(template.New("weekly").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weekly operational review: {{.W.Team}}, {{.W.Week}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1c2833;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5d8dc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d5d8dc;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f7}.num{text-align:right}.verdict{padding:.6rem 1rem;border-left:6px solid #239b56;background:#eafaf1}
.verdict.warn{border-color:#b9770e;background:#fef5e7}.verdict.critical{border-color:#c0392b;background:#fdedec}
.sev-critical{color:#c0392b}.sev-warn{color:#b9770e}.sev-ok{color:#566573}.worse{color:#c0392b}.muted{color:#566573}
.charts{display:flex;flex-wrap:wrap;gap:1rem}svg{background:#fbfcfc;border:1px solid #eaeded}
svg text{font:11px system-ui,sans-serif;fill:#34495e}
</style>
</head>
<body>
<h1>Weekly operational review: {{.W.Team}}, {{.W.Week}}</h1>
<p class="muted">{{.W.WeekStart.Format "Mon 2 Jan 2006"}} to {{(.W.WeekEnd.AddDate 0 0 -1).Format "Mon 2 Jan 2006"}} ({{.W.TimeZone}}). Generated {{.W.GeneratedAt.Format "2006-01-02 15:04 MST"}}.</p>
<div class="verdict {{.W.Verdict.Level}}"><strong>{{level .W.Verdict.Level}}.</strong> {{.W.Verdict.Summary}}</div>
{{with .W.Verdict.Findings}}<ul>{{range .}}<li class="{{sevClass .Severity}}">{{.Text}}</li>{{end}}</ul>{{end}}

<div class="charts">
{{with .Pages}}<svg role="img" aria-label="Pages per week" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title>Pages per week (red: business-impacting; dashed: the book's limit of 5)</title>
{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#aab7b8"><title>{{.Label}}: {{.Value}} pages, {{.Impact}} business-impacting</title></rect>
<rect x="{{.IX}}" y="{{.IY}}" width="{{.W}}" height="{{.IH}}" fill="#c0392b"/>
<text x="{{.LabelX}}" y="{{.LabelY}}" text-anchor="middle">{{.Label}}</text>
<text x="{{.LabelX}}" y="{{.Y}}" dy="-3" text-anchor="middle">{{.Value}}</text>
{{end}}<line x1="30" x2="{{.Width}}" y1="{{.LimitY}}" y2="{{.LimitY}}" stroke="#c0392b" stroke-dasharray="4 3"/>
</svg>{{end}}
{{with .Burn}}<svg role="img" aria-label="Error budget burn-down" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title>Error budget remaining through the week</title>
<line x1="40" x2="{{.Width}}" y1="{{.ZeroY}}" y2="{{.ZeroY}}" stroke="#566573" stroke-dasharray="2 2"/>
{{range .Days}}<text x="{{.X}}" y="168" text-anchor="start">{{.Label}}</text>{{end}}
{{range $i, $l := .Lines}}<polyline fill="none" stroke="{{$l.Color}}" stroke-width="2" points="{{$l.Points}}"><title>{{$l.Name}}: {{$l.Last}} left</title></polyline>
<text x="44" y="{{$l.LegendY}}" fill="{{$l.Color}}">{{$l.Name}} ({{$l.Last}})</text>
{{end}}</svg>{{end}}
</div>

<h2>Pages</h2>
{{with .W.Pages}}<table>
<tr><th>pages (high urgency)</th><td class="num">{{.Pages}}</td></tr>
<tr><th>business-impacting</th><td class="num">{{.BusinessImpacting}} ({{.Band}})</td></tr>
<tr><th>false alarms</th><td class="num">{{.FalseAlarms}} ({{pct .FalseAlarmShare}})</td></tr>
<tr><th>unclassified</th><td class="num">{{.Unclassified}}</td></tr>
<tr><th>business / off / sleep hours</th><td class="num">{{.BusinessHours}} / {{.OffHours}} / {{.SleepHours}}</td></tr>
<tr><th>interruptions (hours interrupted)</th><td class="num">{{.Interruptions}} ({{.HoursInterrupted}})</td></tr>
<tr><th>MTTA p50 / p90</th><td class="num">{{dur .MTTA.P50}} / {{dur .MTTA.P90}}</td></tr>
<tr><th>MTTR p50 / p90</th><td class="num">{{dur .MTTR.P50}} / {{dur .MTTR.P90}}</td></tr>
<tr><th>escalated to secondary</th><td class="num">{{.EscalatedToSecondary.Count}}</td></tr>
<tr><th>low urgency (lower-severity alerts)</th><td class="num">{{.LowUrgency}}</td></tr>
</table>
{{with .TopAlerts}}<h3>Top noisy alerts</h3><table><tr><th>alert</th><th>pages</th><th>false alarms</th><th>sleep hours</th></tr>
{{range .}}<tr><td>{{.Title}}</td><td class="num">{{.Pages}}</td><td class="num">{{pct .FalseAlarmShare}}</td><td class="num">{{.Sleep}}</td></tr>
{{end}}</table>{{end}}
{{with .OnCall}}<h3>On call</h3><ul>{{range .}}<li>level {{.Level}}: {{.Person}}, {{local .Start $.W.TimeZone}} to {{local .End $.W.TimeZone}}</li>{{end}}</ul>{{end}}
{{with .UnclassifiedPages}}<h3>To classify</h3><ul>{{range .}}<li>{{if safeURL .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}} <span class="muted">({{local .CreatedAt $.W.TimeZone}}, {{.Key}})</span></li>{{end}}</ul>{{end}}
{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Incidents and postmortems</h2>
{{with .W.Incidents}}<p>{{.Count}} {{plural .Count "incident" "incidents"}}, {{.WithPostmortem}} with a postmortem.</p>
{{with .List}}<table><tr><th>severity</th><th>incident</th><th>duration</th><th>postmortem</th><th>action items</th></tr>
{{range .}}<tr><td>{{.Severity}}</td><td>{{.Title}}</td><td>{{durp .DurationSeconds}}</td><td>{{if safeURL .PostmortemURL}}<a href="{{.PostmortemURL}}">postmortem</a>{{else}}<span class="sev-warn">missing</span>{{end}}</td>
<td>{{with .ActionItems}}<ul>{{range .}}<li>{{template "action" (actionView . $.W.TimeZone)}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</table>{{end}}
<p>Earlier action items (previous {{trendWeeks}} weeks): {{.Earlier.Done}} done of {{.Earlier.Total}}, {{.Earlier.Open}} open, {{.Earlier.Overdue}} overdue.</p>
{{with .Earlier.NotDone}}<ul>{{range .}}<li>{{template "action" (actionView . $.W.TimeZone)}}</li>{{end}}</ul>{{end}}
{{else}}<p class="muted">Not available.</p>{{end}}

<h2>SLOs</h2>
{{with .W.SLOs}}{{if .List}}<table><tr><th>SLO</th><th>objective</th><th>SLI</th><th>budget left</th><th>burn 1h</th><th>failing minutes</th><th>status</th></tr>
{{range .List}}<tr><td>{{.Service}}/{{.Name}}</td><td class="num">{{pct .Objective}}</td><td class="num">{{ratiop .SLI 5}}</td><td class="num">{{pctp .BudgetRemaining}}</td><td class="num">{{ratiop .BurnRate1h 1}}</td><td class="num">{{.FailingMinutes}}</td><td>{{.Status}}</td></tr>
{{end}}</table>{{else}}<p>No SLOs.</p>{{end}}{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Probes</h2>
{{with .W.Probes}}{{if .Runs}}<p>{{.Runs}} runs, availability {{avail .Availability}}.</p>{{else}}<p>No probe runs recorded this week.</p>{{end}}
{{with .Journeys}}<table><tr><th>journey / step</th><th>runs</th><th>failures</th><th>availability</th></tr>
{{range .}}<tr><th>{{.Name}}</th><td class="num">{{.Runs}}</td><td class="num">{{.Failures}}</td><td class="num">{{avail .Availability}}</td></tr>
{{range .Steps}}<tr><td>&nbsp;&nbsp;{{.Name}}</td><td class="num">{{.Runs}}</td><td class="num">{{.Failures}}</td><td class="num">{{avail .Availability}}</td></tr>
{{end}}{{end}}</table>{{end}}
{{with .Flakiest}}<h3>Flakiest steps</h3><ul>{{range .}}<li>{{.Journey}}/{{.Step}}: {{.Failures}} of {{.Runs}} runs failed ({{pct .FailureShare}})<ul>{{range .Reasons}}<li>{{.Reason}} × {{.Count}}, e.g. <code>{{truncate .Example 300}}</code></li>{{end}}</ul></li>{{end}}</ul>{{end}}
{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Support</h2>
{{with .W.Support}}<p>{{.Tickets}} tickets, {{.OpenAtWeekEnd}} open at the week's end, {{.SLABreaches}} SLA {{plural .SLABreaches "breach" "breaches"}}, {{.Repeats}} repeats.</p>
<ul>{{range .Categories}}<li>{{.Category}}: {{.Tickets}}{{if .DeepDive}} <span class="sev-warn">(deep-dive: more than a few)</span>{{end}}</li>{{end}}
{{range .BreachedTicket}}<li>SLA breached: {{.ID}} {{if safeURL .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}</li>{{end}}</ul>
{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Production changes</h2>
{{with .W.Changes}}<p>{{.Total}} changes, {{.Compliant}} compliant ({{pct .ComplianceShare}}), {{.Failed}} failed, {{.Manual}} manual, {{.OffHours}} off-hours.</p>
<ul>{{range .Rules}}<li>rule {{.Rule}}: {{.Violations}} {{plural .Violations "violation" "violations"}}</li>{{end}}
{{range .Noncompliant}}<li>{{.ID}} {{if safeURL .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}} broke: {{join .Violations ", "}}</li>{{end}}</ul>
{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Trends</h2>
{{with .W.Trends}}<table><tr><th>figure</th>{{range (index . 0).Weeks}}<th>{{.}}</th>{{end}}<th>vs 4-week median</th></tr>
{{range $t := .}}<tr><td>{{$t.Label}}</td>{{range $t.Values}}<td class="num">{{trendValue $t .}}</td>{{end}}<td class="{{if $t.Worse}}worse{{end}}">{{arrow $t}} {{trendValue $t $t.Median4}}</td></tr>
{{end}}</table>{{else}}<p class="muted">Not available.</p>{{end}}

<h2>Handoff notes</h2>
{{with .W.Notes}}<ul>{{range .}}<li><strong>{{.Author}}</strong> <span class="muted">({{local .At $.W.TimeZone}})</span>: {{.Text}}</li>{{end}}</ul>{{else}}<p class="muted">None yet.</p>{{end}}
<h2>Action items from this review</h2>
{{with .W.ActionItems}}<ul>{{range .}}<li>{{.Text}} <span class="muted">({{.Author}})</span></li>{{end}}</ul>{{else}}<p class="muted">None.</p>{{end}}
{{range .W.Unavailable}}<p class="muted">{{.Section}} not available: {{.Reason}}</p>
{{end}}</body>
</html>
{{define "action"}}{{if .A.Done}}done{{else if .A.Overdue}}<span class="sev-critical">overdue</span>{{else}}open{{end}}: {{if safeURL .A.URL}}<a href="{{.A.URL}}">{{.A.Title}}</a>{{else}}{{.A.Title}}{{end}} <span class="muted">(due {{day .A.Due .TZ}}{{with .A.Owner}}, {{.}}{{end}})</span>{{end}}`))

type actionView struct {
	A  ActionItem
	TZ string
}
