package probes

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func findMetric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func gatherValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	m := findMetric(t, reg, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -2
}

func gatherCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	m := findMetric(t, reg, name, nil)
	if m == nil || m.Histogram == nil {
		return 0
	}
	return m.Histogram.GetSampleCount()
}

func TestMetricsTable(t *testing.T) {
	shop, srv := newFakeShop(t)
	j := loadCheckout(t, srv.URL)
	j.StepHistograms = true
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Add(j)
	// Both results exist from the start, at zero; failures do not yet.
	for _, res := range []string{ResultSuccess, ResultFailure} {
		if v := gatherValue(t, reg, MetricRuns, map[string]string{LabelJourney: "checkout", LabelResult: res}); v != 0 {
			t.Errorf("%s{result=%s} = %v before any run", MetricRuns, res, v)
		}
		if v := gatherValue(t, reg, MetricStepRuns, map[string]string{LabelJourney: "checkout", LabelStep: "cleanup", LabelResult: res}); v != 0 {
			t.Errorf("step runs %s = %v", res, v)
		}
	}
	if findMetric(t, reg, MetricStepFailures, nil) != nil {
		t.Error("failure series exist before any failure")
	}
	m.Observe(Run(context.Background(), j))
	shop.fail.Store("orders")
	m.Observe(Run(context.Background(), j))
	m.Observe(Run(context.Background(), j))
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{MetricSuccess, map[string]string{LabelJourney: "checkout"}, 0},
		{MetricRuns, map[string]string{LabelJourney: "checkout", LabelResult: ResultSuccess}, 1},
		{MetricRuns, map[string]string{LabelJourney: "checkout", LabelResult: ResultFailure}, 2},
		{MetricStepRuns, map[string]string{LabelJourney: "checkout", LabelStep: "login", LabelResult: ResultSuccess}, 3},
		{MetricStepRuns, map[string]string{LabelJourney: "checkout", LabelStep: "create-order", LabelResult: ResultFailure}, 2},
		{MetricStepRuns, map[string]string{LabelJourney: "checkout", LabelStep: "read-order", LabelResult: ResultFailure}, 0},
		{MetricStepFailures, map[string]string{LabelJourney: "checkout", LabelStep: "create-order", LabelReason: "status"}, 2},
		{MetricConsecutiveFailures, map[string]string{LabelJourney: "checkout"}, 2},
	}
	for _, c := range checks {
		if got := gatherValue(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := gatherCount(t, reg, MetricDurationHistogram); n != 3 {
		t.Errorf("duration histogram count %d", n)
	}
	if findMetric(t, reg, MetricStepDurationHistogram, map[string]string{LabelStep: "login"}) == nil {
		t.Error("no step histogram with step_histograms: true")
	}
	shop.fail.Store("")
	m.Observe(Run(context.Background(), j))
	if v := gatherValue(t, reg, MetricConsecutiveFailures, map[string]string{LabelJourney: "checkout"}); v != 0 {
		t.Errorf("consecutive failures after a pass: %v", v)
	}
	// Reload status and removal.
	m.SetReload(false, time.Now())
	if v := gatherValue(t, reg, MetricConfigLastReloadSuccessful, nil); v != 0 {
		t.Errorf("reload gauge %v", v)
	}
	m.Remove("checkout")
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == LabelJourney {
					t.Errorf("%s still has journey series after Remove", mf.GetName())
				}
			}
		}
	}
}

func TestCertExpiryMetric(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	j := hostileJourney(t, srv.URL, time.Second, ", tls_config: {insecure_skip_verify: true}")
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	m.Add(j)
	m.Observe(Run(context.Background(), j))
	want := float64(srv.Certificate().NotAfter.Unix())
	if got := gatherValue(t, reg, MetricSSLEarliestCertExpiry, map[string]string{LabelJourney: "hostile"}); got != want {
		t.Errorf("cert expiry %v, want %v", got, want)
	}
	for _, mf := range must(reg.Gather()) {
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "region" || strings.Contains(l.GetName(), "team") {
					t.Errorf("%s has label %s: region is external, journey labels are not metric labels", mf.GetName(), l.GetName())
				}
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The scheduler observes after letting go of its lock; a journey removed
// meanwhile must not come back as series.
func TestObserveAfterRemoveAddsNothing(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	j := tcpJourney(t, "gone", time.Minute, "")
	m.Add(j)
	m.Remove(j.Name)
	m.observeKnown(Result{Name: j.Name, Success: true})
	if len((*journeyCollector)(m).snapshot()) != 0 {
		t.Fatal("a removed journey came back")
	}
	m.Add(j)
	m.observeKnown(Result{Name: j.Name, Success: true})
	if s := (*journeyCollector)(m).snapshot(); len(s) != 1 || s[0].runsOK != 1 {
		t.Fatalf("known journey not observed: %+v", s)
	}
}
