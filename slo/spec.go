package slo

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Class says how an SLO alerts: customer-facing SLOs page on the fast burn
// tiers; internal ones (the default, and the many) only ticket.
type Class string

// The classes.
const (
	CustomerFacing Class = "customer-facing"
	Internal       Class = "internal"
)

// SLIKind names the kind of indicator.
type SLIKind string

// The SLI kinds.
const (
	KindEvents  SLIKind = "events"
	KindRaw     SLIKind = "raw"
	KindLatency SLIKind = "latency"
	KindProbe   SLIKind = "probe"
)

// SLO is one objective, whatever file format it came from.
type SLO struct {
	Name        string
	Service     string
	Description string
	Class       Class
	// Objective is the target as a ratio in (0, 1); ObjectivePercent is the
	// same target as written (99.9), kept so generators print it exactly.
	Objective        float64
	ObjectivePercent float64
	Window           Window
	Budgeting        Budgeting
	Labels           map[string]string
	Exclude          []Exclusion
	SLI              SLI
	// Page asks an internal SLO to page on the fast tiers too.
	Page   bool
	Source Source
}

// Budget is the error budget as a ratio: 1 − objective, computed in decimal
// so 99.9 gives exactly 0.001 rather than 0.0010000000000000009.
func (s *SLO) Budget() float64 {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(s.ObjectivePercent, 'g', -1, 64))
	if !ok {
		return 1 - s.Objective
	}
	r.Sub(big.NewRat(100, 1), r)
	r.Quo(r, big.NewRat(100, 1))
	f, _ := r.Float64()
	return f
}

// Pages reports whether the SLO's fast burn tiers page.
func (s *SLO) Pages() bool { return s.Class == CustomerFacing || s.Page }

// Source says where an SLO was defined.
type Source struct {
	File   string
	Line   int
	Format string // "vigil", "sloth", "openslo"
}

func (s Source) String() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// BudgetingMethod is how the budget is counted.
type BudgetingMethod string

// The budgeting methods.
const (
	Occurrences BudgetingMethod = "occurrences"
	Timeslices  BudgetingMethod = "timeslices"
)

// Budgeting is occurrences (a ratio of event counts) or timeslices (the
// share of good slices; a slice is good when its good/total ≥ GoodWhen).
type Budgeting struct {
	Method   BudgetingMethod
	Slice    time.Duration
	GoodWhen float64
}

// Exclusion is a maintenance window that burns no budget.
type Exclusion struct {
	From, To time.Time
	Reason   string
}

// SLI is the indicator. Query templates keep the {{.window}} placeholder.
type SLI struct {
	Kind SLIKind
	// Events: TotalQuery and exactly one of ErrorQuery or GoodQuery.
	ErrorQuery, GoodQuery, TotalQuery string
	// Raw: the error ratio itself.
	ErrorRatioQuery string
	Latency         *LatencySLI
	Probe           *ProbeSLI

	// Compiled counters for the evaluator: bad (or good) and total.
	bad, good, total Counter
}

// LatencySLI counts requests faster than Below seconds as good, from a
// classic histogram's _bucket and _count.
type LatencySLI struct {
	Histogram string
	Selector  string
	Below     float64
}

// ProbeSLI is the shorthand over the probe run counters of one journey.
type ProbeSLI struct {
	Journey string
}

// Queries returns the error and total queries with window substituted
// (PromQL duration, such as "5m"), for rule generation. For a raw SLI
// errorQ is the error ratio and totalQ is empty. Event SLIs render from
// their compiled counters, so a spec mixing rate() and increase() still
// gives a true ratio.
func (s *SLI) Queries(window string) (errorQ, totalQ string) {
	if s.Kind == KindRaw {
		return Expand(s.ErrorRatioQuery, window), ""
	}
	if s.total == nil { // not compiled (built by hand): the templates as written
		if s.ErrorQuery != "" {
			return Expand(s.ErrorQuery, window), Expand(s.TotalQuery, window)
		}
		t := Expand(s.TotalQuery, window)
		return fmt.Sprintf("(%s) - (%s)", t, Expand(s.GoodQuery, window)), t
	}
	t := s.total.String(window)
	if s.bad != nil {
		return s.bad.String(window), t
	}
	return fmt.Sprintf("(%s) - (%s)", t, s.good.String(window)), t
}

// GoodQueryOver returns the good-events query over window when the SLI counts
// good events (good_query, latency); ok is false when it counts errors.
func (s *SLI) GoodQueryOver(window string) (q string, ok bool) {
	switch {
	case s.good != nil:
		return s.good.String(window), true
	case s.total == nil && s.Kind == KindEvents && s.ErrorQuery == "" && s.GoodQuery != "":
		return Expand(s.GoodQuery, window), true
	}
	return "", false
}

// compile fills the counters; it returns a message for a bad SLI.
func (s *SLI) compile(bare bool) (field, msg string) {
	var err error
	switch s.Kind {
	case KindEvents:
		if s.total, err = compileCounter(s.TotalQuery, bare); err != nil {
			return "total_query", err.Error()
		}
		if s.ErrorQuery != "" {
			if s.bad, err = compileCounter(s.ErrorQuery, bare); err != nil {
				return "error_query", err.Error()
			}
		} else if s.good, err = compileCounter(s.GoodQuery, bare); err != nil {
			return "good_query", err.Error()
		}
	case KindLatency:
		l := s.Latency
		total, err := selector(l.Histogram+"_count", l.Selector)
		if err != nil {
			return "selector", err.Error()
		}
		good, err := selector(l.Histogram+"_bucket", l.Selector, leMatcher(l.Below))
		if err != nil {
			return "selector", err.Error()
		}
		s.total = Counter{{1, total}}
		s.good = Counter{{1, good}}
	case KindProbe:
		j := labels.MustNewMatcher(labels.MatchEqual, ProbeJourneyLabel, s.Probe.Journey)
		total, _ := selector(ProbeRunsMetric, "", j)
		bad, _ := selector(ProbeRunsMetric, "", j, labels.MustNewMatcher(labels.MatchEqual, ProbeResultLabel, ProbeFailureValue))
		s.total = Counter{{1, total}}
		s.bad = Counter{{1, bad}}
	case KindRaw:
		if _, err := ParsePromQL(Expand(s.ErrorRatioQuery, "5m")); err != nil {
			return "error_ratio_query", "invalid PromQL: " + oneLine(err.Error())
		}
	}
	return "", ""
}
