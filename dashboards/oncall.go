package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/vigil-dev/vigil/oncall"
)

// teamSel selects the chosen teams.
func teamSel(metric string, extra ...[]string) string {
	return sel(metric, m(append([][]string{re(oncall.LabelTeam, VarTeam)}, extra...)...)...)
}

// weekly reads a this-week-so-far gauge as one value per week: its
// highest value within the week (the week's figure, as the gauges only
// grow within a week). Panels using it step by a week.
func weekly(expr string) string { return "max_over_time(" + expr + "[1w])" }

// bandsFrom finds where oncall.BandOf changes band: the book's bands (under
// 2 healthy, 2 to 5 strained, over 5 unsustainable) come from one place.
func bandsFrom() (strained, unsustainable float64) {
	strained, unsustainable = -1, -1
	for n := 0; n < 100 && unsustainable < 0; n++ {
		switch b := oncall.BandOf(n); {
		case b == oncall.Strained && strained < 0:
			strained = float64(n)
		case b == oncall.Unsustainable:
			unsustainable = float64(n)
		}
	}
	return strained, unsustainable
}

// businessImpactPanel is business-impacting pages per team per week, with
// the book's bands as threshold areas.
func businessImpactPanel(span uint32) *timeseries.PanelBuilder {
	strained, unsustainable := bandsFrom()
	return timeseries.NewPanelBuilder().Title("Business-impacting pages per week").
		Description("High-urgency pages classified business-impacting, per team per ISO week. The book's bands: healthy under 2, strained from 2 to 5, unsustainable over 5 a week (two such weeks in a row: stability first).").
		Height(8).Span(span).Min(0).Legend(legendTable()).Interval("1w").
		DrawStyle(common.GraphDrawStyleBars).FillOpacity(70).
		Thresholds(thresholds(base("green"), at(strained, "yellow"), at(unsustainable, "red"))).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashedAndArea)).
		WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+weekly(teamSel(oncall.MetricBusinessImpacting))+")", "{{"+oncall.LabelTeam+"}}"))
}

// oncallDashboard is the on-call record: load, when pages land, who carries
// them, how fast they are answered.
func oncallDashboard() *dashboard.DashboardBuilder {
	byTeam := "{{" + oncall.LabelTeam + "}}"
	return newDashboard(UIDOnCall, "vigil / On-call",
		"Pager load per team and week: business-impacting pages against the book's five-a-week line, when pages land (business, off and sleep hours), noisy alerts, per-person load, MTTA and MTTR.").
		Time("now-90d", "now").
		WithVariable(labelValues(VarTeam, oncall.LabelTeam, oncall.MetricPages, true)).
		WithRow(dashboard.NewRowBuilder("Load")).
		WithPanel(businessImpactPanel(12)).
		WithPanel(timeseries.NewPanelBuilder().Title("Pages per week by urgency").
			Description("All pages per team and ISO week, high and low urgency.").
			Height(8).Span(12).Min(0).Legend(legendTable()).Interval("1w").DrawStyle(common.GraphDrawStyleBars).FillOpacity(70).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+", "+oncall.LabelUrgency+") ("+weekly(teamSel(oncall.MetricPages))+")", byTeam+" {{"+oncall.LabelUrgency+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Pages by business, off and sleep hours").
			Description("Responders' pages per week by when they reached them, in each responder's own time zone.").
			Height(8).Span(12).Min(0).Legend(legendTable()).Interval("1w").DrawStyle(common.GraphDrawStyleBars).FillOpacity(70).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(rangeQ("A", "sum by ("+oncall.LabelHours+") ("+weekly(teamSel(oncall.MetricPagesByHours))+")", "{{"+oncall.LabelHours+"}}"))).
		WithPanel(timeseries.NewPanelBuilder().Title("False alarms and unclassified pages").
			Description("Pages classified as false alarms, and pages nobody classified yet, per week.").
			Height(8).Span(12).Min(0).Legend(legendTable()).Interval("1w").DrawStyle(common.GraphDrawStyleBars).FillOpacity(70).
			WithTarget(rangeQ("A", "sum by ("+oncall.LabelTeam+") ("+weekly(teamSel(oncall.MetricFalseAlarms))+")", byTeam+" false alarms")).
			WithTarget(rangeQ("B", "sum by ("+oncall.LabelTeam+") ("+weekly(teamSel(oncall.MetricUnclassified))+")", byTeam+" unclassified"))).
		WithPanel(hourOfWeekPanel()).
		WithRow(dashboard.NewRowBuilder("People")).
		WithPanel(bargauge.NewPanelBuilder().Title("Pages per person this week").
			Description("Each responder's pages this week, by business, off and sleep hours.").
			Height(8).Span(12).DisplayMode(common.BarGaugeDisplayModeBasic).Orientation(common.VizOrientationHorizontal).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("green"))).
			WithTarget(instantQ("A", "sum by ("+oncall.LabelPerson+", "+oncall.LabelHours+") ("+teamSel(oncall.MetricPersonPages)+") > 0", "{{"+oncall.LabelPerson+"}} {{"+oncall.LabelHours+"}}"))).
		WithPanel(bargauge.NewPanelBuilder().Title("Time on call (trailing four weeks)").
			Description("Each responder's level-1 share of the last four weeks; the book's line is one week in four.").
			Unit("percentunit").Min(0).Max(1).Height(8).Span(12).DisplayMode(common.BarGaugeDisplayModeBasic).Orientation(common.VizOrientationHorizontal).ReduceOptions(lastValue()).
			Thresholds(thresholds(base("green"), at(1.0/oncall.MinRotation+0.0001, "red"))).
			WithTarget(instantQ("A", "max by ("+oncall.LabelPerson+") ("+teamSel(oncall.MetricPersonOnCallShare)+")", "{{"+oncall.LabelPerson+"}}"))).
		WithPanel(newTable().Title("Noisy alerts this week").
			Description("The alerts that paged most this week (normalised titles).").
			Height(8).Span(12).NoValue("no pages this week").
			WithTarget(instantQ("A", "sort_desc("+teamSel(oncall.MetricAlertPages)+")", ""))).
		WithPanel(timeseries.NewPanelBuilder().Title("MTTA and MTTR").
			Description("Mean time to acknowledge and to resolve this week's pages, per team.").
			Unit("s").Height(8).Span(12).Legend(legendTable()).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricTimeToAck, eq(oncall.LabelStat, oncall.StatMean))+")", byTeam+" MTTA")).
			WithTarget(rangeQ("B", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricTimeToResolve, eq(oncall.LabelStat, oncall.StatMean))+")", byTeam+" MTTR"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Interruptions").
			Description("Notifications that reached a person, and distinct hours with one, this week.").
			Height(8).Span(12).Legend(legendTable()).
			WithTarget(rangeQ("A", "sum by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricInterruptions)+")", byTeam+" interruptions")).
			WithTarget(rangeQ("B", "sum by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricHoursInterrupted)+")", byTeam+" hours interrupted"))).
		WithPanel(timeseries.NewPanelBuilder().Title("Rotation size").
			Description("People with an on-call week in the trailing eight; under 4 is too small for one week in four.").
			Height(8).Span(12).Legend(legendTable()).Min(0).
			Thresholds(thresholds(base("red"), at(oncall.MinRotation, "transparent"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
			WithTarget(rangeQ("A", "max by ("+oncall.LabelTeam+") ("+teamSel(oncall.MetricRotationSize)+")", byTeam)))
}

// hourOfWeekPanel is this week's high-urgency pages as a day-by-hour grid
// (team time zone): rows Monday to Sunday, columns 00 to 23, cells coloured
// by count. The collector exports only cells with a page, so the grid has
// the hours that paged.
func hourOfWeekPanel() *table.PanelBuilder {
	corner := oncall.LabelDay + "\\" + oncall.LabelHour // groupingToMatrix names the corner row\column
	return newTable().Title("Pages by hour of week").
		Description("This week's high-urgency pages by day of week and hour they were created, in each team's time zone (summed over the chosen teams). Only hours with a page have a column.").
		Height(8).Span(24).NoValue("no pages this week").
		Thresholds(thresholds(base("transparent"), at(1, "yellow"), at(2, "orange"), at(3, "red"))).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
			Type: common.TableCellDisplayModeColorBackground, Mode: cog.ToPtr(common.TableCellBackgroundDisplayModeBasic)}}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(corner)}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"rowField": oncall.LabelDay, "columnField": oncall.LabelHour, "valueField": "Value", "emptyValue": "zero"}}).
		WithTarget(instantQ("A", "sum by ("+oncall.LabelDay+", "+oncall.LabelHour+") ("+teamSel(oncall.MetricPagesByHourOfWeek)+")", ""))
}
