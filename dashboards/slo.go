package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/vigil-dev/vigil/rules"
	"github.com/vigil-dev/vigil/slo"
)

// sloSel selects the chosen SLO of the chosen service(s).
func sloSel(metric string, extra ...[]string) string {
	return sel(metric, m(append([][]string{re(slo.LabelService, VarService), eq(slo.LabelSLO, "$"+VarSLO)}, extra...)...)...)
}

// sloDetail is one SLO: where it stands, how fast it burns against each
// alert tier, what is firing.
func sloDetail() *dashboard.DashboardBuilder {
	b := newDashboard(UIDSLO, "vigil / SLO detail",
		"One SLO: the SLI over its window, burn rates for each alert tier with the alert's threshold drawn, the error budget burning down, failing minutes and firing alerts.").
		Time("now-30d", "now").
		WithVariable(labelValues(VarService, slo.LabelService, slo.MetricObjective, true)).
		WithVariable(labelValues(VarSLO, slo.LabelSLO, sel(slo.MetricObjective, re(slo.LabelService, VarService)...), false))

	pct := func(title, desc, expr string, th *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
		return stat.NewPanelBuilder().Title(title).Description(desc).Unit("percentunit").Decimals(3).
			Height(4).Span(4).ReduceOptions(lastValue()).ColorMode(common.BigValueColorModeValue).
			GraphMode(common.BigValueGraphModeArea).Thresholds(th).
			WithTarget(rangeQ("A", expr, "{{"+slo.LabelSLO+"}}"))
	}
	b = b.WithRow(dashboard.NewRowBuilder("Where it stands")).
		WithPanel(pct("Objective", "The SLO's objective.", sloSel(slo.MetricObjective), thresholds(base("text")))).
		WithPanel(pct("SLI over the window", "Good events over all events across the SLO window.",
			sloSel(slo.MetricSLI), thresholds(base("blue")))).
		WithPanel(pct("Error budget remaining", "Share of the window's error budget left; below zero the budget is spent.",
			sloSel(slo.MetricBudgetRemaining), thresholds(base("red"), at(0, "orange"), at(0.25, "yellow"), at(0.5, "green")))).
		WithPanel(stat.NewPanelBuilder().Title("Status").Description("The evaluator's status: ok, burning, exhausted, no data, no traffic or stale.").
			Height(4).Span(4).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeName).ColorMode(common.BigValueColorModeBackground).
			Thresholds(thresholds(base("green"))).
			WithTarget(instantQ("A", sloSel(slo.MetricStatus)+" == 1", "{{"+slo.LabelStatus+"}}"))).
		WithPanel(stat.NewPanelBuilder().Title("Failing minutes").Description("Minutes in the window whose error ratio exceeded the budget.").
			Height(4).Span(4).ReduceOptions(lastValue()).Thresholds(thresholds(base("green"), at(1, "yellow"))).
			WithTarget(rangeQ("A", sloSel(slo.MetricFailingMinutes), "{{"+slo.LabelSLO+"}}"))).
		WithPanel(stat.NewPanelBuilder().Title("Budget gone in").Description("At the 1h burn rate, how long until the whole budget is spent (empty when not burning).").
			Height(4).Span(4).Unit("dtdurations").ReduceOptions(lastValue()).NoValue("not burning").
			Thresholds(thresholds(base("red"), at(3*86400, "orange"), at(7*86400, "green"))).
			WithTarget(rangeQ("A", sloSel(slo.MetricTimeToExhaustion), "{{"+slo.LabelSLO+"}}")))

	b = b.WithRow(dashboard.NewRowBuilder("Over time")).
		WithPanel(timeseries.NewPanelBuilder().Title("SLI over the window").
			Description("The SLI over the SLO's window at each point in time, with the objective dashed.").
			Unit("percentunit").Decimals(3).Height(8).Span(12).Legend(legendTable()).
			WithTarget(rangeQ("A", sloSel(slo.MetricSLI), "SLI")).
			WithTarget(rangeQ("B", sloSel(slo.MetricObjective), "objective")).
			OverrideByName("objective", dashed())).
		WithPanel(timeseries.NewPanelBuilder().Title("Error budget burn-down").
			Description("Share of the window's error budget remaining; it should end the window above zero.").
			Unit("percentunit").Height(8).Span(12).Legend(legendTable()).FillOpacity(10).
			Thresholds(thresholds(base("red"), at(0, "transparent"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashedAndArea)).
			WithTarget(rangeQ("A", sloSel(slo.MetricBudgetRemaining), "remaining"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Failing minutes").
			Description("Minutes in the window whose error ratio exceeded the budget: what leadership reads as downtime.").
			Height(8).Span(12).Legend(legendTable()).
			WithTarget(rangeQ("A", sloSel(slo.MetricFailingMinutes), "failing minutes"))).
		WithPanel(newTable().Title("Firing alerts").
			Description("The SLO's alerts firing now (Prometheus's ALERTS series: needs a Prometheus loaded with `vigil rules generate`'s rules).").
			Height(8).Span(12).NoValue("nothing firing").
			WithTarget(instantQ("A", sel("ALERTS", m(eq("alertstate", "firing"), re(slo.LabelService, VarService), eq(slo.LabelSLO, "$"+VarSLO))...), "")))

	b = b.WithRow(dashboard.NewRowBuilder("Burn rate by alert tier"))
	for _, t := range rules.Tiers {
		b = b.WithPanel(burnPanel(t))
	}
	return b
}

// burnPanel draws a tier's long and short window burn rates and the
// tier's threshold, which depends on the SLO's window: BudgetShare of the
// budget spent within Long, so factor = share × window / long.
func burnPanel(t rules.Tier) *timeseries.PanelBuilder {
	kind := "ticket"
	if t.Page {
		kind = "page"
	}
	share, _ := strconv.ParseFloat(t.BudgetShare, 64)
	long := strconv.FormatFloat(t.Long.Duration.Seconds(), 'f', -1, 64)
	title := fmt.Sprintf("Burn rate: %s / %s tier (%s)", t.Long.Name, t.Short.Name, kind)
	threshold := fmt.Sprintf("threshold (%s%% of budget in %s)", strconv.FormatFloat(share*100, 'f', -1, 64), t.Long.Name)
	return timeseries.NewPanelBuilder().Title(title).
		Description(fmt.Sprintf("The alert fires when both the %s and the %s burn rates are above the dashed threshold. 1 spends exactly the budget over the window.", t.Long.Name, t.Short.Name)).
		Height(8).Span(12).Legend(legendTable()).Min(0).
		WithTarget(rangeQ("A", sloSel(slo.MetricBurnRate, eq(slo.LabelWindow, t.Long.Name)), t.Long.Name)).
		WithTarget(rangeQ("B", sloSel(slo.MetricBurnRate, eq(slo.LabelWindow, t.Short.Name)), t.Short.Name)).
		WithTarget(rangeQ("C", sloSel(slo.MetricWindowSeconds)+" * "+t.BudgetShare+" / "+long, threshold)).
		OverrideByName(threshold, dashed())
}
