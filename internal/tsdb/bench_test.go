package tsdb

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/slo"
)

// The benchmark data: 1,000 SLOs, each with one good and one total counter
// sampled every 60 s (17 s off the minute) for 31 days.
const (
	benchSLOs    = 1000
	benchVersion = "v1"
)

var (
	benchStart = BenchStart
	benchEnd   = ts("2026-11-30T06:00:00Z")
	benchAt    = ts("2026-11-30T05:30:30Z") // mid-hour: the 30d far edge is a partial hour
)

// benchDir builds (once, cached in the temp dir) the TSDB with the data.
func benchDir(tb testing.TB) string {
	dir := filepath.Join(os.TempDir(), "vigil-bench-slo-"+benchVersion)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	minutes := int(benchEnd.Sub(benchStart) / time.Minute)
	if err := WriteBenchBlocks(dir, benchSLOs, minutes); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d series × %d minutes in %s", 2*benchSLOs, minutes, time.Since(start).Round(time.Second))
	return dir
}

func benchSpecs(tb testing.TB) []*slo.SLO {
	var b []byte
	b = append(b, "slos:\n"...)
	for i := 0; i < benchSLOs; i++ {
		b = fmt.Appendf(b, `  - name: s%04d
    service: svc%d
    objective: 99.5
    window: 30d
    sli:
      events:
        good_query: sum(rate(bench_events_total{slo="s%04d",kind="good"}[{{.window}}]))
        total_query: sum(rate(bench_events_total{slo="s%04d",kind="total"}[{{.window}}]))
`, i, i%50, i, i)
	}
	slos, err := slo.Parse("bench.yaml", b)
	if err != nil {
		tb.Fatal(err)
	}
	return slos
}

// BenchmarkEvaluatorWarm: 1,000 SLOs × 30 days of 1-minute counters in the
// embedded TSDB. The first (cold) pass reads every minute; each benchmark
// iteration is a warm pass one minute later. It also times the direct
// ratio-of-increases PromQL for all SLOs on the same engine, and checks the
// figures (exact against slices read whole, 0.1% against increase()).
func BenchmarkEvaluatorWarm(b *testing.B) {
	dir := benchDir(b)
	db, err := Open(Options{Dir: dir, Retention: 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	slos := benchSpecs(b)
	ctx := context.Background()
	ev := &slo.Evaluator{Querier: db, SLOs: slos}
	t0 := time.Now()
	cold, err := ev.Evaluate(ctx, benchAt)
	if err != nil {
		b.Fatal(err)
	}
	coldSec := time.Since(t0).Seconds()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	t0 = time.Now()
	direct, err := db.Query(ctx, `sum by (slo) (increase(bench_events_total{kind="good"}[30d])) / sum by (slo) (increase(bench_events_total{kind="total"}[30d]))`, benchAt)
	if err != nil {
		b.Fatal(err)
	}
	directSec := time.Since(t0).Seconds()
	if len(direct) != benchSLOs {
		b.Fatalf("direct: %d series", len(direct))
	}
	bySLO := map[string]float64{}
	for _, s := range direct {
		bySLO[s.Labels["slo"]] = s.Points[0].V
	}
	for i, st := range cold {
		if st.State != slo.StatusOK && st.State != slo.StatusBurning && st.State != slo.StatusExhausted {
			b.Fatalf("%s: %s", st.Name, st.State)
		}
		if math.Abs(*st.SLI-bySLO[st.Name]) > 0.001*bySLO[st.Name] {
			b.Fatalf("%s: sli %v, increase() %v", st.Name, *st.SLI, bySLO[st.Name])
		}
		if i%97 == 0 { // exact against the slices read whole
			sl, err := slo.FetchSlices(ctx, db, slos[i], benchAt.Add(-30*24*time.Hour-time.Hour), benchAt)
			if err != nil {
				b.Fatal(err)
			}
			want := slo.Evaluate(slos[i], sl, benchAt)
			if want.Events != st.Events || want.FailingMinutes != st.FailingMinutes || *want.SLI != *st.SLI {
				b.Fatalf("%s: evaluator %+v, whole %+v", st.Name, st.Events, want.Events)
			}
		}
	}
	at := benchAt
	b.ResetTimer()
	for b.Loop() {
		at = at.Add(time.Minute)
		if _, err := ev.Evaluate(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(coldSec, "cold-s")
	b.ReportMetric(directSec, "direct-promql-s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}
