package probes

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics exports the probe metrics table (names.go) and the runner's own
// health. Register it once; the scheduler calls Add, Remove and Observe.
//
// Per-journey series are not client_golang Vec children: each journey keeps
// one compact journeyState (plain counters, a fixed bucket array) that
// journeyGatherer turns into metric families at scrape time. A series exists
// exactly when the Vec child would have: Add creates the series that must
// exist from the start, Observe, SetPaused and overload create the ones they
// touch, failure series appear on the first failure with that reason.
type Metrics struct {
	startLag             prometheus.Histogram
	inFlight, journeys   prometheus.Gauge
	reloadOK, reloadTime prometheus.Gauge

	mu    sync.RWMutex
	state map[string]*journeyState
}

// numDurationBuckets is len(DurationBuckets); checked in init.
const numDurationBuckets = 11

func init() {
	if len(DurationBuckets) != numDurationBuckets {
		panic(fmt.Sprintf("probes: numDurationBuckets is %d, DurationBuckets has %d", numDurationBuckets, len(DurationBuckets)))
	}
}

// Which per-journey series exist (see journeyState.has).
const (
	hasSuccess     = 1 << iota // probe_success and probe_duration_seconds
	hasCertExpiry              // probe_ssl_earliest_cert_expiry
	hasConsecutive             // vigil_probe_consecutive_failures
	hasOverloads               // vigil_probe_overload_skips_total
	hasPaused                  // vigil_probe_paused
	hasDurHist                 // vigil_probe_duration_seconds
	hasRunsOK                  // vigil_probe_runs_total{result="success"}
	hasRunsFail                // vigil_probe_runs_total{result="failure"}
)

// journeyState is everything exported for one journey.
type journeyState struct {
	known      bool // Added (and not removed): steps are the declared ones
	histograms bool
	has        uint8
	success    float64
	duration   float64
	consec     float64
	certExpiry float64
	paused     float64
	runsOK     uint64
	runsFail   uint64
	overloads  uint64
	dur        durHistogram
	steps      []*stepState
}

// stepState is one step's series.
type stepState struct {
	name     string
	declared bool // in the journey's step list at the last Add
	hasOK    bool
	hasFail  bool
	ok, fail uint64
	hist     *durHistogram // non-nil only with step_histograms
	failures []reasonCount // reasons seen, in first-seen order
}

type reasonCount struct {
	reason Reason
	n      uint64
}

// durHistogram is a histogram over DurationBuckets; counts are per bucket
// (not cumulative), the last one is +Inf.
type durHistogram struct {
	counts [numDurationBuckets + 1]uint64
	count  uint64
	sum    float64
}

func (h *durHistogram) observe(v float64) {
	i := 0
	for i < numDurationBuckets && v > DurationBuckets[i] {
		i++
	}
	h.counts[i]++
	h.count++
	h.sum += v
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range append(m.ownCollectors(), (*journeyCollector)(m)) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Help texts of the per-journey families (const metrics and the direct
// gatherer use the same).
const (
	helpSuccess      = "1 if the last run of the journey passed, else 0."
	helpDuration     = "Duration of the last run of the journey in seconds."
	helpConsecutive  = "Failed runs in a row, 0 after a pass."
	helpCertExpiry   = "Unix time of the earliest certificate expiry seen in the peer chain."
	helpPaused       = "1 while the journey is inside a pause window."
	helpRuns         = "Journey runs by result."
	helpStepRuns     = "Step runs by result (skipped steps are not counted)."
	helpStepFailures = "Step failures by reason."
	helpOverloads    = "Runs not started because the previous run was still going."
	helpDurHist      = "Journey run duration in seconds."
	helpStepDurHist  = "Step duration in seconds (journeys with step_histograms)."
)

func newMetrics() *Metrics {
	return &Metrics{
		startLag:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricStartLag, Help: "How late runs started against their schedule, in seconds.", Buckets: StartLagBuckets}),
		inFlight:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricInFlight, Help: "Journey runs executing now."}),
		journeys:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricJourneys, Help: "Journeys scheduled."}),
		reloadOK:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricConfigLastReloadSuccessful, Help: "1 if the last reload of the configuration succeeded, else 0."}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricConfigLastReloadSuccessTime, Help: "Unix time of the last successful configuration reload."}),
		state:      map[string]*journeyState{},
	}
}

// ownCollectors are the runner's own metrics (not per journey).
func (m *Metrics) ownCollectors() []prometheus.Collector {
	return []prometheus.Collector{m.startLag, m.inFlight, m.journeys, m.reloadOK, m.reloadTime}
}

// journeyCollector exports the per-journey series of Metrics.
type journeyCollector Metrics

// Describe says nothing: the collector is unchecked, its series are the
// ones journeyGatherer builds.
func (c *journeyCollector) Describe(chan<- *prometheus.Desc) {}

// Collect serves the per-journey series to a registry (NewMetrics) as
// const metrics: what journeyGatherer builds, converted, so the series are
// defined in one place. Runners use the gatherer directly
// (NewMetricsDirect); this is for registries (tests, the in-process bench).
func (c *journeyCollector) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := (&journeyGatherer{m: (*Metrics)(c)}).Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			names := make([]string, len(m.GetLabel()))
			values := make([]string, len(m.GetLabel()))
			for i, l := range m.GetLabel() {
				names[i], values[i] = l.GetName(), l.GetValue()
			}
			desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
			case dto.MetricType_COUNTER:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...)
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				buckets := make(map[float64]uint64, len(h.GetBucket()))
				for _, b := range h.GetBucket() {
					buckets[b.GetUpperBound()] = b.GetCumulativeCount()
				}
				ch <- prometheus.MustNewConstHistogram(desc, h.GetSampleCount(), h.GetSampleSum(), buckets, values...)
			}
		}
	}
}

// journeySnap is a copy of one journey's state, steps included.
type journeySnap struct {
	name string
	journeyState
}

func (c *journeyCollector) snapshot() []journeySnap {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]journeySnap, 0, len(c.state))
	for name, s := range c.state {
		snap := journeySnap{name: name, journeyState: *s}
		snap.steps = make([]*stepState, len(s.steps))
		for i, st := range s.steps {
			cp := *st
			cp.failures = slices.Clone(st.failures)
			if st.hist != nil {
				h := *st.hist
				cp.hist = &h
			}
			snap.steps[i] = &cp
		}
		out = append(out, snap)
	}
	return out
}

// journey returns the state of a journey, creating an empty one (no series)
// if there is none. m.mu must be held for writing.
func (m *Metrics) journey(name string) *journeyState {
	s := m.state[name]
	if s == nil {
		s = &journeyState{}
		m.state[name] = s
	}
	return s
}

// step returns the state of a step, appending an empty one if there is none.
func (s *journeyState) step(name string) *stepState {
	for _, st := range s.steps {
		if st.name == name {
			return st
		}
	}
	st := &stepState{name: name}
	s.steps = append(s.steps, st)
	return st
}

// Add creates a journey's series at zero, so rate() and absent() work from
// the first scrape. Calling it again for a changed journey reconciles steps.
func (m *Metrics) Add(j Journey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.journey(j.Name)
	if s.known {
		// Drop series of declared steps the journey no longer has, and step
		// histograms it no longer wants.
		steps := s.steps[:0]
		for _, st := range s.steps {
			if st.declared && !hasStep(j, st.name) {
				continue
			}
			if st.declared && !j.StepHistograms {
				st.hist = nil
			}
			steps = append(steps, st)
		}
		clear(s.steps[len(steps):])
		s.steps = steps
	}
	for _, st := range s.steps {
		st.declared = false
	}
	s.known = true
	s.histograms = j.StepHistograms
	s.has |= hasRunsOK | hasRunsFail | hasConsecutive | hasOverloads | hasPaused | hasDurHist
	for _, js := range j.Steps {
		st := s.step(js.Name)
		st.declared = true
		st.hasOK, st.hasFail = true, true
		if j.StepHistograms && st.hist == nil {
			st.hist = &durHistogram{}
		}
	}
}

func hasStep(j Journey, name string) bool {
	for _, s := range j.Steps {
		if s.Name == name {
			return true
		}
	}
	return false
}

// Remove deletes every series of a journey that is no longer scheduled.
func (m *Metrics) Remove(name string) {
	m.mu.Lock()
	delete(m.state, name)
	m.mu.Unlock()
}

// Observe records one run.
func (m *Metrics) Observe(r Result) { m.observe(r, false) }

// observeKnown is Observe for a journey Add made and Remove has not taken
// away: the scheduler observes after letting go of its own lock, and a
// journey removed meanwhile must not come back as stale series.
func (m *Metrics) observeKnown(r Result) { m.observe(r, true) }

func (m *Metrics) observe(r Result, onlyKnown bool) {
	secs := r.Duration.Seconds()
	var expiry time.Time
	for _, st := range r.Steps {
		if !st.CertExpiry.IsZero() && (expiry.IsZero() || st.CertExpiry.Before(expiry)) {
			expiry = st.CertExpiry
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.state[r.Name]; onlyKnown && !ok {
		return
	}
	s := m.journey(r.Name)
	s.has |= hasSuccess | hasDurHist | hasConsecutive
	s.duration = secs
	s.dur.observe(secs)
	if r.Success {
		s.has |= hasRunsOK
		s.success = 1
		s.runsOK++
		s.consec = 0
	} else {
		s.has |= hasRunsFail
		s.success = 0
		s.runsFail++
		s.consec++
	}
	for _, sr := range r.Steps {
		if sr.Skipped {
			continue
		}
		st := s.step(sr.Name)
		if sr.Success {
			st.hasOK = true
			st.ok++
		} else {
			st.hasFail = true
			st.fail++
			if sr.Reason != "" {
				st.failed(sr.Reason)
			}
		}
		if s.histograms {
			if st.hist == nil {
				st.hist = &durHistogram{}
			}
			st.hist.observe(sr.Duration.Seconds())
		}
	}
	if !expiry.IsZero() {
		s.has |= hasCertExpiry
		s.certExpiry = float64(expiry.Unix())
	}
}

// failed counts one failure with reason r.
func (st *stepState) failed(r Reason) {
	for i := range st.failures {
		if st.failures[i].reason == r {
			st.failures[i].n++
			return
		}
	}
	st.failures = append(st.failures, reasonCount{reason: r, n: 1})
}

// SetPaused marks a journey as inside or outside a pause window.
func (m *Metrics) SetPaused(name string, paused bool) {
	v := 0.0
	if paused {
		v = 1
	}
	m.mu.Lock()
	s := m.journey(name)
	s.has |= hasPaused
	s.paused = v
	m.mu.Unlock()
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
func (m *Metrics) setJourneys(n int)               { m.journeys.Set(float64(n)) }
func (m *Metrics) inFlightAdd(d float64)           { m.inFlight.Add(d) }

func (m *Metrics) overload(name string) {
	m.mu.Lock()
	s := m.journey(name)
	s.has |= hasOverloads
	s.overloads++
	m.mu.Unlock()
}
