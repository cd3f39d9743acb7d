package probes

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports the probe metrics table (names.go) and the runner's own
// health. Register it once; the scheduler calls Add, Remove and Observe.
type Metrics struct {
	success, duration, consecutive, certExpiry, paused *prometheus.GaugeVec
	runs, stepRuns, stepFailures, overloads            *prometheus.CounterVec
	durHist, stepDurHist                               *prometheus.HistogramVec
	startLag                                           prometheus.Histogram
	inFlight, journeys                                 prometheus.Gauge
	reloadOK, reloadTime                               prometheus.Gauge

	mu    sync.Mutex
	known map[string]journeyMeta
}

type journeyMeta struct {
	steps      []string
	histograms bool
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	j := []string{LabelJourney}
	m := &Metrics{
		success:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricSuccess, Help: "1 if the last run of the journey passed, else 0."}, j),
		duration:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricDuration, Help: "Duration of the last run of the journey in seconds."}, j),
		consecutive:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricConsecutiveFailures, Help: "Failed runs in a row, 0 after a pass."}, j),
		certExpiry:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricSSLEarliestCertExpiry, Help: "Unix time of the earliest certificate expiry seen in the peer chain."}, j),
		paused:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricPaused, Help: "1 while the journey is inside a pause window."}, j),
		runs:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRuns, Help: "Journey runs by result."}, []string{LabelJourney, LabelResult}),
		stepRuns:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricStepRuns, Help: "Step runs by result (skipped steps are not counted)."}, []string{LabelJourney, LabelStep, LabelResult}),
		stepFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricStepFailures, Help: "Step failures by reason."}, []string{LabelJourney, LabelStep, LabelReason}),
		overloads:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricOverloadSkips, Help: "Runs not started because the previous run was still going."}, j),
		durHist:      prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricDurationHistogram, Help: "Journey run duration in seconds.", Buckets: DurationBuckets}, j),
		stepDurHist:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricStepDurationHistogram, Help: "Step duration in seconds (journeys with step_histograms).", Buckets: DurationBuckets}, []string{LabelJourney, LabelStep}),
		startLag:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricStartLag, Help: "How late runs started against their schedule, in seconds.", Buckets: StartLagBuckets}),
		inFlight:     prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricInFlight, Help: "Journey runs executing now."}),
		journeys:     prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricJourneys, Help: "Journeys scheduled."}),
		reloadOK:     prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricConfigLastReloadSuccessful, Help: "1 if the last reload of the configuration succeeded, else 0."}),
		reloadTime:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricConfigLastReloadSuccessTime, Help: "Unix time of the last successful configuration reload."}),
		known:        map[string]journeyMeta{},
	}
	for _, c := range []prometheus.Collector{m.success, m.duration, m.consecutive, m.certExpiry, m.paused, m.runs, m.stepRuns,
		m.stepFailures, m.overloads, m.durHist, m.stepDurHist, m.startLag, m.inFlight, m.journeys, m.reloadOK, m.reloadTime} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Add creates a journey's series at zero, so rate() and absent() work from
// the first scrape. Calling it again for a changed journey reconciles steps.
func (m *Metrics) Add(j Journey) {
	steps := make([]string, len(j.Steps))
	for i, s := range j.Steps {
		steps[i] = s.Name
	}
	m.mu.Lock()
	old, had := m.known[j.Name]
	m.known[j.Name] = journeyMeta{steps: steps, histograms: j.StepHistograms}
	m.mu.Unlock()
	if had {
		m.dropSteps(j.Name, old, steps, j.StepHistograms)
	}
	for _, r := range []string{ResultSuccess, ResultFailure} {
		m.runs.WithLabelValues(j.Name, r)
		for _, s := range steps {
			m.stepRuns.WithLabelValues(j.Name, s, r)
		}
	}
	m.consecutive.WithLabelValues(j.Name)
	m.overloads.WithLabelValues(j.Name)
	m.paused.WithLabelValues(j.Name)
	m.durHist.WithLabelValues(j.Name)
	if j.StepHistograms {
		for _, s := range steps {
			m.stepDurHist.WithLabelValues(j.Name, s)
		}
	}
}

// dropSteps deletes series of steps a changed journey no longer has.
func (m *Metrics) dropSteps(journey string, old journeyMeta, now []string, hist bool) {
	keep := map[string]bool{}
	for _, s := range now {
		keep[s] = true
	}
	for _, s := range old.steps {
		if !keep[s] || !hist {
			m.stepDurHist.DeleteLabelValues(journey, s)
		}
		if !keep[s] {
			m.stepRuns.DeletePartialMatch(prometheus.Labels{LabelJourney: journey, LabelStep: s})
			m.stepFailures.DeletePartialMatch(prometheus.Labels{LabelJourney: journey, LabelStep: s})
		}
	}
}

// Remove deletes every series of a journey that is no longer scheduled.
func (m *Metrics) Remove(name string) {
	m.mu.Lock()
	delete(m.known, name)
	m.mu.Unlock()
	l := prometheus.Labels{LabelJourney: name}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.success, m.duration, m.consecutive, m.certExpiry, m.paused, m.runs, m.stepRuns, m.stepFailures, m.overloads, m.durHist, m.stepDurHist,
	} {
		v.DeletePartialMatch(l)
	}
}

// Observe records one run.
func (m *Metrics) Observe(r Result) {
	m.mu.Lock()
	meta := m.known[r.Name]
	m.mu.Unlock()
	secs := r.Duration.Seconds()
	m.duration.WithLabelValues(r.Name).Set(secs)
	m.durHist.WithLabelValues(r.Name).Observe(secs)
	if r.Success {
		m.success.WithLabelValues(r.Name).Set(1)
		m.runs.WithLabelValues(r.Name, ResultSuccess).Inc()
		m.consecutive.WithLabelValues(r.Name).Set(0)
	} else {
		m.success.WithLabelValues(r.Name).Set(0)
		m.runs.WithLabelValues(r.Name, ResultFailure).Inc()
		m.consecutive.WithLabelValues(r.Name).Inc()
	}
	var expiry time.Time
	for _, s := range r.Steps {
		if !s.CertExpiry.IsZero() && (expiry.IsZero() || s.CertExpiry.Before(expiry)) {
			expiry = s.CertExpiry
		}
		if s.Skipped {
			continue
		}
		if s.Success {
			m.stepRuns.WithLabelValues(r.Name, s.Name, ResultSuccess).Inc()
		} else {
			m.stepRuns.WithLabelValues(r.Name, s.Name, ResultFailure).Inc()
			if s.Reason != "" {
				m.stepFailures.WithLabelValues(r.Name, s.Name, string(s.Reason)).Inc()
			}
		}
		if meta.histograms {
			m.stepDurHist.WithLabelValues(r.Name, s.Name).Observe(s.Duration.Seconds())
		}
	}
	if !expiry.IsZero() {
		m.certExpiry.WithLabelValues(r.Name).Set(float64(expiry.Unix()))
	}
}

// SetPaused marks a journey as inside or outside a pause window.
func (m *Metrics) SetPaused(name string, paused bool) {
	v := 0.0
	if paused {
		v = 1
	}
	m.paused.WithLabelValues(name).Set(v)
}

// SetReload records the outcome of a configuration reload: on failure the
// last good set keeps running and the gauge says so.
func (m *Metrics) SetReload(ok bool, at time.Time) {
	if ok {
		m.reloadOK.Set(1)
		m.reloadTime.Set(float64(at.Unix()))
	} else {
		m.reloadOK.Set(0)
	}
}

func (m *Metrics) observeStartLag(d time.Duration) { m.startLag.Observe(max(d, 0).Seconds()) }
func (m *Metrics) overload(name string)            { m.overloads.WithLabelValues(name).Inc() }
func (m *Metrics) setJourneys(n int)               { m.journeys.Set(float64(n)) }
func (m *Metrics) inFlightAdd(d float64)           { m.inFlight.Add(d) }
