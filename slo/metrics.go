package slo

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports the latest statuses as vigil_slo_* gauges. It is a
// collector over the last pass rather than a set of gauge vectors, so a
// scrape never sees a half-updated pass and removed SLOs disappear. Figures
// that are null in the JSON (no data) are absent, never NaN or 0.
type Metrics struct {
	mu       sync.Mutex
	statuses []Status
	at       time.Time
	duration prometheus.Histogram
	errors   prometheus.Counter
	started  time.Time

	sli, remaining, consumed, burn, objective, window, good, total,
	failing, excluded, tte, status, last *prometheus.Desc
}

// NewMetrics registers the SLO gauges on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	l := []string{LabelSLO, LabelService}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), l...), extra...), nil)
	}
	m := &Metrics{
		sli:       d(MetricSLI, "SLI over the SLO window (good/total, 0..1)."),
		remaining: d(MetricBudgetRemaining, "Error budget remaining over the window (1 − consumed; may be negative)."),
		consumed:  d(MetricBudgetConsumed, "Error budget consumed over the window (ratio of the budget)."),
		burn:      d(MetricBurnRate, "Burn rate over a window (1 = spending exactly the budget).", LabelWindow),
		objective: d(MetricObjective, "SLO objective (0..1)."),
		window:    d(MetricWindowSeconds, "Length of the SLO window in seconds."),
		good:      d(MetricGoodEvents, "Good events over the SLO window."),
		total:     d(MetricTotalEvents, "All events over the SLO window."),
		failing:   d(MetricFailingMinutes, "Minutes in the window whose error ratio exceeded the budget."),
		excluded:  d(MetricExcludedMinutes, "Minutes in the window inside maintenance exclusions."),
		tte:       d(MetricTimeToExhaustion, "Seconds until the budget is spent at the 1h burn rate (absent when not burning)."),
		status:    d(MetricStatus, "1 for the SLO's current status.", LabelStatus),
		last:      prometheus.NewDesc(MetricLastEvaluation, "Unix time of the last evaluation pass.", nil, nil),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricEvaluationSeconds,
			Help: "Time an evaluation pass took.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricEvaluationErrors, Help: "Evaluation passes that failed for some SLO."}),
	}
	if reg != nil {
		reg.MustRegister(m)
	}
	return m
}

// Begin marks the start of a pass (for the duration histogram).
func (m *Metrics) Begin() {
	m.mu.Lock()
	m.started = time.Now()
	m.mu.Unlock()
}

func (m *Metrics) update(at time.Time, sts []Status, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses = append([]Status(nil), sts...)
	m.at = at
	if !m.started.IsZero() {
		m.duration.Observe(time.Since(m.started).Seconds())
		m.started = time.Time{}
	}
	if err != nil {
		m.errors.Inc()
	}
}

// Set replaces the exported statuses (when statuses come from elsewhere,
// such as the store after a restart).
func (m *Metrics) Set(at time.Time, sts []Status) { m.update(at, sts, nil) }

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.sli, m.remaining, m.consumed, m.burn, m.objective, m.window, m.good,
		m.total, m.failing, m.excluded, m.tte, m.status, m.last} {
		ch <- d
	}
	m.duration.Describe(ch)
	m.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	sts, at := m.statuses, m.at
	m.mu.Unlock()
	g := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	opt := func(d *prometheus.Desc, v *float64, lv ...string) {
		if v != nil {
			g(d, *v, lv...)
		}
	}
	sort.SliceStable(sts, func(i, j int) bool { return sts[i].Name < sts[j].Name })
	for _, s := range sts {
		lv := []string{s.Name, s.Service}
		opt(m.sli, s.SLI, lv...)
		opt(m.remaining, s.ErrorBudget.Remaining, lv...)
		opt(m.consumed, s.ErrorBudget.Consumed, lv...)
		for _, b := range s.BurnRates {
			opt(m.burn, b.Rate, s.Name, s.Service, b.Window)
		}
		g(m.objective, s.Objective, lv...)
		g(m.window, s.WindowSeconds, lv...)
		g(m.good, s.Events.Good, lv...)
		g(m.total, s.Events.Total, lv...)
		g(m.failing, float64(s.FailingMinutes), lv...)
		g(m.excluded, float64(s.ExcludedMinutes), lv...)
		opt(m.tte, s.TimeToExhaustion, lv...)
		for _, st := range Statuses {
			v := 0.0
			if st == s.State {
				v = 1
			}
			g(m.status, v, s.Name, s.Service, st)
		}
	}
	if !at.IsZero() {
		g(m.last, float64(at.Unix()))
	}
	m.duration.Collect(ch)
	m.errors.Collect(ch)
}
