package slo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Point is one sample of a query result.
type Point struct {
	T time.Time
	V float64
}

// Series is one labelled series of a query result: a single point for an
// instant query, one point per step for a range query.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Querier answers PromQL. Two implementations exist: the embedded TSDB and
// engine (internal/tsdb) and a Prometheus-compatible HTTP API (slo/promapi).
// The evaluator only needs plain selectors evaluated at one-minute steps.
type Querier interface {
	// Query evaluates expr at one instant.
	Query(ctx context.Context, expr string, at time.Time) ([]Series, error)
	// QueryRange evaluates expr at start, start+step, ..., up to end.
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error)
}

// ErrUnavailable wraps errors of a Querier that could not reach its engine
// (network error, timeout, 5xx): an outside dependency, exit code 3.
var ErrUnavailable = errors.New("query engine unavailable")

// MaxSteps is the most points one range query asks for; Prometheus refuses
// more than 11,000 per series.
const MaxSteps = 10_000

// rawWindow is the range substituted into raw error-ratio queries when they
// are sampled once a minute: long enough to hold several samples at a 60 s
// scrape interval (a [1m] range may hold one), and since consecutive minutes
// overlap, a short burst still adds up to its true error-minutes.
const rawWindow = "5m"

// FetchSlices reads s's one-minute slices for the minutes in [from, to)
// (truncated to whole minutes).
//
// Why not increase(x[1m]) at a 1-minute step: over data scraped every 60 s
// a [1m] range holds one sample on Prometheus 3 (left-open ranges) and two
// on 2.x, so it gives nothing or an extrapolated guess. Instead the raw
// samples of each counter selector are read (an instant query of sel[range],
// a day at a time) and consecutive samples are differenced per series with
// counter-reset handling, as increase() does inside its range; each
// increment belongs to the minute its later sample falls in ((t, t+1m] is
// minute t, matching an instant vector at the minute boundary). The slices
// of a window therefore add up to the counters' increase over it, without
// the edge extrapolation of increase(). A minute has data when some total
// series was alive at its end (a sample within the lookback); absent error
// series count as zero errors.
func FetchSlices(ctx context.Context, q Querier, s *SLO, from, to time.Time) ([]Slice, error) {
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	if !to.After(from) {
		return nil, nil
	}
	if s.SLI.Kind == KindRaw {
		return fetchRaw(ctx, q, s, from, to)
	}
	n := int(to.Sub(from) / time.Minute)
	total, has, err := fetchCounter(ctx, q, s.SLI.total, from, n)
	if err != nil {
		return nil, err
	}
	var good []float64
	var bad bool
	if s.SLI.bad != nil {
		good, _, err = fetchCounter(ctx, q, s.SLI.bad, from, n)
		bad = true
	} else {
		good, _, err = fetchCounter(ctx, q, s.SLI.good, from, n)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Slice, 0, n)
	for i := 0; i < n; i++ {
		if !has[i] {
			continue
		}
		g := good[i]
		if bad {
			g = total[i] - g
		}
		out = append(out, Slice{Start: from.Add(time.Duration(i) * time.Minute), Good: g, Total: total[i]})
	}
	return out, nil
}

// Lookback is how long a series counts as alive after its last sample, as
// PromQL's default lookback delta; it is also how far before a range the
// raw read starts, to find each series' value at the range's start.
const Lookback = 5 * time.Minute

// fetchChunk is how much history one raw read covers.
const fetchChunk = 24 * time.Hour

type lastSample struct {
	t  time.Time
	v  float64
	ok bool
}

// fetchCounter returns the per-minute increase of a linear counter for n
// minutes from `from`, and which minutes had a live series.
func fetchCounter(ctx context.Context, q Querier, c Counter, from time.Time, n int) ([]float64, []bool, error) {
	sum := make([]float64, n)
	has := make([]bool, n)
	to := from.Add(time.Duration(n) * time.Minute)
	// minuteOfSample is the minute a sample at t closes: (m, m+1m] → m.
	minuteOfSample := func(t time.Time) int {
		d := t.Sub(from)
		return int((d+time.Minute-1)/time.Minute) - 1
	}
	markAlive := func(t time.Time) {
		// Minutes whose end lies in [t, t+Lookback) see this sample.
		for k := max(minuteOfSample(t), 0); k < n; k++ {
			end := from.Add(time.Duration(k+1) * time.Minute)
			if !end.Before(t.Add(Lookback)) {
				break
			}
			if !end.Before(t) {
				has[k] = true
			}
		}
	}
	for _, term := range c {
		last := map[string]lastSample{}
		for cs := from; cs.Before(to); cs = cs.Add(fetchChunk) {
			ce := minTime(cs.Add(fetchChunk), to)
			lo := cs.Add(-Lookback)
			expr := fmt.Sprintf("%s[%ds]", term.Selector, int64(ce.Sub(lo)/time.Second))
			res, err := q.Query(ctx, expr, ce)
			if err != nil {
				return nil, nil, fmt.Errorf("query %s: %w", expr, err)
			}
			for _, sr := range res {
				key := labelKey(sr.Labels)
				p := last[key]
				for _, pt := range sr.Points {
					if math.IsNaN(pt.V) || p.ok && !pt.T.After(p.t) {
						continue // stale marker, or already read in the previous chunk
					}
					if !pt.T.After(from) {
						p = lastSample{pt.T, pt.V, true} // the value at the start
						continue
					}
					if p.ok {
						inc := pt.V - p.v
						if pt.V < p.v {
							inc = pt.V // a reset: the counter restarted from zero
						}
						if k := minuteOfSample(pt.T); k >= 0 && k < n {
							sum[k] += term.Coef * inc
						}
					}
					p = lastSample{pt.T, pt.V, true}
					markAlive(pt.T)
				}
				if p.ok && !p.t.After(from) {
					markAlive(p.t)
				}
				last[key] = p
			}
		}
	}
	return sum, has, nil
}

func fetchRaw(ctx context.Context, q Querier, s *SLO, from, to time.Time) ([]Slice, error) {
	expr := Expand(s.SLI.ErrorRatioQuery, rawWindow)
	var out []Slice
	for c := from; c.Before(to); c = c.Add(MaxSteps * time.Minute) {
		end := minTime(c.Add(MaxSteps*time.Minute), to)
		// The value at the end of each minute is that minute's error ratio.
		res, err := q.QueryRange(ctx, expr, c.Add(time.Minute), end, time.Minute)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", expr, err)
		}
		byT := map[int64][]float64{}
		for _, sr := range res {
			for _, p := range sr.Points {
				if !math.IsNaN(p.V) {
					byT[p.T.Unix()] = append(byT[p.T.Unix()], p.V)
				}
			}
		}
		ts := make([]int64, 0, len(byT))
		for t := range byT {
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		for _, t := range ts {
			var e float64
			for _, v := range byT[t] {
				e += v
			}
			e = math.Min(1, math.Max(0, e/float64(len(byT[t]))))
			// Each minute weighs one event; a raw SLI has no event counts.
			out = append(out, Slice{Start: time.Unix(t, 0).UTC().Add(-time.Minute), Good: 1 - e, Total: 1})
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return b.String()
}
