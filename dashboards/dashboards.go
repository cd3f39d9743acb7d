// Package dashboards builds vigil's Grafana dashboards with the
// grafana-foundation-sdk's typed builders: leadership overview, SLO
// detail, probes, on-call and vigil itself. No input files: every panel
// templates over Prometheus label values, so the same JSON serves any set
// of SLOs, journeys, regions and teams.
//
// Metric names come from where they are defined (probes/names.go,
// slo/names.go, oncall/names.go, reviews/names.go); the panels read vigil's
// own gauges (vigil_slo_*, not the slo: recording rules) so they draw the
// same on a real Prometheus and on vigil's embedded query API. The one
// exception is the SLO dashboard's firing-alerts table, which reads
// Prometheus's ALERTS series (only a Prometheus loaded with the generated
// rules has it).
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Stable dashboard UIDs. The rules generator's --dashboard-url points at
// UIDSLO (http://grafana/d/vigil-slo?var-slo={slo}).
const (
	UIDOverview = "vigil-overview"
	UIDSLO      = "vigil-slo"
	UIDProbes   = "vigil-probes"
	UIDOnCall   = "vigil-oncall"
	UIDSelf     = "vigil-self"
)

// Variable names the dashboards template over (also the var-NAME URL
// parameters).
const (
	VarDatasource = "datasource"
	VarService    = "service"
	VarSLO        = "slo"
	VarJourney    = "journey"
	VarRegion     = "region"
	VarStep       = "step"
	VarTeam       = "team"
)

// Tag is on every dashboard, so Grafana lists them together.
const Tag = "vigil"

// Spec is one dashboard: its file name under deploy/grafana/dashboards and
// its builder.
type Spec struct {
	UID   string
	File  string
	build func() *dashboard.DashboardBuilder
}

// Specs lists the dashboards in a fixed order.
func Specs() []Spec {
	return []Spec{
		{UIDOverview, "overview.json", overview},
		{UIDSLO, "slo.json", sloDetail},
		{UIDProbes, "probes.json", probesDashboard},
		{UIDOnCall, "oncall.json", oncallDashboard},
		{UIDSelf, "vigil.json", self},
	}
}

// Build builds one dashboard, numbering its panels in order.
func (s Spec) Build() (dashboard.Dashboard, error) {
	d, err := s.build().Build()
	if err != nil {
		return d, fmt.Errorf("dashboard %s: %w", s.UID, err)
	}
	id := uint32(0)
	for i := range d.Panels {
		id++
		switch {
		case d.Panels[i].Panel != nil:
			d.Panels[i].Panel.Id = cog.ToPtr(id)
		case d.Panels[i].RowPanel != nil:
			d.Panels[i].RowPanel.Id = id
			for j := range d.Panels[i].RowPanel.Panels {
				id++
				d.Panels[i].RowPanel.Panels[j].Id = cog.ToPtr(id)
			}
		}
	}
	return d, nil
}

// Generate returns every dashboard as indented JSON by file name; the
// output is deterministic.
func Generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, s := range Specs() {
		d, err := s.Build()
		if err != nil {
			return nil, err
		}
		b, err := Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", s.UID, err)
		}
		out[s.File] = b
	}
	return out, nil
}

// Marshal renders a dashboard as two-space indented JSON with a final
// newline. (The SDK's own MarshalJSON methods escape < and > in PromQL as
// \u003c and \u003e; Grafana reads either.)
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Query is one PromQL expression of a dashboard: a panel target or a
// template variable's label_values query.
type Query struct {
	Dashboard string
	Panel     string
	Expr      string
	// Variable is the variable's name for a variable query ("" for a
	// panel target); Metric and Label are its label_values parts.
	Variable      string
	Metric, Label string
	// Instant is set for instant panel queries.
	Instant bool
}

// Queries lists every panel target and variable query of a dashboard, in
// order.
func Queries(uid string, d dashboard.Dashboard) []Query {
	var out []Query
	for _, v := range d.Templating.List {
		if v.Type != "query" || v.Query == nil || v.Query.String == nil {
			continue
		}
		metric, label, ok := ParseLabelValues(*v.Query.String)
		if !ok {
			continue
		}
		out = append(out, Query{Dashboard: uid, Variable: v.Name, Expr: metric, Metric: metric, Label: label})
	}
	var panel func(p *dashboard.Panel)
	panel = func(p *dashboard.Panel) {
		title := ""
		if p.Title != nil {
			title = *p.Title
		}
		for _, t := range p.Targets {
			var q *prometheus.Dataquery
			switch v := t.(type) {
			case *prometheus.Dataquery:
				q = v
			case prometheus.Dataquery:
				q = &v
			default:
				continue
			}
			out = append(out, Query{Dashboard: uid, Panel: title, Expr: q.Expr, Instant: q.Instant != nil && *q.Instant})
		}
	}
	for _, pr := range d.Panels {
		if pr.Panel != nil {
			panel(pr.Panel)
		}
		if pr.RowPanel != nil {
			for i := range pr.RowPanel.Panels {
				panel(&pr.RowPanel.Panels[i])
			}
		}
	}
	return out
}

// ParseLabelValues splits a Grafana "label_values(METRIC_SELECTOR, LABEL)"
// variable query.
func ParseLabelValues(s string) (metric, label string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "label_values(") || !strings.HasSuffix(s, ")") {
		return "", "", false
	}
	inner := s[len("label_values(") : len(s)-1]
	i := strings.LastIndex(inner, ",")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(inner[:i]), strings.TrimSpace(inner[i+1:]), true
}

// ---- building blocks ----

// ds is the Prometheus datasource every panel and variable uses: the
// dashboard's datasource variable, so one JSON serves any Prometheus, or
// vigil's own query API.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + VarDatasource + "}")}

// newDashboard starts a dashboard with the datasource variable.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Editable().
		Refresh("1m").
		Time("now-7d", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder(VarDatasource).
			Label("Prometheus").
			Type("prometheus"))
}

// varLabels are the variables' labels in Grafana's variable bar.
var varLabels = map[string]string{VarService: "Service", VarSLO: "SLO", VarJourney: "Journey",
	VarRegion: "Region", VarStep: "Step", VarTeam: "Team"}

// labelValues is a query variable over a label's values on a series.
func labelValues(name, label, metric string, multi bool) *dashboard.QueryVariableBuilder {
	q := "label_values(" + metric + ", " + name + ")"
	if label != "" {
		q = "label_values(" + metric + ", " + label + ")"
	}
	v := dashboard.NewQueryVariableBuilder(name).
		Label(varLabels[name]).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Datasource(ds).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v = v.Multi(true).IncludeAll(true).AllValue(".*")
	}
	return v
}

// rangeQ is a range query; instantQ an instant one (tables, stats of "now").
func rangeQ(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend).Range().Datasource(ds)
}

func instantQ(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend).Instant().Datasource(ds).
		Format(prometheus.PromQueryFormatTable)
}

// step is one threshold step: from value v (nil: the base) the colour c.
type step struct {
	v *float64
	c string
}

func base(c string) step          { return step{nil, c} }
func at(v float64, c string) step { return step{&v, c} }
func thresholds(ss ...step) *dashboard.ThresholdsConfigBuilder {
	var out []dashboard.Threshold
	for _, s := range ss {
		out = append(out, dashboard.Threshold{Value: s.v, Color: s.c})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

// dashed is the override that draws a series as a dashed line without fill:
// thresholds and objectives drawn from queries.
func dashed() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
	}
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func legendTable() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		DisplayMode(common.LegendDisplayModeTable).
		Placement(common.LegendPlacementBottom).
		ShowLegend(true).
		Calcs([]string{"lastNotNull", "max"})
}

// sel renders a selector: matchers in the given order ("name", "op", "value"
// triples), values quoted.
func sel(metric string, m ...string) string {
	if len(m) == 0 {
		return metric
	}
	var parts []string
	for i := 0; i+2 < len(m); i += 3 {
		parts = append(parts, m[i]+m[i+1]+strconv.Quote(m[i+2]))
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// re matches a multi-value variable; eq a single one.
func re(label, variable string) []string { return []string{label, "=~", "$" + variable} }
func eq(label, value string) []string    { return []string{label, "=", value} }
func ne(label, value string) []string    { return []string{label, "!=", value} }

// m joins matcher triples.
func m(ts ...[]string) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t...)
	}
	return out
}

// newTable is a table panel with its footer set (the SDK's default footer
// has a null reducer, which strict loading refuses).
func newTable() *table.PanelBuilder {
	return table.NewPanelBuilder().Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}
