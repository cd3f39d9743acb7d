package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// overview is the leadership page: readable at a glance by someone who
// does not run the platform.
func overview() *dashboard.DashboardBuilder {
	byTeam := "{{" + oncall.LabelTeam + "}}"
	bySLO := "{{" + slo.LabelService + "}} / {{" + slo.LabelSLO + "}}"
	return newDashboard(UIDOverview, "vigil / Leadership overview",
		"Reliability at a glance: is each service within its SLO, how hard is on-call, how are support and changes going, and do the user journeys work from every region.").
		WithVariable(labelValues(VarTeam, oncall.LabelTeam, oncall.MetricPages, true)).
		WithRow(dashboard.NewRowBuilder("Services")).
		WithPanel(bargauge.NewPanelBuilder().Title("Error budget remaining").
			Description("Per SLO: share of the error budget left over its window. Green: plenty; yellow: under half; red: spent.").
			Unit("percentunit").Min(0).Max(1).Height(8).Span(12).
			DisplayMode(common.BarGaugeDisplayModeGradient).Orientation(common.VizOrientationHorizontal).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("red"), at(0, "orange"), at(0.25, "yellow"), at(0.5, "green"))).
			WithTarget(instantQ("A", slo.MetricBudgetRemaining, bySLO))).
		WithPanel(newTable().Title("SLO status").
			Description("Per SLO: ok, burning (spending budget faster than it lasts), exhausted, or no data.").
			Height(8).Span(12).
			WithTarget(instantQ("A", "max by ("+slo.LabelService+", "+slo.LabelSLO+", "+slo.LabelStatus+") ("+slo.MetricStatus+" == 1)", ""))).
		WithRow(dashboard.NewRowBuilder("On-call")).
		WithPanel(businessImpactPanel(12)).
		WithPanel(stat.NewPanelBuilder().Title("Pages outside business hours").
			Description("Share of this week's pages that reached people in off or sleep hours, per team.").
			Unit("percentunit").Height(8).Span(12).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeValueAndName).
			Thresholds(thresholds(base("green"), at(0.25, "yellow"), at(0.5, "red"))).
			WithTarget(rangeQ("A", "sum by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricPagesByHours, ne(oncall.LabelHours, string(oncall.Business)))+") / sum by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricPagesByHours)+")", byTeam))).
		WithRow(dashboard.NewRowBuilder("Support and changes")).
		WithPanel(timeseries.NewPanelBuilder().Title("Support backlog").
			Description("Open support tickets per team.").
			Height(8).Span(6).Min(0).Legend(legendTable()).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricSupportOpen)+")", byTeam))).
		WithPanel(stat.NewPanelBuilder().Title("Support SLA breaches this week").
			Description("First-response and resolution SLA breaches this week, per team.").
			Height(8).Span(6).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeValueAndName).
			Thresholds(thresholds(base("green"), at(1, "red"))).
			WithTarget(rangeQ("A", "sum by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricSupportSLABreaches)+")", byTeam))).
		WithPanel(stat.NewPanelBuilder().Title("Changes that kept all three rules").
			Description("Share of this week's changes that were documented, reviewed and tested.").
			Unit("percentunit").Height(8).Span(6).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeValueAndName).
			Thresholds(thresholds(base("red"), at(0.8, "yellow"), at(0.95, "green"))).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricChangesCompliant, eq(oncall.LabelRule, oncall.RuleAllThree))+") / max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricChanges)+" > 0)", byTeam))).
		WithPanel(stat.NewPanelBuilder().Title("Change failure rate").
			Description("Share of this week's changes that led to a failure (a linked incident or a page soon after).").
			Unit("percentunit").Height(8).Span(6).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeValueAndName).
			Thresholds(thresholds(base("green"), at(0.15, "yellow"), at(0.3, "red"))).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricChangeFailureRatio)+")", byTeam))).
		WithRow(dashboard.NewRowBuilder("User journeys")).
		WithPanel(bargauge.NewPanelBuilder().Title("Probe availability per region").
			Description("Share of synthetic journey runs that passed over the time range, per region.").
			Unit("percentunit").Min(0).Max(1).Decimals(2).Height(8).Span(24).
			DisplayMode(common.BarGaugeDisplayModeGradient).Orientation(common.VizOrientationHorizontal).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("red"), at(0.99, "yellow"), at(0.999, "green"))).
			WithTarget(instantQ("A", "sum by ("+slo.LabelRegion+") ("+incr(sel(probes.MetricRuns, eq(probes.LabelResult, probes.ResultSuccess)...), "$__range")+") / sum by ("+slo.LabelRegion+") ("+incr(probes.MetricRuns, "$__range")+")", "{{"+slo.LabelRegion+"}}")))
}
