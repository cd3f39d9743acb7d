package slo

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // calendar windows name IANA zones; never depend on the host's zoneinfo

	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
	yaml "go.yaml.in/yaml/v3"
)

// The version strings that select a file format.
const (
	VersionVigil   = "vigil/v1"
	VersionSloth   = "prometheus/v1"
	VersionOpenSLO = "openslo/v1"
)

// MaxWindow is the longest rolling window accepted (a year and a day).
const MaxWindow = 366 * 24 * time.Hour

// LoadFiles reads SLO files of any supported format (vigil's own, Sloth
// prometheus/v1, OpenSLO v1) and validates them together: names must be
// unique across all files. Errors carry file:line (yamlx.IsInput is true).
func LoadFiles(paths ...string) ([]*SLO, error) {
	var all []*SLO
	var errs yamlx.Errors
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, &yamlx.Error{File: p, Msg: "cannot read: " + unwrapPathErr(err)})
			continue
		}
		slos, err := Parse(p, data)
		if err != nil {
			errs = appendErrs(errs, err)
			continue
		}
		all = append(all, slos...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := checkDuplicates(all); err != nil {
		return nil, err
	}
	return all, nil
}

// Parse decodes one file, choosing the format by `version:` (vigil/v1 or
// none: native; prometheus/v1: Sloth) or `apiVersion:` (openslo/v1).
func Parse(file string, data []byte) ([]*SLO, error) {
	var head struct {
		Version    any `yaml:"version"`
		APIVersion any `yaml:"apiVersion"`
	}
	_ = yaml.Unmarshal(data, &head) // a broken file is reported by the strict decoder below
	exp := &interp.Expander{BaseDir: filepath.Dir(file)}
	var (
		out []*SLO
		err error
	)
	switch {
	case head.APIVersion != nil:
		out, err = parseOpenSLO(file, data, exp)
	case head.Version == VersionSloth:
		out, err = parseSloth(file, data, exp)
	case head.Version == nil || head.Version == VersionVigil:
		out, err = parseNative(file, data, exp)
	default:
		line := 1
		var n yaml.Node
		if yaml.Unmarshal(data, &n) == nil && len(n.Content) > 0 {
			if v := mapValue(n.Content[0], "version"); v != nil {
				line = v.Line
			}
		}
		return nil, yamlx.Errors{{File: file, Line: line, Msg: fmt.Sprintf("unsupported version %q: expected %s, %s (Sloth) or apiVersion: %s", fmt.Sprint(head.Version), VersionVigil, VersionSloth, VersionOpenSLO)}}
	}
	if err != nil {
		return nil, err
	}
	return out, checkDuplicates(out)
}

func checkDuplicates(all []*SLO) error {
	var errs yamlx.Errors
	seen := map[string]*SLO{}
	for _, s := range all {
		if first, ok := seen[s.Name]; ok {
			errs = append(errs, &yamlx.Error{File: s.Source.File, Line: s.Source.Line,
				Msg: fmt.Sprintf("duplicate SLO name %q: first defined at %s", s.Name, first.Source)})
			continue
		}
		seen[s.Name] = s
	}
	return errs.Err()
}

// ---- native format ----

type nativeFile struct {
	Version string      `yaml:"version"`
	SLOs    []nativeSLO `yaml:"slos"`
}

type nativeSLO struct {
	Name        string            `yaml:"name"`
	Service     string            `yaml:"service"`
	Description string            `yaml:"description"`
	Class       string            `yaml:"class"`
	Objective   *float64          `yaml:"objective"`
	Window      any               `yaml:"window"`
	Calendar    *calendarYAML     `yaml:"calendar"`
	Budgeting   any               `yaml:"budgeting"`
	Labels      map[string]string `yaml:"labels"`
	Exclude     []excludeYAML     `yaml:"exclude"`
	SLI         nativeSLI         `yaml:"sli"`
	Page        bool              `yaml:"page"`
}

type calendarYAML struct {
	Period   string `yaml:"period"`
	TimeZone string `yaml:"time_zone"`
}

type excludeYAML struct {
	From   string `yaml:"from"`
	To     string `yaml:"to"`
	Reason string `yaml:"reason"`
}

type nativeSLI struct {
	Events *struct {
		ErrorQuery string `yaml:"error_query"`
		GoodQuery  string `yaml:"good_query"`
		TotalQuery string `yaml:"total_query"`
	} `yaml:"events"`
	Raw *struct {
		ErrorRatioQuery string `yaml:"error_ratio_query"`
	} `yaml:"raw"`
	Latency *struct {
		Histogram string   `yaml:"histogram"`
		Selector  string   `yaml:"selector"`
		Below     *float64 `yaml:"below"`
	} `yaml:"latency"`
	Probe *struct {
		Journey string `yaml:"journey"`
	} `yaml:"probe"`
}

func parseNative(file string, data []byte, exp *interp.Expander) ([]*SLO, error) {
	var f nativeFile
	doc, err := yamlx.Decode(file, data, &f, yamlx.Options{Expander: exp})
	if err != nil {
		return nil, err
	}
	if len(f.SLOs) == 0 {
		doc.Errorf("slos", "expected a list of SLOs under slos:, found none")
		return nil, doc.Err()
	}
	var out []*SLO
	for i, n := range f.SLOs {
		p := fmt.Sprintf("slos[%d]", i)
		v := &validator{doc: doc, path: func(f string) string { return p + "." + f }}
		s := &SLO{Name: n.Name, Service: n.Service, Description: n.Description, Labels: n.Labels, Page: n.Page,
			Source: Source{File: file, Line: doc.Line(p), Format: "vigil"}}
		v.class(s, n.Class)
		v.objectivePercent(s, n.Objective, "objective")
		switch {
		case n.Window != nil && n.Calendar != nil:
			doc.Errorf(p+".calendar", "set window or calendar, not both")
		case n.Calendar != nil:
			v.calendar(s, n.Calendar.Period, n.Calendar.TimeZone, "calendar.period", "calendar.time_zone")
		default:
			v.nativeWindow(s, n.Window)
		}
		v.nativeBudgeting(s, n.Budgeting)
		for j, e := range n.Exclude {
			v.exclusion(s, e, fmt.Sprintf("exclude[%d]", j))
		}
		v.nativeSLI(s, n.SLI)
		v.common(s)
		out = append(out, s)
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// validator records errors for one SLO, mapping its fields to doc paths.
type validator struct {
	doc  *yamlx.Doc
	path func(field string) string
}

func (v *validator) errorf(field, format string, args ...any) {
	v.doc.Errorf(v.path(field), format, args...)
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,126}[A-Za-z0-9])?$`)
	labelRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// common checks what every format shares.
func (v *validator) common(s *SLO) {
	if s.Name == "" {
		v.errorf("name", "expected a name, found none")
	} else if !nameRE.MatchString(s.Name) {
		v.errorf("name", "expected a name of letters, digits, '-', '_' and '.', found %q", s.Name)
	}
	if s.Service == "" {
		v.errorf("service", "expected a service, found none")
	}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(ReservedLabels, k):
			v.errorf("labels."+k, "label %q is reserved (vigil sets %s itself)", k, strings.Join(ReservedLabels, ", "))
		case !labelRE.MatchString(k) || strings.HasPrefix(k, "__"):
			v.errorf("labels."+k, "expected a Prometheus label name, found %q", k)
		}
	}
}

func (v *validator) class(s *SLO, c string) {
	switch Class(c) {
	case "", Internal:
		s.Class = Internal
	case CustomerFacing:
		s.Class = CustomerFacing
	default:
		v.errorf("class", "expected class customer-facing or internal, found %q", c)
	}
}

func (v *validator) objectivePercent(s *SLO, pct *float64, field string) {
	if pct == nil {
		v.errorf(field, "expected an objective in percent (for example 99.9), found none")
		return
	}
	if !(*pct > 0 && *pct < 100) {
		v.errorf(field, "expected an objective between 0 and 100 percent (exclusive), found %v", *pct)
		return
	}
	s.ObjectivePercent = *pct
	s.Objective = decimalShift(*pct, -2)
}

// decimalShift returns x·10^exp computed on the shortest decimal form of x,
// so 99.9 → 0.999 exactly as written rather than 0.9990000000000001.
func decimalShift(x float64, exp int) float64 {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
	if !ok {
		return x
	}
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil))
	if exp < 0 {
		r.Quo(r, p)
	} else {
		r.Mul(r, p)
	}
	f, _ := r.Float64()
	return f
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func (v *validator) rolling(s *SLO, w, field string) {
	d, err := ParseDays(w)
	if err != nil {
		v.errorf(field, "%v", err)
		return
	}
	if d%time.Minute != 0 || d < time.Hour || d > MaxWindow {
		// The cap bounds the evaluator's memory and the history it reads.
		v.errorf(field, "expected a window of whole minutes from 1h to %s, found %q", FormatDays(MaxWindow), w)
		return
	}
	s.Window = Window{Rolling: d}
}

func (v *validator) calendar(s *SLO, period, tz, pField, tzField string) {
	switch Period(period) {
	case Week, Month, Quarter:
	default:
		v.errorf(pField, "expected calendar period week, month or quarter, found %q", period)
		return
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			v.errorf(tzField, "unknown time zone %q: expected an IANA name such as Europe/Berlin", tz)
			return
		}
		loc = l
	}
	s.Window = Window{Period: Period(period), Location: loc}
}

func (v *validator) nativeWindow(s *SLO, w any) {
	switch w := w.(type) {
	case nil:
		v.errorf("window", "expected a window (30d, 4w or calendar: {period: month, time_zone: ...}), found none")
	case string:
		v.rolling(s, w, "window")
	case map[string]any:
		cal, ok := w["calendar"].(map[string]any)
		if len(w) != 1 || !ok {
			v.errorf("window", "expected window: 30d or window: {calendar: {period: month, time_zone: Europe/Berlin}}")
			return
		}
		period, tz, ok := v.stringMap(cal, "window.calendar", "period", "time_zone")
		if ok {
			v.calendar(s, period, tz, "window.calendar.period", "window.calendar.time_zone")
		}
	default:
		v.errorf("window", "expected a window like 30d, found %v", w)
	}
}

// stringMap reads two string keys from m strictly.
func (v *validator) stringMap(m map[string]any, field, k1, k2 string) (string, string, bool) {
	ok := true
	for k := range m {
		if k != k1 && k != k2 {
			v.errorf(field+"."+k, "unknown key %q in %s (expected %s, %s)", k, field, k1, k2)
			ok = false
		}
	}
	a, _ := m[k1].(string)
	b, _ := m[k2].(string)
	if m[k1] != nil && a == "" {
		v.errorf(field+"."+k1, "expected a string for %s", k1)
		ok = false
	}
	return a, b, ok
}

func (v *validator) nativeBudgeting(s *SLO, b any) {
	s.Budgeting = Budgeting{Method: Occurrences}
	switch b := b.(type) {
	case nil:
	case string:
		if b != string(Occurrences) {
			v.errorf("budgeting", "expected budgeting occurrences or timeslices: {slice: 1m, good_when: 0.99}, found %q", b)
		}
	case map[string]any:
		ts, ok := b["timeslices"].(map[string]any)
		if len(b) != 1 || !ok {
			v.errorf("budgeting", "expected budgeting: occurrences or budgeting: {timeslices: {slice: 1m, good_when: 0.99}}")
			return
		}
		for k := range ts {
			if k != "slice" && k != "good_when" {
				v.errorf("budgeting.timeslices."+k, "unknown key %q in budgeting.timeslices (expected slice, good_when)", k)
			}
		}
		slice := "1m"
		if x, ok := ts["slice"]; ok {
			slice = fmt.Sprint(x)
		}
		gw, ok := ts["good_when"].(float64)
		if i, isInt := ts["good_when"].(int); isInt {
			gw, ok = float64(i), true
		}
		if !ok {
			v.errorf("budgeting.timeslices.good_when", "expected good_when as a ratio in (0, 1], for example 0.99")
			return
		}
		v.timeslices(s, slice, gw, "budgeting.timeslices.slice", "budgeting.timeslices.good_when")
	default:
		v.errorf("budgeting", "expected budgeting occurrences or timeslices, found %v", b)
	}
}

func (v *validator) timeslices(s *SLO, slice string, goodWhen float64, sField, gField string) {
	d, err := time.ParseDuration(slice)
	if err != nil || d < time.Minute || d%time.Minute != 0 || time.Hour%d != 0 {
		// Slices must tile an hour so the hourly rollups count whole slices.
		v.errorf(sField, "expected a slice of whole minutes that divides an hour (1m, 5m, 10m, 15m, 30m, 1h), found %q", slice)
		return
	}
	if !(goodWhen > 0 && goodWhen <= 1) {
		v.errorf(gField, "expected good_when as a ratio in (0, 1], found %v", goodWhen)
		return
	}
	s.Budgeting = Budgeting{Method: Timeslices, Slice: d, GoodWhen: goodWhen}
}

func (v *validator) exclusion(s *SLO, e excludeYAML, field string) {
	from, err1 := time.Parse(time.RFC3339, e.From)
	to, err2 := time.Parse(time.RFC3339, e.To)
	switch {
	case err1 != nil:
		v.errorf(field+".from", "expected an RFC 3339 time like 2026-11-03T01:00:00Z, found %q", e.From)
	case err2 != nil:
		v.errorf(field+".to", "expected an RFC 3339 time like 2026-11-03T03:00:00Z, found %q", e.To)
	case !to.After(from):
		v.errorf(field+".to", "expected to after from, found %s ≤ %s", e.To, e.From)
	default:
		s.Exclude = append(s.Exclude, Exclusion{From: from.UTC(), To: to.UTC(), Reason: e.Reason})
	}
}

func (v *validator) nativeSLI(s *SLO, n nativeSLI) {
	kinds := 0
	for _, set := range []bool{n.Events != nil, n.Raw != nil, n.Latency != nil, n.Probe != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		v.errorf("sli", "expected exactly one of sli.events, sli.raw, sli.latency, sli.probe, found %d", kinds)
		return
	}
	switch {
	case n.Events != nil:
		e := n.Events
		s.SLI = SLI{Kind: KindEvents, ErrorQuery: e.ErrorQuery, GoodQuery: e.GoodQuery, TotalQuery: e.TotalQuery}
		if (e.ErrorQuery == "") == (e.GoodQuery == "") {
			v.errorf("sli.events", "expected exactly one of error_query and good_query")
			return
		}
		if e.TotalQuery == "" {
			v.errorf("sli.events", "expected total_query")
			return
		}
	case n.Raw != nil:
		s.SLI = SLI{Kind: KindRaw, ErrorRatioQuery: n.Raw.ErrorRatioQuery}
	case n.Latency != nil:
		l := n.Latency
		if !metricRE.MatchString(l.Histogram) {
			v.errorf("sli.latency.histogram", "expected a histogram metric name, found %q", l.Histogram)
			return
		}
		l.Histogram = strings.TrimSuffix(strings.TrimSuffix(l.Histogram, "_bucket"), "_count")
		if l.Below == nil || !(*l.Below > 0) {
			v.errorf("sli.latency.below", "expected below: a threshold in seconds > 0 (a bucket bound of the histogram)")
			return
		}
		s.SLI = SLI{Kind: KindLatency, Latency: &LatencySLI{Histogram: l.Histogram, Selector: l.Selector, Below: *l.Below}}
	case n.Probe != nil:
		if n.Probe.Journey == "" {
			v.errorf("sli.probe.journey", "expected a journey name")
			return
		}
		s.SLI = SLI{Kind: KindProbe, Probe: &ProbeSLI{Journey: n.Probe.Journey}}
	}
	v.compileSLI(s, true, false)
}

// compileSLI checks the templates and compiles the counters. needWindow
// requires {{.window}} in every query (vigil and Sloth files); bare lets a
// plain selector count as a counter (OpenSLO counter: true).
func (v *validator) compileSLI(s *SLO, needWindow, bare bool) {
	fields := map[string]string{"error_query": s.SLI.ErrorQuery, "good_query": s.SLI.GoodQuery,
		"total_query": s.SLI.TotalQuery, "error_ratio_query": s.SLI.ErrorRatioQuery}
	prefix := map[SLIKind]string{KindEvents: "sli.events.", KindRaw: "sli.raw.", KindLatency: "sli.latency.", KindProbe: "sli.probe."}[s.SLI.Kind]
	ok := true
	for _, f := range []string{"error_query", "good_query", "total_query", "error_ratio_query"} {
		q := fields[f]
		if q == "" {
			continue
		}
		if needWindow && !HasWindow(q) {
			v.errorf(prefix+f, "%s has no {{.window}}: expected a range like [{{.window}}] so every window can be computed", f)
			ok = false
			continue
		}
		if _, err := ParsePromQL(Expand(q, "5m")); err != nil {
			v.errorf(prefix+f, "invalid PromQL in %s: %s", f, oneLine(err.Error()))
			ok = false
		}
	}
	if !ok {
		return
	}
	if f, msg := s.SLI.compile(bare); msg != "" {
		v.errorf(prefix+f, "%s", msg)
	}
}

// ---- shared helpers ----

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func appendErrs(errs yamlx.Errors, err error) yamlx.Errors {
	var es yamlx.Errors
	var e *yamlx.Error
	switch {
	case errors.As(err, &es):
		return append(errs, es...)
	case errors.As(err, &e):
		return append(errs, e)
	}
	return append(errs, &yamlx.Error{Msg: err.Error()})
}

func unwrapPathErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// splitDocs splits a multi-document YAML stream, padding each document with
// blank lines so that line numbers stay those of the whole file.
func splitDocs(data []byte) [][]byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var docs [][]byte
	var cur bytes.Buffer
	start := 0
	flush := func(next int) {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			d := append(bytes.Repeat([]byte("\n"), start), cur.Bytes()...)
			docs = append(docs, d)
		}
		cur.Reset()
		start = next
	}
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("---")) && len(bytes.TrimSpace(l[3:])) == 0 {
			flush(i + 1)
			continue
		}
		cur.Write(l)
	}
	flush(len(lines))
	return docs
}
