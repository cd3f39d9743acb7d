package tsdb

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// The SLO benchmark's data, in one place for this package's benchmark and
// bench/slo (which loads the same data into Prometheus beside it): SLO i has
// counters bench_events_total{kind="good"|"total", slo=BenchSLOName(i)},
// sampled every minute, 17 s past it, from BenchStart.
var BenchStart = time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)

// BenchSLOName names SLO i.
func BenchSLOName(i int) string { return fmt.Sprintf("s%04d", i) }

// BenchSampleTime is when minute m's sample is taken.
func BenchSampleTime(m int) time.Time {
	return BenchStart.Add(time.Duration(m)*time.Minute + 17*time.Second)
}

// BenchIncrements returns minute m's total and error increments of SLO i:
// uneven traffic, a sprinkle of error minutes, and a 30-minute burst for
// every tenth SLO on the 20th.
func BenchIncrements(i, m int) (total, errs float64) {
	total = float64(60 + (i+m)%41)
	if (m*7919+i*104729)%1000 == 0 {
		errs = 30
	}
	if i%10 == 0 && m >= 20*1440+720 && m < 20*1440+750 {
		errs += 20
	}
	return total, errs
}

// WriteBenchBlocks writes the first minutes of n SLOs' data into dir as
// one TSDB block a day.
func WriteBenchBlocks(dir string, n, minutes int) error {
	good := make([]labels.Labels, n)
	total := make([]labels.Labels, n)
	for i := range good {
		good[i] = labels.FromStrings("__name__", "bench_events_total", "kind", "good", "slo", BenchSLOName(i))
		total[i] = labels.FromStrings("__name__", "bench_events_total", "kind", "total", "slo", BenchSLOName(i))
	}
	gv := make([]float64, n)
	tv := make([]float64, n)
	ctx := context.Background()
	for d0 := 0; d0 < minutes; d0 += 1440 {
		w, err := tsdb.NewBlockWriter(slog.New(slog.DiscardHandler), dir, (24 * time.Hour).Milliseconds())
		if err != nil {
			return err
		}
		app := w.Appender(ctx)
		gref := make([]storage.SeriesRef, n)
		tref := make([]storage.SeriesRef, n)
		for m := d0; m < min(d0+1440, minutes); m++ {
			t := BenchSampleTime(m).UnixMilli()
			for i := 0; i < n; i++ {
				tot, e := BenchIncrements(i, m)
				tv[i] += tot
				gv[i] += tot - e
				if tref[i], err = app.Append(tref[i], total[i], t, tv[i]); err != nil {
					return err
				}
				if gref[i], err = app.Append(gref[i], good[i], t, gv[i]); err != nil {
					return err
				}
			}
		}
		if err := app.Commit(); err != nil {
			return err
		}
		if _, err := w.Flush(ctx); err != nil {
			return err
		}
		w.Close()
	}
	return nil
}
