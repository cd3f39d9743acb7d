package rules

// Semantic tests: the generated rules run in Prometheus's own rule engine
// (`promtool test rules`, Debian's 2.42) over synthetic counters, and the
// alerts that fire are compared with what a small model of the burn-rate
// table says must fire.

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/testenv"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

// ---- promtool test file model ----

type ptFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	GroupEvalOrder     []string `yaml:"group_eval_order,omitempty"`
	Tests              []ptTest `yaml:"tests"`
}

type ptTest struct {
	Name        string       `yaml:"name,omitempty"`
	Interval    string       `yaml:"interval"`
	InputSeries []ptSeries   `yaml:"input_series"`
	Alerts      []ptAlert    `yaml:"alert_rule_test,omitempty"`
	Exprs       []ptExprTest `yaml:"promql_expr_test,omitempty"`
}

type ptSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type ptAlert struct {
	EvalTime  string       `yaml:"eval_time"`
	AlertName string       `yaml:"alertname"`
	ExpAlerts []ptExpAlert `yaml:"exp_alerts"`
}

type ptExpAlert struct {
	Labels      map[string]string `yaml:"exp_labels"`
	Annotations map[string]string `yaml:"exp_annotations"`
}

type ptExprTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []ptSamples `yaml:"exp_samples"`
}

type ptSamples struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

func minutes(m int) string { return strconv.Itoa(m) + "m" }

// counter renders per-minute increments (incs[i] is the increase from
// minute i to i+1) as promtool's expanding notation, starting at 0.
func counter(incs []float64) string {
	v := make([]float64, len(incs)+1)
	for i, d := range incs {
		v[i+1] = v[i] + d
	}
	var segs []string
	for s := 0; s <= len(incs); {
		n, d := 0, 0.0
		if s < len(incs) {
			d = incs[s]
			for s+n < len(incs) && incs[s+n] == d {
				n++
			}
		}
		if n == 0 {
			segs = append(segs, fnum(v[s]))
		} else {
			segs = append(segs, fmt.Sprintf("%s+%sx%d", fnum(v[s]), fnum(d), n))
		}
		s += n + 1
	}
	return strings.Join(segs, " ")
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// runPromtool writes the rule files and the test file into a temporary
// directory and runs `promtool test rules`.
func runPromtool(t *testing.T, rules map[string][]byte, tf ptFile) {
	t.Helper()
	bin := testenv.Promtool(t)
	dir := t.TempDir()
	for name, b := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		tf.RuleFiles = append(tf.RuleFiles, name)
	}
	sort.Strings(tf.RuleFiles)
	// promtool evaluates groups in random order unless told: evaluate them
	// as written (recordings before the alerts that read them), as
	// Prometheus's own staggered evaluation effectively does at 1m intervals.
	for _, name := range tf.RuleFiles {
		var f struct {
			Groups []struct {
				Name string `yaml:"name"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(rules[name], &f); err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Groups {
			tf.GroupEvalOrder = append(tf.GroupEvalOrder, g.Name)
		}
	}
	b, err := yaml.Marshal(tf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "test", "rules", "test.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, truncate(string(out), 6000))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n... (truncated)"
}

// loadSLOs writes an SLO file and loads it as vigil does.
func loadSLOs(t *testing.T, text string) []*slo.SLO {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, err := slo.LoadFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func generate(t *testing.T, ss []*slo.SLO, js []probes.Journey, o Options) (map[string][]byte, []Warning) {
	t.Helper()
	out, ws, err := Generate(ss, js, o)
	if err != nil {
		t.Fatal(err)
	}
	return out, ws
}

// alertAnnotations finds the annotations of the generated alert with the
// given name and labels (the semantic tests check firing; the text is the
// golden files' business).
func alertAnnotations(t *testing.T, files map[string][]byte, alert string, match map[string]string) map[string]string {
	t.Helper()
	for _, b := range files {
		var f struct {
			Groups []struct {
				Rules []rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Groups {
		next:
			for _, r := range g.Rules {
				if r.Alert != alert {
					continue
				}
				for k, v := range match {
					if r.Labels[k] != v {
						continue next
					}
				}
				return r.Annotations
			}
		}
	}
	t.Fatalf("no alert %s with labels %v", alert, match)
	return nil
}

// ---- the burn-rate model ----

const perMinute = 1000.0 // events per minute in the burn tests

// errorWindow is a run of minutes (From, To] with the given error ratio.
type errorWindow struct {
	From, To int
	Ratio    float64
}

// windowRatio is the error ratio over the window of w minutes ending at
// minute at, as rate() over 1-minute samples computes it.
func windowRatio(ew errorWindow, at, w int) float64 {
	start := max(at-w, 0)
	lo, hi := max(start, ew.From), min(at, ew.To)
	overlap := max(hi-lo, 0)
	return ew.Ratio * float64(overlap) / float64(at-start)
}

type tierCheck struct {
	tier      Tier
	threshold float64
}

// firing returns the tiers whose long and short windows are both above the
// threshold at minute at; it fails when a ratio sits within 0.5% of a
// threshold, where float rounding could decide.
func firing(t *testing.T, checks []tierCheck, ew errorWindow, at int) []tierCheck {
	t.Helper()
	var out []tierCheck
	for _, c := range checks {
		fires := true
		for _, w := range []slo.BurnWindow{c.tier.Long, c.tier.Short} {
			r := windowRatio(ew, at, int(w.Duration/time.Minute))
			if r > 0 && math.Abs(r-c.threshold)/c.threshold < 0.005 {
				t.Fatalf("test design: the %s ratio %v at %dm is too close to the %s tier's threshold %v", w.Name, r, at, c.tier.Name, c.threshold)
			}
			if !(r > c.threshold) {
				fires = false
			}
		}
		if fires {
			out = append(out, c)
		}
	}
	return out
}

func tierChecks(s *slo.SLO) []tierCheck {
	var out []tierCheck
	for _, tr := range Tiers {
		if tr.Long.Duration*2 > Period(s) {
			continue
		}
		th, _ := new(big.Rat).Mul(tr.Factor(Period(s)), budgetRat(s)).Float64()
		if th >= 1 {
			continue
		}
		out = append(out, tierCheck{tr, th})
	}
	return out
}

// burnSeries is the input of one burn test, sampled every step minutes:
// perMinute events a minute up to minute total, errors at ew.Ratio inside
// ew (whose bounds are multiples of step).
func burnSeries(ew errorWindow, total, step int) []ptSeries {
	n := total / step
	all := make([]float64, n)
	bad := make([]float64, n)
	for i := range all {
		all[i] = perMinute * float64(step)
		if end := (i + 1) * step; end > ew.From && end <= ew.To {
			bad[i] = perMinute * float64(step) * ew.Ratio
		}
	}
	return []ptSeries{
		{Series: `test_events_total{kind="all"}`, Values: counter(all)},
		{Series: `test_events_total{kind="bad"}`, Values: counter(bad)},
	}
}

const burnSLO = `slos:
  - name: %s
    service: shop
    class: %s
    objective: %s
    window: %s
    page: %v
    labels: {team: core}
    sli:
      events:
        error_query: sum(rate(test_events_total{kind="bad"}[{{.window}}]))
        total_query: sum(rate(test_events_total{kind="all"}[{{.window}}]))
`

func expAlerts(t *testing.T, files map[string][]byte, s *slo.SLO, fire []tierCheck) []ptExpAlert {
	out := []ptExpAlert{}
	for _, c := range fire {
		sev := slo.SeverityTicket
		if c.tier.Page && s.Pages() {
			sev = slo.SeverityPage
		}
		l := map[string]string{slo.LabelSLO: s.Name, slo.LabelService: s.Service, "team": "core",
			slo.LabelSeverity: sev, slo.LabelTier: c.tier.Name}
		out = append(out, ptExpAlert{Labels: l, Annotations: alertAnnotations(t, files, slo.AlertBurnRate, map[string]string{slo.LabelTier: c.tier.Name})})
	}
	return out
}

// TestBurnTiersFireAndResolve: for each tier, an error ratio 2% above its
// threshold over its windows fires it, 2% below does not, and the alert
// resolves once the short window is clean. One 30-day case; the shorter
// windows exercise the scaled factors and the dropped tiers.
func TestBurnTiersFireAndResolve(t *testing.T) {
	cases := []struct {
		window, objective string
		tiers             []string // the tiers the window keeps
		step, eval        int      // minutes between input samples, between rule evaluations
	}{
		{"1d", "99", []string{"1h", "6h"}, 1, 5},
		{"7d", "99.5", []string{"1h", "6h", "1d", "3d"}, 5, 15},
		{"30d", "99.9", []string{"1h", "6h", "1d", "3d"}, 5, 15},
	}
	for _, tc := range cases {
		t.Run(tc.window, func(t *testing.T) {
			name := "burn-" + tc.window
			ss := loadSLOs(t, fmt.Sprintf(burnSLO, name, "customer-facing", tc.objective, tc.window, false))
			files, _ := generate(t, ss, nil, Options{})
			s := ss[0]
			checks := tierChecks(s)
			var got []string
			for _, c := range checks {
				got = append(got, c.tier.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.tiers, ",") {
				t.Fatalf("tiers for %s: got %v, want %v", tc.window, got, tc.tiers)
			}
			tf := ptFile{EvaluationInterval: minutes(tc.eval)}
			const t0 = 60 // errors start after the first hour
			for _, c := range checks {
				long, short := int(c.tier.Long.Duration/time.Minute), int(c.tier.Short.Duration/time.Minute)
				// Eval times are multiples of the evaluation interval.
				fireAt := t0 + long + 2*tc.eval
				resolveAt := fireAt + (short+10+tc.eval-1)/tc.eval*tc.eval
				for _, above := range []bool{true, false} {
					ratio := c.threshold * 1.02
					if !above {
						ratio = c.threshold * 0.98
					}
					ew := errorWindow{From: t0, To: fireAt, Ratio: ratio}
					test := ptTest{Name: fmt.Sprintf("%s above=%v", c.tier.Name, above), Interval: minutes(tc.step),
						InputSeries: burnSeries(ew, resolveAt+5, tc.step)}
					for _, at := range []int{fireAt, resolveAt} {
						fire := firing(t, checks, ew, at)
						in := false
						for _, f := range fire {
							in = in || f.tier.Name == c.tier.Name
						}
						want := above && at == fireAt
						if in != want {
							t.Fatalf("test design: tier %s above=%v at %dm: model says firing=%v", c.tier.Name, above, at, in)
						}
						test.Alerts = append(test.Alerts, ptAlert{EvalTime: minutes(at), AlertName: slo.AlertBurnRate, ExpAlerts: expAlerts(t, files, s, fire)})
					}
					tf.Tests = append(tf.Tests, test)
				}
			}
			runPromtool(t, files, tf)
		})
	}
}

// TestInternalSLONeverPages: every tier of an internal SLO fires as a
// ticket; the same SLO with page: true pages on the fast tiers.
func TestInternalSLONeverPages(t *testing.T) {
	for _, page := range []bool{false, true} {
		t.Run(fmt.Sprintf("page=%v", page), func(t *testing.T) {
			ss := loadSLOs(t, fmt.Sprintf(burnSLO, "internal-7d", "internal", "99", "7d", page))
			files, _ := generate(t, ss, nil, Options{})
			s := ss[0]
			checks := tierChecks(s)
			const t0 = 60
			at := t0 + 3*24*60 + 15
			ew := errorWindow{From: t0, To: at, Ratio: 0.5}
			fire := firing(t, checks, ew, at)
			if len(fire) != 4 {
				t.Fatalf("test design: want all 4 tiers firing, model says %d", len(fire))
			}
			exp := expAlerts(t, files, s, fire)
			pages := 0
			for _, a := range exp {
				if a.Labels[slo.LabelSeverity] == slo.SeverityPage {
					pages++
				}
			}
			if want := map[bool]int{false: 0, true: 2}[page]; pages != want {
				t.Fatalf("pages: got %d, want %d", pages, want)
			}
			runPromtool(t, files, ptFile{EvaluationInterval: "15m", Tests: []ptTest{{
				Interval: "5m", InputSeries: burnSeries(ew, at+5, 5),
				Alerts: []ptAlert{{EvalTime: minutes(at), AlertName: slo.AlertBurnRate, ExpAlerts: exp}},
			}}})
		})
	}
}

// TestAbsentAlert: the total series disappears and, after AbsentFor,
// SLOMetricAbsent fires; an SLO with no series at all fires too.
func TestAbsentAlert(t *testing.T) {
	ss := loadSLOs(t, fmt.Sprintf(burnSLO, "absent-1d", "customer-facing", "99", "1d", false))
	files, _ := generate(t, ss, nil, Options{AbsentFor: 10 * time.Minute})
	s := ss[0]
	ann := alertAnnotations(t, files, slo.AlertTotalAbsent, nil)
	exp := []ptExpAlert{{Labels: map[string]string{slo.LabelSLO: s.Name, slo.LabelService: s.Service, "team": "core",
		slo.LabelSeverity: slo.SeverityTicket, slo.LabelTier: "absent"}, Annotations: ann}}
	ew := errorWindow{}
	runPromtool(t, files, ptFile{EvaluationInterval: "1m", Tests: []ptTest{
		{
			Name: "series stop at 2h", Interval: "1m", InputSeries: burnSeries(ew, 121, 1),
			Alerts: []ptAlert{
				{EvalTime: "120m", AlertName: slo.AlertTotalAbsent, ExpAlerts: []ptExpAlert{}},
				{EvalTime: "130m", AlertName: slo.AlertTotalAbsent, ExpAlerts: []ptExpAlert{}}, // pending
				{EvalTime: "140m", AlertName: slo.AlertTotalAbsent, ExpAlerts: exp},
			},
		},
		{
			Name: "no series at all", Interval: "1m",
			InputSeries: []ptSeries{{Series: `unrelated_total`, Values: "0+1x30"}},
			Alerts:      []ptAlert{{EvalTime: "15m", AlertName: slo.AlertTotalAbsent, ExpAlerts: exp}},
		},
	}})
}

// TestWindowSLIIsRatioOfSums: uneven traffic (6h at 10/min with 10% errors,
// then 12h at 100/min with 0.5%) gives a window SLI of exactly
// 720/75600, where an average of ratios would say about 3.7%.
func TestWindowSLIIsRatioOfSums(t *testing.T) {
	ss := loadSLOs(t, fmt.Sprintf(burnSLO, "ratio-1d", "customer-facing", "99", "1d", false))
	files, _ := generate(t, ss, nil, Options{})
	const n = 26 * 60
	all := make([]float64, n)
	bad := make([]float64, n)
	for i := range n {
		m := i + 1 // the minute this increment ends
		switch {
		case m > 2*60 && m <= 8*60:
			all[i], bad[i] = 10, 1
		case m > 8*60 && m <= 20*60:
			all[i], bad[i] = 100, 0.5
		}
	}
	const errors, total = 6*60*1 + 12*60*0.5, 6*60*10 + 12*60*100
	want := errors / total // 0.009523809523809525
	lbl := `{service="shop", slo="ratio-1d", team="core", window="window"}`
	check := func(expr string) ptExprTest {
		return ptExprTest{Expr: expr, EvalTime: "25h", ExpSamples: []ptSamples{{Labels: lbl, Value: 1}}}
	}
	runPromtool(t, files, ptFile{EvaluationInterval: "1m", Tests: []ptTest{{
		Interval: "1m",
		InputSeries: []ptSeries{
			{Series: `test_events_total{kind="all"}`, Values: counter(all)},
			{Series: `test_events_total{kind="bad"}`, Values: counter(bad)},
		},
		Exprs: []ptExprTest{
			check(fmt.Sprintf(`abs(slo:sli_error:ratio_window{slo="ratio-1d"} - %s) < bool 1e-12`, fnum(want))),
			check(fmt.Sprintf(`abs(slo:window_burn_rate:ratio{slo="ratio-1d"} - %s) < bool 1e-9`, fnum(want/0.01))),
			check(fmt.Sprintf(`abs(slo:error_budget_remaining:ratio{slo="ratio-1d"} - %s) < bool 1e-9`, fnum(1-want/0.01))),
		},
	}}})
}

// TestMinEventsHoldsBurnAlertsOff: at 2 events a minute (120 an hour), a
// 50% error ratio fires the fast tier without the guard and not with
// min-events 500.
func TestMinEventsHoldsBurnAlertsOff(t *testing.T) {
	for _, min := range []float64{0, 500} {
		t.Run(fmt.Sprint(min), func(t *testing.T) {
			ss := loadSLOs(t, fmt.Sprintf(burnSLO, "lowtraffic-1d", "customer-facing", "99", "1d", false))
			files, _ := generate(t, ss, nil, Options{MinEvents: min})
			const n = 180
			all := make([]float64, n)
			bad := make([]float64, n)
			for i := range all {
				all[i], bad[i] = 2, 1
			}
			var exp []ptExpAlert
			if min == 0 {
				exp = expAlerts(t, files, ss[0], []tierCheck{{tier: Tiers[0]}, {tier: Tiers[1]}})
			} else {
				exp = []ptExpAlert{}
			}
			runPromtool(t, files, ptFile{EvaluationInterval: "5m", Tests: []ptTest{{
				Interval: "1m",
				InputSeries: []ptSeries{
					{Series: `test_events_total{kind="all"}`, Values: counter(all)},
					{Series: `test_events_total{kind="bad"}`, Values: counter(bad)},
				},
				Alerts: []ptAlert{{EvalTime: "170m", AlertName: slo.AlertBurnRate, ExpAlerts: exp}},
			}}})
		})
	}
}

// TestProbeAlerts: N failures in a row in one region; a quorum of regions
// failing at once; a certificate inside the lead time.
func TestProbeAlerts(t *testing.T) {
	js := []probes.Journey{{Name: "checkout", Labels: map[string]string{"service": "shop", "team": "core"}}}
	files, _ := generate(t, nil, js, Options{ConsecutiveFailures: 3, RegionQuorum: 2, RegionFailures: 2, CertLead: 14 * 24 * time.Hour})
	if _, ok := files["shop.rules.yml"]; !ok {
		t.Fatalf("files: %v", keys(files))
	}
	l := func(sev string, extra ...string) map[string]string {
		m := map[string]string{"journey": "checkout", "service": "shop", "team": "core", slo.LabelSeverity: sev}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	failing := func(region string) ptExpAlert {
		return ptExpAlert{Labels: l(slo.SeverityTicket, "region", region), Annotations: map[string]string{
			"summary":     "journey checkout failing",
			"description": "Journey checkout has failed 3 or more runs in a row in region " + region + ". `vigil probe run` shows which step fails and why.",
		}}
	}
	regions := ptExpAlert{Labels: l(slo.SeverityPage), Annotations: map[string]string{
		"summary":     "journey checkout failing in several regions",
		"description": "Journey checkout has failed 2 or more runs in a row in 2 regions at once (quorum 2): not one runner's network, the platform.",
	}}
	cert := ptExpAlert{Labels: l(slo.SeverityTicket), Annotations: map[string]string{
		"summary":     "journey checkout: certificate expires within 14d",
		"description": "A certificate journey checkout sees expires in 9d 23h 50m 0s, within the 14d lead time. Renew it.",
	}}
	runPromtool(t, files, ptFile{EvaluationInterval: "1m", Tests: []ptTest{{
		Interval: "1m",
		InputSeries: []ptSeries{
			// eu fails from minute 2 on; us fails twice from minute 5, then passes.
			{Series: `vigil_probe_consecutive_failures{journey="checkout", region="eu"}`, Values: "0 0 1 2 3 4 5 6 7 8 9 10"},
			{Series: `vigil_probe_consecutive_failures{journey="checkout", region="us"}`, Values: "0 0 0 0 0 1 2 0 0 0 0 0"},
			// Expires at 10 days after the start; the lead is 14 days.
			{Series: `probe_ssl_earliest_cert_expiry{journey="checkout"}`, Values: "864000x11"},
		},
		Alerts: []ptAlert{
			{EvalTime: "3m", AlertName: slo.AlertProbeFailing, ExpAlerts: []ptExpAlert{}},
			{EvalTime: "4m", AlertName: slo.AlertProbeFailing, ExpAlerts: []ptExpAlert{failing("eu")}},
			{EvalTime: "5m", AlertName: slo.AlertProbeFailingRegions, ExpAlerts: []ptExpAlert{}},
			{EvalTime: "6m", AlertName: slo.AlertProbeFailingRegions, ExpAlerts: []ptExpAlert{regions}},
			{EvalTime: "7m", AlertName: slo.AlertProbeFailingRegions, ExpAlerts: []ptExpAlert{}},
			{EvalTime: "10m", AlertName: slo.AlertProbeCertExpiring, ExpAlerts: []ptExpAlert{cert}},
		},
	}}})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
