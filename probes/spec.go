package probes

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Journey is a named, ordered list of steps run as one user would. Spec
// fields mirror the YAML; the compiled fields are filled by Parse.
type Journey struct {
	Name           string            `yaml:"name" json:"name"`
	Interval       time.Duration     `yaml:"interval" json:"interval,omitempty"`
	Schedule       string            `yaml:"schedule" json:"schedule,omitempty"`
	Timeout        time.Duration     `yaml:"timeout" json:"timeout,omitempty"`
	Labels         map[string]string `yaml:"labels" json:"labels,omitempty"`
	Vars           map[string]string `yaml:"vars" json:"vars,omitempty"`
	Pause          []Pause           `yaml:"pause" json:"pause,omitempty"`
	StepHistograms bool              `yaml:"step_histograms" json:"step_histograms,omitempty"`
	Steps          []Step            `yaml:"steps" json:"steps,omitempty"`

	// A single-check journey writes its check, expect and extract at the
	// top; Parse turns it into one step named after the kind.
	Check   `yaml:",inline" json:"-"`
	Expect  *Expect            `yaml:"expect" json:"-"`
	Extract map[string]Extract `yaml:"extract" json:"-"`

	// File and Line say where the journey was defined.
	File string `yaml:"-" json:"-"`
	Line int    `yaml:"-" json:"-"`

	secrets []string      // values from ${env:} and ${file:}: masked
	cron    cron.Schedule // compiled Schedule
	hash    string
	vars    []kv // Vars, in name order: what a run starts from
}

// kv is one name and value of a compiled map. A few-entry Go map costs a
// whole group of eight slots; the scheduler holds thousands of journeys,
// so what a run reads is kept in slices.
type kv struct{ k, v string }

func sortedKV(m map[string]string) []kv {
	if len(m) == 0 {
		return nil
	}
	out := make([]kv, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, kv{k, m[k]})
	}
	return out
}

// Step is one action of a journey: exactly one check, then assertions and
// extractions on its response.
type Step struct {
	Name    string        `yaml:"name" json:"name"`
	Always  bool          `yaml:"always" json:"always,omitempty"`
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	Check   `yaml:",inline"`
	Expect  *Expect            `yaml:"expect" json:"expect,omitempty"`
	Extract map[string]Extract `yaml:"extract" json:"extract,omitempty"`

	kind    string
	refs    []string // ${name} variables the step uses
	compExp compiledExpect
	tlsConf *tls.Config // compiled from the check's tls options

	// The HTTP request and extractions as a run reads them (compile).
	headers  []kv
	form     []kv
	body     []byte // the json body, encoded once
	bodyVars bool   // body holds ${...}: decoded and expanded per run
	extracts []namedExtract
}

type namedExtract struct {
	name string
	Extract
}

// compile fills the fields a run reads from the step's spec maps (a body
// that cannot be encoded was reported by validateStep).
func (s *Step) compile() {
	s.extracts = nil
	for _, name := range sortedKeys(s.Extract) {
		s.extracts = append(s.extracts, namedExtract{name, s.Extract[name]})
	}
	if s.HTTP == nil {
		return
	}
	s.headers, s.form = sortedKV(s.HTTP.Headers), sortedKV(s.HTTP.Form)
	if s.form == nil && s.HTTP.Form != nil {
		s.form = []kv{} // an empty form is still a form body
	}
	s.body, s.bodyVars = nil, false
	if s.HTTP.JSON != nil {
		if b, err := json.Marshal(s.HTTP.JSON); err == nil {
			s.body, s.bodyVars = b, bytes.Contains(b, []byte("${"))
		}
	}
}

// compact returns the journey as the scheduler keeps it: the compiled form
// without the spec maps it replaces (about 4.5 KiB of maps for a
// three-step journey). The spec fields of j itself are left as they were.
func (j Journey) compact() Journey {
	j.Vars = nil
	steps := make([]Step, len(j.Steps))
	for i, s := range j.Steps {
		if s.HTTP != nil && (s.HTTP.Headers != nil || s.HTTP.Form != nil || s.HTTP.JSON != nil) {
			h := *s.HTTP
			h.Headers, h.Form, h.JSON = nil, nil, nil
			s.HTTP = &h
		}
		if s.Expect != nil && (s.Expect.JSON != nil || s.Expect.Headers != nil) {
			e := *s.Expect
			e.JSON, e.Headers = nil, nil
			s.Expect = &e
		}
		s.Extract = nil
		steps[i] = s
	}
	j.Steps = steps
	return j
}

// Kind returns the step's check kind (http, tcp, ...).
func (s *Step) Kind() string { return s.kind }

// Check holds exactly one check kind.
type Check struct {
	HTTP *HTTPCheck `yaml:"http" json:"http,omitempty"`
	TCP  *TCPCheck  `yaml:"tcp" json:"tcp,omitempty"`
	DNS  *DNSCheck  `yaml:"dns" json:"dns,omitempty"`
	TLS  *TLSCheck  `yaml:"tls" json:"tls,omitempty"`
	GRPC *GRPCCheck `yaml:"grpc" json:"grpc,omitempty"`
	ICMP *ICMPCheck `yaml:"icmp" json:"icmp,omitempty"`
}

func (c *Check) kinds() []string {
	var out []string
	if c.HTTP != nil {
		out = append(out, "http")
	}
	if c.TCP != nil {
		out = append(out, "tcp")
	}
	if c.DNS != nil {
		out = append(out, "dns")
	}
	if c.TLS != nil {
		out = append(out, "tls")
	}
	if c.GRPC != nil {
		out = append(out, "grpc")
	}
	if c.ICMP != nil {
		out = append(out, "icmp")
	}
	return out
}

// TLSOptions configure the client side of TLS. Relative paths are relative
// to the journey file.
type TLSOptions struct {
	ServerName         string `yaml:"server_name" json:"server_name,omitempty"`
	CAFile             string `yaml:"ca_file" json:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file" json:"key_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`
}

// HTTPCheck sends one request. Body is one of json, body (raw) or form.
type HTTPCheck struct {
	Method          string            `yaml:"method" json:"method,omitempty"`
	URL             string            `yaml:"url" json:"url"`
	Headers         map[string]string `yaml:"headers" json:"headers,omitempty"`
	JSON            any               `yaml:"json" json:"json,omitempty"`
	Body            string            `yaml:"body" json:"body,omitempty"`
	Form            map[string]string `yaml:"form" json:"form,omitempty"`
	BasicAuth       *BasicAuth        `yaml:"basic_auth" json:"basic_auth,omitempty"`
	BearerToken     string            `yaml:"bearer_token" json:"bearer_token,omitempty"`
	FollowRedirects *bool             `yaml:"follow_redirects" json:"follow_redirects,omitempty"`
	MaxRedirects    int               `yaml:"max_redirects" json:"max_redirects,omitempty"`
	MaxBodyBytes    int64             `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`
	TLSConfig       *TLSOptions       `yaml:"tls_config" json:"tls_config,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
}

// TCPCheck connects, optionally over TLS, optionally sends a line and
// expects a reply matching a regex.
type TCPCheck struct {
	Address   string      `yaml:"address" json:"address"`
	Send      string      `yaml:"send" json:"send,omitempty"`
	Expect    string      `yaml:"expect" json:"expect,omitempty"`
	TLS       bool        `yaml:"tls" json:"tls,omitempty"`
	TLSConfig *TLSOptions `yaml:"tls_config" json:"tls_config,omitempty"`
}

// DNSCheck asks one server one question.
type DNSCheck struct {
	Name      string `yaml:"name" json:"name"`
	Type      string `yaml:"type" json:"type,omitempty"`
	Server    string `yaml:"server" json:"server"`
	Transport string `yaml:"transport" json:"transport,omitempty"` // udp (default) or tcp
}

// TLSCheck handshakes and inspects the certificate chain.
type TLSCheck struct {
	Address    string `yaml:"address" json:"address"`
	TLSOptions `yaml:",inline"`
}

// GRPCCheck calls the standard grpc.health.v1 Check.
type GRPCCheck struct {
	Address   string      `yaml:"address" json:"address"`
	Service   string      `yaml:"service" json:"service,omitempty"`
	TLS       bool        `yaml:"tls" json:"tls,omitempty"`
	TLSConfig *TLSOptions `yaml:"tls_config" json:"tls_config,omitempty"`
}

// ICMPCheck sends one echo request.
type ICMPCheck struct {
	Host string `yaml:"host" json:"host"`
	// Privileged forces a raw socket; by default an unprivileged UDP ping
	// is tried first, then a raw socket.
	Privileged bool `yaml:"privileged" json:"privileged,omitempty"`
}

// Expect holds a step's assertions. Which apply depends on the kind.
type Expect struct {
	Status       []int                 `yaml:"status" json:"status,omitempty"`
	BodyMatches  string                `yaml:"body_matches" json:"body_matches,omitempty"`
	BodyNotMatch string                `yaml:"body_not_matches" json:"body_not_matches,omitempty"`
	JSON         map[string]JSONExpect `yaml:"json" json:"json,omitempty"`
	Headers      map[string]string     `yaml:"headers" json:"headers,omitempty"` // header name → regex
	MaxLatency   time.Duration         `yaml:"max_latency" json:"max_latency,omitempty"`
	CertValidFor time.Duration         `yaml:"cert_valid_for" json:"cert_valid_for,omitempty"`
	Rcode        string                `yaml:"rcode" json:"rcode,omitempty"`
	AnswersMatch string                `yaml:"answers_match" json:"answers_match,omitempty"`
}

// JSONExpect asserts on the nodes a JSONPath selects.
type JSONExpect struct {
	Exists  *bool  `yaml:"exists" json:"exists,omitempty"`
	Equals  any    `yaml:"equals" json:"equals,omitempty"`
	Matches string `yaml:"matches" json:"matches,omitempty"`
}

// Pause is a maintenance window: either fixed (from, to) or recurring (a
// cron schedule opening a window of duration).
type Pause struct {
	From     time.Time     `yaml:"from" json:"from,omitzero"`
	To       time.Time     `yaml:"to" json:"to,omitzero"`
	Schedule string        `yaml:"schedule" json:"schedule,omitempty"`
	Duration time.Duration `yaml:"duration" json:"duration,omitempty"`

	cron cron.Schedule
}

// Paused reports whether t falls inside one of the journey's pause windows.
func (j *Journey) Paused(t time.Time) bool {
	for i := range j.Pause {
		if j.Pause[i].contains(t) {
			return true
		}
	}
	return false
}

func (p *Pause) contains(t time.Time) bool {
	if p.cron != nil {
		// A window is open at t if the schedule fired in (t-duration, t].
		return !p.cron.Next(t.Add(-p.Duration)).After(t)
	}
	return !t.Before(p.From) && t.Before(p.To)
}

// Hash identifies the journey's effective definition (after ${env:} and
// ${file:} were resolved); the scheduler keeps the timing of journeys whose
// hash did not change across a reload.
func (j *Journey) Hash() string { return j.hash }

func (j *Journey) computeHash() {
	b, _ := json.Marshal(j) // spec fields only; compiled ones are unexported
	h := sha256.New()
	h.Write(b)
	for _, s := range j.secrets {
		fmt.Fprintf(h, "\x00%s", s)
	}
	j.hash = hex.EncodeToString(h.Sum(nil))[:16]
}

// Secrets returns the values that must be masked in this journey's output.
func (j *Journey) Secrets() []string { return j.secrets }

// EffectiveTimeout is the journey's time budget: timeout, else 10s, never
// more than the interval so runs cannot pile up.
func (j *Journey) EffectiveTimeout() time.Duration {
	t := j.Timeout
	if t <= 0 {
		t = 10 * time.Second
		if j.Interval > 0 && j.Interval < t {
			t = j.Interval
		}
	}
	return t
}
