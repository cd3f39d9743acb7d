package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/internal/tsdb"
	"github.com/vigil-dev/vigil/probes"
)

// Incident is a stretch of the demo's synthetic history when the shop was
// unwell: a share of checkout runs failed, or ran slow.
type Incident struct {
	From, To    time.Time
	FailShare   float64 // share of runs that failed
	SlowShare   float64 // share of runs slower than the latency SLO's 0.5 s
	Description string
}

// Incidents places the demo's incidents relative to the end of history, so
// every demo shows a recent outage, a slow spell and a brownout.
func Incidents(end time.Time) []Incident {
	day := 24 * time.Hour
	at := func(daysAgo float64, hour int) time.Time {
		return end.Add(-time.Duration(daysAgo * float64(day))).Truncate(day).Add(time.Duration(hour) * time.Hour)
	}
	return []Incident{
		{From: at(26, 3), To: at(26, 3).Add(35 * time.Minute), FailShare: 1, Description: "database failover left checkout down"},
		{From: at(17, 14), To: at(17, 14).Add(4 * time.Hour), SlowShare: 0.3, Description: "cache eviction storm slowed checkout"},
		{From: at(9, 2), To: at(9, 2).Add(50 * time.Minute), FailShare: 0.4, Description: "nightly batch job saturated the orders database"},
		{From: at(3, 10), To: at(3, 10).Add(20 * time.Minute), FailShare: 0.15, SlowShare: 0.2, Description: "bad deploy of checkout-api, rolled back"},
	}
}

// runsPerMinute matches the demo journey's 15 s interval.
const runsPerMinute = 4

// ProbeHistory is `days` of the checkout journey's probe series up to end,
// one sample a minute, shaped like what the live runner exports: run
// counters by result and the duration histogram, with the region label.
// Label maps are shared between a series' samples to keep memory small.
func ProbeHistory(end time.Time, days int, region string) []tsdb.Sample {
	rng := rand.New(rand.NewPCG(42, uint64(days)))
	lbl := func(kv ...string) map[string]string {
		m := map[string]string{probes.LabelJourney: "checkout", "region": region}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	okL := lbl("__name__", probes.MetricRuns, probes.LabelResult, probes.ResultSuccess)
	failL := lbl("__name__", probes.MetricRuns, probes.LabelResult, probes.ResultFailure)
	bucketL := make([]map[string]string, len(probes.DurationBuckets)+1)
	for i, b := range probes.DurationBuckets {
		bucketL[i] = lbl("__name__", probes.MetricDurationHistogram+"_bucket", "le", strconv.FormatFloat(b, 'g', -1, 64))
	}
	bucketL[len(probes.DurationBuckets)] = lbl("__name__", probes.MetricDurationHistogram+"_bucket", "le", "+Inf")
	sumL := lbl("__name__", probes.MetricDurationHistogram+"_sum")
	countL := lbl("__name__", probes.MetricDurationHistogram+"_count")

	incidents := Incidents(end)
	start := end.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Minute)
	var ok, fail, sum, count float64
	buckets := make([]float64, len(bucketL))
	samples := make([]tsdb.Sample, 0, int(end.Sub(start)/time.Minute)*(len(bucketL)+4))
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		failShare, slowShare := 0.001, 0.002 // a healthy shop's background noise
		for _, in := range incidents {
			if !t.Before(in.From) && t.Before(in.To) {
				failShare, slowShare = max(failShare, in.FailShare), max(slowShare, in.SlowShare)
			}
		}
		for range runsPerMinute {
			// Typical runs take 40-120 ms; slow ones 0.6-2 s.
			d := 0.04 + 0.08*rng.Float64()
			if rng.Float64() < slowShare {
				d = 0.6 + 1.4*rng.Float64()
			}
			if rng.Float64() < failShare {
				fail++
			} else {
				ok++
			}
			sum += d
			count++
			for i, b := range probes.DurationBuckets {
				if d <= b {
					buckets[i]++
				}
			}
			buckets[len(buckets)-1]++
		}
		// Samples land 7 s into the minute, off the minute boundary.
		ts := t.Add(7 * time.Second)
		samples = append(samples, tsdb.Sample{Labels: okL, T: ts, V: ok}, tsdb.Sample{Labels: failL, T: ts, V: fail},
			tsdb.Sample{Labels: sumL, T: ts, V: math.Round(sum*1e6) / 1e6}, tsdb.Sample{Labels: countL, T: ts, V: count})
		for i, l := range bucketL {
			samples = append(samples, tsdb.Sample{Labels: l, T: ts, V: buckets[i]})
		}
	}
	return samples
}
