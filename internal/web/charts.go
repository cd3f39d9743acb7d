package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

// chart is an SVG chart drawn on the server: bars, polylines, horizontal
// reference lines and axis labels, in a viewBox the page scales. Colours
// come from CSS classes; every mark has a <title> for screen readers and
// hover, and the chart a text description.
type chart struct {
	ID            string
	Title, Desc   string
	Width, Height float64
	Bars          []chartBar
	Lines         []chartLine
	Rules         []chartRule
	Labels        []chartText
}

type chartBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type chartLine struct {
	Points string
	Class  string
	Title  string
}

type chartRule struct {
	Y              float64
	X1, X2         float64
	Class          string
	Label          string
	LabelX, LabelY float64
}

type chartText struct {
	X, Y   float64
	Text   string
	Anchor string
}

// Plot area margins.
const (
	padLeft   = 44.0
	padRight  = 8.0
	padTop    = 10.0
	padBottom = 22.0
)

func f1(v float64) float64 { return math.Round(v*10) / 10 }

// strip is the availability strip: one bar per day, coloured by how the
// day went; a day without runs is grey.
type strip struct {
	Chart *chart
	Days  []stripDay
}

type stripDay struct {
	Day   time.Time
	Value *float64
}

// Availability classes: the bar colours of the strip.
func availClass(v *float64) string {
	switch {
	case v == nil:
		return "none"
	case *v >= 0.999:
		return "good"
	case *v >= 0.99:
		return "warn"
	}
	return "bad"
}

func dailyStrip(points []slo.Point, now time.Time) *strip {
	end := now.Truncate(time.Minute)
	byDay := map[int64]float64{}
	for _, p := range points {
		if !math.IsNaN(p.V) {
			byDay[p.T.Unix()/60] = p.V
		}
	}
	c := &chart{Title: "Daily availability, last 30 days", Width: 300, Height: 28}
	s := &strip{Chart: c}
	bw := c.Width / stripDays
	for i := 0; i < stripDays; i++ {
		t := end.Add(-time.Duration(stripDays-1-i) * 24 * time.Hour)
		var v *float64
		if x, ok := byDay[t.Unix()/60]; ok {
			v = &x
		}
		s.Days = append(s.Days, stripDay{Day: t, Value: v})
		title := fmt.Sprintf("24 h to %s: %s", t.UTC().Format("2 Jan 15:04 UTC"), fmtAvail(v))
		c.Bars = append(c.Bars, chartBar{X: f1(float64(i) * bw), Y: 0, W: f1(bw - 1.5), H: c.Height, Class: "avail-" + availClass(v), Title: title})
	}
	good := 0
	for _, d := range s.Days {
		if d.Value != nil && *d.Value >= 0.999 {
			good++
		}
	}
	c.Desc = fmt.Sprintf("%d of %d days at 99.9%% or better.", good, stripDays)
	return s
}

// series is one line of a line chart.
type series struct {
	Name   string
	Class  string
	Points []slo.Point
}

// lineChart plots series against time between from and to, with the y
// range [lo, hi] (stretched to fit the data) and reference lines.
func lineChart(title, desc string, from, to time.Time, lo, hi float64, yFmt func(float64) string, ss []series, refs []ref) *chart {
	c := &chart{Title: title, Desc: desc, Width: 640, Height: 200}
	for _, s := range ss {
		for _, p := range s.Points {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
			}
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	x := func(t time.Time) float64 {
		span := to.Sub(from).Seconds()
		if span <= 0 {
			return padLeft
		}
		return f1(padLeft + (c.Width-padLeft-padRight)*t.Sub(from).Seconds()/span)
	}
	y := func(v float64) float64 {
		return f1(padTop + (c.Height-padTop-padBottom)*(hi-v)/(hi-lo))
	}
	for _, v := range []float64{hi, (hi + lo) / 2, lo} {
		c.Labels = append(c.Labels, chartText{X: padLeft - 4, Y: y(v) + 4, Text: yFmt(v), Anchor: "end"})
		c.Rules = append(c.Rules, chartRule{Y: y(v), X1: padLeft, X2: c.Width - padRight, Class: "grid"})
	}
	for _, r := range refs {
		if r.V < lo || r.V > hi {
			continue
		}
		c.Rules = append(c.Rules, chartRule{Y: y(r.V), X1: padLeft, X2: c.Width - padRight, Class: r.Class, Label: r.Label, LabelX: c.Width - padRight - 2, LabelY: y(r.V) - 3})
	}
	c.Labels = append(c.Labels,
		chartText{X: padLeft, Y: c.Height - 6, Text: from.UTC().Format("2 Jan"), Anchor: "start"},
		chartText{X: c.Width - padRight, Y: c.Height - 6, Text: to.UTC().Format("2 Jan 15:04 UTC"), Anchor: "end"})
	for _, s := range ss {
		var b strings.Builder
		last := ""
		for _, p := range s.Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				continue
			}
			fmt.Fprintf(&b, "%s,%s ", num(x(p.T)), num(y(p.V)))
			last = yFmt(p.V)
		}
		c.Lines = append(c.Lines, chartLine{Points: strings.TrimSpace(b.String()), Class: s.Class, Title: s.Name + ": " + last + " at the end"})
	}
	return c
}

// ref is a horizontal reference line (a threshold, zero).
type ref struct {
	V     float64
	Class string
	Label string
}

// barChart draws one bar per value, labelled below, with optional
// reference lines.
func barChart(title, desc string, labels []string, values []float64, class func(int) string, titles []string, refs []ref) *chart {
	c := &chart{Title: title, Desc: desc, Width: 640, Height: 180}
	hi := 1.0
	for _, v := range values {
		hi = math.Max(hi, v)
	}
	for _, r := range refs {
		hi = math.Max(hi, r.V*1.1)
	}
	n := float64(max(len(values), 1))
	bw := (c.Width - padLeft - padRight) / n
	y := func(v float64) float64 { return f1(padTop + (c.Height-padTop-padBottom)*(hi-v)/hi) }
	for _, v := range []float64{hi, 0} {
		c.Labels = append(c.Labels, chartText{X: padLeft - 4, Y: y(v) + 4, Text: num(math.Round(v*10) / 10), Anchor: "end"})
	}
	c.Rules = append(c.Rules, chartRule{Y: y(0), X1: padLeft, X2: c.Width - padRight, Class: "grid"})
	every := int(math.Ceil(n / 12))
	for i, v := range values {
		x := padLeft + float64(i)*bw
		c.Bars = append(c.Bars, chartBar{X: f1(x + 1), Y: y(v), W: f1(math.Max(bw-2, 1)), H: f1(y(0) - y(v)), Class: class(i), Title: titles[i]})
		if i%every == 0 {
			c.Labels = append(c.Labels, chartText{X: f1(x + bw/2), Y: c.Height - 6, Text: labels[i], Anchor: "middle"})
		}
	}
	for _, r := range refs {
		c.Rules = append(c.Rules, chartRule{Y: y(r.V), X1: padLeft, X2: c.Width - padRight, Class: r.Class, Label: r.Label, LabelX: c.Width - padRight - 2, LabelY: y(r.V) - 3})
	}
	return c
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
