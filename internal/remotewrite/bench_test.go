package remotewrite

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// One runner with 10,000 journeys: gather, convert, batch and encode one
// interval's samples (the send itself is the receiver's cost). Reports
// bytes on the wire per sample.
func BenchmarkGatherEncode10kJourneys(b *testing.B) {
	reg := prometheus.NewRegistry()
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_probe_runs_total", Help: "r"}, []string{"journey", "result"})
	succ := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_success", Help: "s"}, []string{"journey"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_probe_duration_seconds", Help: "d"}, []string{"journey"})
	reg.MustRegister(runs, succ, dur)
	for i := range 10_000 {
		j := fmt.Sprintf("journey-%05d", i)
		runs.WithLabelValues(j, "success").Add(float64(i))
		runs.WithLabelValues(j, "failure").Add(1)
		succ.WithLabelValues(j).Set(1)
		dur.WithLabelValues(j).Observe(0.2)
	}
	w, err := New(Options{URL: "http://127.0.0.1:1/", Gatherer: reg, QueueSamples: 1 << 30, ExternalLabels: map[string]string{"region": "eu"}})
	if err != nil {
		b.Fatal(err)
	}
	var bytes, samples int
	b.ResetTimer()
	for i := range b.N {
		if err := w.Gather(time.Unix(int64(i)*60, 0)); err != nil {
			b.Fatal(err)
		}
		for {
			req, n, ok := w.batch()
			if !ok {
				break
			}
			body, err := Encode(req)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(body)
			samples += n
			w.pop(n)
		}
	}
	b.ReportMetric(float64(bytes)/float64(samples), "bytes/sample")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/interval")
}
