package rules

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

// Tier is one row of the multiwindow, multi-burn-rate table: an alert fires
// when the error ratio over both Long and Short exceeds Factor × budget,
// that is when BudgetShare of the SLO window's budget was spent within Long.
type Tier struct {
	// Name is the stable slo_tier label value (the long window's name):
	// Alertmanager inhibits slower tiers by it.
	Name        string
	Long, Short slo.BurnWindow
	// BudgetShare is the share of the window's budget spent in Long, as a
	// decimal string so factors derive exactly ("0.02").
	BudgetShare string
	// Page says the tier pages (for SLOs that page at all); otherwise it
	// opens a ticket.
	Page bool
}

// Tiers is the window table of the SRE workbook (table 5-8, plus the 1d/2h
// tier of its final example), fastest first. For a 30-day window the
// factors come out as 14.4, 6, 3 and 1; other windows scale by budget share
// (28d: 13.44, 5.6, 2.8, 0.9333333333333333). Windows stay fixed: they are
// what a responder reasons about, and the recording rules hold exactly them.
var Tiers = []Tier{
	{Name: "1h", Long: window("1h"), Short: window("5m"), BudgetShare: "0.02", Page: true},
	{Name: "6h", Long: window("6h"), Short: window("30m"), BudgetShare: "0.05", Page: true},
	{Name: "1d", Long: window("1d"), Short: window("2h"), BudgetShare: "0.1"},
	{Name: "3d", Long: window("3d"), Short: window("6h"), BudgetShare: "0.1"},
}

func window(name string) slo.BurnWindow {
	for _, w := range slo.BurnRateWindows {
		if w.Name == name {
			return w
		}
	}
	panic("rules: window " + name + " is not in slo.BurnRateWindows")
}

// Factor is the tier's burn-rate factor for an SLO window of length period:
// BudgetShare × period / Long, exact as a rational.
func (t Tier) Factor(period time.Duration) *big.Rat {
	share, ok := new(big.Rat).SetString(t.BudgetShare)
	if !ok {
		panic("rules: bad budget share " + t.BudgetShare)
	}
	return share.Mul(share, big.NewRat(int64(period/time.Second), int64(t.Long.Duration/time.Second)))
}

// Exhaustion is how long the whole budget lasts at the tier's factor.
func (t Tier) Exhaustion(period time.Duration) time.Duration {
	f, _ := t.Factor(period).Float64()
	return time.Duration(float64(period) / f).Round(time.Minute)
}

// num prints a rational as the shortest decimal that round-trips through
// float64: 14.4, 0.9333333333333333, 0.005.
func num(r *big.Rat) string {
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// pct prints a ratio as a percentage, shortest form: 0.072 → "7.2".
func pct(r *big.Rat) string {
	return num(new(big.Rat).Mul(r, big.NewRat(100, 1)))
}

// budgetRat is the SLO's error budget, 1 − objective, computed on the
// objective as written (99.9 → 1/1000 exactly).
func budgetRat(s *slo.SLO) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(s.ObjectivePercent, 'g', -1, 64))
	if !ok {
		r = new(big.Rat).SetFloat64(s.Objective * 100)
	}
	r.Sub(big.NewRat(100, 1), r)
	return r.Quo(r, big.NewRat(100, 1))
}

// Calendar windows have no fixed length; the rules treat them as rolling
// windows of the period's usual length (see the package documentation).
var calendarLength = map[slo.Period]time.Duration{
	slo.Week:    7 * 24 * time.Hour,
	slo.Month:   30 * 24 * time.Hour,
	slo.Quarter: 90 * 24 * time.Hour,
}

// Period is the window length the rules use for an SLO: its rolling window,
// or the usual length of its calendar period (week 7d, month 30d, quarter 90d).
func Period(s *slo.SLO) time.Duration {
	if s.Window.IsCalendar() {
		if d, ok := calendarLength[s.Window.Period]; ok {
			return d
		}
		panic(fmt.Sprintf("rules: no length for calendar period %q", s.Window.Period))
	}
	return s.Window.Rolling
}

// human prints a duration for people: 50h → "2d2h", 30d → "30d", 90s → "2m".
func human(d time.Duration) string {
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	hours := d / time.Hour
	d -= hours * time.Hour
	mins := d / time.Minute
	out := ""
	if days > 0 {
		out += strconv.Itoa(int(days)) + "d"
	}
	if hours > 0 {
		out += strconv.Itoa(int(hours)) + "h"
	}
	if mins > 0 || out == "" {
		out += strconv.Itoa(int(mins)) + "m"
	}
	return out
}
