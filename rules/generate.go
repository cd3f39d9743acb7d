package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/vigil-dev/vigil/probes"
	"github.com/vigil-dev/vigil/slo"
	yaml "go.yaml.in/yaml/v3"
)

// Options tune the generated rules. The zero value gives the defaults.
type Options struct {
	// RunbookURL and DashboardURL, when set, become the runbook_url and
	// dashboard_url annotations. {slo}, {service} and {journey} are
	// replaced (query-escaped) with the alert's values.
	RunbookURL, DashboardURL string
	// MinEvents, when > 0, holds burn alerts off while the tier's long
	// window saw fewer events than this (low-traffic guard).
	MinEvents float64
	// AbsentFor is how long an SLO's total series must be absent before
	// SLOMetricAbsent fires (default 10m).
	AbsentFor time.Duration
	// ConsecutiveFailures is N for "failed N runs in a row" (default 3).
	ConsecutiveFailures int
	// RegionQuorum is how many regions must fail at once (default 2), each
	// with at least RegionFailures failed runs in a row (default 2).
	RegionQuorum, RegionFailures int
	// CertLead is how long before a certificate expires the alert fires
	// (default 14 days).
	CertLead time.Duration
}

// The defaults of Options.
const (
	DefaultAbsentFor           = 10 * time.Minute
	DefaultConsecutiveFailures = 3
	DefaultRegionQuorum        = 2
	DefaultRegionFailures      = 2
	DefaultCertLead            = 14 * 24 * time.Hour
)

func (o Options) withDefaults() (Options, error) {
	if o.AbsentFor == 0 {
		o.AbsentFor = DefaultAbsentFor
	}
	if o.ConsecutiveFailures == 0 {
		o.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if o.RegionQuorum == 0 {
		o.RegionQuorum = DefaultRegionQuorum
	}
	if o.RegionFailures == 0 {
		o.RegionFailures = DefaultRegionFailures
	}
	if o.CertLead == 0 {
		o.CertLead = DefaultCertLead
	}
	var errs []string
	if o.AbsentFor < 0 || o.AbsentFor%time.Second != 0 {
		errs = append(errs, fmt.Sprintf("absent-for: expected a positive duration in whole seconds, found %s", o.AbsentFor))
	}
	if o.CertLead < 0 || o.CertLead%time.Second != 0 {
		errs = append(errs, fmt.Sprintf("cert-lead: expected a positive duration in whole seconds, found %s", o.CertLead))
	}
	if o.MinEvents < 0 {
		errs = append(errs, fmt.Sprintf("min-events: expected a count ≥ 0, found %v", o.MinEvents))
	}
	for name, v := range map[string]int{"consecutive-failures": o.ConsecutiveFailures, "region-quorum": o.RegionQuorum, "region-failures": o.RegionFailures} {
		if v < 1 {
			errs = append(errs, fmt.Sprintf("%s: expected a count ≥ 1, found %d", name, v))
		}
	}
	for name, u := range map[string]string{"runbook-url": o.RunbookURL, "dashboard-url": o.DashboardURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			errs = append(errs, fmt.Sprintf("%s: expected an absolute URL such as https://runbooks.example.com/{slo}, found %q", name, u))
		}
	}
	sort.Strings(errs)
	if len(errs) > 0 {
		return o, &OptionsError{Msgs: errs}
	}
	return o, nil
}

// OptionsError is a bad option (the command line exits 2).
type OptionsError struct{ Msgs []string }

func (e *OptionsError) Error() string { return strings.Join(e.Msgs, "; ") }

// Warning is something the generator did that the author should know:
// a tier that can never fire for the objective, a budgeting method the
// rules only approximate. Generation still succeeds.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.File == "" {
		return w.Msg
	}
	return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
}

// Generate writes one Prometheus rule file per service: the SLOs' recording
// rules and burn-rate alerts, and the probe alerts of the journeys whose
// `service` label names it (journeys without one go to journeys.rules.yml).
// The output is deterministic and valid for Prometheus 2.42 and later.
func Generate(slos []*slo.SLO, journeys []probes.Journey, opts Options) (map[string][]byte, []Warning, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	files := map[string]*ruleFile{}
	file := func(service string) *ruleFile {
		name := FileName(service)
		f := files[name]
		if f == nil {
			f = &ruleFile{}
			files[name] = f
		}
		return f
	}
	var warns []Warning
	sorted := append([]*slo.SLO(nil), slos...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, s := range sorted {
		gs, ws := sloGroups(s, opts)
		f := file(s.Service)
		f.Groups = append(f.Groups, gs...)
		f.sources = append(f.sources, s.Source.File)
		warns = append(warns, ws...)
	}
	js := append([]probes.Journey(nil), journeys...)
	sort.Slice(js, func(i, j int) bool { return js[i].Name < js[j].Name })
	byService := map[string][]probes.Journey{}
	var services []string
	for _, j := range js {
		svc := j.Labels[slo.LabelService]
		if _, ok := byService[svc]; !ok {
			services = append(services, svc)
		}
		byService[svc] = append(byService[svc], j)
	}
	sort.Strings(services)
	for _, svc := range services {
		g, ws := probeGroup(svc, byService[svc], opts)
		f := file(svc)
		f.Groups = append(f.Groups, g)
		for _, j := range byService[svc] {
			f.sources = append(f.sources, j.File)
		}
		warns = append(warns, ws...)
	}
	out := make(map[string][]byte, len(files))
	for name, f := range files {
		b, err := f.render()
		if err != nil {
			return nil, nil, err
		}
		if err := Validate(b); err != nil {
			return nil, nil, fmt.Errorf("rules: generated %s is invalid (a bug in vigil): %w", name, err)
		}
		out[name] = b
	}
	return out, warns, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName is the rule file of a service: checkout-api.rules.yml; probe
// alerts of journeys without a service label go to journeys.rules.yml.
func FileName(service string) string {
	if service == "" {
		return "journeys.rules.yml"
	}
	n := strings.Trim(unsafeFileChars.ReplaceAllString(service, "_"), "._")
	if n == "" {
		n = "service"
	}
	return n + ".rules.yml"
}

// Validate parses a rule file as Prometheus does (legacy metric and label
// names, so Prometheus 2 accepts it too).
func Validate(b []byte) error {
	_, errs := rulefmt.Parse(b, false, model.LegacyValidation, parser.NewParser(parser.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return errors.Join(errs...)
}

// ---- output model ----

type ruleFile struct {
	Groups  []group `yaml:"groups"`
	sources []string
}

type group struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func (f *ruleFile) render() ([]byte, error) {
	var b bytes.Buffer
	srcs := map[string]bool{}
	var names []string
	for _, s := range f.sources {
		n := filepath.Base(s)
		if s != "" && !srcs[n] {
			srcs[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	b.WriteString("# Generated by `vigil rules generate`; do not edit.\n")
	if len(names) > 0 {
		fmt.Fprintf(&b, "# From: %s\n", strings.Join(names, ", "))
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ---- SLO rules ----

// sel is a selector for one SLO's recorded series.
func sel(metric string, s *slo.SLO) string {
	return metric + "{" + slo.LabelSLO + "=" + strconv.Quote(s.Name) + "}"
}

// baseLabels are the labels every series and alert of an SLO carries.
func baseLabels(s *slo.SLO, extra ...string) map[string]string {
	l := map[string]string{}
	for k, v := range s.Labels {
		l[k] = v
	}
	l[slo.LabelSLO] = s.Name
	l[slo.LabelService] = s.Service
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

func sloGroups(s *slo.SLO, o Options) ([]group, []Warning) {
	var warns []Warning
	warn := func(format string, args ...any) {
		warns = append(warns, Warning{File: s.Source.File, Line: s.Source.Line, Msg: fmt.Sprintf("SLO %q: ", s.Name) + fmt.Sprintf(format, args...)})
	}
	period := Period(s)
	budget := budgetRat(s)
	raw := s.SLI.Kind == slo.KindRaw

	// Per-window rates and ratios.
	var sli []rule
	for _, w := range slo.BurnRateWindows {
		if w.Duration > period {
			continue
		}
		l := func() map[string]string { return baseLabels(s, slo.LabelWindow, w.Name) }
		errQ, totalQ := s.SLI.Queries(w.Name)
		if raw {
			sli = append(sli, rule{Record: slo.RuleErrorRatio + w.Name, Expr: errQ, Labels: l()})
			continue
		}
		total := sel(slo.RuleTotalRate+w.Name, s)
		good := sel(slo.RuleGoodRate+w.Name, s)
		bad := sel(slo.RuleErrorRate+w.Name, s)
		sli = append(sli, rule{Record: slo.RuleTotalRate + w.Name, Expr: summed(totalQ), Labels: l()})
		// An absent error (or good) series means none happened, so it counts
		// as 0, but only while the total exists: no traffic stays absent.
		if goodQ, ok := goodQuery(s, w.Name, errQ); ok {
			sli = append(sli,
				rule{Record: slo.RuleGoodRate + w.Name, Expr: summed(goodQ) + " or on () 0 * " + total, Labels: l()},
				rule{Record: slo.RuleErrorRate + w.Name, Expr: total + " - " + good, Labels: l()})
		} else {
			sli = append(sli,
				rule{Record: slo.RuleErrorRate + w.Name, Expr: summed(errQ) + " or on () 0 * " + total, Labels: l()},
				rule{Record: slo.RuleGoodRate + w.Name, Expr: total + " - " + bad, Labels: l()})
		}
		sli = append(sli, rule{Record: slo.RuleErrorRatio + w.Name, Expr: bad + " / " + total, Labels: l()})
	}

	// The whole window, objective, budget, burn rates, metadata.
	pw := slo.FormatDays(period)
	var windowRatio string
	if raw {
		// A raw SLI has no event counts: the best the rules can do is the
		// average of the 5m ratios.
		windowRatio = fmt.Sprintf("avg_over_time(%s[%s])", sel(slo.RuleErrorRatio+"5m", s), pw)
		warn("a raw SLI has no event counts: the window SLI in the rules is an average of 5m ratios, not a ratio of sums")
	} else {
		windowRatio = fmt.Sprintf("sum_over_time(%s[%s])\n/\nsum_over_time(%s[%s])",
			sel(slo.RuleErrorRate+"5m", s), pw, sel(slo.RuleTotalRate+"5m", s), pw)
	}
	if s.Budgeting.Method == slo.Timeslices {
		warn("timeslices budgeting: the rules alert on and record the ratio of events; `vigil slo status` reports the timeslice budget")
	}
	if len(s.Exclude) > 0 {
		warn("maintenance exclusions are not applied to alerts: silence them in Alertmanager for the planned window; `vigil slo status` excludes them from the budget")
	}
	wl := func() map[string]string { return baseLabels(s, slo.LabelWindow, slo.WindowKey) }
	b := num(budget)
	info := baseLabels(s, slo.LabelClass, string(s.Class), slo.LabelObjective, num(new(big.Rat).Sub(big.NewRat(1, 1), budget)),
		slo.LabelWindowSpec, s.Window.String())
	meta := []rule{
		{Record: slo.RuleObjective, Expr: "vector(" + num(new(big.Rat).Sub(big.NewRat(1, 1), budget)) + ")", Labels: baseLabels(s)},
		{Record: slo.RuleErrorBudget, Expr: "vector(" + b + ")", Labels: baseLabels(s)},
		{Record: slo.RuleWindowSeconds, Expr: "vector(" + strconv.FormatInt(int64(period/time.Second), 10) + ")", Labels: baseLabels(s)},
		{Record: slo.RuleInfo, Expr: "vector(1)", Labels: info},
		{Record: slo.RuleWindowErrorRatio, Expr: windowRatio, Labels: wl()},
		{Record: slo.RuleCurrentBurnRate, Expr: sel(slo.RuleErrorRatio+"5m", s) + " / " + b, Labels: baseLabels(s, slo.LabelWindow, "5m")},
		{Record: slo.RuleWindowBurnRate, Expr: sel(slo.RuleWindowErrorRatio, s) + " / " + b, Labels: wl()},
		{Record: slo.RuleBudgetRemaining, Expr: "1 - " + sel(slo.RuleWindowBurnRate, s), Labels: wl()},
	}

	// Alerts.
	var alerts []rule
	kept := 0
	for _, t := range Tiers {
		if t.Long.Duration*2 > period {
			continue // the tier's long window exceeds half the SLO window
		}
		factor := t.Factor(period)
		threshold := new(big.Rat).Mul(factor, budget)
		if threshold.Cmp(big.NewRat(1, 1)) >= 0 {
			warn("the %s/%s tier can never fire: objective %s%% is below 1 − 1/%s, so its threshold %s × %s ≥ 1; tier left out",
				t.Long.Name, t.Short.Name, objPct(s), num(factor), num(factor), b)
			continue
		}
		kept++
		alerts = append(alerts, burnAlert(s, t, period, budget, o))
	}
	if kept == 0 {
		warn("no burn-rate tier applies to a %s window with objective %s%%: no burn alerts", pw, objPct(s))
	}
	if o.MinEvents > 0 && raw {
		warn("min-events does not apply to a raw SLI (it has no event counts)")
	}
	absentOf := slo.RuleTotalRate + "5m"
	if raw {
		absentOf = slo.RuleErrorRatio + "5m"
	}
	alerts = append(alerts,
		rule{
			Alert: slo.AlertTotalAbsent, Expr: "absent(" + sel(absentOf, s) + ")", For: model.Duration(o.AbsentFor).String(),
			Labels: baseLabels(s, slo.LabelSeverity, slo.SeverityTicket, slo.LabelTier, "absent"),
			Annotations: annotations(s, o,
				fmt.Sprintf("%s: no SLI data", s.Name),
				fmt.Sprintf("%s (%s) has had no %s series for %s: the SLI cannot be computed and its burn alerts cannot fire. Check that the service and its exporters are up and that the SLI queries match their series.",
					s.Name, s.Service, absentOf, human(o.AbsentFor))),
		},
		rule{
			Alert: slo.AlertBudgetExhausted, Expr: sel(slo.RuleBudgetRemaining, s) + " <= 0",
			Labels: baseLabels(s, slo.LabelSeverity, slo.SeverityTicket, slo.LabelTier, "exhausted"),
			Annotations: annotations(s, o,
				fmt.Sprintf("%s: error budget exhausted", s.Name),
				fmt.Sprintf("%s (%s) has spent its whole error budget (%s%%) over the last %s: objective %s%%. Time for the conversation the budget exists for: reliability work before risky changes.",
					s.Name, s.Service, pct(budget), pw, objPct(s))),
		})

	prefix := slo.RuleGroupPrefix + s.Name
	return []group{
		{Name: prefix + "-sli", Rules: sli},
		{Name: prefix + "-meta", Rules: meta},
		{Name: prefix + "-alerts", Rules: alerts},
	}, warns
}

func burnAlert(s *slo.SLO, t Tier, period time.Duration, budget *big.Rat, o Options) rule {
	factor := t.Factor(period)
	thr := "(" + num(factor) + " * " + num(budget) + ")"
	cond := func(w slo.BurnWindow) string {
		return fmt.Sprintf("max without (%s) (%s) > %s", slo.LabelWindow, sel(slo.RuleErrorRatio+w.Name, s), thr)
	}
	on := fmt.Sprintf("and on (%s, %s)", slo.LabelSLO, slo.LabelService)
	expr := cond(t.Long) + "\n" + on + "\n" + cond(t.Short)
	if o.MinEvents > 0 && s.SLI.Kind != slo.KindRaw {
		expr += fmt.Sprintf("\n%s\n%s * %d >= %s", on, sel(slo.RuleTotalRate+t.Long.Name, s),
			int64(t.Long.Duration/time.Second), strconv.FormatFloat(o.MinEvents, 'g', -1, 64))
	}
	sev := slo.SeverityTicket
	if t.Page && s.Pages() {
		sev = slo.SeverityPage
	}
	threshold := new(big.Rat).Mul(factor, budget)
	spent, _ := new(big.Rat).SetString(t.BudgetShare)
	desc := fmt.Sprintf("%s (%s) is burning its error budget %s× as fast as the objective allows: the error ratio over both the last %s and %s is above %s%% (%s × the %s%% budget of objective %s%% over %s). At this rate %s%% of the budget goes every %s and all of it in %s.",
		s.Name, s.Service, num(factor), t.Long.Name, t.Short.Name, pct(threshold), num(factor), pct(budget),
		objPct(s), slo.FormatDays(period), pct(spent), t.Long.Name, human(t.Exhaustion(period)))
	return rule{
		Alert: slo.AlertBurnRate, Expr: expr,
		Labels: baseLabels(s, slo.LabelSeverity, sev, slo.LabelTier, t.Name),
		Annotations: annotations(s, o,
			fmt.Sprintf("%s: error budget burning %s× too fast (%s and %s windows)", s.Name, num(factor), t.Long.Name, t.Short.Name),
			desc),
	}
}

// summed makes q one series with no labels (an SLO is one number): it wraps
// q in sum() unless q already is an ungrouped sum.
func summed(q string) string {
	e, err := slo.ParsePromQL(q)
	for err == nil {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	if a, ok := e.(*parser.AggregateExpr); ok && err == nil && a.Op == parser.SUM && len(a.Grouping) == 0 && !a.Without {
		return a.String()
	}
	return "sum(" + q + ")"
}

// goodQuery returns the good-events query when the SLI counts good events
// (good_query, latency): recording good first keeps an absent good series
// (every event bad) from reading as no errors.
func goodQuery(s *slo.SLO, window, _ string) (string, bool) {
	return s.SLI.GoodQueryOver(window)
}

// annotations builds summary, description and the configured links.
// Text from specs is escaped: Prometheus expands annotations as templates.
func annotations(s *slo.SLO, o Options, summary, desc string) map[string]string {
	a := map[string]string{"summary": escapeTemplate(summary), "description": escapeTemplate(desc)}
	links(a, o, s.Name, s.Service, "")
	return a
}

func links(a map[string]string, o Options, sloName, service, journey string) {
	r := strings.NewReplacer("{slo}", url.QueryEscape(sloName), "{service}", url.QueryEscape(service), "{journey}", url.QueryEscape(journey))
	if o.RunbookURL != "" {
		a["runbook_url"] = escapeTemplate(r.Replace(o.RunbookURL))
	}
	if o.DashboardURL != "" {
		a["dashboard_url"] = escapeTemplate(r.Replace(o.DashboardURL))
	}
}

func escapeTemplate(s string) string {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "}}") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i+1 < len(s) && (s[i:i+2] == "{{" || s[i:i+2] == "}}") {
			fmt.Fprintf(&b, "{{ %q }}", s[i:i+2])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---- probe alerts ----

// Labels a journey may not set on its alerts: the rules own them.
var probeReserved = []string{slo.LabelSeverity, slo.LabelTier, slo.LabelSLO, probes.LabelJourney, slo.LabelRegion, slo.LabelAlertName}

func probeGroup(service string, js []probes.Journey, o Options) (group, []Warning) {
	var warns []Warning
	var rs []rule
	for _, j := range js {
		l := func(sev string) map[string]string {
			m := map[string]string{}
			for k, v := range j.Labels {
				if !slices.Contains(probeReserved, k) {
					m[k] = v
				}
			}
			m[slo.LabelSeverity] = sev
			return m
		}
		for _, k := range sortedKeys(j.Labels) {
			if slices.Contains(probeReserved, k) {
				warns = append(warns, Warning{File: j.File, Line: j.Line,
					Msg: fmt.Sprintf("journey %q: label %q is set by the generated alerts; left off them", j.Name, k)})
			}
		}
		ann := func(summary, desc string) map[string]string {
			a := map[string]string{"summary": escapeTemplate(summary), "description": desc}
			links(a, o, "", j.Labels[slo.LabelService], j.Name)
			return a
		}
		jsel := probes.MetricConsecutiveFailures + "{" + probes.LabelJourney + "=" + strconv.Quote(j.Name) + "}"
		perRegion := fmt.Sprintf("max by (%s, %s) (%s)", probes.LabelJourney, slo.LabelRegion, jsel)
		name := escapeTemplate(j.Name)
		rs = append(rs,
			rule{
				Alert: slo.AlertProbeFailing, Expr: fmt.Sprintf("%s >= %d", perRegion, o.ConsecutiveFailures),
				Labels: l(slo.SeverityTicket),
				Annotations: ann(fmt.Sprintf("journey %s failing", j.Name),
					fmt.Sprintf("Journey %s has failed %d or more runs in a row{{ with $labels.%s }} in region {{ . }}{{ end }}. `vigil probe run` shows which step fails and why.",
						name, o.ConsecutiveFailures, slo.LabelRegion)),
			},
			rule{
				Alert:  slo.AlertProbeFailingRegions,
				Expr:   fmt.Sprintf("count by (%s) (%s >= %d) >= %d", probes.LabelJourney, perRegion, o.RegionFailures, o.RegionQuorum),
				Labels: l(slo.SeverityPage),
				Annotations: ann(fmt.Sprintf("journey %s failing in several regions", j.Name),
					fmt.Sprintf("Journey %s has failed %d or more runs in a row in {{ $value }} regions at once (quorum %d): not one runner's network, the platform.",
						name, o.RegionFailures, o.RegionQuorum)),
			},
			rule{
				Alert: slo.AlertProbeCertExpiring,
				Expr: fmt.Sprintf("min by (%s) (%s{%s=%s}) - time() < %d", probes.LabelJourney, probes.MetricSSLEarliestCertExpiry,
					probes.LabelJourney, strconv.Quote(j.Name), int64(o.CertLead/time.Second)),
				Labels: l(slo.SeverityTicket),
				Annotations: ann(fmt.Sprintf("journey %s: certificate expires within %s", j.Name, human(o.CertLead)),
					fmt.Sprintf("A certificate journey %s sees expires in {{ $value | humanizeDuration }}, within the %s lead time. Renew it.",
						name, human(o.CertLead))),
			})
	}
	name := "vigil-probes"
	if service != "" {
		name += "-" + service
	}
	return group{Name: name, Rules: rs}, warns
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// objPct is the objective in percent as written: 99.9.
func objPct(s *slo.SLO) string { return strconv.FormatFloat(s.ObjectivePercent, 'g', -1, 64) }
