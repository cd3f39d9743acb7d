package probes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/theory/jsonpath"

	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
)

var dnsTypes = dns.StringToType

type jsonAssert struct {
	expr   string
	path   *jsonpath.Path
	exists *bool
	equals any // normalised through encoding/json, so 1 == 1.0
	hasEq  bool
	re     *regexp.Regexp
}

type headerAssert struct {
	name string
	re   *regexp.Regexp
}

type compiledExpect struct {
	status  map[int]bool
	body    *regexp.Regexp
	notBody *regexp.Regexp
	json    []jsonAssert
	headers []headerAssert
	answers *regexp.Regexp
	tcp     *regexp.Regexp
	rcode   int
	hasRc   bool
}

// compileExpect compiles regexes and JSONPaths at load so bad ones are
// reported with file:line, and rejects assertions that cannot apply to the
// step's kind rather than silently ignoring them.
func compileExpect(doc *yamlx.Doc, s *Step, p string) compiledExpect {
	e := s.Expect
	var c compiledExpect
	only := func(field string, set bool, kinds ...string) {
		if set && !contains(kinds, s.kind) {
			doc.Errorf(p+"."+field, "expect.%s does not apply to a %s step (only %s)", field, s.kind, strings.Join(kinds, ", "))
		}
	}
	only("status", len(e.Status) > 0, "http")
	only("body_matches", e.BodyMatches != "", "http", "tcp")
	only("body_not_matches", e.BodyNotMatch != "", "http", "tcp")
	only("json", len(e.JSON) > 0, "http")
	only("headers", len(e.Headers) > 0, "http")
	only("cert_valid_for", e.CertValidFor != 0, "http", "tls", "tcp", "grpc")
	only("rcode", e.Rcode != "", "dns")
	only("answers_match", e.AnswersMatch != "", "dns")
	if len(e.Status) > 0 {
		c.status = map[int]bool{}
		for i, st := range e.Status {
			if st < 100 || st > 599 {
				doc.Errorf(fmt.Sprintf("%s.status[%d]", p, i), "status %d is not an HTTP status (100-599)", st)
			}
			c.status[st] = true
		}
	}
	if e.BodyMatches != "" {
		c.body = compileRegex(doc, p+".body_matches", e.BodyMatches)
	}
	if e.BodyNotMatch != "" {
		c.notBody = compileRegex(doc, p+".body_not_matches", e.BodyNotMatch)
	}
	for _, expr := range sortedKeys(e.JSON) {
		je := e.JSON[expr]
		jp := p + ".json." + expr
		a := jsonAssert{expr: expr, path: compileJSONPath(doc, jp, expr), exists: je.Exists}
		n := 0
		if je.Exists != nil {
			n++
		}
		if je.Equals != nil {
			n++
			a.hasEq = true
			b, err := json.Marshal(je.Equals)
			if err != nil {
				doc.Errorf(jp+".equals", "equals value cannot be compared as JSON: %v", err)
			} else {
				_ = json.Unmarshal(b, &a.equals)
			}
		}
		if je.Matches != "" {
			n++
			a.re = compileRegex(doc, jp+".matches", je.Matches)
		}
		if n == 0 {
			doc.Errorf(jp, "json assertion on %s needs exists, equals or matches", expr)
		}
		c.json = append(c.json, a)
	}
	for _, h := range sortedKeys(e.Headers) {
		c.headers = append(c.headers, headerAssert{name: h, re: compileRegex(doc, p+".headers."+h, e.Headers[h])})
	}
	if e.AnswersMatch != "" {
		c.answers = compileRegex(doc, p+".answers_match", e.AnswersMatch)
	}
	if e.Rcode != "" {
		rc, ok := dns.StringToRcode[strings.ToUpper(e.Rcode)]
		if !ok {
			doc.Errorf(p+".rcode", "unknown DNS rcode %q (e.g. NOERROR, NXDOMAIN, SERVFAIL)", e.Rcode)
		}
		c.rcode, c.hasRc = rc, true
	}
	if e.MaxLatency < 0 || e.CertValidFor < 0 {
		doc.Errorf(p, "durations in expect must be positive")
	}
	return c
}

// response is what a check saw, in a form the assertions share.
type response struct {
	status     int
	header     http.Header
	cookies    []*http.Cookie
	body       []byte
	truncated  bool // body exceeded the cap
	bodyCap    int64
	latency    time.Duration
	certExpiry time.Time // earliest NotAfter in the peer chain, if TLS
	rcode      int
	answers    []string
	parsedJSON any
	jsonErr    error
	jsonDone   bool
}

func (r *response) json() (any, error) {
	if !r.jsonDone {
		r.jsonDone = true
		r.jsonErr = json.Unmarshal(r.body, &r.parsedJSON)
	}
	return r.parsedJSON, r.jsonErr
}

// failure is a step failure: why (reason) and a self-explaining message.
type failure struct {
	reason Reason
	msg    string
}

func (f *failure) Error() string { return f.msg }

func failf(r Reason, format string, args ...any) *failure {
	return &failure{reason: r, msg: fmt.Sprintf(format, args...)}
}

// check runs the step's assertions on a response, first failure wins.
func (s *Step) check(r *response, expand func(any) any) *failure {
	c := &s.compExp
	e := s.Expect
	if e == nil {
		e = &Expect{}
	}
	if s.kind == "http" {
		if c.status != nil {
			if !c.status[r.status] {
				return failf(ReasonStatus, "expect status in %s, got %d", statusList(e.Status), r.status)
			}
		} else if r.status < 200 || r.status > 299 {
			return failf(ReasonStatus, "expect status 2xx, got %d", r.status)
		}
	}
	if r.truncated {
		return failf(ReasonBody, "expect body of at most %d bytes (max_body_bytes), got more", r.bodyCap)
	}
	if c.body != nil && !c.body.Match(r.body) {
		return failf(ReasonBody, "expect body to match %q, got %s", e.BodyMatches, snippet(r.body))
	}
	if c.notBody != nil && c.notBody.Match(r.body) {
		return failf(ReasonBody, "expect body not to match %q, got %s", e.BodyNotMatch, snippet(r.body))
	}
	if len(c.json) > 0 {
		doc, err := r.json()
		if err != nil {
			return failf(ReasonJSON, "expect a JSON body, got %s (%v)", snippet(r.body), err)
		}
		for _, a := range c.json {
			if f := a.check(doc, expand); f != nil {
				return f
			}
		}
	}
	for _, h := range c.headers {
		vals := r.header.Values(h.name)
		ok := false
		for _, v := range vals {
			if h.re.MatchString(v) {
				ok = true
				break
			}
		}
		if !ok {
			got := "no such header"
			if len(vals) > 0 {
				got = strconv.Quote(strings.Join(vals, ", "))
			}
			return failf(ReasonHeader, "expect header %s to match %q, got %s", h.name, h.re.String(), got)
		}
	}
	if c.hasRc && r.rcode != c.rcode {
		return failf(ReasonDNS, "expect rcode %s, got %s", dns.RcodeToString[c.rcode], dns.RcodeToString[r.rcode])
	}
	if !c.hasRc && s.kind == "dns" && r.rcode != dns.RcodeSuccess {
		return failf(ReasonDNS, "expect rcode NOERROR, got %s", dns.RcodeToString[r.rcode])
	}
	if c.answers != nil {
		ok := false
		for _, a := range r.answers {
			if c.answers.MatchString(a) {
				ok = true
				break
			}
		}
		if !ok {
			return failf(ReasonDNS, "expect an answer matching %q, got %s", e.AnswersMatch, answerList(r.answers))
		}
	}
	if e.CertValidFor > 0 {
		if r.certExpiry.IsZero() {
			return failf(ReasonCert, "expect a certificate valid for %s, got no TLS", e.CertValidFor)
		}
		left := time.Until(r.certExpiry)
		if left < e.CertValidFor {
			return failf(ReasonCert, "expect certificate valid for at least %s, earliest expires in %s (%s)",
				fmtDur(e.CertValidFor), fmtDur(left), r.certExpiry.UTC().Format(time.RFC3339))
		}
	}
	if e.MaxLatency > 0 && r.latency > e.MaxLatency {
		return failf(ReasonLatency, "expect latency at most %s, got %s", e.MaxLatency, r.latency.Round(time.Millisecond))
	}
	return nil
}

func (a *jsonAssert) check(doc any, expand func(any) any) *failure {
	nodes := a.path.Select(doc)
	if a.exists != nil {
		if *a.exists && len(nodes) == 0 {
			return failf(ReasonJSON, "expect %s to exist, got nothing", a.expr)
		}
		if !*a.exists && len(nodes) > 0 {
			return failf(ReasonJSON, "expect %s not to exist, got %s", a.expr, jsonText(nodes[0]))
		}
	}
	if a.hasEq {
		if len(nodes) == 0 {
			return failf(ReasonJSON, "expect %s equals %s, got nothing", a.expr, jsonText(a.equals))
		}
		want := a.equals
		if expand != nil {
			want = expand(want)
		}
		if !reflect.DeepEqual(nodes[0], want) {
			return failf(ReasonJSON, "expect %s equals %s, got %s", a.expr, jsonText(want), jsonText(nodes[0]))
		}
	}
	if a.re != nil {
		if len(nodes) == 0 {
			return failf(ReasonJSON, "expect %s matches %q, got nothing", a.expr, a.re.String())
		}
		if !a.re.MatchString(scalarText(nodes[0])) {
			return failf(ReasonJSON, "expect %s matches %q, got %s", a.expr, a.re.String(), jsonText(nodes[0]))
		}
	}
	return nil
}

// extract fills journey variables from a response.
func (s *Step) extract(r *response, req *http.Request, jar http.CookieJar, vars map[string]string, m *interp.Masker) *failure {
	for i := range s.extracts {
		name, ex := s.extracts[i].name, &s.extracts[i].Extract
		var val string
		var ok bool
		switch {
		case ex.path != nil:
			doc, err := r.json()
			if err != nil {
				return failf(ReasonExtract, "extract %s: expect a JSON body, got %s", name, snippet(r.body))
			}
			if nodes := ex.path.Select(doc); len(nodes) > 0 {
				val, ok = scalarText(nodes[0]), true
			}
			if !ok {
				return failf(ReasonExtract, "extract %s: %s selected nothing in %s", name, ex.JSON, snippet(r.body))
			}
		case ex.re != nil:
			src := r.body
			if len(r.answers) > 0 {
				src = []byte(strings.Join(r.answers, "\n"))
			}
			if sm := ex.re.FindSubmatch(src); sm != nil {
				val, ok = string(sm[ex.Group]), true
			}
			if !ok {
				return failf(ReasonExtract, "extract %s: regex %q matched nothing in %s", name, ex.Regex, snippet(src))
			}
		case ex.Header != "":
			val = r.header.Get(ex.Header)
			if val == "" {
				return failf(ReasonExtract, "extract %s: no header %s in the response", name, ex.Header)
			}
		case ex.Cookie != "":
			for _, c := range r.cookies {
				if c.Name == ex.Cookie {
					val, ok = c.Value, true
				}
			}
			if !ok && jar != nil && req != nil {
				for _, c := range jar.Cookies(req.URL) {
					if c.Name == ex.Cookie {
						val, ok = c.Value, true
					}
				}
			}
			if !ok {
				return failf(ReasonExtract, "extract %s: no cookie %s set", name, ex.Cookie)
			}
		}
		if ex.Secret {
			m.Add(val)
		}
		vars[name] = val
	}
	return nil
}

func statusList(st []int) string {
	parts := make([]string, len(st))
	for i, s := range st {
		parts[i] = strconv.Itoa(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func answerList(a []string) string {
	if len(a) == 0 {
		return "no answers"
	}
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = strconv.Quote(s)
	}
	sort.Strings(q)
	if len(q) > 5 {
		q = append(q[:5], "…")
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// snippet quotes the start of a body for a failure message.
func snippet(b []byte) string {
	if len(b) == 0 {
		return "an empty body"
	}
	const max = 120
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// scalarText is a JSON node as a variable value: strings bare, the rest as JSON.
func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fmtDur(d time.Duration) string {
	if d > time.Hour || d < -time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

func mask(secrets []string, s string) string {
	var m interp.Masker
	m.Add(secrets...)
	return m.Mask(s)
}
