package probes

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/theory/jsonpath"
	yaml "go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
)

// Extract takes a value from a step's response into a journey variable.
// Written as a JSONPath string, or a mapping with exactly one of json,
// regex (with group, default 1), header or cookie; secret: true masks the
// value in all output.
type Extract struct {
	JSON   string `yaml:"json" json:"json,omitempty"`
	Regex  string `yaml:"regex" json:"regex,omitempty"`
	Group  int    `yaml:"group" json:"group,omitempty"`
	Header string `yaml:"header" json:"header,omitempty"`
	Cookie string `yaml:"cookie" json:"cookie,omitempty"`
	Secret bool   `yaml:"secret" json:"secret,omitempty"`

	path *jsonpath.Path
	re   *regexp.Regexp
}

var extractKeys = []string{"cookie", "group", "header", "json", "regex", "secret"}

// UnmarshalYAML accepts the string shorthand and checks keys strictly (yamlx
// does not descend into types with their own unmarshaler).
func (e *Extract) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.JSON = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a JSONPath string or a mapping with one of json, regex, header, cookie", n.Line)}}
	}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !contains(extractKeys, k) {
			errs = append(errs, fmt.Sprintf("line %d: unknown key %q in extract (expected one of: %s)", n.Content[i].Line, k, strings.Join(extractKeys, ", ")))
		}
	}
	if errs != nil {
		return &yaml.TypeError{Errors: errs}
	}
	type plain Extract
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*e = Extract(p)
	return nil
}

// LoadFiles reads and validates journey files. Errors from every file are
// reported together; journey names must be unique across all files.
func LoadFiles(paths ...string) ([]Journey, error) {
	var all []Journey
	var errs yamlx.Errors
	seen := map[string]*Journey{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, &yamlx.Error{File: p, Msg: "cannot read: " + unwrapPath(err).Error()})
			continue
		}
		js, err := Parse(p, data)
		if err != nil {
			var es yamlx.Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
				continue
			}
			return nil, err
		}
		for i := range js {
			if prev, ok := seen[js[i].Name]; ok {
				errs = append(errs, &yamlx.Error{File: js[i].File, Line: js[i].Line,
					Msg: fmt.Sprintf("duplicate journey name %q (first defined at %s:%d)", js[i].Name, prev.File, prev.Line)})
				continue
			}
			seen[js[i].Name] = &js[i]
		}
		all = append(all, js...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return all, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse decodes and validates one journey file. ${env:} and ${file:} are
// resolved now (their values become secrets); ${name} is kept for run time.
func Parse(file string, data []byte) ([]Journey, error) {
	return parse(file, data, nil)
}

func parse(file string, data []byte, env func(string) (string, bool)) ([]Journey, error) {
	dir := filepath.Dir(file)
	opt := yamlx.Options{Expander: &interp.Expander{Env: env, BaseDir: dir, KeepVars: true}}
	var out []Journey
	seen := map[string]int{}
	// Journey by journey: each is decoded and validated while its nodes are
	// alive, then they are released.
	doc, err := yamlx.DecodeList(file, data, "journeys", func(doc *yamlx.Doc, p string, n *yaml.Node) {
		secrets := len(doc.Secrets)
		var j Journey
		if !doc.DecodeNode(n, &j, "journeys", opt) {
			return
		}
		j.File, j.Line = file, doc.Line(p)
		if j.Name == "" {
			doc.Errorf(p, "journey has no name")
		} else if first, ok := seen[j.Name]; ok {
			doc.Errorf(p+".name", "duplicate journey name %q (first defined at line %d)", j.Name, first)
		} else {
			seen[j.Name] = doc.Line(p + ".name")
		}
		j.secrets = doc.Secrets[secrets:]
		validateJourney(doc, &j, p, dir)
		out = append(out, j)
	})
	if err != nil {
		return nil, explainKinds(err)
	}
	if len(out) == 0 {
		doc.Errorf("", "no journeys: expected a top-level journeys: list")
		return nil, doc.Err()
	}
	for i := range out {
		j := &out[i]
		j.secrets = ownSecrets(j.secrets)
		j.vars = sortedKV(j.Vars)
		j.computeHash()
	}
	return out, nil
}

var unknownKindRE = regexp.MustCompile(`^unknown key "([^"]+)" in journeys(\.steps)? \(expected one of`)

// explainKinds rewrites an unknown key in a journey or step that is not a
// near-miss of a known key: most likely a check kind vigil does not have.
func explainKinds(err error) error {
	var es yamlx.Errors
	if !errors.As(err, &es) {
		return err
	}
	for _, e := range es {
		if m := unknownKindRE.FindStringSubmatch(e.Msg); m != nil {
			where := "journey"
			if m[2] != "" {
				where = "step"
			}
			e.Msg = fmt.Sprintf("unknown check kind or %s key %q (check kinds: %s)", where, m[1], strings.Join(CheckKinds, ", "))
		}
	}
	return es
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func validateJourney(doc *yamlx.Doc, j *Journey, p, dir string) {
	switch {
	case j.Interval == 0 && j.Schedule == "":
		doc.Errorf(p, "journey %q has neither interval nor schedule: set one", j.Name)
	case j.Interval != 0 && j.Schedule != "":
		doc.Errorf(p+".schedule", "journey %q has both interval and schedule: set one", j.Name)
	case j.Interval < 0:
		doc.Errorf(p+".interval", "interval must be positive, got %s", j.Interval)
	case j.Interval > 0 && j.Interval < 100*time.Millisecond:
		doc.Errorf(p+".interval", "interval %s is too short: at least 100ms", j.Interval)
	case j.Schedule != "":
		s, err := cronParser.Parse(j.Schedule)
		if err != nil {
			doc.Errorf(p+".schedule", "invalid cron schedule %q: %v", j.Schedule, err)
		}
		j.cron = s
	}
	if j.Timeout < 0 {
		doc.Errorf(p+".timeout", "timeout must be positive, got %s", j.Timeout)
	}
	if j.Interval > 0 && j.Timeout > j.Interval {
		doc.Errorf(p+".timeout", "timeout %s is longer than the interval %s: runs would overlap", j.Timeout, j.Interval)
	}
	for k := range j.Labels {
		if !labelNameRE.MatchString(k) {
			doc.Errorf(p+".labels."+k, "invalid label name %q", k)
		}
	}
	for i := range j.Pause {
		validatePause(doc, &j.Pause[i], fmt.Sprintf("%s.pause[%d]", p, i))
	}

	// A single-check journey becomes one step named after its kind.
	single := j.Check.kinds()
	if len(single) > 0 {
		if len(j.Steps) > 0 {
			doc.Errorf(p+"."+single[0], "journey %q has both steps and a top-level %s check: use one", j.Name, single[0])
			return
		}
		if len(single) > 1 {
			doc.Errorf(p+"."+single[1], "journey %q has several checks (%s): one per step", j.Name, strings.Join(single, ", "))
			return
		}
		j.Steps = []Step{{Name: single[0], Check: j.Check, Expect: j.Expect, Extract: j.Extract}}
		j.Check, j.Expect, j.Extract = Check{}, nil, nil
		validateStep(doc, j, &j.Steps[0], p, dir, map[string]bool{})
		return
	}
	if j.Expect != nil || j.Extract != nil {
		doc.Errorf(p, "journey %q has top-level expect or extract but no check: put them in a step", j.Name)
	}
	if len(j.Steps) == 0 {
		doc.Errorf(p, "journey %q has no steps and no check (check kinds: %s)", j.Name, strings.Join(CheckKinds, ", "))
		return
	}
	defined := map[string]bool{}
	for k := range j.Vars {
		if !validVar(k) {
			doc.Errorf(p+".vars."+k, "invalid variable name %q", k)
		}
		defined[k] = true
	}
	names := map[string]bool{}
	for i := range j.Steps {
		s := &j.Steps[i]
		sp := fmt.Sprintf("%s.steps[%d]", p, i)
		if s.Name == "" {
			doc.Errorf(sp, "step %d has no name", i+1)
		} else if names[s.Name] {
			doc.Errorf(sp+".name", "duplicate step name %q", s.Name)
		}
		names[s.Name] = true
		validateStep(doc, j, s, sp, dir, defined)
	}
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func validVar(s string) bool {
	r, err := (&interp.Expander{KeepVars: true}).Expand("${" + s + "}")
	return err == nil && len(r.Vars) == 1
}

func validatePause(doc *yamlx.Doc, w *Pause, p string) {
	fixed := !w.From.IsZero() || !w.To.IsZero()
	rec := w.Schedule != "" || w.Duration != 0
	switch {
	case fixed && rec:
		doc.Errorf(p, "pause window has both from/to and schedule/duration: use one form")
	case fixed:
		if w.From.IsZero() || w.To.IsZero() {
			doc.Errorf(p, "pause window needs both from and to")
		} else if !w.To.After(w.From) {
			doc.Errorf(p+".to", "pause window ends (%s) before it starts (%s)", w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
		}
	case rec:
		if w.Schedule == "" || w.Duration <= 0 {
			doc.Errorf(p, "recurring pause window needs schedule and a positive duration")
			return
		}
		s, err := cronParser.Parse(w.Schedule)
		if err != nil {
			doc.Errorf(p+".schedule", "invalid cron schedule %q: %v", w.Schedule, err)
			return
		}
		w.cron = s
	default:
		doc.Errorf(p, "pause window is empty: expected {from, to} or {schedule, duration}")
	}
}

func validateStep(doc *yamlx.Doc, j *Journey, s *Step, p, dir string, defined map[string]bool) {
	kinds := s.Check.kinds()
	switch len(kinds) {
	case 0:
		doc.Errorf(p, "step %q has no check (check kinds: %s)", s.Name, strings.Join(CheckKinds, ", "))
		return
	case 1:
		s.kind = kinds[0]
	default:
		doc.Errorf(p+"."+kinds[1], "step %q has several checks (%s): one per step", s.Name, strings.Join(kinds, ", "))
		return
	}
	if s.Timeout < 0 {
		doc.Errorf(p+".timeout", "timeout must be positive, got %s", s.Timeout)
	}
	kp := p + "." + s.kind
	// Variables must be defined (vars) or extracted by an earlier step.
	seenRef := map[string]bool{}
	useVars := func(path, v string) {
		for _, name := range interp.VarRefs(v) {
			if !defined[name] {
				if !seenRef[name] {
					doc.Errorf(path, "variable %s is used before any step extracts it and is not in vars", name)
				}
			}
			if !seenRef[name] {
				seenRef[name] = true
				s.refs = append(s.refs, name)
			}
		}
	}
	walkStrings(reflect.ValueOf(s.Check), p, useVars)
	if s.Expect != nil {
		// JSON equals may compare with a variable (an id made earlier).
		for _, expr := range sortedKeys(s.Expect.JSON) {
			walkStrings(reflect.ValueOf(s.Expect.JSON[expr].Equals), p+".expect.json."+expr+".equals", useVars)
		}
	}

	switch s.kind {
	case "http":
		c := s.HTTP
		if c.URL == "" {
			doc.Errorf(kp, "http check needs url")
		} else if !strings.HasPrefix(c.URL, "${") && !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
			doc.Errorf(kp+".url", "url %q must start with http:// or https://", mask(j.secrets, c.URL))
		}
		bodies := 0
		if c.JSON != nil {
			bodies++
			if _, err := json.Marshal(c.JSON); err != nil {
				doc.Errorf(kp+".json", "json body cannot be encoded: %v", err)
			}
		}
		if c.Body != "" {
			bodies++
		}
		if c.Form != nil {
			bodies++
		}
		if bodies > 1 {
			doc.Errorf(kp, "http check has more than one of json, body and form")
		}
		if c.MaxRedirects < 0 {
			doc.Errorf(kp+".max_redirects", "max_redirects must not be negative")
		}
		if c.MaxBodyBytes < 0 {
			doc.Errorf(kp+".max_body_bytes", "max_body_bytes must not be negative")
		}
		if c.BasicAuth != nil && c.BearerToken != "" {
			doc.Errorf(kp, "http check has both basic_auth and bearer_token")
		}
		s.tlsConf = compileTLS(doc, c.TLSConfig, kp+".tls_config", dir)
	case "tcp":
		if s.TCP.Address == "" {
			doc.Errorf(kp, "tcp check needs address")
		}
		if s.TCP.Expect != "" {
			s.compExp.tcp = compileRegex(doc, kp+".expect", s.TCP.Expect)
		}
		if s.TCP.TLSConfig != nil && !s.TCP.TLS {
			doc.Errorf(kp+".tls_config", "tls_config is set but tls is not true")
		}
		if s.TCP.TLS {
			s.tlsConf = compileTLS(doc, s.TCP.TLSConfig, kp+".tls_config", dir)
		}
	case "dns":
		c := s.DNS
		if c.Name == "" {
			doc.Errorf(kp, "dns check needs name")
		}
		if c.Server == "" {
			doc.Errorf(kp, "dns check needs server (host:port)")
		}
		if c.Type == "" {
			c.Type = "A"
		}
		if _, ok := dnsTypes[strings.ToUpper(c.Type)]; !ok {
			doc.Errorf(kp+".type", "unknown DNS type %q", c.Type)
		}
		switch c.Transport {
		case "", "udp", "tcp":
		default:
			doc.Errorf(kp+".transport", "transport must be udp or tcp, got %q", c.Transport)
		}
	case "tls":
		if s.TLS.Address == "" {
			doc.Errorf(kp, "tls check needs address")
		}
		o := s.TLS.TLSOptions
		s.tlsConf = compileTLS(doc, &o, kp, dir)
	case "grpc":
		if s.GRPC.Address == "" {
			doc.Errorf(kp, "grpc check needs address")
		}
		if s.GRPC.TLS {
			s.tlsConf = compileTLS(doc, s.GRPC.TLSConfig, kp+".tls_config", dir)
		}
	case "icmp":
		if s.ICMP.Host == "" {
			doc.Errorf(kp, "icmp check needs host")
		}
	}
	if s.Expect != nil {
		tcp := s.compExp.tcp
		s.compExp = compileExpect(doc, s, p+".expect")
		s.compExp.tcp = tcp
	}
	for _, name := range sortedKeys(s.Extract) {
		ex := s.Extract[name]
		ep := p + ".extract." + name
		if !validVar(name) {
			doc.Errorf(ep, "invalid variable name %q", name)
		}
		n := 0
		for _, set := range []bool{ex.JSON != "", ex.Regex != "", ex.Header != "", ex.Cookie != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			doc.Errorf(ep, "extract %s needs exactly one of json, regex, header, cookie", name)
		}
		if s.kind != "http" && (ex.JSON != "" || ex.Header != "" || ex.Cookie != "") {
			doc.Errorf(ep, "extract %s: json, header and cookie apply to http steps only", name)
		}
		if ex.JSON != "" {
			ex.path = compileJSONPath(doc, ep+".json", ex.JSON)
		}
		if ex.Regex != "" {
			ex.re = compileRegex(doc, ep+".regex", ex.Regex)
			if ex.re != nil && ex.Group == 0 && ex.re.NumSubexp() > 0 {
				ex.Group = 1
			}
			if ex.re != nil && ex.Group > ex.re.NumSubexp() {
				doc.Errorf(ep+".group", "regex %q has %d groups, group %d asked", ex.Regex, ex.re.NumSubexp(), ex.Group)
			}
		}
		s.Extract[name] = ex
		defined[name] = true
	}
	s.compile()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func compileRegex(doc *yamlx.Doc, p, expr string) *regexp.Regexp {
	re, err := regexps.get(expr, regexp.Compile)
	if err != nil {
		doc.Errorf(p, "invalid regex %q: %v", expr, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

func compileJSONPath(doc *yamlx.Doc, p, expr string) *jsonpath.Path {
	jp, err := jsonPaths.get(expr, jsonpath.Parse)
	if err != nil {
		doc.Errorf(p, "invalid JSONPath %q: %v", expr, err)
		return nil
	}
	return jp
}

var defaultTLS = &tls.Config{MinVersion: tls.VersionTLS12}

// compileTLS builds the client TLS config once at load, so runs never touch
// the file system and bad files are reported with file:line.
func compileTLS(doc *yamlx.Doc, o *TLSOptions, p, dir string) *tls.Config {
	if o == nil {
		// Steps without TLS options share one config (never modified: the
		// transport clones it), which saves about 1.6 KiB a step in a
		// runner holding tens of thousands of them.
		return defaultTLS
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	conf.ServerName = o.ServerName
	conf.InsecureSkipVerify = o.InsecureSkipVerify
	abs := func(f string) string {
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(dir, f)
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(abs(o.CAFile))
		if err != nil {
			doc.Errorf(p+".ca_file", "ca_file %s cannot be read: %v", o.CAFile, unwrapPath(err))
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				doc.Errorf(p+".ca_file", "ca_file %s holds no PEM certificate", o.CAFile)
			}
			conf.RootCAs = pool
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		doc.Errorf(p, "cert_file and key_file go together")
	} else if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(abs(o.CertFile), abs(o.KeyFile))
		if err != nil {
			doc.Errorf(p+".cert_file", "client certificate cannot be loaded: %v", unwrapPath(err))
		} else {
			conf.Certificates = []tls.Certificate{cert}
		}
	}
	return conf
}

// walkStrings calls fn for every string reachable from v, with its path in
// the YAML (for file:line).
func walkStrings(v reflect.Value, path string, fn func(path, s string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	case reflect.String:
		fn(path, v.String())
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			fp := path
			if !strings.Contains(opts, "inline") {
				fp = path + "." + name
			}
			walkStrings(v.Field(i), fp, fn)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return fmt.Sprint(keys[a]) < fmt.Sprint(keys[b]) })
		for _, k := range keys {
			walkStrings(v.MapIndex(k), path+"."+fmt.Sprint(k), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// ownSecrets is the secrets the journey's own ${env:} and ${file:} values
// produced (it is decoded alone, so they are its own), each once: one
// journey's secret does not mask (or re-hash) another's output.
func ownSecrets(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
