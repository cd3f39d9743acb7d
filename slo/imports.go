package slo

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
)

// ---- Sloth prometheus/v1 ----

type slothFile struct {
	Version string            `yaml:"version"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	SLOs    []slothSLO        `yaml:"slos"`
}

type slothSLO struct {
	Name        string            `yaml:"name"`
	Objective   *float64          `yaml:"objective"`
	Description string            `yaml:"description"`
	Labels      map[string]string `yaml:"labels"`
	SLI         struct {
		Events *struct {
			ErrorQuery string `yaml:"error_query"`
			TotalQuery string `yaml:"total_query"`
		} `yaml:"events"`
		Raw *struct {
			ErrorRatioQuery string `yaml:"error_ratio_query"`
		} `yaml:"raw"`
		Plugin any `yaml:"plugin"`
	} `yaml:"sli"`
	Alerting struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		PageAlert   slothAlert        `yaml:"page_alert"`
		TicketAlert slothAlert        `yaml:"ticket_alert"`
	} `yaml:"alerting"`
}

type slothAlert struct {
	Disable     bool              `yaml:"disable"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// slothWindow is Sloth's default SLO period (it has no per-SLO window).
const slothWindow = 30 * 24 * time.Hour

func parseSloth(file string, data []byte, exp *interp.Expander) ([]*SLO, error) {
	var f slothFile
	doc, err := yamlx.Decode(file, data, &f, yamlx.Options{Expander: exp})
	if err != nil {
		return nil, err
	}
	if len(f.SLOs) == 0 {
		doc.Errorf("slos", "expected a list of SLOs under slos:, found none")
	}
	var out []*SLO
	for i, n := range f.SLOs {
		p := fmt.Sprintf("slos[%d]", i)
		v := &validator{doc: doc, path: func(field string) string {
			switch field {
			case "service":
				return "service"
			case "window":
				return p
			}
			return p + "." + field
		}}
		labels := map[string]string{}
		for k, x := range f.Labels {
			labels[k] = x
		}
		for k, x := range n.Labels {
			labels[k] = x
		}
		s := &SLO{Name: n.Name, Service: f.Service, Description: n.Description, Labels: labels,
			Class: Internal, Window: Window{Rolling: slothWindow}, Budgeting: Budgeting{Method: Occurrences},
			// Sloth pages unless the page alert is disabled; keep that.
			Page:   !n.Alerting.PageAlert.Disable,
			Source: Source{File: file, Line: doc.Line(p), Format: "sloth"}}
		if len(labels) == 0 {
			s.Labels = nil
		}
		v.objectivePercent(s, n.Objective, "objective")
		switch {
		case n.SLI.Plugin != nil:
			v.errorf("sli.plugin", "Sloth SLI plugins are not supported: write the SLI as sli.events or sli.raw")
		case (n.SLI.Events != nil) == (n.SLI.Raw != nil):
			v.errorf("sli", "expected exactly one of sli.events and sli.raw")
		case n.SLI.Events != nil:
			if n.SLI.Events.ErrorQuery == "" || n.SLI.Events.TotalQuery == "" {
				v.errorf("sli.events", "expected error_query and total_query")
				break
			}
			s.SLI = SLI{Kind: KindEvents, ErrorQuery: n.SLI.Events.ErrorQuery, TotalQuery: n.SLI.Events.TotalQuery}
			v.compileSLI(s, true, false)
		default:
			s.SLI = SLI{Kind: KindRaw, ErrorRatioQuery: n.SLI.Raw.ErrorRatioQuery}
			v.compileSLI(s, true, false)
		}
		v.common(s)
		out = append(out, s)
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- OpenSLO v1 ----

type osloDoc struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Metadata   osloMetadata `yaml:"metadata"`
	Spec       struct {
		Description     string            `yaml:"description"`
		Service         string            `yaml:"service"`
		Indicator       *osloIndicator    `yaml:"indicator"`
		IndicatorRef    string            `yaml:"indicatorRef"`
		TimeWindow      []osloTimeWindow  `yaml:"timeWindow"`
		BudgetingMethod string            `yaml:"budgetingMethod"`
		Objectives      []osloObjective   `yaml:"objectives"`
		AlertPolicies   []any             `yaml:"alertPolicies"`
		Labels          map[string]any    `yaml:"labels"`
		Annotations     map[string]string `yaml:"annotations"`
	} `yaml:"spec"`
}

type osloMetadata struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type osloIndicator struct {
	Metadata osloMetadata `yaml:"metadata"`
	Spec     struct {
		RatioMetric     *osloRatio `yaml:"ratioMetric"`
		ThresholdMetric any        `yaml:"thresholdMetric"`
	} `yaml:"spec"`
}

type osloRatio struct {
	Counter bool        `yaml:"counter"`
	Good    *osloMetric `yaml:"good"`
	Bad     *osloMetric `yaml:"bad"`
	Total   *osloMetric `yaml:"total"`
	Raw     *osloMetric `yaml:"raw"`
	RawType string      `yaml:"rawType"`
}

type osloMetric struct {
	MetricSource struct {
		MetricSourceRef string         `yaml:"metricSourceRef"`
		Type            string         `yaml:"type"`
		Spec            map[string]any `yaml:"spec"`
	} `yaml:"metricSource"`
}

type osloTimeWindow struct {
	Duration  string `yaml:"duration"`
	IsRolling bool   `yaml:"isRolling"`
	Calendar  *struct {
		StartTime string `yaml:"startTime"`
		TimeZone  string `yaml:"timeZone"`
	} `yaml:"calendar"`
}

type osloObjective struct {
	DisplayName     string   `yaml:"displayName"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Target          *float64 `yaml:"target"`
	TargetPercent   *float64 `yaml:"targetPercent"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	TimeSliceWindow string   `yaml:"timeSliceWindow"`
	CompositeWeight *float64 `yaml:"compositeWeight"`
}

func parseOpenSLO(file string, data []byte, exp *interp.Expander) ([]*SLO, error) {
	var out []*SLO
	var errs yamlx.Errors
	for _, d := range splitDocs(data) {
		s, err := parseOpenSLODoc(file, d, exp)
		if err != nil {
			errs = appendErrs(errs, err)
			continue
		}
		out = append(out, s)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, yamlx.Errors{{File: file, Line: 1, Msg: "expected an OpenSLO SLO document, found none"}}
	}
	return out, nil
}

func parseOpenSLODoc(file string, data []byte, exp *interp.Expander) (*SLO, error) {
	var d osloDoc
	doc, err := yamlx.Decode(file, data, &d, yamlx.Options{Expander: exp})
	if err != nil {
		return nil, err
	}
	if d.APIVersion != VersionOpenSLO {
		doc.Errorf("apiVersion", "unsupported apiVersion %q: expected %s", d.APIVersion, VersionOpenSLO)
		return nil, doc.Err()
	}
	if d.Kind != "SLO" {
		doc.Errorf("kind", "unsupported OpenSLO kind %q: vigil imports kind: SLO with an inline indicator", d.Kind)
		return nil, doc.Err()
	}
	paths := map[string]string{"name": "metadata.name", "service": "spec.service", "labels": "metadata.labels",
		"objective": "spec.objectives[0]", "window": "spec.timeWindow"}
	v := &validator{doc: doc, path: func(f string) string {
		if p, ok := paths[f]; ok {
			return p
		}
		if strings.HasPrefix(f, "labels.") {
			return "metadata." + f
		}
		if strings.HasPrefix(f, "sli") {
			return "spec.indicator.spec.ratioMetric"
		}
		return "spec"
	}}
	s := &SLO{Name: d.Metadata.Name, Service: d.Spec.Service, Description: d.Spec.Description,
		Class: Internal, Budgeting: Budgeting{Method: Occurrences},
		Source: Source{File: file, Line: doc.Line(""), Format: "openslo"}}
	for k, x := range d.Metadata.Labels {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		switch x := x.(type) {
		case string:
			s.Labels[k] = x
		case []any:
			// OpenSLO allows a list of values per label; Prometheus has one.
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			s.Labels[k] = strings.Join(parts, ",")
		default:
			s.Labels[k] = fmt.Sprint(x)
		}
	}
	// Objective.
	var obj osloObjective
	switch len(d.Spec.Objectives) {
	case 0:
		doc.Errorf("spec.objectives", "expected one objective, found none")
	case 1:
		obj = d.Spec.Objectives[0]
		switch {
		case obj.Target != nil && obj.TargetPercent != nil:
			doc.Errorf("spec.objectives[0].target", "set target or targetPercent, not both")
		case obj.Target != nil:
			if *obj.Target <= 0 || *obj.Target >= 1 {
				doc.Errorf("spec.objectives[0].target", "expected target in (0, 1), found %v", *obj.Target)
			} else {
				pct := decimalShift(*obj.Target, 2)
				v.objectivePercent(s, &pct, "objective")
			}
		case obj.TargetPercent != nil:
			p := "spec.objectives[0].targetPercent"
			(&validator{doc: doc, path: func(string) string { return p }}).objectivePercent(s, obj.TargetPercent, "")
		default:
			doc.Errorf("spec.objectives[0]", "expected target or targetPercent")
		}
		if obj.Value != nil || obj.Op != "" {
			doc.Errorf("spec.objectives[0]", "threshold objectives (op, value) are not supported: use a ratioMetric indicator")
		}
	default:
		doc.Errorf("spec.objectives[1]", "expected one objective per SLO, found %d: split them into separate SLOs", len(d.Spec.Objectives))
	}
	// Time window.
	if len(d.Spec.TimeWindow) != 1 {
		doc.Errorf("spec.timeWindow", "expected exactly one timeWindow, found %d", len(d.Spec.TimeWindow))
	} else {
		tw := d.Spec.TimeWindow[0]
		if tw.IsRolling {
			(&validator{doc: doc, path: func(string) string { return "spec.timeWindow[0].duration" }}).rolling(s, tw.Duration, "")
		} else {
			period := map[string]Period{"1w": Week, "1W": Week, "7d": Week, "1M": Month, "1Q": Quarter}[tw.Duration]
			tz := ""
			if tw.Calendar != nil {
				tz = tw.Calendar.TimeZone
			}
			if period == "" {
				doc.Errorf("spec.timeWindow[0].duration", "expected a calendar duration 1w, 1M or 1Q, found %q", tw.Duration)
			} else {
				(&validator{doc: doc, path: func(string) string { return "spec.timeWindow[0].calendar.timeZone" }}).
					calendar(s, string(period), tz, "", "")
			}
		}
	}
	// Budgeting.
	switch d.Spec.BudgetingMethod {
	case "Occurrences", "":
	case "Timeslices":
		gw := 0.0
		if obj.TimeSliceTarget != nil {
			gw = *obj.TimeSliceTarget
		}
		w := obj.TimeSliceWindow
		if w == "" {
			w = "1m"
		}
		(&validator{doc: doc, path: func(f string) string { return "spec.objectives[0]." + f }}).
			timeslices(s, w, gw, "timeSliceWindow", "timeSliceTarget")
	default:
		doc.Errorf("spec.budgetingMethod", "unsupported budgetingMethod %q: expected Occurrences or Timeslices", d.Spec.BudgetingMethod)
	}
	// Indicator.
	switch {
	case d.Spec.IndicatorRef != "":
		doc.Errorf("spec.indicatorRef", "indicatorRef is not supported: inline the SLI under spec.indicator")
	case d.Spec.Indicator == nil:
		doc.Errorf("spec", "expected spec.indicator")
	case d.Spec.Indicator.Spec.ThresholdMetric != nil:
		doc.Errorf("spec.indicator.spec.thresholdMetric", "thresholdMetric indicators are not supported: use ratioMetric")
	case d.Spec.Indicator.Spec.RatioMetric == nil:
		doc.Errorf("spec.indicator.spec", "expected ratioMetric")
	default:
		osloSLI(doc, s, d.Spec.Indicator.Spec.RatioMetric)
	}
	v.common(s)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func osloSLI(doc *yamlx.Doc, s *SLO, r *osloRatio) {
	base := "spec.indicator.spec.ratioMetric"
	query := func(name string, m *osloMetric) (string, bool) {
		p := base + "." + name + ".metricSource"
		ms := m.MetricSource
		if ms.MetricSourceRef != "" {
			doc.Errorf(p+".metricSourceRef", "metricSourceRef is not supported: vigil queries its configured Prometheus")
			return "", false
		}
		if ms.Type != "" && !strings.EqualFold(ms.Type, "prometheus") {
			doc.Errorf(p+".type", "unsupported metric source type %q: expected Prometheus", ms.Type)
			return "", false
		}
		q, _ := ms.Spec["query"].(string)
		if q == "" {
			q, _ = ms.Spec["promql"].(string)
		}
		if q == "" {
			doc.Errorf(p+".spec", "expected spec.query with a PromQL query")
			return "", false
		}
		return q, true
	}
	v := &validator{doc: doc, path: func(f string) string {
		switch {
		case strings.Contains(f, "error_ratio"):
			return base + ".raw"
		case strings.Contains(f, "error"):
			return base + ".bad"
		case strings.Contains(f, "good"):
			return base + ".good"
		}
		return base + ".total"
	}}
	switch {
	case r.Raw != nil:
		if r.Good != nil || r.Bad != nil || r.Total != nil {
			doc.Errorf(base, "set raw, or good/bad with total, not both")
			return
		}
		q, ok := query("raw", r.Raw)
		if !ok {
			return
		}
		switch r.RawType {
		case "failure":
		case "success":
			q = "1 - (" + q + ")"
		default:
			doc.Errorf(base+".rawType", "expected rawType success or failure, found %q", r.RawType)
			return
		}
		s.SLI = SLI{Kind: KindRaw, ErrorRatioQuery: q}
		v.compileSLI(s, false, false)
	default:
		if r.Total == nil || (r.Good == nil) == (r.Bad == nil) {
			doc.Errorf(base, "expected total and exactly one of good and bad")
			return
		}
		total, ok := query("total", r.Total)
		if !ok {
			return
		}
		s.SLI = SLI{Kind: KindEvents, TotalQuery: total}
		if r.Good != nil {
			if s.SLI.GoodQuery, ok = query("good", r.Good); !ok {
				return
			}
		} else if s.SLI.ErrorQuery, ok = query("bad", r.Bad); !ok {
			return
		}
		templated := HasWindow(total)
		v.compileSLI(s, false, r.Counter && !templated)
		if !templated && s.SLI.total != nil {
			// The queries name counters (or fixed-range rates): rewrite them
			// as window templates so rule generation works the same.
			s.SLI.TotalQuery = s.SLI.total.String("{{.window}}")
			if s.SLI.good != nil {
				s.SLI.GoodQuery = s.SLI.good.String("{{.window}}")
			}
			if s.SLI.bad != nil {
				s.SLI.ErrorQuery = s.SLI.bad.String("{{.window}}")
			}
		}
	}
}
