package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The window placeholder of SLI query templates (sloth's convention).
var windowRE = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// HasWindow reports whether a query template names the window.
func HasWindow(tmpl string) bool { return windowRE.MatchString(tmpl) }

// Expand substitutes the window (a PromQL duration such as "5m") into a
// query template.
func Expand(tmpl, window string) string { return windowRE.ReplaceAllString(tmpl, window) }

var promParser = parser.NewParser(parser.Options{})

// ParsePromQL parses an expression with the real Prometheus parser.
func ParsePromQL(q string) (parser.Expr, error) { return promParser.ParseExpr(q) }

// Term is one counter of an event count: Coef × the increase of every series
// that Selector (a PromQL vector selector) matches, summed over the series.
type Term struct {
	Coef     float64
	Selector string
}

// Counter is an event count as a linear sum of counters. The evaluator needs
// this shape rather than an opaque query because per-minute counts must come
// from the raw counter values differenced with reset handling; rate() or
// increase() over a [1m] range holds a single sample when data is scraped
// every 60 s (on Prometheus 3) and gives nothing, or extrapolated guesses.
type Counter []Term

// String renders the counter as a rate query over window, for rules and
// messages: sum(rate(a[5m])) - sum(rate(b[5m])).
func (c Counter) String(window string) string {
	var b strings.Builder
	for i, t := range c {
		coef := t.Coef
		if i > 0 {
			if coef < 0 {
				b.WriteString(" - ")
				coef = -coef
			} else {
				b.WriteString(" + ")
			}
		} else if coef < 0 {
			b.WriteString("-")
			coef = -coef
		}
		if coef != 1 {
			b.WriteString(strconv.FormatFloat(coef, 'g', -1, 64) + " * ")
		}
		fmt.Fprintf(&b, "sum(rate(%s[%s]))", t.Selector, window)
	}
	return b.String()
}

// compileCounter turns a query template into a Counter. It accepts sums
// (with any grouping: an SLO is one number, so groups are summed) of rate()
// or increase() over plain selectors, joined by + and -, scaled by numbers,
// and `or vector(0)`. With bare true a plain selector is itself a counter
// (OpenSLO `counter: true` queries name the counters, not their rates).
func compileCounter(tmpl string, bare bool) (Counter, error) {
	q := Expand(tmpl, "5m")
	e, err := ParsePromQL(q)
	if err != nil {
		return nil, fmt.Errorf("invalid PromQL: %s", oneLine(err.Error()))
	}
	c, err := linear(e, bare)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func linear(e parser.Expr, bare bool) (Counter, error) {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return linear(n.Expr, bare)
	case *parser.StepInvariantExpr:
		return linear(n.Expr, bare)
	case *parser.AggregateExpr:
		if n.Op != parser.SUM {
			break
		}
		return linear(n.Expr, bare)
	case *parser.Call:
		if n.Func.Name != "rate" && n.Func.Name != "increase" || len(n.Args) != 1 {
			break
		}
		ms, ok := n.Args[0].(*parser.MatrixSelector)
		if !ok {
			break
		}
		return selectorTerm(ms.VectorSelector.(*parser.VectorSelector))
	case *parser.VectorSelector:
		if bare {
			return selectorTerm(n)
		}
	case *parser.BinaryExpr:
		if n.Op == parser.LOR && isZeroVector(n.RHS) {
			// `x or vector(0)` keeps an absent error series at zero; the
			// evaluator already counts absence as zero events.
			return linear(n.LHS, bare)
		}
		if n.ReturnBool {
			break
		}
		switch n.Op {
		case parser.ADD, parser.SUB:
			l, err := linear(n.LHS, bare)
			if err != nil {
				return nil, err
			}
			r, err := linear(n.RHS, bare)
			if err != nil {
				return nil, err
			}
			if n.Op == parser.SUB {
				r = r.scale(-1)
			}
			return append(l, r...), nil
		case parser.MUL:
			if k, ok := number(n.LHS); ok {
				r, err := linear(n.RHS, bare)
				return r.scale(k), err
			}
			if k, ok := number(n.RHS); ok {
				l, err := linear(n.LHS, bare)
				return l.scale(k), err
			}
		case parser.DIV:
			if k, ok := number(n.RHS); ok && k != 0 {
				l, err := linear(n.LHS, bare)
				return l.scale(1 / k), err
			}
		}
	}
	return nil, fmt.Errorf("the evaluator counts events from sums of rate() or increase() over counters, joined by + and -; found %q (use sli.raw for other shapes)", e.String())
}

func selectorTerm(vs *parser.VectorSelector) (Counter, error) {
	if vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return nil, fmt.Errorf("offset and @ are not allowed in SLI selectors: %s", vs.String())
	}
	return Counter{{Coef: 1, Selector: vs.String()}}, nil
}

func (c Counter) scale(k float64) Counter {
	for i := range c {
		c[i].Coef *= k
	}
	return c
}

func number(e parser.Expr) (float64, bool) {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	if n, ok := e.(*parser.NumberLiteral); ok && !math.IsNaN(n.Val) && !math.IsInf(n.Val, 0) {
		return n.Val, true
	}
	return 0, false
}

func isZeroVector(e parser.Expr) bool {
	c, ok := e.(*parser.Call)
	if !ok || c.Func.Name != "vector" || len(c.Args) != 1 {
		return false
	}
	v, ok := number(c.Args[0])
	return ok && v == 0
}

// selector builds a vector selector from a metric name and a selector such
// as {journey="checkout"} (may be empty), with extra matchers appended.
func selector(metric, sel string, extra ...*labels.Matcher) (string, error) {
	sel = strings.TrimSpace(sel)
	if sel == "" {
		sel = "{}"
	}
	if !strings.HasPrefix(sel, "{") {
		return "", fmt.Errorf("expected a selector like {job=\"api\"}, found %q", sel)
	}
	ms, err := promParser.ParseMetricSelector(metric + sel)
	if err != nil {
		return "", fmt.Errorf("invalid selector %q: %s", sel, oneLine(err.Error()))
	}
	ms = append(ms, extra...)
	vs := &parser.VectorSelector{Name: metric, LabelMatchers: ms}
	return vs.String(), nil
}

// leMatcher matches a classic histogram bucket bound as Prometheus 2 ("1")
// and Prometheus 3 ("1.0") write it, so a threshold never silently matches
// nothing after an upgrade.
func leMatcher(below float64) *labels.Matcher {
	s := strconv.FormatFloat(below, 'g', -1, 64)
	alts := []string{regexp.QuoteMeta(s)}
	if below == math.Trunc(below) && !strings.ContainsAny(s, "e.") {
		alts = append(alts, regexp.QuoteMeta(s+".0"))
	}
	if len(alts) == 1 {
		return labels.MustNewMatcher(labels.MatchEqual, "le", s)
	}
	return labels.MustNewMatcher(labels.MatchRegexp, "le", strings.Join(alts, "|"))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
