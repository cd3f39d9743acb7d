package reviews

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Formatting shared by the renderers. Every renderer escapes outside text
// (titles, notes, names) for its own markup; these helpers only format
// numbers and times.

func pct(r float64) string {
	s := fmt.Sprintf("%.1f%%", r*100)
	return strings.Replace(s, ".0%", "%", 1)
}

func pctp(r *float64) string {
	if r == nil {
		return "n/a"
	}
	return pct(*r)
}

func avail(r float64) string {
	if r == 1 {
		return "100%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(r*10000)/100)
}

func ratiop(r *float64, digits int) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, *r)
}

// dur writes seconds as 4m, 1h25m, 2d3h.
func dur(secs float64) string {
	if secs <= 0 {
		return "0s"
	}
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - 60*h
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%dd%dh", days, int(d.Hours())-24*days)
}

func durp(secs *float64) string {
	if secs == nil {
		return "open"
	}
	return dur(*secs)
}

// local writes a time in the review's time zone.
func local(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2 Jan 15:04")
}

func day(t *time.Time, tz string) string {
	if t == nil {
		return "no date"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2 Jan")
}

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e12 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

// trendValue formats a trend's value by its figure.
func trendValue(t Trend, v float64) string {
	switch {
	case strings.HasSuffix(t.Figure, "_share"), t.Figure == "probe_availability":
		return pct(v)
	case strings.HasSuffix(t.Figure, "_seconds"):
		return dur(v)
	}
	return num(v)
}

func arrow(t Trend) string {
	switch t.Direction {
	case "up":
		return "↑"
	case "down":
		return "↓"
	}
	return "→"
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func levelWord(l string) string {
	switch l {
	case LevelCritical:
		return "Needs action"
	case LevelWarn:
		return "Needs attention"
	}
	return "Healthy"
}
