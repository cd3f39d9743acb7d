package tsdb

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-dev/vigil/slo"
)

// An evaluator that advances minute by minute gives exactly what a fresh
// one computes from scratch.
func TestEvaluatorIncrementalEqualsFresh(t *testing.T) {
	db := openFilled(t, 15*time.Second)
	s := testSLO(t, "1d")
	ctx := context.Background()
	inc := &slo.Evaluator{Querier: db, SLOs: []*slo.SLO{s}}
	t0 := ts("2026-11-29T23:40:30Z")
	for i := 0; i <= 25; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		got, err := inc.Evaluate(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		want, err := (&slo.Evaluator{Querier: db, SLOs: []*slo.SLO{s}}).Evaluate(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("at %s:\nincremental %+v\nfresh       %+v", at, got[0], want[0])
		}
	}
	if last := inc.Last(); len(last) != 1 || last[0].State != slo.StatusOK {
		t.Fatalf("last %+v", last)
	}
}

type failing struct{ slo.Querier }

func (failing) Query(context.Context, string, time.Time) ([]slo.Series, error) {
	return nil, slo.ErrUnavailable
}

func TestEvaluatorStaleOnFailure(t *testing.T) {
	db := openFilled(t, time.Minute)
	s := testSLO(t, "1d")
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	ev := &slo.Evaluator{Querier: db, SLOs: []*slo.SLO{s}, Metrics: slo.NewMetrics(reg)}
	good, err := ev.Evaluate(ctx, evalAt)
	if err != nil || good[0].State != slo.StatusOK {
		t.Fatalf("%v %+v", err, good)
	}
	want := `
# HELP vigil_slo_burn_rate Burn rate over a window (1 = spending exactly the budget).
# TYPE vigil_slo_burn_rate gauge
vigil_slo_burn_rate{service="api",slo="api",window="1h"} 0.49504950495049505
# HELP vigil_slo_status 1 for the SLO's current status.
# TYPE vigil_slo_status gauge
vigil_slo_status{service="api",slo="api",status="burning"} 0
vigil_slo_status{service="api",slo="api",status="exhausted"} 0
vigil_slo_status{service="api",slo="api",status="no_data"} 0
vigil_slo_status{service="api",slo="api",status="no_traffic"} 0
vigil_slo_status{service="api",slo="api",status="ok"} 1
vigil_slo_status{service="api",slo="api",status="stale"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(filter(t, reg, want)), "vigil_slo_status"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(ev.Metrics, slo.MetricBurnRate); n != 8 {
		t.Fatalf("burn series %d", n)
	}
	ev.Querier = failing{db}
	st, err := ev.Evaluate(ctx, evalAt.Add(time.Minute))
	if !errors.Is(err, slo.ErrUnavailable) || st[0].State != slo.StatusStale || *st[0].SLI != *good[0].SLI {
		t.Fatalf("%v %+v", err, st[0])
	}
	// First pass failing: stale with no figures.
	ev2 := &slo.Evaluator{Querier: failing{db}, SLOs: []*slo.SLO{s}}
	st, _ = ev2.Evaluate(ctx, evalAt)
	if st[0].State != slo.StatusStale || st[0].SLI != nil || st[0].BurnRates.Get("5m") != nil {
		t.Fatalf("%+v", st[0])
	}
}

// filter keeps the status block of want (the burn rate line documents the
// shape; it is checked by count above).
func filter(t *testing.T, _ *prometheus.Registry, want string) string {
	t.Helper()
	i := strings.Index(want, "# HELP vigil_slo_status")
	return want[i:]
}
