package probes

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The direct gatherer exposes exactly what the registry path (const
// metrics under a wrapping registerer) does, series for series.
func TestDirectGatherMatchesRegistry(t *testing.T) {
	labels := prometheus.Labels{"region": "eu", "replica": "eu-1", "a_first": "x"}
	m, direct, err := NewMetricsDirect(prometheus.NewRegistry(), labels)
	if err != nil {
		t.Fatal(err)
	}
	viaRegistry := prometheus.NewRegistry()
	if err := prometheus.WrapRegistererWith(labels, viaRegistry).Register((*journeyCollector)(m)); err != nil {
		t.Fatal(err)
	}

	hist := tcpJourney(t, "hist", time.Minute, "    step_histograms: true\n")
	plain := tcpJourney(t, "plain", time.Minute, "")
	m.Add(hist)
	m.Add(plain)
	m.Add(tcpJourney(t, "never-ran", time.Minute, ""))
	expiry := time.Unix(1_900_000_000, 0)
	for i, r := range []Result{
		{Name: "hist", Success: true, Duration: 20 * time.Millisecond, Steps: []StepResult{{Name: "tcp", Success: true, Duration: 20 * time.Millisecond, CertExpiry: expiry}}},
		{Name: "hist", Duration: 3 * time.Second, Steps: []StepResult{{Name: "tcp", Reason: ReasonTimeout, Duration: 3 * time.Second}}},
		{Name: "plain", Duration: time.Millisecond, Steps: []StepResult{{Name: "tcp", Reason: ReasonConnect}}},
		{Name: "plain", Duration: 700 * time.Millisecond, Steps: []StepResult{{Name: "tcp", Reason: ReasonTLS}}},
		{Name: "plain", Success: true, Duration: 12 * time.Second, Steps: []StepResult{{Name: "tcp", Success: true}}},
	} {
		r.Started = time.Unix(int64(i), 0)
		m.Observe(r)
	}
	m.SetPaused("plain", true)
	m.overload("hist")
	// A run of a real journey too, for its real step results.
	m.Observe(Run(context.Background(), plain))

	text := func(mfs []*dto.MetricFamily) string {
		var b bytes.Buffer
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "go_") || mf.GetName() == MetricStartLag {
				continue
			}
			if err := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain)).Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	want, err := viaRegistry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := direct.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if text(got) != text(want) {
		t.Fatalf("direct gatherer:\n%s\nregistry:\n%s", text(got), text(want))
	}
	for _, name := range []string{MetricStepDurationHistogram, MetricStepFailures, MetricSSLEarliestCertExpiry, MetricPaused, MetricOverloadSkips, `replica="eu-1"`, `journey="never-ran"`} {
		if !strings.Contains(text(got), name) {
			t.Errorf("%s not exposed:\n%s", name, text(got))
		}
	}
}
