package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/vigil-dev/vigil/rules"
	"github.com/vigil-dev/vigil/slo"
)

type sloListView struct {
	At        time.Time
	NoReport  bool
	SLOs      []slo.Status
	NoneSpecs bool
}

// budgetLess sorts by budget remaining, least first; SLOs without a
// figure go last, by name.
func budgetLess(a, b slo.Status) bool {
	ra, rb := a.ErrorBudget.Remaining, b.ErrorBudget.Remaining
	switch {
	case ra != nil && rb != nil && *ra != *rb:
		return *ra < *rb
	case ra != nil && rb == nil:
		return true
	case ra == nil && rb != nil:
		return false
	}
	if a.Service != b.Service {
		return a.Service < b.Service
	}
	return a.Name < b.Name
}

func (u *UI) report() *slo.Report {
	if u.o.SLOReport == nil {
		return nil
	}
	return u.o.SLOReport()
}

func (u *UI) sloList(w http.ResponseWriter, r *http.Request) {
	v := &sloListView{NoneSpecs: len(u.o.SLOs) == 0}
	if rep := u.report(); rep != nil {
		v.At = rep.At
		v.SLOs = append(v.SLOs, rep.SLOs...)
		sort.SliceStable(v.SLOs, func(i, j int) bool { return budgetLess(v.SLOs[i], v.SLOs[j]) })
	} else {
		v.NoReport = true
	}
	u.render(w, r, http.StatusOK, "slos.html", u.newPage(r, "SLOs", v))
}

type sloDetailView struct {
	S        slo.Status
	Spec     *slo.SLO
	At       time.Time
	Tiers    []tierRow
	Burndown *chart
	Failing  *chart
	ChartErr string
}

// tierRow is one alert tier against the SLO's current burn rates.
type tierRow struct {
	Name        string
	Long, Short string
	LongRate    *float64
	ShortRate   *float64
	Threshold   float64
	Firing      bool
	Action      string // page or ticket
	Exhaustion  time.Duration
	BudgetShare string
}

func (u *UI) sloDetail(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var spec *slo.SLO
	for _, s := range u.o.SLOs {
		if s.Name == name {
			spec = s
		}
	}
	rep := u.report()
	var st *slo.Status
	if rep != nil {
		for i := range rep.SLOs {
			if rep.SLOs[i].Name == name {
				st = &rep.SLOs[i]
			}
		}
	}
	if spec == nil || st == nil {
		msg := fmt.Sprintf("There is no SLO named %q.", name)
		if spec != nil {
			msg = fmt.Sprintf("SLO %q has not been evaluated yet; try again in a minute.", name)
		}
		u.problem(w, r, http.StatusNotFound, msg)
		return
	}
	v := &sloDetailView{S: *st, Spec: spec, At: rep.At}
	period := rules.Period(spec)
	for _, t := range rules.Tiers {
		f, _ := t.Factor(period).Float64()
		row := tierRow{Name: t.Name, Long: t.Long.Name, Short: t.Short.Name, Threshold: f,
			LongRate: st.BurnRates.Get(t.Long.Name), ShortRate: st.BurnRates.Get(t.Short.Name),
			Action: "ticket", Exhaustion: t.Exhaustion(period), BudgetShare: t.BudgetShare}
		if t.Page && spec.Pages() {
			row.Action = "page"
		}
		row.Firing = row.LongRate != nil && row.ShortRate != nil && *row.LongRate > f && *row.ShortRate > f
		v.Tiers = append(v.Tiers, row)
	}
	charts, err := u.sloCharts(r.Context(), spec, rep.At)
	if err != nil {
		u.log.Warn("web: SLO charts", "slo", name, "err", err)
		v.ChartErr = "The charts are not available right now: the query engine did not answer."
	} else if charts != nil {
		v.Burndown, v.Failing = charts[0], charts[1]
	}
	u.render(w, r, http.StatusOK, "slo.html", u.newPage(r, spec.Name+" SLO", v))
}

// sloCharts draws the budget burn-down over the SLO's current window and
// its failing minutes per day. The minutes are read once per evaluation
// (cached by the report's time) and summed by slo's own rollup, so every
// point is the figure `vigil slo status` would have printed at that time.
func (u *UI) sloCharts(ctx context.Context, spec *slo.SLO, at time.Time) ([]*chart, error) {
	if u.o.Querier == nil {
		return nil, nil
	}
	v, err := u.memo("slo-charts:"+spec.Name, at.String(), 5*time.Minute, func() (any, error) {
		end := at.UTC().Truncate(time.Minute)
		start, _ := spec.Window.Bounds(end)
		slices, err := slo.FetchSlices(ctx, u.o.Querier, spec, start, end)
		if err != nil {
			return nil, err
		}
		span := end.Sub(start) + 2*time.Hour
		roll := slo.NewRollup(spec, span, span)
		roll.Add(slices...)
		step := time.Hour
		var remaining []slo.Point
		for t := start.Add(step); !t.After(end); t = t.Add(step) {
			st := roll.Status(spec, t, slo.Options{})
			if st.ErrorBudget.Remaining != nil {
				// Early in a window a few failed events overspend the
				// budget many times; below -100% the chart shows -100%.
				remaining = append(remaining, slo.Point{T: t, V: max(*st.ErrorBudget.Remaining, -1)})
			}
		}
		burndown := lineChart("Error budget remaining over the window",
			fmt.Sprintf("Budget remaining from %s to %s (hourly; shown down to -100%%); below zero the objective is missed.", start.UTC().Format("2 Jan 15:04"), end.Format("2 Jan 15:04 UTC")),
			start, end, 0, 1, fmtPct0, []series{{Name: "budget remaining", Class: "line-budget", Points: remaining}},
			[]ref{{V: 0, Class: "limit", Label: "budget spent"}})

		var labels, titles []string
		var values []float64
		prev := 0
		for d := start.Add(24 * time.Hour); ; d = d.Add(24 * time.Hour) {
			if d.After(end) {
				d = end
			}
			cum := roll.Status(spec, d, slo.Options{}).FailingMinutes
			day := d.Add(-time.Minute)
			labels = append(labels, day.Format("2 Jan"))
			values = append(values, float64(cum-prev))
			titles = append(titles, fmt.Sprintf("%s: %d failing minutes", day.Format("Mon 2 Jan"), cum-prev))
			prev = cum
			if !d.Before(end) {
				break
			}
		}
		failing := barChart("Failing minutes per day",
			fmt.Sprintf("%d failing minutes in the window: minutes whose error ratio exceeded the budget of %s.", prev, fmtRatio(spec.Budget())),
			labels, values, func(i int) string {
				if values[i] > 0 {
					return "bar-bad"
				}
				return "bar"
			}, titles, nil)
		return []*chart{burndown, failing}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]*chart), nil
}
