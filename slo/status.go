package slo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// DefaultStaleAfter is how old the newest minute may be before a status is
// reported stale: a few missed scrapes, not a quiet minute.
const DefaultStaleAfter = 10 * time.Minute

// Status is one SLO's figures at one time. It marshals to the JSON contract
// of `vigil slo status` (snake_case, ratios in 0..1, durations in seconds;
// sli, budget consumption and burn rates null when there is no data).
type Status struct {
	Name             string            `json:"name"`
	Service          string            `json:"service"`
	Class            Class             `json:"class"`
	Objective        float64           `json:"objective"`
	Window           string            `json:"window"`
	WindowSeconds    float64           `json:"window_seconds"`
	SLI              *float64          `json:"sli"`
	Events           Events            `json:"events"`
	ErrorBudget      ErrorBudget       `json:"error_budget"`
	BurnRates        BurnRates         `json:"burn_rates"`
	FailingMinutes   int               `json:"failing_minutes"`
	ExcludedMinutes  int               `json:"excluded_minutes"`
	TimeToExhaustion *float64          `json:"time_to_exhaustion_seconds"`
	State            string            `json:"status"`
	Start            time.Time         `json:"-"` // the window evaluated: [Start, End)
	End              time.Time         `json:"-"`
	Labels           map[string]string `json:"-"`
}

// Events are the good and total event counts over the window.
type Events struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
}

// ErrorBudget is the budget as a ratio of events (or of timeslices), and
// how much of it the window consumed; remaining may go negative.
type ErrorBudget struct {
	Total     float64  `json:"total"`
	Consumed  *float64 `json:"consumed"`
	Remaining *float64 `json:"remaining"`
}

// BurnRate is the burn rate over one window (nil: no traffic in it).
type BurnRate struct {
	Window string
	Rate   *float64
}

// BurnRates are in BurnRateWindows order, then the whole window; they
// marshal as one JSON object in that order.
type BurnRates []BurnRate

// Get returns the rate for a window name ("1h", "window").
func (b BurnRates) Get(window string) *float64 {
	for _, r := range b {
		if r.Window == window {
			return r.Rate
		}
	}
	return nil
}

// MarshalJSON writes {"5m": 0.1, ..., "window": 0.2} in window order.
func (b BurnRates) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, r := range b {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(r.Window)
		v, err := json.Marshal(r.Rate)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the object back in the canonical window order.
func (b *BurnRates) UnmarshalJSON(data []byte) error {
	var m map[string]*float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*b = nil
	for _, w := range append(burnNames(), WindowKey) {
		if v, ok := m[w]; ok {
			*b = append(*b, BurnRate{w, v})
		}
	}
	return nil
}

func burnNames() []string {
	out := make([]string, len(BurnRateWindows))
	for i, w := range BurnRateWindows {
		out[i] = w.Name
	}
	return out
}

// Report is the document `vigil slo status --format json` prints.
type Report struct {
	At   time.Time `json:"at"`
	SLOs []Status  `json:"slos"`
}

// Options adjust a status computation.
type Options struct {
	// StaleAfter: when the newest minute with data ends longer than this
	// before the evaluation time the status is stale (DefaultStaleAfter).
	StaleAfter time.Duration
}

// Evaluate computes s's status at `at` from exact one-minute slices; it is
// the pure form of what the Evaluator does incrementally.
func Evaluate(s *SLO, slices []Slice, at time.Time) Status {
	span := 0 * time.Minute
	if len(slices) > 0 {
		lo, hi := slices[0].Start, slices[0].Start
		for _, x := range slices {
			if x.Start.Before(lo) {
				lo = x.Start
			}
			if x.Start.After(hi) {
				hi = x.Start
			}
		}
		span = hi.Sub(lo) + 2*time.Hour
	}
	r := NewRollup(s, span, span)
	r.Add(slices...)
	return r.Status(s, at, Options{})
}

// Status computes s's status at `at` (truncated to the minute: only whole
// minutes count) from what the rollup holds.
func (r *Rollup) Status(s *SLO, at time.Time, opt Options) Status {
	if opt.StaleAfter <= 0 {
		opt.StaleAfter = DefaultStaleAfter
	}
	end := at.UTC().Truncate(time.Minute)
	start, _ := s.Window.Bounds(end)
	length := s.Window.Length(end)
	budget := s.Budget()
	st := Status{
		Name: s.Name, Service: s.Service, Class: s.Class, Objective: s.Objective,
		Window: s.Window.String(), WindowSeconds: length.Seconds(),
		ErrorBudget: ErrorBudget{Total: budget},
		Start:       start, End: end, Labels: s.Labels,
	}
	a := r.sum(minuteOf(start), minuteOf(end))
	st.Events = Events{Good: a.Good, Total: a.Total}
	st.FailingMinutes = a.Failing
	st.ExcludedMinutes = excludedMinutes(s.Exclude, start, end)
	errRatio := func(a agg) *float64 {
		if s.Budgeting.Method == Timeslices {
			if a.Slices == 0 {
				return nil
			}
			v := 1 - float64(a.GoodSlices)/float64(a.Slices)
			return &v
		}
		if a.Total <= 0 {
			return nil
		}
		v := (a.Total - a.Good) / a.Total
		return &v
	}
	if e := errRatio(a); e != nil {
		sli := 1 - *e
		consumed := *e / budget
		remaining := 1 - consumed
		st.SLI, st.ErrorBudget.Consumed, st.ErrorBudget.Remaining = &sli, &consumed, &remaining
	}
	for _, w := range BurnRateWindows {
		var rate *float64
		if e := errRatio(r.sum(minuteOf(end.Add(-w.Duration)), minuteOf(end))); e != nil {
			v := *e / budget
			rate = &v
		}
		st.BurnRates = append(st.BurnRates, BurnRate{w.Name, rate})
	}
	st.BurnRates = append(st.BurnRates, BurnRate{WindowKey, st.ErrorBudget.Consumed})

	burn1h := st.BurnRates.Get("1h")
	newest := r.Newest()
	switch {
	case a.Minutes == 0 && (newest.IsZero() || newest.Before(start)):
		st.State = StatusNoData
	case newest.Before(end.Add(-opt.StaleAfter)):
		st.State = StatusStale
	case st.SLI == nil:
		st.State = StatusNoTraffic
	case *st.ErrorBudget.Remaining <= 0:
		st.State = StatusExhausted
	case burn1h != nil && *burn1h > 1:
		st.State = StatusBurning
	default:
		st.State = StatusOK
	}
	// Time to exhaustion: the remaining budget spent at the 1h burn rate.
	// At a burn rate ≤ 1 a rolling budget never runs out, so it is null.
	switch {
	case st.ErrorBudget.Remaining != nil && *st.ErrorBudget.Remaining <= 0:
		zero := 0.0
		st.TimeToExhaustion = &zero
	case st.ErrorBudget.Remaining != nil && burn1h != nil && *burn1h > 1:
		v := *st.ErrorBudget.Remaining * length.Seconds() / *burn1h
		st.TimeToExhaustion = &v
	}
	return st
}

// excludedMinutes counts the whole minutes of [start, end) that begin
// inside an exclusion; overlapping exclusions count once.
func excludedMinutes(ex []Exclusion, start, end time.Time) int {
	type iv struct{ a, b int64 }
	var ivs []iv
	lo, hi := minuteOf(start), minuteOf(end)
	for _, e := range ex {
		// Minutes whose start t satisfies From ≤ t < To.
		a := max(ceilDiv(e.From.Unix(), 60), lo)
		b := min(ceilDiv(e.To.Unix(), 60), hi)
		if a < b {
			ivs = append(ivs, iv{a, b})
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].a < ivs[j].a })
	n, cur := int64(0), int64(math.MinInt64)
	for _, v := range ivs {
		a := max(v.a, cur)
		if v.b > a {
			n += v.b - a
		}
		cur = max(cur, v.b)
	}
	return int(n)
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// String is a one-line summary for logs.
func (s Status) String() string {
	sli := "null"
	if s.SLI != nil {
		sli = fmt.Sprintf("%.6f", *s.SLI)
	}
	return fmt.Sprintf("%s/%s %s sli=%s objective=%g", s.Service, s.Name, s.State, sli, s.Objective)
}
