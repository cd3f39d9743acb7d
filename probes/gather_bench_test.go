package probes

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fleetMetrics is the metrics of n three-step journeys that have run, as a
// runner holds them, registered the way vigil registers them (with region).
func fleetMetrics(b testing.TB, n int) (*Metrics, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(prometheus.WrapRegistererWith(prometheus.Labels{"region": "eu"}, reg))
	if err != nil {
		b.Fatal(err)
	}
	fill(m, n)
	return m, reg
}

// BenchmarkGather10kJourneys is one gather of 10,000 journeys' series
// (270,000 samples) through a registry (NewMetrics: tests, the in-process
// bench); runners use the direct gatherer below.
func BenchmarkGather10kJourneys(b *testing.B) {
	_, reg := fleetMetrics(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGatherDirect10kJourneys is the same scrape through
// NewMetricsDirect's gatherer.
func BenchmarkGatherDirect10kJourneys(b *testing.B) {
	m, g, err := NewMetricsDirect(prometheus.NewRegistry(), prometheus.Labels{"region": "eu"})
	if err != nil {
		b.Fatal(err)
	}
	fill(m, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

func fill(m *Metrics, n int) {
	for i := range n {
		j := Journey{Name: fmt.Sprintf("checkout-%05d", i), Steps: []Step{{Name: "login"}, {Name: "create-order"}, {Name: "cleanup"}}}
		m.Add(j)
		m.Observe(Result{Name: j.Name, Success: true, Duration: 30 * time.Millisecond, Steps: []StepResult{
			{Name: "login", Success: true}, {Name: "create-order", Success: true}, {Name: "cleanup", Success: true}}})
	}
}
