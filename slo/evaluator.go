package slo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Settle is how much of the recent past each pass reads again: a minute is
// only final once the samples after its end have been scraped, so the last
// minutes are re-read and replaced.
const Settle = 3 * time.Minute

// Evaluator computes every SLO's status, keeping each SLO's minutes between
// calls: the first pass reads the whole window (plus the longest burn
// window), later passes only the minutes since the previous one. It is safe
// for concurrent use; passes are serialised.
type Evaluator struct {
	Querier Querier
	SLOs    []*SLO
	// StaleAfter: see Options (default DefaultStaleAfter).
	StaleAfter time.Duration
	// Concurrency bounds the SLOs fetched at once (default 2×GOMAXPROCS).
	Concurrency int
	// Metrics, when set, is updated after every pass.
	Metrics *Metrics

	mu    sync.Mutex
	state map[*SLO]*sloState
}

type sloState struct {
	roll    *Rollup
	fetched time.Time // minutes before this are in the rollup
	last    *Status
}

// Evaluate returns the status of every SLO at `at`, in e.SLOs order. When
// the Querier fails for an SLO its last good status is returned marked
// stale (or an empty stale status on the first pass), and the errors are
// returned joined alongside the statuses; errors.Is(err, ErrUnavailable)
// tells an unreachable engine from a bad query.
func (e *Evaluator) Evaluate(ctx context.Context, at time.Time) ([]Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Metrics != nil {
		e.Metrics.Begin()
	}
	if e.state == nil {
		e.state = map[*SLO]*sloState{}
	}
	live := map[*SLO]bool{}
	for _, s := range e.SLOs {
		live[s] = true
		if e.state[s] == nil {
			e.state[s] = &sloState{roll: NewRollup(s, 0, 0)}
		}
	}
	for s := range e.state {
		if !live[s] {
			delete(e.state, s) // an SLO removed by a reload
		}
	}
	out := make([]Status, len(e.SLOs))
	errs := make([]error, len(e.SLOs))
	n := e.Concurrency
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, s := range e.SLOs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = e.evaluateOne(ctx, s, e.state[s], at)
		}()
	}
	wg.Wait()
	err := errors.Join(errs...)
	if e.Metrics != nil {
		e.Metrics.update(at, out, err)
	}
	return out, err
}

func (e *Evaluator) evaluateOne(ctx context.Context, s *SLO, st *sloState, at time.Time) (Status, error) {
	end := at.UTC().Truncate(time.Minute)
	wStart, _ := s.Window.Bounds(end)
	from := minTime(wStart, end.Add(-LongestBurnWindow()))
	if err := e.refresh(ctx, s, st, from, end); err != nil {
		var stale Status
		if st.last != nil {
			stale = *st.last
		} else {
			stale = st.roll.Status(s, at, Options{StaleAfter: e.StaleAfter})
			stale.SLI, stale.ErrorBudget.Consumed, stale.ErrorBudget.Remaining, stale.TimeToExhaustion = nil, nil, nil, nil
			for i := range stale.BurnRates {
				stale.BurnRates[i].Rate = nil
			}
		}
		stale.State = StatusStale
		return stale, fmt.Errorf("slo %s: %w", s.Name, err)
	}
	status := st.roll.Status(s, at, Options{StaleAfter: e.StaleAfter})
	st.last = &status
	return status, nil
}

// refresh brings the rollup up to end: everything from `from` on the first
// pass (or after a gap longer than the rollup keeps), otherwise the minutes
// since the last pass; then the far edge of the window if it is missing.
func (e *Evaluator) refresh(ctx context.Context, s *SLO, st *sloState, from, end time.Time) error {
	start := from
	if !st.fetched.IsZero() && !st.fetched.Before(from) {
		start = st.fetched.Add(-Settle)
	} else if !st.fetched.IsZero() {
		st.roll = NewRollup(s, 0, 0) // too far behind: start over
	}
	if start.Before(end) {
		slices, err := FetchSlices(ctx, e.Querier, s, start, end)
		if err != nil {
			return err
		}
		st.roll.Add(slices...)
		st.fetched = end
	}
	wStart, _ := s.Window.Bounds(end)
	if gap, ok := st.roll.EdgeGap(wStart); ok {
		slices, err := FetchSlices(ctx, e.Querier, s, gap, gap.Add(time.Hour))
		if err != nil {
			return err
		}
		st.roll.AddEdge(slices...)
	}
	st.roll.PruneEdge(wStart.Add(-time.Hour))
	return nil
}

// Last returns the statuses of the latest pass without querying (nil
// entries are skipped): what `vigil serve` shows between passes.
func (e *Evaluator) Last() []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Status
	for _, s := range e.SLOs {
		if st := e.state[s]; st != nil && st.last != nil {
			out = append(out, *st.last)
		}
	}
	return out
}

// RequiredHistory is how far back the store behind the Querier must keep
// samples for slos: the longest window (a calendar quarter holds up to 92
// days) or the longest burn window, plus the lookback and a day's margin.
// Use it for the embedded TSDB's retention.
func RequiredHistory(slos []*SLO) time.Duration {
	d := LongestBurnWindow()
	for _, s := range slos {
		d = max(d, maxWindow(s.Window))
	}
	return d + Lookback + 24*time.Hour
}
