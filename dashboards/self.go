package dashboards

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/vigil-dev/vigil/oncall"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/slo"
)

// Staleness lines of the vigil dashboard, in seconds.
const (
	// runnerSilentAfter: a runner whose journeys gauge has not been seen
	// for this long is down (four 15 s scrapes).
	runnerSilentAfter = 60
	// evaluatorStaleAfter: the evaluator runs every minute.
	evaluatorStaleAfter = 180
)

// self is vigil watching itself: runners, scheduler, evaluator, sources,
// the review outbox.
func self() *dashboard.DashboardBuilder {
	byRegion := "{{" + slo.LabelRegion + "}}"
	ts := func(title, desc string) *timeseries.PanelBuilder {
		return timeseries.NewPanelBuilder().Title(title).Description(desc).Height(8).Span(8).Legend(legendTable())
	}
	staleLine := func(p *timeseries.PanelBuilder, after float64) *timeseries.PanelBuilder {
		return p.Unit("s").Min(0).Thresholds(thresholds(base("transparent"), at(after, "red"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashedAndArea))
	}
	return newDashboard(UIDSelf, "vigil / vigil itself",
		"vigil's own health: probe runners and their scheduler, the SLO evaluator, on-call source syncs, the measures and the review outbox.").
		Time("now-24h", "now").
		WithRow(dashboard.NewRowBuilder("Runners")).
		WithPanel(stat.NewPanelBuilder().Title("Runners up").
			Description("Regions whose runner reported in the last minute.").
			Height(8).Span(8).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("red"), at(1, "green"))).
			WithTarget(instantQ("A", "count(time() - max by ("+slo.LabelRegion+") (timestamp("+probes.MetricJourneys+")) < "+itoa(runnerSilentAfter)+")", "runners"))).
		WithPanel(staleLine(ts("Runner silence", "Seconds since each region's runner last reported; above the line the runner is down."), runnerSilentAfter).
			WithTarget(rangeQ("A", "time() - max by ("+slo.LabelRegion+") (timestamp("+probes.MetricJourneys+"))", byRegion))).
		WithPanel(ts("Journeys, runs in flight and overload skips", "Scheduled journeys, runs executing now, and runs skipped because the previous run was still going.").
			WithTarget(rangeQ("A", "sum by ("+slo.LabelRegion+") ("+probes.MetricJourneys+")", byRegion+" journeys")).
			WithTarget(rangeQ("B", "sum by ("+slo.LabelRegion+") ("+probes.MetricInFlight+")", byRegion+" in flight")).
			WithTarget(rangeQ("C", "sum by ("+slo.LabelRegion+") ("+rate(probes.MetricOverloadSkips, rateInterval)+")", byRegion+" skips/s"))).
		WithPanel(ts("Scheduler start lag p99", "How late runs start against their schedule.").Unit("s").
			WithTarget(rangeQ("A", "histogram_quantile(0.99, sum by (le, "+slo.LabelRegion+") ("+rate(probes.MetricStartLag+"_bucket", rateInterval)+"))", byRegion))).
		WithPanel(ts("Journey files", "1 when the last reload of the journey files succeeded; 0: a bad file, the last good set keeps running.").Min(0).Max(1).
			WithTarget(rangeQ("A", "min by ("+slo.LabelRegion+") ("+probes.MetricConfigLastReloadSuccessful+")", byRegion))).
		WithRow(dashboard.NewRowBuilder("SLO evaluator")).
		WithPanel(staleLine(ts("Evaluator staleness", "Seconds since the last SLO evaluation pass; it runs every minute."), evaluatorStaleAfter).
			WithTarget(rangeQ("A", "time() - max("+slo.MetricLastEvaluation+")", "since last pass"))).
		WithPanel(ts("Evaluation duration p90 and errors", "How long a pass takes, and failed passes per second.").
			WithTarget(rangeQ("A", "histogram_quantile(0.9, sum by (le) ("+rate(slo.MetricEvaluationSeconds+"_bucket", rateInterval)+"))", "p90 seconds")).
			WithTarget(rangeQ("B", "sum("+rate(slo.MetricEvaluationErrors, rateInterval)+")", "errors/s"))).
		WithPanel(ts("SLOs by status", "How many SLOs are in each status.").
			WithTarget(rangeQ("A", "sum by ("+slo.LabelStatus+") ("+slo.MetricStatus+")", "{{"+slo.LabelStatus+"}}"))).
		WithRow(dashboard.NewRowBuilder("Sources, measures and deliveries")).
		WithPanel(ts("Source sync lag", "Seconds between now and where each source's saved cursor has read up to.").Unit("s").
			WithTarget(rangeQ("A", "time() - "+oncall.MetricSourceCursor, "{{"+oncall.LabelSource+"}} {{"+oncall.LabelCursor+"}}"))).
		WithPanel(ts("Measures refresh", "Seconds since the on-call, support and change measures were last read from the store, and failed refreshes.").Unit("s").
			WithTarget(rangeQ("A", "time() - max("+oncall.MetricMeasuresRefresh+")", "since last refresh")).
			WithTarget(rangeQ("B", "sum("+incr(oncall.MetricMeasuresErrors, rateInterval)+")", "failed refreshes"))).
		WithPanel(ts("Review outbox", "Outbox entries by state, and the age of the oldest entry due and not delivered: a stuck delivery shows as a growing age.").
			WithTarget(rangeQ("A", "sum by ("+reviews.LabelState+") ("+reviews.MetricOutboxEntries+")", "{{"+reviews.LabelState+"}}")).
			WithTarget(rangeQ("B", "max("+reviews.MetricOutboxOldestDue+")", "oldest due (s)"))).
		WithPanel(ts("Review deliveries", "Reviews delivered to Slack, deliveries that failed, by error, and attempts stopped because another replica took their entry over (a slow replica; nothing was posted twice).").
			WithTarget(rangeQ("A", "sum("+incr(reviews.MetricDeliveries, rateInterval)+")", "delivered")).
			WithTarget(rangeQ("B", "sum by ("+reviews.LabelError+") ("+incr(reviews.MetricDeliveryFailures, rateInterval)+")", "failed: {{"+reviews.LabelError+"}}")).
			WithTarget(rangeQ("C", "sum("+incr(reviews.MetricClaimsLost, rateInterval)+")", "claims lost")))
}

func itoa(n int) string { return strconv.Itoa(n) }
