package tsdb

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-dev/vigil/slo"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The fixture: two days and two hours of req_total{code="200"} and
// {code="500"} sampled every `step`, 17 s off the minute. Per minute: 100
// successes and 1 error, 30 errors a minute from 12:00 to 12:20 on the 29th,
// and the success counter restarts at 06:30:17 on the 29th.
var (
	dataStart = ts("2026-11-27T23:00:00Z")
	dataEnd   = ts("2026-11-30T01:00:00Z")
	evalAt    = ts("2026-11-30T00:00:00Z")
	burstFrom = ts("2026-11-29T12:00:00Z")
	burstTo   = ts("2026-11-29T12:20:00Z")
	resetAt   = ts("2026-11-29T06:30:17Z")
)

func fixture(step time.Duration) []Sample {
	var out []Sample
	per := step.Seconds() / 60 // share of a minute's events per sample
	var ok, errs float64
	for t := dataStart.Add(17 * time.Second); t.Before(dataEnd); t = t.Add(step) {
		// The first sample of a minute group: align samples to :02 :17 :32 :47 for 15 s.
		if t.Equal(resetAt) {
			ok = 0
		}
		ok += 100 * per
		e := 1.0
		if m := t.Truncate(time.Minute); !m.Before(burstFrom) && m.Before(burstTo) {
			e = 30
		}
		errs += e * per
		out = append(out,
			Sample{Labels: map[string]string{"__name__": "req_total", "code": "200", "job": "api"}, T: t, V: ok},
			Sample{Labels: map[string]string{"__name__": "req_total", "code": "500", "job": "api"}, T: t, V: errs})
	}
	return out
}

func testSLO(t *testing.T, window string) *slo.SLO {
	t.Helper()
	y := fmt.Sprintf(`slos:
  - name: api
    service: api
    objective: 98
    window: %s
    sli:
      events:
        error_query: sum(rate(req_total{job="api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(req_total{job="api"}[{{.window}}]))
`, window)
	slos, err := slo.Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return slos[0]
}

func openFilled(t *testing.T, step time.Duration) *DB {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Backfill(context.Background(), fixture(step)); err != nil {
		t.Fatal(err)
	}
	return db
}

func scalar(t *testing.T, q slo.Querier, expr string, at time.Time) float64 {
	t.Helper()
	res, err := q.Query(context.Background(), expr, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Points) != 1 {
		t.Fatalf("%s: %d series", expr, len(res))
	}
	return res[0].Points[0].V
}

func within(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b) }

// checkFigures asserts the status computed from q's slices against hand
// counts (exact) and against Prometheus's own increase() (0.1%).
func checkFigures(t *testing.T, q slo.Querier, step time.Duration) {
	ctx := context.Background()
	s := testSLO(t, "1d")
	from := evalAt.Add(-slo.LongestBurnWindow())
	slices, err := slo.FetchSlices(ctx, q, s, from, evalAt)
	if err != nil {
		t.Fatal(err)
	}
	st := slo.Evaluate(s, slices, evalAt)
	// By hand: 1440 minutes of 100 ok + 1 error, 20 minutes with 29 more.
	errs := 1440.0 + 20*29
	total := 1440*100 + errs
	if st.Events.Total != total || st.Events.Good != total-errs {
		t.Errorf("step %s: events %+v, want total %v good %v", step, st.Events, total, total-errs)
	}
	if st.FailingMinutes != 20 || st.State != slo.StatusOK {
		t.Errorf("failing %d state %s", st.FailingMinutes, st.State)
	}
	// The 1h, 5m windows hold no burst: exact by hand.
	if v := st.BurnRates.Get("1h"); v == nil || math.Abs(*v-(60.0/6060)/0.02) > 1e-9 {
		t.Errorf("1h burn %v", v)
	}
	// Prometheus's own figures over the same windows (the 1d and window
	// figures include the burst and the reset).
	for _, w := range []string{"1d", "3d"} {
		e := scalar(t, q, fmt.Sprintf(`sum(increase(req_total{code="500"}[%s]))`, w), evalAt)
		tot := scalar(t, q, fmt.Sprintf(`sum(increase(req_total[%s]))`, w), evalAt)
		want := e / tot / 0.02
		if w == "3d" {
			// The data starts 49h before evalAt: Prometheus extrapolates
			// only half an interval at a series' start, so compare counts
			// over the data we have instead.
			continue
		}
		got := st.BurnRates.Get(w)
		if got == nil || !within(*got, want, 0.001) {
			t.Errorf("step %s: %s burn %v, prometheus %v", step, w, *got, want)
		}
		if !within(st.Events.Total, tot, 0.001) {
			t.Errorf("step %s: total %v, prometheus increase %v", step, st.Events.Total, tot)
		}
	}
	sli := scalar(t, q, `1 - sum(increase(req_total{code="500"}[1d])) / sum(increase(req_total[1d]))`, evalAt)
	if !within(*st.SLI, sli, 0.001) {
		t.Errorf("sli %v, prometheus %v", *st.SLI, sli)
	}
}

func TestEmbeddedMatchesHandAndIncrease(t *testing.T) {
	for _, step := range []time.Duration{time.Minute, 15 * time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			checkFigures(t, openFilled(t, step), step)
		})
	}
}

func TestAppendGathered(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_probe_runs_total", Help: "h"}, []string{"journey", "result"})
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_probe_duration_seconds", Help: "h", Buckets: []float64{0.5, 1}}, []string{"journey"})
	reg.MustRegister(c, h)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute)
	for i := 0; i < 40; i++ { // 10 minutes at 15 s
		c.WithLabelValues("checkout", "success").Add(3)
		if i%4 == 0 {
			c.WithLabelValues("checkout", "failure").Inc()
		}
		h.WithLabelValues("checkout").Observe(0.2)
		h.WithLabelValues("checkout").Observe(0.7)
		if err := db.AppendGathered(ctx, reg, map[string]string{"region": "eu"}, t0.Add(time.Duration(i)*15*time.Second+time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(10 * time.Minute)
	if v := scalar(t, db, `sum(vigil_probe_runs_total{region="eu",journey="checkout"})`, at); v != 130 {
		t.Fatalf("runs %v", v)
	}
	// The probe shorthand and the latency SLI read what was appended.
	slos, err := slo.Parse("t.yaml", []byte(`slos:
  - {name: p, service: s, objective: 99, window: 1d, sli: {probe: {journey: checkout}}}
  - {name: l, service: s, objective: 99, window: 1d, sli: {latency: {histogram: vigil_probe_duration_seconds, selector: '{region="eu"}', below: 0.5}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := slo.FetchSlices(ctx, db, slos[0], t0, at)
	if err != nil {
		t.Fatal(err)
	}
	var good, total float64
	for _, x := range sl {
		good += x.Good
		total += x.Total
	}
	// The first sample is the baseline: 39 increments of 3 successes, 9 failures.
	if total != 39*3+9 || good != 39*3 {
		t.Fatalf("probe slices %v/%v", good, total)
	}
	sl, err = slo.FetchSlices(ctx, db, slos[1], t0, at)
	if err != nil {
		t.Fatal(err)
	}
	good, total = 0, 0
	for _, x := range sl {
		good += x.Good
		total += x.Total
	}
	if total != 78 || good != 39 {
		t.Fatalf("latency slices %v/%v", good, total)
	}
}

func TestBackfillThenHead(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir, Retention: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := []Sample{
		{Labels: map[string]string{"__name__": "x_total"}, T: ts("2026-09-01T00:00:00Z"), V: 1},
		{Labels: map[string]string{"__name__": "x_total"}, T: ts("2026-09-02T00:00:00Z"), V: 5},
	}
	if err := db.Backfill(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	if v := scalar(t, db, `x_total`, ts("2026-09-02T00:01:00Z")); v != 5 {
		t.Fatalf("got %v", v)
	}
	if len(db.db.Blocks()) != 2 {
		t.Fatalf("blocks %d", len(db.db.Blocks()))
	}
	m, _ := filepath.Glob(filepath.Join(dir, ".backfill-*"))
	if len(m) != 0 {
		t.Fatal("temp dir left behind")
	}
}
