package dashboards

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/rules"
	"github.com/vigil-dev/vigil/slo"
)

// probeSel selects the chosen journeys in the chosen regions.
func probeSel(metric string, extra ...[]string) string {
	return sel(metric, m(append([][]string{re(probes.LabelJourney, VarJourney), re(slo.LabelRegion, VarRegion)}, extra...)...)...)
}

func rate(expr, window string) string { return "rate(" + expr + "[" + window + "])" }
func incr(expr, window string) string { return "increase(" + expr + "[" + window + "])" }

const rateInterval = "$__rate_interval"

// successRatio is success over all runs of a counter with a result label,
// summed by the given labels.
func successRatio(metric, by, window string, extra ...[]string) string {
	ok := probeSel(metric, append(extra, eq(probes.LabelResult, probes.ResultSuccess))...)
	all := probeSel(metric, extra...)
	return "sum by (" + by + ") (" + incr(ok, window) + ") / sum by (" + by + ") (" + incr(all, window) + ")"
}

// probesDashboard shows journeys step by step, per region.
func probesDashboard() *dashboard.DashboardBuilder {
	certLead := rules.DefaultCertLead.Seconds()
	return newDashboard(UIDProbes, "vigil / Probes",
		"Synthetic journeys per region: success per step, why steps fail, how long they take and when certificates expire.").
		Time("now-24h", "now").
		WithVariable(labelValues(VarJourney, probes.LabelJourney, probes.MetricRuns, true)).
		WithVariable(labelValues(VarRegion, slo.LabelRegion, sel(probes.MetricRuns, re(probes.LabelJourney, VarJourney)...), true)).
		WithVariable(labelValues(VarStep, probes.LabelStep, sel(probes.MetricStepRuns, re(probes.LabelJourney, VarJourney)...), true)).
		WithRow(dashboard.NewRowBuilder("Journeys")).
		WithPanel(bargauge.NewPanelBuilder().Title("Success over the time range").
			Description("Runs that passed over all runs, per journey and region, over the dashboard's time range.").
			Unit("percentunit").Min(0).Max(1).Decimals(2).Height(8).Span(8).
			DisplayMode(common.BarGaugeDisplayModeGradient).Orientation(common.VizOrientationHorizontal).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("red"), at(0.99, "yellow"), at(0.999, "green"))).
			WithTarget(instantQ("A", successRatio(probes.MetricRuns, probes.LabelJourney+", "+slo.LabelRegion, "$__range"), "{{"+probes.LabelJourney+"}} {{"+slo.LabelRegion+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Runs by result").
			Description("Runs per second, by result.").Unit("reqps").Height(8).Span(8).Legend(legendTable()).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(30).
			WithTarget(rangeQ("A", "sum by ("+probes.LabelJourney+", "+slo.LabelRegion+", "+probes.LabelResult+") ("+rate(probeSel(probes.MetricRuns), rateInterval)+")",
				"{{"+probes.LabelJourney+"}} {{"+slo.LabelRegion+"}} {{"+probes.LabelResult+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Run duration p50 / p95").
			Description("Journey run duration quantiles from the run-duration histogram.").Unit("s").Height(8).Span(8).Legend(legendTable()).
			WithTarget(rangeQ("A", "histogram_quantile(0.5, sum by (le, "+probes.LabelJourney+", "+slo.LabelRegion+") ("+rate(probeSel(probes.MetricDurationHistogram+"_bucket"), rateInterval)+"))", "p50 {{"+probes.LabelJourney+"}} {{"+slo.LabelRegion+"}}")).
			WithTarget(rangeQ("B", "histogram_quantile(0.95, sum by (le, "+probes.LabelJourney+", "+slo.LabelRegion+") ("+rate(probeSel(probes.MetricDurationHistogram+"_bucket"), rateInterval)+"))", "p95 {{"+probes.LabelJourney+"}} {{"+slo.LabelRegion+"}}"))).
		WithRow(dashboard.NewRowBuilder("Steps")).
		WithPanel(timeseries.NewPanelBuilder().Title("Success per step").
			Description("Step runs that passed over all step runs, per step.").Unit("percentunit").Max(1).Height(8).Span(12).Legend(legendTable()).
			WithTarget(rangeQ("A", successRatio(probes.MetricStepRuns, probes.LabelJourney+", "+probes.LabelStep, rateInterval, re(probes.LabelStep, VarStep)),
				"{{"+probes.LabelJourney+"}} / {{"+probes.LabelStep+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Step failures by reason").
			Description("Why steps failed: status, body, json, header, latency, timeout, connect, dns, tls, cert, extract.").
			Height(8).Span(12).Legend(legendTable()).DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(rangeQ("A", "sum by ("+probes.LabelStep+", "+probes.LabelReason+") ("+incr(probeSel(probes.MetricStepFailures, re(probes.LabelStep, VarStep)), rateInterval)+") > 0",
				"{{"+probes.LabelStep+"}}: {{"+probes.LabelReason+"}}"))).
		WithPanel(heatmap.NewPanelBuilder().Title("Step latency").
			Description("Distribution of step durations (journeys with step_histograms: true).").
			Height(9).Span(12).Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
			Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Oranges").Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64)).
			WithTarget(rangeQ("A", "sum by (le) ("+incr(probeSel(probes.MetricStepDurationHistogram+"_bucket", re(probes.LabelStep, VarStep)), rateInterval)+")", "{{le}}").
				Format(prometheus.PromQueryFormatHeatmap))).
		WithPanel(heatmap.NewPanelBuilder().Title("Run latency").
			Description("Distribution of whole-journey run durations.").
			Height(9).Span(12).Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
			Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Blues").Scale(heatmap.HeatmapColorScaleExponential).Exponent(0.5).Steps(64)).
			WithTarget(rangeQ("A", "sum by (le) ("+incr(probeSel(probes.MetricDurationHistogram+"_bucket"), rateInterval)+")", "{{le}}").
				Format(prometheus.PromQueryFormatHeatmap))).
		WithRow(dashboard.NewRowBuilder("Certificates and streaks")).
		WithPanel(stat.NewPanelBuilder().Title("Certificate expires in").
			Description("The earliest certificate expiry each journey sees; red within the " + strconv.Itoa(int(certLead/86400)) + "-day lead of the ProbeCertificateExpiring alert.").
			Unit("dtdurations").Height(6).Span(12).ReduceOptions(lastValue()).TextMode(common.BigValueTextModeValueAndName).
			Thresholds(thresholds(base("red"), at(certLead, "yellow"), at(2*certLead, "green"))).
			WithTarget(instantQ("A", "min by ("+probes.LabelJourney+") ("+probeSel(probes.MetricSSLEarliestCertExpiry)+") - time()", "{{"+probes.LabelJourney+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Consecutive failures").
			Description("Runs failed in a row; ProbeJourneyFailing fires at " + strconv.Itoa(rules.DefaultConsecutiveFailures) + ".").
			Height(6).Span(12).Legend(legendTable()).Min(0).
			Thresholds(thresholds(base("transparent"), at(float64(rules.DefaultConsecutiveFailures), "red"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
			WithTarget(rangeQ("A", "max by ("+probes.LabelJourney+", "+slo.LabelRegion+") ("+probeSel(probes.MetricConsecutiveFailures)+")", "{{"+probes.LabelJourney+"}} {{"+slo.LabelRegion+"}}")))
}
