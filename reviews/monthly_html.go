package reviews

import (
	"bytes"
	"html/template"
	"math"
)

// RenderMonthlyHTML writes the monthly roll-up as one self-contained HTML
// page, like the weekly: inline CSS and SVG charts (each team's worst week
// of business-impacting pages against the book's limit of 5, change
// compliance against the floor), no scripts, no outside assets; all text
// through html/template, escaped for its context.
func RenderMonthlyHTML(m *Monthly) ([]byte, error) {
	var buf bytes.Buffer
	v := monthlyView{M: m,
		Impact: teamBars(m, "Worst week's business-impacting pages per team (dashed: the book's limit of 5)", 5, false,
			func(t TeamMonth) (float64, bool) { return float64(t.WorstWeekBusinessImpacting), true }),
		Compliance: teamBars(m, "Change compliance per team (dashed: the 90% floor)", ComplianceFloor, true,
			func(t TeamMonth) (float64, bool) {
				if t.ChangeCompliance == nil {
					return 0, false
				}
				return *t.ChangeCompliance, true
			}),
	}
	err := monthlyHTML.Execute(&buf, v)
	return buf.Bytes(), err
}

type monthlyView struct {
	M                  *Monthly
	Impact, Compliance *hbarChart
}

type hbar struct {
	Y, W, LabelY float64
	Team, Value  string
	Over         bool // past the limit (worse side)
}

// hbarChart is a horizontal bar chart, one bar per team, with a limit line.
type hbarChart struct {
	Title         string
	Width, Height float64
	Left, BarH    float64
	LimitX        float64
	Bars          []hbar
}

// teamBars charts one figure per team; ratio figures are 0..1 and worse
// below the limit, counts are worse above it. Teams without the figure are
// left out; no team with it: no chart.
func teamBars(m *Monthly, title string, limit float64, ratio bool, value func(TeamMonth) (float64, bool)) *hbarChart {
	type tv struct {
		team string
		v    float64
	}
	var vs []tv
	top := limit
	for _, t := range m.Teams {
		if v, ok := value(t); ok {
			vs = append(vs, tv{t.Team, v})
			top = math.Max(top, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	if ratio {
		top = 1
	}
	c := &hbarChart{Title: title, Width: 480, Left: 130, BarH: 14}
	plotW := c.Width - c.Left - 50
	scale := plotW / top
	for i, x := range vs {
		y := 10 + float64(i)*(c.BarH+6)
		label := num(x.v)
		over := x.v > limit
		if ratio {
			label, over = pct(x.v), x.v < limit
		}
		c.Bars = append(c.Bars, hbar{Y: r1(y), W: r1(math.Max(x.v*scale, 1)), LabelY: r1(y + c.BarH - 3),
			Team: truncate(x.team, 20), Value: label, Over: over})
	}
	c.Height = r1(20 + float64(len(vs))*(c.BarH+6))
	c.LimitX = r1(c.Left + limit*scale)
	return c
}

func actionsDone(as []ActionItem) (done int) {
	for _, a := range as {
		if a.Done {
			done++
		}
	}
	return done
}

var monthlyFuncs = func() template.FuncMap {
	f := template.FuncMap{"actionsDone": actionsDone, "add": func(a, b float64) float64 { return a + b },
		"list": func(cs ...*hbarChart) []*hbarChart { return cs },
		"availp": func(r *float64) string {
			if r == nil {
				return "n/a"
			}
			return avail(*r)
		}}
	for k, v := range funcs {
		f[k] = v
	}
	return f
}()

var monthlyHTML = template.Must(template.New("monthly").Funcs(monthlyFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Monthly operational roll-up: {{.M.Month}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1c2833;max-width:64rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5d8dc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d5d8dc;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f7}.num{text-align:right}.muted{color:#566573}.bad{color:#c0392b}
.charts{display:flex;flex-wrap:wrap;gap:1rem}svg{background:#fbfcfc;border:1px solid #eaeded}
svg text{font:11px system-ui,sans-serif;fill:#34495e}
</style>
</head>
<body>
<h1>Monthly operational roll-up: {{.M.Month}}</h1>
<p class="muted">Weeks {{join .M.Weeks ", "}}. Generated {{.M.GeneratedAt.Format "2006-01-02 15:04 MST"}}.</p>

<h2>Outliers, ranked</h2>
{{with .M.Outliers}}<table>
<tr><th>#</th><th>team</th><th>outlier</th><th>what</th></tr>
{{range .}}<tr><td class="num">{{.Rank}}</td><td>{{.Team}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}

<div class="charts">
{{range $c := (list .Impact .Compliance)}}{{with $c}}<svg role="img" aria-label="{{.Title}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title>{{.Title}}</title>
{{range .Bars}}<text x="{{$c.Left}}" y="{{.LabelY}}" dx="-6" text-anchor="end">{{.Team}}</text>
<rect x="{{$c.Left}}" y="{{.Y}}" width="{{.W}}" height="{{$c.BarH}}" fill="{{if .Over}}#c0392b{{else}}#aab7b8{{end}}"><title>{{.Team}}: {{.Value}}</title></rect>
<text x="{{add $c.Left .W}}" y="{{.LabelY}}" dx="4">{{.Value}}</text>
{{end}}<line x1="{{.LimitX}}" x2="{{.LimitX}}" y1="4" y2="{{.Height}}" stroke="#c0392b" stroke-dasharray="4 3"/>
</svg>
{{end}}{{end}}</div>

<h2>Highest-impact incidents</h2>
{{with .M.TopIncidents}}<table>
<tr><th>severity</th><th>incident</th><th>team</th><th>duration</th><th>pages</th><th>action items done</th><th>postmortem</th></tr>
{{range .}}<tr><td>{{.Severity}}</td><td>{{.Title}} <span class="muted">({{.Key}})</span></td><td>{{.Team}}</td><td class="num">{{durp .DurationSeconds}}</td><td class="num">{{.Pages}}</td><td class="num">{{actionsDone .ActionItems}} of {{len .ActionItems}}</td><td>{{if .PostmortemURL}}{{if safeURL .PostmortemURL}}<a href="{{.PostmortemURL}}">postmortem</a>{{else}}{{.PostmortemURL}}{{end}}{{else}}<strong class="bad">none</strong>{{end}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}

<h2>Teams</h2>
<table>
<tr><th>team</th><th>pages</th><th>business-impacting</th><th>weeks over 5</th><th>worst week</th><th>incidents</th><th>SLOs exhausted</th><th>SLA breaches</th><th>change compliance</th><th>probe availability</th></tr>
{{range .M.Teams}}<tr><td>{{.Team}}</td><td class="num">{{.Pages}}</td><td class="num">{{.BusinessImpacting}}</td><td class="num{{if .WeeksOverFive}} bad{{end}}">{{.WeeksOverFive}}</td><td>{{.WorstWeek}} ({{.WorstWeekBusinessImpacting}})</td><td class="num">{{.Incidents}}</td><td>{{if .SLOsExhausted}}<span class="bad">{{join .SLOsExhausted ", "}}</span>{{else}}none{{end}}</td><td class="num">{{with .SupportSLABreaches}}{{.}}{{else}}n/a{{end}}</td><td class="num">{{pctp .ChangeCompliance}}</td><td class="num">{{availp .ProbeAvailability}}</td></tr>
{{end}}</table>
{{with .M.Unavailable}}<h2>Not available</h2><ul>{{range .}}<li>{{.Section}}: {{.Reason}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))
