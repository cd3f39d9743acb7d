package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

func (u *UI) parseTemplates() error {
	funcs := template.FuncMap{
		"dur": fmtDur, "avail": fmtAvail, "pct": fmtPct, "ratio": fmtRatio, "ratiop": fmtRatioPtr,
		"rate": fmtRate, "when": fmtWhen, "ago": func(t time.Time) string { return fmtAgo(u.o.Now(), t) },
		"secs":  func(s float64) string { return fmtDur(time.Duration(s * float64(time.Second))) },
		"ttl":   fmtTTL,
		"badge": badgeClass, "availClass": availClass, "stateWord": stateWord,
		"pathEscape": pathEscape, "anchor": anchorID, "slug": slug,
		"inLoc": func(t time.Time, tz string) string {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				loc = time.UTC
			}
			return t.In(loc).Format("Mon 2 Jan 15:04")
		},
		"isZero": func(t time.Time) bool { return t.IsZero() },
	}
	u.tmpl = map[string]*template.Template{}
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return err
	}
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		t, err := template.New(n.Name()).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n.Name())
		if err != nil {
			return fmt.Errorf("web templates: %w", err)
		}
		u.tmpl[n.Name()] = t
	}
	return nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}

// fmtAvail prints an availability with enough nines to tell 99.9 from
// 99.99; "no data" when nil.
func fmtAvail(v *float64) string {
	if v == nil {
		return "no data"
	}
	return strconv.FormatFloat(math.Floor(*v*1e5)/1e3, 'f', 3, 64) + "%"
}

func fmtPct(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/1e2, 'f', -1, 64) + "%"
}

func fmtPct0(v float64) string { return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + "%" }

func fmtRatio(v float64) string {
	return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
}

func fmtRatioPtr(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtPct(*v)
}

func fmtRate(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(math.Round(*v*100)/100, 'f', 2, 64) + "×"
}

func fmtTTL(v *float64) string {
	if v == nil {
		return "not at the current rate"
	}
	if *v <= 0 {
		return "exhausted"
	}
	return fmtDur(time.Duration(*v * float64(time.Second)))
}

func fmtWhen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func fmtAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + fmtDur(-d)
	}
	return fmtDur(d) + " ago"
}

// badgeClass maps an SLO status to its badge colour.
func badgeClass(state string) string {
	switch state {
	case slo.StatusOK:
		return "ok"
	case slo.StatusBurning:
		return "warn"
	case slo.StatusExhausted:
		return "bad"
	}
	return "muted"
}

func stateWord(state string) string {
	return strings.ReplaceAll(state, "_", " ")
}

func pathEscape(s string) string { return url.PathEscape(s) }
