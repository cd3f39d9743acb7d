package demo

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
)

// The demo's SLOs, evaluated over its synthetic history in the embedded
// TSDB, give the availability the generator's own counters say.
func TestHistoryFeedsDemoSLOs(t *testing.T) {
	end := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	samples := ProbeHistory(end, 30, "local")
	var first, last = map[string]float64{}, map[string]float64{}
	for _, s := range samples {
		if s.Labels["__name__"] != probes.MetricRuns {
			continue
		}
		r := s.Labels[probes.LabelResult]
		if _, ok := first[r]; !ok {
			first[r] = s.V
		}
		last[r] = s.V
	}
	good := last["success"] - first["success"]
	total := good + last["failure"] - first["failure"]

	dir := t.TempDir()
	if err := seedHistory(t.Context(), dir, end.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(tsdb.Options{Dir: filepath.Join(dir, "tsdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b, _ := Files.ReadFile("files/slos.yaml")
	slos, err := slo.Parse("slos.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	sts, err := (&slo.Evaluator{Querier: db, SLOs: slos}).Evaluate(t.Context(), end)
	if err != nil {
		t.Fatal(err)
	}
	avail := sts[0]
	if avail.Name != "checkout-availability" || avail.Events.Total != total || avail.Events.Good != good ||
		math.Abs(*avail.SLI-good/total) > 1e-12 {
		t.Fatalf("availability %+v, want good %v total %v", avail, good, total)
	}
	// The 35-minute outage alone burns more than the 0.5% budget allows in
	// its minutes: the SLO shows failing minutes and budget spent.
	if avail.FailingMinutes < 35 || *avail.ErrorBudget.Consumed <= 0 {
		t.Fatalf("incidents not visible: %+v", avail)
	}
	lat := sts[1]
	if lat.Name != "checkout-latency" || lat.SLI == nil || *lat.SLI > 0.999 || *lat.SLI < 0.98 {
		t.Fatalf("latency %+v", lat)
	}
}
